package dedup

// This file merges the fetched listings into per-group and per-guest
// aggregates. Every planned repository is read at most once (the plan
// guarantees it), records inside a repository are deduplicated by time,
// and a guest's recovery points are the union of times over every
// repository its cluster reaches, so a copy of one point in time in two
// repositories counts once for the guest.

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Merge combines the plan and the fetched listings into the scrape's
// result. It is pure and deterministic.
func Merge(e Estate, p Plan, l Listings) Result {
	res := Result{
		RepositoryUp: map[string]bool{},
		Duplicates:   map[string]int{DuplicatePBSViaPVE: 0, DuplicateSharedStorage: 0, DuplicateSameRepository: 0},
	}
	warned := map[Warning]bool{}
	warn := func(w Warning) {
		if !warned[w] {
			warned[w] = true
			res.Warnings = append(res.Warnings, w)
		}
	}
	for _, w := range p.Warnings {
		warn(w)
	}

	clusters := map[string]Cluster{}
	for _, c := range e.Clusters {
		if _, dup := clusters[clusterName(c)]; !dup {
			clusters[clusterName(c)] = c
		}
	}

	// Read every repository.
	groups := map[string][]GroupSummary{} // repository name -> groups, for up repositories
	repos := map[string]Repository{}
	for _, r := range p.Repositories {
		repos[r.Name] = r
		gs, ok := readRepository(r, l)
		res.RepositoryUp[r.Name] = ok
		if !ok {
			continue
		}
		if r.Kind == KindPVE {
			if w, suspect := permissionSuspect(clusters, r, l.PVE[r.Name]); suspect {
				// An empty listing that PVE probably filtered is not "no
				// backups": the repository is unknown, so every guest it
				// could hold has no count rather than a false 0.
				warn(w)
				res.RepositoryUp[r.Name] = false
				continue
			}
		}
		groups[r.Name] = gs
	}

	// Per group per repository.
	total := 0
	for _, gs := range groups {
		total += len(gs)
	}
	res.Groups = make([]GroupAggregate, 0, total)
	for _, r := range p.Repositories {
		var inventory map[GuestKey]bool
		if c, ok := clusters[r.Cluster]; ok && r.Cluster != "" && c.Up {
			inventory = guestSet(c)
		}
		for _, g := range groups[r.Name] {
			a := GroupAggregate{
				Repository: r.Name, Cluster: r.Cluster, BackupType: g.BackupType, BackupID: g.BackupID,
				Snapshots: len(g.Times), LastSize: g.LastSize, LastVerification: normalizeVerification(g.LastVerification),
				VerifyFailed: g.VerifyFailed, Protected: g.Protected, InProgress: g.InProgress,
			}
			if n := len(g.Times); n > 0 {
				a.First, a.Last = g.Times[0], g.Times[n-1]
			}
			// Host backups belong to no guest; a group is an orphan only
			// when its cluster's inventory was read and lacks the guest.
			if inventory != nil && (g.BackupType == BackupTypeVM || g.BackupType == BackupTypeCT) {
				a.Orphan = !inventory[GuestKey{Cluster: r.Cluster, BackupType: g.BackupType, BackupID: normalizeVMID(g.BackupID)}]
			}
			res.Groups = append(res.Groups, a)
		}
	}

	// Duplicates the plan avoided, counted from what was read.
	for _, s := range p.Suppressed {
		for _, g := range groups[s.Repository] {
			if s.PVEView && !visibleThroughPVE(g) {
				continue
			}
			res.Duplicates[s.Reason] += len(g.Times)
		}
	}

	// Per guest.
	intervals := map[string]intervalResult{}
	names := make([]string, 0, len(clusters))
	for n := range clusters {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, cname := range names {
		c := clusters[cname]
		if !c.Up {
			continue
		}
		var reach []Repository
		for _, r := range p.Repositories {
			for _, rc := range r.Clusters {
				if rc == cname {
					reach = append(reach, r)
				}
			}
		}
		known := true
		for _, r := range reach {
			if !res.RepositoryUp[r.Name] {
				known = false
			}
		}
		// Index the reachable groups by guest.
		byGuest := make(map[GuestKey][][]int64, len(c.Guests))
		for _, r := range reach {
			for _, g := range groups[r.Name] {
				k := GuestKey{Cluster: cname, BackupType: g.BackupType, BackupID: normalizeVMID(g.BackupID)}
				byGuest[k] = append(byGuest[k], g.Times)
			}
		}
		seen := make(map[GuestKey]bool, len(c.Guests))
		for _, g := range sortedGuests(c.Guests) {
			bt := BackupTypeOfGuest(g.Type)
			id := normalizeVMID(guestID(g))
			k := GuestKey{Cluster: cname, BackupType: bt, BackupID: id}
			if bt == "" || id == "" || seen[k] {
				continue
			}
			seen[k] = true
			a := GuestAggregate{
				Cluster: cname, BackupType: bt, BackupID: id, Name: g.Name, Node: g.Node,
				Template: bool(g.Template), Tags: SplitTags(g.Tags), Known: known,
			}
			if known {
				a.Snapshots, a.Last, a.LastCopies = unionTimes(byGuest[k])
			}
			jobs := CoveringJobs(c.Jobs, g)
			a.InJob = len(jobs) > 0
			a.ExpectedIntervalSeconds = expectedInterval(jobs, intervals, func(j proxmox.BackupJob, err error) {
				warn(Warning{Kind: WarnScheduleUnparsable, Cluster: cname, Target: c.Target,
					Message: fmt.Sprintf("backup job %s: schedule %q: %v", j.ID, j.Schedule, err)})
			})
			res.Guests = append(res.Guests, a)
		}
	}

	slices.SortStableFunc(res.Groups, func(x, y GroupAggregate) int {
		if c := strings.Compare(x.Repository, y.Repository); c != 0 {
			return c
		}
		if c := strings.Compare(x.BackupType, y.BackupType); c != 0 {
			return c
		}
		return strings.Compare(x.BackupID, y.BackupID)
	})
	sortWarnings(res.Warnings)
	return res
}

// readRepository returns the groups of a repository and whether it was
// read. A repository without a listing result was not read: down.
func readRepository(r Repository, l Listings) ([]GroupSummary, bool) {
	if r.Unreadable != "" {
		return nil, false
	}
	switch r.Kind {
	case KindPBS:
		res, ok := l.PBS[r.Name]
		if !ok || res.Err != nil {
			return nil, false
		}
		return normalizeSummaries(res.Groups), true
	case KindPVE:
		res, ok := l.PVE[r.Name]
		if !ok || res.Err != nil {
			return nil, false
		}
		recs, _ := RecordsFromVolumes(r.Key, res.Volumes)
		return SummarizeRecords(recs), true
	}
	return nil, false
}

// normalizeSummaries returns the summaries sorted by type then id, as
// SummarizeRecords orders them. Summaries that keep the GroupSummary
// contract (distinct groups, times ascending and distinct) are passed
// through as they are, sharing their Times: that is the collector's every
// scrape, and expanding each group into one record per recovery point
// only to summarise them again cost more than the rest of Merge together.
// Anything else goes through mergeSummaries.
func normalizeSummaries(in []GroupSummary) []GroupSummary {
	out := make([]GroupSummary, len(in))
	copy(out, in)
	sort.Slice(out, func(a, b int) bool { return groupLess(out[a], out[b]) })
	for i := range out {
		g := &out[i]
		if i > 0 && !groupLess(out[i-1], *g) || !strictlyAscending(g.Times) {
			return mergeSummaries(in)
		}
		// What mergeSummaries makes of a well-formed summary.
		n := len(g.Times)
		if n == 0 {
			g.Times, g.LastSize, g.LastVerification = nil, 0, VerificationNone
		} else {
			g.LastVerification = normalizeVerification(g.LastVerification)
		}
		g.VerifyFailed = min(g.VerifyFailed, n)
		g.Protected = min(g.Protected, n)
	}
	return out
}

func groupLess(a, b GroupSummary) bool {
	if a.BackupType != b.BackupType {
		return a.BackupType < b.BackupType
	}
	return a.BackupID < b.BackupID
}

func strictlyAscending(ts []int64) bool {
	for i := 1; i < len(ts); i++ {
		if ts[i] <= ts[i-1] {
			return false
		}
	}
	return true
}

// mergeSummaries defends against summaries that break the contract
// (unsorted or repeated times, one group twice): it merges them so that
// nothing counts twice.
func mergeSummaries(in []GroupSummary) []GroupSummary {
	var recs []Record
	extra := map[groupID]GroupSummary{}
	for _, g := range in {
		id := groupID{g.BackupType, g.BackupID}
		for i, t := range g.Times {
			r := Record{BackupType: g.BackupType, BackupID: g.BackupID, Time: t, Verification: VerificationNone}
			if i == len(g.Times)-1 {
				r.Size, r.Verification = g.LastSize, normalizeVerification(g.LastVerification)
			}
			recs = append(recs, r)
		}
		if len(g.Times) == 0 {
			recs = append(recs, Record{BackupType: g.BackupType, BackupID: g.BackupID, InProgress: true})
		}
		x := extra[id]
		x.VerifyFailed += g.VerifyFailed
		x.Protected += g.Protected
		x.InProgress = x.InProgress || g.InProgress
		extra[id] = x
	}
	out := SummarizeRecords(recs)
	for i := range out {
		x := extra[groupID{out[i].BackupType, out[i].BackupID}]
		// The counts cannot be recomputed without the snapshots; cap them
		// at the number of distinct points.
		out[i].VerifyFailed = min(x.VerifyFailed, len(out[i].Times))
		out[i].Protected = min(x.Protected, len(out[i].Times))
		out[i].InProgress = x.InProgress
	}
	return out
}

// visibleThroughPVE reports whether PVE's content listing of a pbs
// storage shows the group: vm and ct with numeric ids only.
func visibleThroughPVE(g GroupSummary) bool {
	if g.BackupType != BackupTypeVM && g.BackupType != BackupTypeCT {
		return false
	}
	if g.BackupID == "" {
		return false
	}
	for i := 0; i < len(g.BackupID); i++ {
		if g.BackupID[i] < '0' || g.BackupID[i] > '9' {
			return false
		}
	}
	return true
}

// unionTimes counts distinct times over several ascending lists, returns
// the newest and how many lists hold it. The lists come from summaries
// (ascending and distinct), so a k-way merge counts them without a set;
// a list out of order falls back to the set.
func unionTimes(lists [][]int64) (count int, last int64, copies int) {
	for _, l := range lists {
		if !strictlyAscending(l) {
			return unionTimesSet(lists)
		}
	}
	if len(lists) == 1 {
		count = len(lists[0])
	} else {
		pos := make([]int, len(lists))
		for {
			// The smallest head; every list holding it advances.
			next, found := int64(0), false
			for i, l := range lists {
				if pos[i] < len(l) && (!found || l[pos[i]] < next) {
					next, found = l[pos[i]], true
				}
			}
			if !found {
				break
			}
			count++
			for i, l := range lists {
				if pos[i] < len(l) && l[pos[i]] == next {
					pos[i]++
				}
			}
		}
	}
	if count == 0 {
		return 0, 0, 0
	}
	// As unionTimesSet: the newest is the largest tail (never below 0).
	for _, l := range lists {
		if n := len(l); n > 0 {
			last = max(last, l[n-1])
		}
	}
	for _, l := range lists {
		if n := len(l); n > 0 && l[n-1] == last {
			copies++
		}
	}
	return count, last, copies
}

// unionTimesSet is unionTimes for lists in any order.
func unionTimesSet(lists [][]int64) (count int, last int64, copies int) {
	set := map[int64]bool{}
	for _, l := range lists {
		for _, t := range l {
			set[t] = true
			last = max(last, t)
		}
	}
	if len(set) == 0 {
		return 0, 0, 0
	}
	for _, l := range lists {
		if n := len(l); n > 0 && l[n-1] == last {
			copies++
		}
	}
	return len(set), last, copies
}

func guestSet(c Cluster) map[GuestKey]bool {
	m := make(map[GuestKey]bool, len(c.Guests))
	for _, g := range c.Guests {
		if bt := BackupTypeOfGuest(g.Type); bt != "" {
			m[GuestKey{Cluster: clusterName(c), BackupType: bt, BackupID: normalizeVMID(guestID(g))}] = true
		}
	}
	return m
}

func sortedGuests(gs []proxmox.ClusterResource) []proxmox.ClusterResource {
	// The keys are computed once: guestID formats a number.
	type keyed struct {
		typ, id string
		i       int
	}
	keys := make([]keyed, len(gs))
	for i, g := range gs {
		keys[i] = keyed{BackupTypeOfGuest(g.Type), normalizeVMID(guestID(g)), i}
	}
	slices.SortStableFunc(keys, func(a, b keyed) int {
		if c := strings.Compare(a.typ, b.typ); c != 0 {
			return c
		}
		if len(a.id) != len(b.id) {
			return len(a.id) - len(b.id)
		}
		return strings.Compare(a.id, b.id)
	})
	out := make([]proxmox.ClusterResource, len(gs))
	for j, k := range keys {
		out[j] = gs[k.i]
	}
	return out
}

// SplitTags splits a PVE tag string: ';' is the separator PVE writes, but
// ',' and spaces are accepted too. Tags are returned sorted and distinct.
func SplitTags(s string) []string {
	set := map[string]bool{}
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' || r == '\t' }) {
		set[t] = true
	}
	if len(set) == 0 {
		return nil
	}
	return sortedKeys(set)
}

type intervalResult struct {
	seconds int64
	err     error
}

// expectedInterval is the shortest interval over the jobs' schedules; 0
// (unknown) when there are no jobs or any covering job's schedule cannot
// be parsed, because the shortest is then not known.
func expectedInterval(jobs []proxmox.BackupJob, cache map[string]intervalResult, report func(proxmox.BackupJob, error)) int64 {
	best := int64(0)
	for _, j := range jobs {
		r, ok := cache[j.Schedule]
		if !ok {
			r.seconds, r.err = ShortestInterval(j.Schedule)
			cache[j.Schedule] = r
		}
		if r.err != nil {
			report(j, r.err)
			return 0
		}
		if best == 0 || r.seconds < best {
			best = r.seconds
		}
	}
	return best
}

// permissionSuspect flags a PVE listing that came back empty although the
// storage holds only backups and reports used space: PVE silently drops
// backup volumes the token may not see (REFERENCE.md §1.4). Only file
// storages are judged: a pbs storage's used space is the whole datastore,
// which other namespaces and clusters fill.
func permissionSuspect(clusters map[string]Cluster, r Repository, res PVEResult) (Warning, bool) {
	if len(res.Volumes) != 0 || r.StorageType == "pbs" {
		return Warning{}, false
	}
	for _, c := range clusters {
		if c.Target != r.Target || !c.Up {
			continue
		}
		var cfg *proxmox.StorageConfig
		for i := range c.Storages {
			if c.Storages[i].Storage == r.Storage {
				cfg = &c.Storages[i]
			}
		}
		if cfg == nil || strings.TrimSpace(cfg.Content) != "backup" {
			continue
		}
		nodes := make([]string, 0, len(c.NodeStorages))
		for n := range c.NodeStorages {
			nodes = append(nodes, n)
		}
		sort.Strings(nodes)
		for _, node := range nodes {
			if r.Node != "" && node != r.Node {
				continue
			}
			for _, row := range c.NodeStorages[node] {
				if row.Storage == r.Storage && row.Used > 0 {
					return Warning{Kind: WarnPermissionSuspected, Cluster: clusterName(c), Storage: r.Storage, Target: c.Target,
						Message: fmt.Sprintf("storage %s lists no backups although it holds only backups and %d bytes are used: the token probably lacks Datastore.Allocate (or Datastore.AllocateSpace + VM.Backup), and PVE hides what it may not see", r.Storage, int64(row.Used))}, true
				}
			}
		}
	}
	return Warning{}, false
}
