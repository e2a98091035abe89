package dedup

// The implementation of Merge before it was optimised (commit 64dabc9),
// frozen here as an oracle: TestMergeMatchesReference holds the optimised
// code to exactly its results. Only identifiers were renamed (ref prefix).
// A deliberate change of Merge's behaviour must change this copy too, or
// drop it.

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Types the reference uses, frozen with it.
type (
	refGroupID        struct{ typ, id string }
	refIntervalResult struct {
		seconds int64
		err     error
	}
)

func refMerge(e Estate, p Plan, l Listings) Result {
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
		gs, ok := refReadRepository(r, l)
		res.RepositoryUp[r.Name] = ok
		if !ok {
			continue
		}
		if r.Kind == KindPVE {
			if w, suspect := refPermissionSuspect(clusters, r, l.PVE[r.Name]); suspect {
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
			inventory = refGuestSet(c)
		}
		for _, g := range groups[r.Name] {
			a := GroupAggregate{
				Repository: r.Name, Cluster: r.Cluster, BackupType: g.BackupType, BackupID: g.BackupID,
				Snapshots: len(g.Times), LastSize: g.LastSize, LastVerification: refNormalizeVerification(g.LastVerification),
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
			if s.PVEView && !refVisibleThroughPVE(g) {
				continue
			}
			res.Duplicates[s.Reason] += len(g.Times)
		}
	}

	// Per guest.
	intervals := map[string]refIntervalResult{}
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
		if c.PoolsRead {
			for _, j := range c.Jobs {
				if j.IsEnabled() && refHiddenPool(c, j) {
					warn(Warning{Kind: WarnPoolHidden, Cluster: cname, Target: c.Target, Job: j.ID, Pool: j.Pool,
						Message: fmt.Sprintf("backup job %s selects pool %s, which the token may not see: which guests it backs up is unknown (grant Pool.Audit on /pool/%s to the token, or the pool no longer exists)", j.ID, j.Pool, j.Pool)})
				}
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
		for _, g := range refSortedGuests(c.Guests) {
			bt := BackupTypeOfGuest(g.Type)
			id := normalizeVMID(guestID(g))
			k := GuestKey{Cluster: cname, BackupType: bt, BackupID: id}
			if bt == "" || id == "" || seen[k] {
				continue
			}
			seen[k] = true
			a := GuestAggregate{
				Cluster: cname, BackupType: bt, BackupID: id, Name: g.Name, Node: g.Node,
				Template: bool(g.Template), Tags: refSplitTags(g.Tags), Known: known,
			}
			if known {
				a.Snapshots, a.Last, a.LastCopies = refUnionTimes(byGuest[k])
			}
			jobs := refCoveringJobs(c.Jobs, g)
			a.InJob = len(jobs) > 0
			failed := false
			report := func(j proxmox.BackupJob, err error) {
				failed = true
				warn(Warning{Kind: WarnScheduleUnparsable, Cluster: cname, Target: c.Target,
					Message: fmt.Sprintf("backup job %s: schedule %q: %v", j.ID, j.Schedule, err)})
			}
			a.ExpectedIntervalSeconds = refExpectedInterval(jobs, intervals, report)
			// Issue 14 hole 4: jobs of a pool the token may not see.
			maybe := refHiddenPoolJobs(c, g)
			switch {
			case len(maybe) == 0:
			case !a.InJob:
				a.InJobUnknown = true
			case !failed:
				for _, j := range maybe {
					if s := refExpectedInterval([]proxmox.BackupJob{j}, intervals, report); s == 0 || s < a.ExpectedIntervalSeconds {
						a.ExpectedIntervalSeconds = 0
						break
					}
				}
			}
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

func refReadRepository(r Repository, l Listings) ([]GroupSummary, bool) {
	if r.Unreadable != "" {
		return nil, false
	}
	switch r.Kind {
	case KindPBS:
		res, ok := l.PBS[r.Name]
		if !ok || res.Err != nil {
			return nil, false
		}
		return refNormalizeSummaries(res.Groups), true
	case KindPVE:
		res, ok := l.PVE[r.Name]
		if !ok || res.Err != nil {
			return nil, false
		}
		recs, _ := refRecordsFromVolumes(r.Key, res.Volumes)
		return refSummarizeRecords(recs), true
	}
	return nil, false
}

func refNormalizeSummaries(in []GroupSummary) []GroupSummary {
	out := make([]GroupSummary, len(in))
	copy(out, in)
	sort.Slice(out, func(a, b int) bool { return refGroupLess(out[a], out[b]) })
	for i := range out {
		g := &out[i]
		if i > 0 && !refGroupLess(out[i-1], *g) || !refStrictlyAscending(g.Times) {
			return refMergeSummaries(in)
		}
		// What mergeSummaries makes of a well-formed summary.
		n := len(g.Times)
		if n == 0 {
			g.Times, g.LastSize, g.LastVerification = nil, 0, VerificationNone
		} else {
			g.LastVerification = refNormalizeVerification(g.LastVerification)
		}
		g.VerifyFailed = min(g.VerifyFailed, n)
		g.Protected = min(g.Protected, n)
	}
	return out
}

func refGroupLess(a, b GroupSummary) bool {
	if a.BackupType != b.BackupType {
		return a.BackupType < b.BackupType
	}
	return a.BackupID < b.BackupID
}

func refStrictlyAscending(ts []int64) bool {
	for i := 1; i < len(ts); i++ {
		if ts[i] <= ts[i-1] {
			return false
		}
	}
	return true
}

func refMergeSummaries(in []GroupSummary) []GroupSummary {
	var recs []Record
	extra := map[refGroupID]GroupSummary{}
	for _, g := range in {
		id := refGroupID{g.BackupType, g.BackupID}
		for i, t := range g.Times {
			r := Record{BackupType: g.BackupType, BackupID: g.BackupID, Time: t, Verification: VerificationNone}
			if i == len(g.Times)-1 {
				r.Size, r.Verification = g.LastSize, refNormalizeVerification(g.LastVerification)
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
	out := refSummarizeRecords(recs)
	for i := range out {
		x := extra[refGroupID{out[i].BackupType, out[i].BackupID}]
		// The counts cannot be recomputed without the snapshots; cap them
		// at the number of distinct points.
		out[i].VerifyFailed = min(x.VerifyFailed, len(out[i].Times))
		out[i].Protected = min(x.Protected, len(out[i].Times))
		out[i].InProgress = x.InProgress
	}
	return out
}

func refVisibleThroughPVE(g GroupSummary) bool {
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

func refUnionTimes(lists [][]int64) (count int, last int64, copies int) {
	for _, l := range lists {
		if !refStrictlyAscending(l) {
			return refUnionTimesSet(lists)
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

func refUnionTimesSet(lists [][]int64) (count int, last int64, copies int) {
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

func refGuestSet(c Cluster) map[GuestKey]bool {
	m := make(map[GuestKey]bool, len(c.Guests))
	for _, g := range c.Guests {
		if bt := BackupTypeOfGuest(g.Type); bt != "" {
			m[GuestKey{Cluster: clusterName(c), BackupType: bt, BackupID: normalizeVMID(guestID(g))}] = true
		}
	}
	return m
}

func refSortedGuests(gs []proxmox.ClusterResource) []proxmox.ClusterResource {
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

func refSplitTags(s string) []string {
	set := map[string]bool{}
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' || r == '\t' }) {
		set[t] = true
	}
	if len(set) == 0 {
		return nil
	}
	return sortedKeys(set)
}

func refExpectedInterval(jobs []proxmox.BackupJob, cache map[string]refIntervalResult, report func(proxmox.BackupJob, error)) int64 {
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

func refPermissionSuspect(clusters map[string]Cluster, r Repository, res PVEResult) (Warning, bool) {
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

func refRecordsFromVolumes(repoKey string, vols []proxmox.BackupVolume) (recs []Record, skipped int) {
	recs = make([]Record, 0, len(vols))
	for i := range vols {
		r, ok := refRecordFromVolume(repoKey, &vols[i])
		if !ok {
			skipped++
			continue
		}
		recs = append(recs, r)
	}
	return recs, skipped
}

func refRecordFromVolume(repoKey string, v *proxmox.BackupVolume) (Record, bool) {
	if v.Content != "" && v.Content != "backup" {
		return Record{}, false
	}
	r := Record{Repository: repoKey, Time: int64(v.CTime), Size: int64(v.Size), Protected: bool(v.Protected), Verification: VerificationNone}
	parsed, perr := ParseBackupVolumeID(v.VolID)
	pbsStyle := perr == nil && parsed.Style == StylePBS
	if perr != nil && (v.Format == "pbs-vm" || v.Format == "pbs-ct") {
		pbsStyle = true
	}
	if pbsStyle {
		if perr == nil {
			r.BackupType, r.BackupID = parsed.BackupType, parsed.BackupID
			if r.Time <= 0 {
				r.Time = parsed.Time
			}
		} else {
			r.BackupType = BackupTypeOfGuest(v.Subtype)
			if v.VMID > 0 {
				r.BackupID = strconv.FormatInt(int64(v.VMID), 10)
			}
		}
		if v.Size <= 1 {
			r.InProgress = true
			r.Size = 0
		} else {
			r.Verification = verificationState(v.Verification)
		}
	} else {
		r.BackupType = BackupTypeOfGuest(v.Subtype)
		if v.VMID > 0 {
			r.BackupID = strconv.FormatInt(int64(v.VMID), 10)
		}
		if perr == nil {
			if r.BackupType == "" {
				r.BackupType = parsed.BackupType
			}
			if r.BackupID == "" {
				r.BackupID = parsed.BackupID
			}
			if r.Time <= 0 && parsed.HasTime {
				r.Time = parsed.Time
			}
		}
	}
	if r.BackupType == "" || r.BackupID == "" || r.Time <= 0 {
		return Record{}, false
	}
	return r, true
}

func refSummarizeRecords(recs []Record) []GroupSummary {
	type point struct {
		size     int64
		verif    string
		protect  bool
		complete bool
	}
	groups := map[refGroupID]map[int64]*point{}
	for _, r := range recs {
		g := refGroupID{r.BackupType, r.BackupID}
		pts := groups[g]
		if pts == nil {
			pts = map[int64]*point{}
			groups[g] = pts
		}
		p := pts[r.Time]
		if p == nil {
			p = &point{verif: VerificationNone}
			pts[r.Time] = p
		}
		if r.InProgress {
			continue
		}
		if !p.complete {
			*p = point{size: r.Size, verif: r.Verification, protect: r.Protected, complete: true}
			continue
		}
		p.size = max(p.size, r.Size)
		p.protect = p.protect || r.Protected
		if refVerificationRank(r.Verification) > refVerificationRank(p.verif) {
			p.verif = r.Verification
		}
	}
	keys := make([]refGroupID, 0, len(groups))
	for g := range groups {
		keys = append(keys, g)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].typ != keys[b].typ {
			return keys[a].typ < keys[b].typ
		}
		return keys[a].id < keys[b].id
	})
	out := make([]GroupSummary, 0, len(keys))
	for _, g := range keys {
		s := GroupSummary{BackupType: g.typ, BackupID: g.id, LastVerification: VerificationNone}
		pts := groups[g]
		// Sized once: the collector caches summaries, so spare capacity
		// would stay on the heap with them.
		s.Times = make([]int64, 0, len(pts))
		for t, p := range pts {
			if !p.complete {
				s.InProgress = true
				continue
			}
			s.Times = append(s.Times, t)
		}
		if len(s.Times) == 0 {
			s.Times = nil
		}
		slices.Sort(s.Times)
		for _, t := range s.Times {
			p := pts[t]
			if p.verif == VerificationFailed {
				s.VerifyFailed++
			}
			if p.protect {
				s.Protected++
			}
		}
		if n := len(s.Times); n > 0 {
			last := pts[s.Times[n-1]]
			s.LastSize, s.LastVerification = last.size, refNormalizeVerification(last.verif)
		}
		out = append(out, s)
	}
	return out
}

func refVerificationRank(v string) int {
	switch v {
	case VerificationFailed:
		return 2
	case VerificationOK:
		return 1
	}
	return 0
}

func refNormalizeVerification(v string) string {
	switch v {
	case VerificationOK, VerificationFailed:
		return v
	}
	return VerificationNone
}

func refCoveringJobs(jobs []proxmox.BackupJob, guest proxmox.ClusterResource) []proxmox.BackupJob {
	var out []proxmox.BackupJob
	for _, j := range jobs {
		if j.IsEnabled() && refJobSelects(j, guest) {
			out = append(out, j)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

// refHiddenPool: a vzdump job selecting a pool that is not among the
// cluster's visible pools (or the pools were not read).
func refHiddenPool(c Cluster, j proxmox.BackupJob) bool {
	return (j.Type == "" || j.Type == "vzdump") && !bool(j.All) && string(j.VMID) == "" && j.Pool != "" &&
		!(c.PoolsRead && slices.Contains(c.Pools, j.Pool))
}

// refHiddenPoolJobs: the enabled jobs of hidden pool that would select the
// guest if its row showed that pool (a guest shown in a pool is in no
// other), by id.
func refHiddenPoolJobs(c Cluster, g proxmox.ClusterResource) []proxmox.BackupJob {
	var out []proxmox.BackupJob
	for _, j := range c.Jobs {
		if g.Pool != "" || !j.IsEnabled() || !refHiddenPool(c, j) {
			continue
		}
		in := g
		in.Pool = j.Pool
		if refJobSelects(j, in) {
			out = append(out, j)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

// refJobSelects is JobSelects as it was written before preparedJob.selects
// came to serve both.
func refJobSelects(job proxmox.BackupJob, guest proxmox.ClusterResource) bool {
	if job.Type != "" && job.Type != "vzdump" {
		return false
	}
	if job.Node != "" && job.Node != guest.Node {
		return false
	}
	id := normalizeVMID(guestID(guest))
	if id == "" {
		return false
	}
	contains := func(list string) bool {
		for _, v := range splitIDList(list) {
			if normalizeVMID(v) == id {
				return true
			}
		}
		return false
	}
	switch {
	case bool(job.All):
		return !contains(string(job.Exclude))
	case string(job.VMID) != "":
		return contains(string(job.VMID))
	case job.Pool != "":
		return guest.Pool == job.Pool
	}
	return false
}
