package dedup

// This file merges the fetched listings into per-group and per-guest
// aggregates. Every planned repository is read at most once (the plan
// guarantees it), records inside a repository are deduplicated by time,
// and a guest's recovery points are the union of times over every
// repository its cluster reaches, so a copy of one point in time in two
// repositories counts once for the guest.

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Merge combines the plan and the fetched listings into the scrape's
// result. It is pure and deterministic.
func Merge(e Estate, p Plan, l Listings) Result {
	res := Result{
		RepositoryUp: make(map[string]bool, len(p.Repositories)),
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

	clusters := make(map[string]Cluster, len(e.Clusters))
	for _, c := range e.Clusters {
		if _, dup := clusters[clusterName(c)]; !dup {
			clusters[clusterName(c)] = c
		}
	}

	stale := map[string]bool{}
	for _, pbs := range e.PBS {
		if pbs.Stale {
			stale[pbs.Target] = true
		}
	}

	// Read every repository. Every summary in groups keeps the
	// GroupSummary contract (distinct groups, sorted; times ascending and
	// distinct): readRepository makes sure of it, and unionTimes relies
	// on it.
	state := make(map[string]string, len(p.Repositories))
	groups := make(map[string][]GroupSummary, len(p.Repositories)) // repository name -> groups, for readable repositories
	for _, r := range p.Repositories {
		gs, ok := readRepository(r, l)
		state[r.Name] = RepositoryStateDown
		if !ok {
			continue
		}
		if r.Kind == KindPVE {
			if w, suspect := permissionSuspect(clusters, r, l.PVE[r.Name]); suspect {
				// An empty listing that PVE probably filtered is not "no
				// backups": the repository is unknown, so every guest it
				// could hold has no count rather than a false 0.
				warn(w)
				continue
			}
		}
		state[r.Name] = RepositoryStateUp
		if r.Kind == KindPBS && stale[r.Target] {
			state[r.Name] = RepositoryStateStale
		}
		groups[r.Name] = gs
	}

	// The inventory of every up cluster, indexed once for the orphan
	// checks and the guest aggregates.
	inventories := make(map[string]*guestIndex, len(clusters))
	guests := 0
	for name, c := range clusters {
		if c.Up {
			inventories[name] = newGuestIndex(c.Guests)
			guests += len(c.Guests)
		}
	}

	// Where each group's guest stands in its cluster's inventory, by
	// repository, for the orphan checks and the guest aggregates.
	positions := make(map[string]guestPositions, len(groups))
	for _, r := range p.Repositories {
		if r.Cluster == "" || inventories[r.Cluster] == nil {
			continue
		}
		if gs, ok := groups[r.Name]; ok {
			positions[r.Name] = guestPositions{r.Cluster, inventories[r.Cluster].positions(gs)}
		}
	}
	// What each cluster's guests can reach, in plan order.
	reaches := make(map[string][]Repository, len(clusters))
	for _, r := range p.Repositories {
		for _, rc := range r.Clusters {
			reaches[rc] = append(reaches[rc], r)
		}
	}

	// Listings that hide backups the tasks say were made are down too:
	// judged before anything is aggregated, so Merge runs once.
	for _, h := range hiddenRepositories(clusters, inventories, reaches, p, l.Tasks, groups, positions, state) {
		warn(h.warning)
		state[h.repository.Name] = RepositoryStateDown
		delete(groups, h.repository.Name)
		delete(positions, h.repository.Name)
	}
	for name, st := range state {
		res.RepositoryUp[name] = st == RepositoryStateUp
	}
	res.RepositoryState = state

	// Per group per repository.
	total := 0
	for _, gs := range groups {
		total += len(gs)
	}
	res.Groups = make([]GroupAggregate, 0, total)
	for _, r := range p.Repositories {
		var inventory *guestIndex
		if r.Cluster != "" {
			inventory = inventories[r.Cluster]
		}
		gs := groups[r.Name]
		pos := positions[r.Name].pos
		for i := range gs {
			g := &gs[i]
			a := GroupAggregate{
				Repository: r.Name, Cluster: r.Cluster, BackupType: g.BackupType, BackupID: g.BackupID,
				Snapshots: len(g.Times), LastSize: g.LastSize, LastVerification: normalizeVerification(g.LastVerification),
				VerifyFailed: g.VerifyFailed, Verified: g.Verified, Protected: g.Protected, InProgress: g.InProgress,
				LastEncrypted: g.LastEncrypted && len(g.Times) > 0, Unencrypted: g.Unencrypted,
			}
			if n := len(g.Times); n > 0 {
				a.First, a.Last = g.Times[0], g.Times[n-1]
			}
			// Host backups belong to no guest; a group is an orphan only
			// when its cluster's inventory was read and lacks the guest.
			if inventory != nil && (g.BackupType == proxmox.BackupTypeVM || g.BackupType == proxmox.BackupTypeCT) {
				a.Orphan = pos[i] < 0
			}
			res.Groups = append(res.Groups, a)
		}
	}

	// Duplicates the plan avoided, counted from what was read. Every node
	// of a shared storage is a path of its own: count each repository
	// once.
	counts := make(map[string]pointCounts, len(groups))
	for _, s := range p.Suppressed {
		c, ok := counts[s.Repository]
		if !ok {
			c = countPoints(groups[s.Repository])
			counts[s.Repository] = c
		}
		n, counted := c.points, c.groups
		if s.PVEView {
			n, counted = c.visiblePoints, c.visibleGroups
		}
		if counted > 0 { // a reason is only added for a group counted
			res.Duplicates[s.Reason] += n
		}
	}

	// Per guest.
	if guests > 0 {
		res.Guests = make([]GuestAggregate, 0, guests)
	}
	intervals := map[string]intervalResult{}
	names := slices.Sorted(maps.Keys(clusters))
	var lists [][]int64 // reused across clusters
	var encs []bool     // lists' groups' LastEncrypted, reused too
	for _, cname := range names {
		c := clusters[cname]
		if !c.Up {
			continue
		}
		inventory := inventories[cname]
		reach := reaches[cname]
		known := readable(reach, state)
		// The reachable groups' times by guest position: lists[off[j]:off[j+1]]
		// are the Times of guest j's groups, encs[off[j]:off[j+1]] whether
		// their newest point is encrypted.
		var off []int
		if known {
			off, lists = reachTimes(cname, inventory, reach, groups, positions, lists, &encs)
		}
		jobs := prepareJobs(c.Jobs, c.Pools, c.PoolsRead)
		report := func(j *proxmox.BackupJob, err error) {
			warn(Warning{Kind: WarnScheduleUnparsable, Cluster: cname, Target: c.Target,
				Message: fmt.Sprintf("backup job %s: schedule %q: %v", j.ID, j.Schedule, err)})
		}
		for _, w := range jobs.hiddenPoolWarnings(cname, c.Target, c.PoolsRead) {
			warn(w)
		}
		for j := range inventory.guests {
			kg := &inventory.guests[j]
			// Guests listed twice are adjacent; the first one counts.
			if kg.typ == "" || kg.id == "" || j > 0 && inventory.guests[j-1].sameKey(kg) {
				continue
			}
			g := kg.g
			a := GuestAggregate{
				Cluster: cname, BackupType: kg.typ, BackupID: kg.id, Name: g.Name, Node: g.Node,
				Template: g.Template != nil && bool(*g.Template), TemplateUnknown: g.Template == nil, Tags: SplitTags(g.Tags), Known: known,
			}
			if known {
				a.Snapshots, a.Last, a.LastCopies = unionTimes(lists[off[j]:off[j+1]])
				a.LastEncryption = newestEncryption(lists[off[j]:off[j+1]], encs[off[j]:off[j+1]], a.Last)
			}
			a.InJob, a.InJobUnknown, a.ExpectedIntervalSeconds = jobs.cover(g, kg.id, intervals, report)
			res.Guests = append(res.Guests, a)
		}
	}
	if len(res.Guests) == 0 {
		res.Guests = nil
	}

	// Each repository's groups are in order (readRepository): so are all
	// when the names of the repositories that have groups ascend, as
	// BuildPlan sorts them. Only otherwise is there more to check.
	if !namesAscend(p.Repositories, groups) && !groupAggregatesSorted(res.Groups) {
		slices.SortStableFunc(res.Groups, func(x, y GroupAggregate) int { return compareGroupAggregates(&x, &y) })
	}
	sortWarnings(res.Warnings)
	return res
}

// guestPositions are where the groups of one repository stand in the
// inventory of the cluster the repository is attributed to.
type guestPositions struct {
	cluster string
	pos     []int
}

// readable reports whether every repository of reach could be read (up or
// stale): only then are its guests' counts known.
func readable(reach []Repository, state map[string]string) bool {
	for _, r := range reach {
		if state[r.Name] == RepositoryStateDown {
			return false
		}
	}
	return true
}

// reachTimes collects the Times of the groups a cluster reaches by guest
// position (see timesByGuest), reusing the positions computed for the
// repositories attributed to the cluster.
func reachTimes(cname string, inventory *guestIndex, reach []Repository, groups map[string][]GroupSummary,
	positions map[string]guestPositions, lists [][]int64, encs *[]bool) ([]int, [][]int64) {
	reached := make([][]GroupSummary, len(reach))
	guestOf := make([][]int, len(reach))
	for i, r := range reach {
		reached[i] = groups[r.Name]
		if x, ok := positions[r.Name]; ok && x.cluster == cname {
			guestOf[i] = x.pos
		} else {
			guestOf[i] = inventory.positions(reached[i])
		}
	}
	return inventory.timesByGuest(reached, guestOf, lists, encs)
}

// compareGroupAggregates orders groups by repository, type and id.
func compareGroupAggregates(x, y *GroupAggregate) int {
	if c := strings.Compare(x.Repository, y.Repository); c != 0 {
		return c
	}
	if c := strings.Compare(x.BackupType, y.BackupType); c != 0 {
		return c
	}
	return strings.Compare(x.BackupID, y.BackupID)
}

// namesAscend reports whether the repositories that have groups come in
// strictly ascending order of name.
func namesAscend(repos []Repository, groups map[string][]GroupSummary) bool {
	prev, first := "", true
	for _, r := range repos {
		if len(groups[r.Name]) == 0 {
			continue
		}
		if !first && r.Name <= prev {
			return false
		}
		prev, first = r.Name, false
	}
	return true
}

func groupAggregatesSorted(gs []GroupAggregate) bool {
	for i := 1; i < len(gs); i++ {
		if compareGroupAggregates(&gs[i-1], &gs[i]) > 0 {
			return false
		}
	}
	return true
}

// readRepository returns the groups of a repository and whether it was
// read. A repository without a listing result was not read: down. The
// groups keep the GroupSummary contract; they may share memory with the
// listing and are not to be modified.
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
		// The summaries live only as long as this Merge: their Times may
		// share one array.
		return summarizeRecords(recs, true), true
	}
	return nil, false
}

// normalizeSummaries returns the summaries sorted by type then id, as
// SummarizeRecords orders them. Summaries that keep the GroupSummary
// contract (distinct groups, times ascending and distinct) are passed
// through as they are, sharing their Times: that is the collector's every
// scrape, and expanding each group into one record per recovery point
// only to summarise them again cost more than the rest of Merge together.
// When they are in order and already normalised, as the collector's cache
// hands them over, the slice itself is returned: the caller must not
// modify the result. Anything else goes through mergeSummaries.
func normalizeSummaries(in []GroupSummary) []GroupSummary {
	if summariesNormalized(in) {
		return in
	}
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b GroupSummary) int { return compareGroups(&a, &b) })
	for i := range out {
		g := &out[i]
		if i > 0 && compareGroups(&out[i-1], g) >= 0 || !strictlyAscending(g.Times) {
			return mergeSummaries(in)
		}
		// What mergeSummaries makes of a well-formed summary.
		n := len(g.Times)
		if n == 0 {
			g.Times, g.LastSize, g.LastVerification, g.LastEncrypted = nil, 0, VerificationNone, false
		} else {
			g.LastVerification = normalizeVerification(g.LastVerification)
		}
		g.VerifyFailed = min(g.VerifyFailed, n)
		g.Verified = min(g.Verified, n-g.VerifyFailed)
		g.Protected = min(g.Protected, n)
		g.Unencrypted = min(g.Unencrypted, n)
	}
	return out
}

// summariesNormalized reports whether normalizeSummaries would return the
// summaries unchanged: sorted, distinct, and each already normalised.
func summariesNormalized(gs []GroupSummary) bool {
	for i := range gs {
		g := &gs[i]
		if i > 0 && compareGroups(&gs[i-1], g) >= 0 || !strictlyAscending(g.Times) {
			return false
		}
		n := len(g.Times)
		if n == 0 && (g.Times != nil || g.LastSize != 0 || g.LastVerification != VerificationNone || g.LastEncrypted) ||
			n > 0 && normalizeVerification(g.LastVerification) != g.LastVerification ||
			g.VerifyFailed > n || g.Verified > n-g.VerifyFailed || g.Protected > n || g.Unencrypted > n {
			return false
		}
	}
	return true
}

// compareGroups orders summaries by type, then id.
func compareGroups(a, b *GroupSummary) int {
	if c := strings.Compare(a.BackupType, b.BackupType); c != 0 {
		return c
	}
	return strings.Compare(a.BackupID, b.BackupID)
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
	type groupID struct{ typ, id string }
	var recs []Record
	extra := map[groupID]GroupSummary{}
	lastEnc := map[groupID]map[int64]bool{}
	for _, g := range in {
		id := groupID{g.BackupType, g.BackupID}
		for i, t := range g.Times {
			r := Record{BackupType: g.BackupType, BackupID: g.BackupID, Time: t, Verification: VerificationNone}
			if i == len(g.Times)-1 {
				r.Size, r.Verification = g.LastSize, normalizeVerification(g.LastVerification)
				// Only a summary's newest point has a known
				// encryption: every summary ending on a time must
				// say encrypted for the point to be (set below).
				if lastEnc[id] == nil {
					lastEnc[id] = map[int64]bool{}
				}
				enc, seen := lastEnc[id][t]
				lastEnc[id][t] = g.LastEncrypted && (enc || !seen)
			}
			recs = append(recs, r)
		}
		if len(g.Times) == 0 {
			recs = append(recs, Record{BackupType: g.BackupType, BackupID: g.BackupID, InProgress: true})
		}
		x := extra[id]
		x.VerifyFailed += g.VerifyFailed
		x.Verified += g.Verified
		x.Unencrypted += g.Unencrypted
		x.Protected += g.Protected
		x.InProgress = x.InProgress || g.InProgress
		extra[id] = x
	}
	out := summarizeRecords(recs, true)
	for i := range out {
		x := extra[groupID{out[i].BackupType, out[i].BackupID}]
		// The counts cannot be recomputed without the snapshots; cap them
		// at the number of distinct points.
		out[i].VerifyFailed = min(x.VerifyFailed, len(out[i].Times))
		out[i].Verified = min(x.Verified, len(out[i].Times)-out[i].VerifyFailed)
		out[i].Unencrypted = min(x.Unencrypted, len(out[i].Times))
		out[i].LastEncrypted = false
		if n := len(out[i].Times); n > 0 {
			out[i].LastEncrypted = lastEnc[groupID{out[i].BackupType, out[i].BackupID}][out[i].Times[n-1]]
		}
		out[i].Protected = min(x.Protected, len(out[i].Times))
		out[i].InProgress = x.InProgress
	}
	return out
}

// pointCounts are the groups and recovery points of a repository, all and
// those PVE's content API shows.
type pointCounts struct {
	groups, points               int
	visibleGroups, visiblePoints int
}

func countPoints(gs []GroupSummary) pointCounts {
	var c pointCounts
	for i := range gs {
		c.groups++
		c.points += len(gs[i].Times)
		if visibleThroughPVE(gs[i]) {
			c.visibleGroups++
			c.visiblePoints += len(gs[i].Times)
		}
	}
	return c
}

// visibleThroughPVE reports whether PVE's content listing of a pbs
// storage shows the group: vm and ct with numeric ids only.
func visibleThroughPVE(g GroupSummary) bool {
	if g.BackupType != proxmox.BackupTypeVM && g.BackupType != proxmox.BackupTypeCT {
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

// unionTimes counts distinct times over several lists that are ascending
// and distinct, as summaries' times are; it returns the newest and how
// many lists hold it. The union is the longest list plus every time of
// the others that neither it nor an earlier list holds, found by binary
// search: a guest's lists are typically one long PBS group and a few
// vzdump files, so this looks at the short lists only, without a set and
// without walking the long one.
func unionTimes(lists [][]int64) (count int, last int64, copies int) {
	longest := 0
	for i, l := range lists {
		if len(l) > len(lists[longest]) {
			longest = i
		}
	}
	for i, l := range lists {
		if i == longest {
			count += len(l)
			continue
		}
	times:
		for _, t := range l {
			for j := range i {
				if _, dup := slices.BinarySearch(lists[j], t); dup {
					continue times
				}
			}
			if i < longest {
				if _, dup := slices.BinarySearch(lists[longest], t); dup {
					continue times
				}
			}
			count++
		}
	}
	if count == 0 {
		return 0, 0, 0
	}
	// The newest is the largest tail (never below 0).
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

// guestIndex is the inventory of one cluster, built once per Merge: the
// guests in the order of their aggregates (type, then VMID numerically;
// the keys are computed once: guestID formats a number), and the position
// of each vm and ct guest in that order by normalised VMID.
type guestIndex struct {
	guests []indexedGuest
	// vm and ct are two maps rather than one keyed by (type, id): a
	// lookup then hashes and compares one short string.
	vm, ct map[string]int
}

type indexedGuest struct {
	typ, id string // backup type ("" for other resources) and normalised VMID
	g       *proxmox.ClusterResource
}

func (a *indexedGuest) sameKey(b *indexedGuest) bool { return a.typ == b.typ && a.id == b.id }

func newGuestIndex(gs []proxmox.ClusterResource) *guestIndex {
	// Small keys without pointers sort faster than the guests themselves
	// (moving them needs no GC write barrier).
	type keyed struct {
		vmid int64 // when > 0, the id is its decimal form
		rank int32 // the backup type's place in string order: "" < ct < vm
		i    int32 // the guest's index in gs and ids
	}
	keys := make([]keyed, len(gs))
	ids := make([]string, len(gs)) // normalised VMIDs
	for i := range gs {
		g := &gs[i]
		ids[i] = normalizeVMID(guestID(*g))
		keys[i] = keyed{int64(max(g.VMID, 0)), typeRank(proxmox.BackupTypeOfGuest(g.Type)), int32(i)}
	}
	// By type, then id by length and text, which for decimal ids without
	// leading zeros is their numeric order: so numbers are compared
	// instead of text when both guests have a VMID. The input position
	// breaks ties: the order of a stable sort, faster.
	slices.SortFunc(keys, func(a, b keyed) int {
		if a.rank != b.rank {
			return int(a.rank - b.rank)
		}
		if a.vmid > 0 && b.vmid > 0 {
			if c := cmp.Compare(a.vmid, b.vmid); c != 0 {
				return c
			}
		} else {
			x, y := ids[a.i], ids[b.i]
			if len(x) != len(y) {
				return len(x) - len(y)
			}
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		}
		return int(a.i - b.i)
	})
	x := &guestIndex{guests: make([]indexedGuest, len(gs)), vm: make(map[string]int, len(gs)), ct: map[string]int{}}
	for j, k := range keys {
		x.guests[j] = indexedGuest{rankedTypes[k.rank], ids[k.i], &gs[k.i]}
		// Equal keys are adjacent: the first of them is the guest.
		if kg := &x.guests[j]; j == 0 || !x.guests[j-1].sameKey(kg) {
			if m := x.byType(kg.typ); m != nil {
				m[kg.id] = j
			}
		}
	}
	return x
}

// rankedTypes are the backup types of guests by typeRank.
var rankedTypes = [...]string{"", proxmox.BackupTypeCT, proxmox.BackupTypeVM}

// typeRank orders the backup types of guests as their names sort.
func typeRank(backupType string) int32 {
	switch backupType {
	case proxmox.BackupTypeCT:
		return 1
	case proxmox.BackupTypeVM:
		return 2
	}
	return 0
}

// byType returns the map of a backup type's guests; nil for any type but
// vm and ct, which no guest has.
func (x *guestIndex) byType(backupType string) map[string]int {
	switch backupType {
	case proxmox.BackupTypeVM:
		return x.vm
	case proxmox.BackupTypeCT:
		return x.ct
	}
	return nil
}

// positions returns where the guest each group belongs to stands in
// x.guests; -1 for none (host groups have none).
func (x *guestIndex) positions(gs []GroupSummary) []int {
	pos := make([]int, len(gs))
	for i := range gs {
		j, ok := x.byType(gs[i].BackupType)[normalizeVMID(gs[i].BackupID)]
		if !ok {
			j = -1
		}
		pos[i] = j
	}
	return pos
}

// timesByGuest collects the Times of groups by guest, given each group's
// position (guestOf, parallel to groups): guest j's are
// lists[off[j]:off[j+1]], in the order of groups. It reuses the lists'
// array. encs, when not nil, gets each listed group's LastEncrypted at
// the same index (its array reused as well).
func (x *guestIndex) timesByGuest(groups [][]GroupSummary, guestOf [][]int, lists [][]int64, encs *[]bool) (off []int, _ [][]int64) {
	off = make([]int, len(x.guests)+1)
	for _, pos := range guestOf {
		for _, j := range pos {
			if j >= 0 {
				off[j+1]++
			}
		}
	}
	for j := range x.guests {
		off[j+1] += off[j]
	}
	n := off[len(x.guests)]
	lists = slices.Grow(lists[:0], n)[:n]
	var enc []bool
	if encs != nil {
		enc = slices.Grow((*encs)[:0], n)[:n]
		*encs = enc
	}
	next := slices.Clone(off[:len(x.guests)])
	for r, gs := range groups {
		for i, j := range guestOf[r] {
			if j >= 0 {
				lists[next[j]] = gs[i].Times
				if enc != nil {
					enc[next[j]] = gs[i].LastEncrypted
				}
				next[j]++
			}
		}
	}
	return off, lists
}

// SplitTags splits a PVE tag string: ';' is the separator PVE writes, but
// ',' and spaces are accepted too. Tags are returned sorted and distinct.
func SplitTags(s string) []string {
	if s == "" {
		return nil
	}
	tags := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' || r == '\t' })
	if len(tags) == 0 {
		return nil
	}
	slices.Sort(tags)
	return slices.Compact(tags)
}

type intervalResult struct {
	seconds int64
	err     error
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
	// In name order: two clusters on one target (a misconfiguration) must
	// still give the same warning every time.
	names := slices.Sorted(maps.Keys(clusters))
	for _, name := range names {
		c := clusters[name]
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
		nodes := slices.Sorted(maps.Keys(c.NodeStorages))
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
