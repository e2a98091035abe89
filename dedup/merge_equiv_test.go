package dedup

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// TestMergeMatchesReference: Merge returns exactly what the implementation
// before its optimisation returned (refMerge, merge_reference_test.go), on
// the property test's random estates roughened with what they lack: backup
// jobs of every selection kind, tags, duplicate and odd guests, summaries
// out of order or breaking their contract, volumes in any order and of
// every style, and the benchmark's estate.
func TestMergeMatchesReference(t *testing.T) {
	seeds := 400
	if testing.Short() {
		seeds = 60
	}
	for seed := range seeds {
		w := genWorldFrom(int64(seed) + 1)
		p := BuildPlan(w.e)
		l := w.fetch(p)
		e := w.e
		if seed%4 != 0 { // a quarter as generated
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			e = roughenEstate(rng, e)
			l = roughenListings(rng, p, l)
			if len(p.Repositories) > 1 && rng.IntN(4) == 0 {
				// Repositories out of order, or one of them twice.
				p.Repositories = slices.Clone(p.Repositories)
				if rng.IntN(2) == 0 {
					rng.Shuffle(len(p.Repositories), func(a, b int) { p.Repositories[a], p.Repositories[b] = p.Repositories[b], p.Repositories[a] })
				}
				if k := rng.IntN(len(p.Repositories)); rng.IntN(2) == 0 {
					p.Repositories = slices.Insert(p.Repositories, k, p.Repositories[k])
				}
			}
			if len(p.Repositories) > 0 && rng.IntN(4) == 0 {
				// A reason Result.Duplicates does not start with, on a
				// repository that may have nothing to count.
				repo := []string{p.Repositories[rng.IntN(len(p.Repositories))].Name, "nowhere"}[rng.IntN(2)]
				p.Suppressed = append(slices.Clone(p.Suppressed), SuppressedPath{Reason: "other", Repository: repo, PVEView: rng.IntN(2) == 0})
			}
		}
		got, want := Merge(e, p, l), refMerge(e, p, l)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: Merge differs from the reference\n got %+v\nwant %+v", seed+1, got, want)
		}
	}
	for _, perGroup := range []int{1, 3} {
		e, p, l := benchEstate(300, perGroup)
		if got, want := Merge(e, p, l), refMerge(e, p, l); !reflect.DeepEqual(got, want) {
			t.Fatalf("bench estate (%d per group): Merge differs from the reference", perGroup)
		}
	}
}

// TestSummarizeRecordsMatchesReference compares SummarizeRecords with the
// reference on random records: repeated points that disagree, points only
// in progress, odd verification states; and checks that the input is left
// as it was.
func TestSummarizeRecordsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	states := []string{VerificationOK, VerificationFailed, VerificationNone, "", "weird"}
	for round := range 3000 {
		var recs []Record
		for range rng.IntN(12) {
			recs = append(recs, Record{
				BackupType: []string{"vm", "ct", "host"}[rng.IntN(3)], BackupID: []string{"1", "10", "100", "2", "web"}[rng.IntN(5)],
				Time: int64(rng.IntN(6)), Size: rng.Int64N(5), Verification: states[rng.IntN(len(states))],
				Protected: rng.IntN(3) == 0, InProgress: rng.IntN(4) == 0,
			})
		}
		before := slices.Clone(recs)
		got, want := SummarizeRecords(recs), refSummarizeRecords(recs)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: records %+v\n got %+v\nwant %+v", round, recs, got, want)
		}
		if !reflect.DeepEqual(recs, before) {
			t.Fatalf("round %d: SummarizeRecords changed its input", round)
		}
	}
}

// TestCoveringJobsAndSplitTagsMatchReference compares the two exported
// helpers Merge uses per guest with the reference.
func TestCoveringJobsAndSplitTagsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for round := range 3000 {
		jobs := randomJobs(rng)
		g := randomGuest(rng, "n1", "n2")
		if got, want := CoveringJobs(jobs, g), refCoveringJobs(jobs, g); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: guest %+v jobs %+v\n got %+v\nwant %+v", round, g, jobs, got, want)
		}
		if got, want := SplitTags(g.Tags), refSplitTags(g.Tags); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: SplitTags(%q) = %q, want %q", round, g.Tags, got, want)
		}
	}
}

// TestUnionTimesMatchesReference compares unionTimes with the reference
// on lists that keep its contract (ascending and distinct), of any
// lengths, overlapping or not.
func TestUnionTimesMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	for round := range 5000 {
		var lists [][]int64
		for range rng.IntN(5) {
			var l []int64
			t := int64(rng.IntN(3)) - 1
			for range rng.IntN([]int{3, 8, 60}[rng.IntN(3)]) {
				t += int64(1 + rng.IntN(4))
				l = append(l, t)
			}
			lists = append(lists, l)
		}
		c, last, copies := unionTimes(lists)
		wc, wlast, wcopies := refUnionTimes(lists)
		if c != wc || last != wlast || copies != wcopies {
			t.Fatalf("round %d: %v: got %d %d %d, want %d %d %d", round, lists, c, last, copies, wc, wlast, wcopies)
		}
	}
}

var testSchedules = []string{"02:00", "daily", "mon..fri 03:00", "*/6:00", "sat 22:30", "not a schedule", "02:00"}

func randomJobs(rng *rand.Rand) []proxmox.BackupJob {
	idList := func() string {
		var s string
		for range rng.IntN(4) {
			s += []string{"100", "0101", "102", " 103", "7", "abc", ""}[rng.IntN(7)] + []string{",", ";", " ", "\t", ",,"}[rng.IntN(5)]
		}
		return s
	}
	var jobs []proxmox.BackupJob
	for i := range rng.IntN(5) {
		j := proxmox.BackupJob{ID: "job" + strconv.Itoa(rng.IntN(3)) + strconv.Itoa(i%2), Schedule: testSchedules[rng.IntN(len(testSchedules))]}
		switch rng.IntN(6) {
		case 0:
			j.Type = "vzdump"
		case 1:
			j.Type = "other"
		}
		if rng.IntN(4) == 0 {
			en := proxmox.Bool(rng.IntN(2) == 0)
			j.Enabled = &en
		}
		if rng.IntN(4) == 0 {
			j.Node = []string{"n1", "n2"}[rng.IntN(2)]
		}
		switch rng.IntN(4) {
		case 0:
			j.All, j.Exclude = true, proxmox.String(idList())
		case 1:
			j.VMID = proxmox.String(idList())
		case 2:
			j.Pool = []string{"prod", "test"}[rng.IntN(2)]
		default:
			j.All, j.VMID, j.Pool = rng.IntN(2) == 0, proxmox.String(idList()), "prod"
		}
		jobs = append(jobs, j)
	}
	return jobs
}

func randomGuest(rng *rand.Rand, nodes ...string) proxmox.ClusterResource {
	id := []int{100, 101, 102, 103, 104, 105, 7, 0}[rng.IntN(8)]
	g := vm(id, nodes[rng.IntN(len(nodes))])
	switch rng.IntN(5) {
	case 0:
		g = ct(id, g.Node)
	case 1:
		g.Type = []string{"openvz", "storage", ""}[rng.IntN(3)]
	}
	if id == 0 {
		g.ID = []string{"qemu/0105", "qemu/", "qemu", "lxc/ 103"}[rng.IntN(4)]
	}
	g.Pool = []string{"", "prod", "test"}[rng.IntN(3)]
	g.Tags = []string{"", "b;a", "a,a b", "x; ;y\tz", ";;", "prod"}[rng.IntN(6)]
	g.Template = proxmox.Bool(rng.IntN(5) == 0)
	return g
}

// roughenEstate adds jobs, tags and odd or repeated guests to the up
// clusters of a generated estate (on copies: the world stays as it was).
func roughenEstate(rng *rand.Rand, e Estate) Estate {
	e.Clusters = slices.Clone(e.Clusters)
	for i := range e.Clusters {
		c := &e.Clusters[i]
		c.Jobs = randomJobs(rng)
		// The pools the token may see: both, one, none, or not read.
		c.PoolsRead = rng.IntN(4) != 0
		c.Pools = [][]string{nil, {"prod"}, {"test"}, {"prod", "test"}}[rng.IntN(4)]
		c.Guests = slices.Clone(c.Guests)
		for j := range c.Guests {
			c.Guests[j].Tags = []string{"", "b;a", "prod"}[rng.IntN(3)]
			c.Guests[j].Pool = []string{"", "prod"}[rng.IntN(2)]
		}
		if len(c.Nodes) > 0 {
			var nodes []string
			for _, n := range c.Nodes {
				nodes = append(nodes, n.Node)
			}
			for range rng.IntN(4) {
				c.Guests = append(c.Guests, randomGuest(rng, nodes...))
			}
		}
		if rng.IntN(10) == 0 { // nothing that makes a guest aggregate
			c.Guests = []proxmox.ClusterResource{{ID: "storage/n1/local", Type: "storage"}, {ID: "qemu", Type: "qemu"}}
		}
		if len(c.Guests) > 1 && rng.IntN(3) == 0 {
			c.Guests = append(c.Guests, c.Guests[rng.IntN(len(c.Guests))]) // listed twice
		}
		rng.Shuffle(len(c.Guests), func(a, b int) { c.Guests[a], c.Guests[b] = c.Guests[b], c.Guests[a] })
	}
	return e
}

// roughenListings shuffles the fetched listings and adds what the
// generator never returns (on copies).
func roughenListings(rng *rand.Rand, p Plan, l Listings) Listings {
	out := Listings{PVE: map[string]PVEResult{}, PBS: map[string]PBSResult{}}
	for _, x := range p.PBSListings {
		res, ok := l.PBS[x.Repository]
		if !ok || res.Err != nil {
			out.PBS[x.Repository] = res
			continue
		}
		gs := slices.Clone(res.Groups)
		for i := range gs {
			gs[i].Times = slices.Clone(gs[i].Times)
			switch rng.IntN(12) {
			case 0:
				gs[i].LastVerification = []string{"", "weird", VerificationFailed}[rng.IntN(3)]
			case 1:
				gs[i].VerifyFailed, gs[i].Protected = 99, -1
			case 2:
				if n := len(gs[i].Times); n > 1 {
					gs[i].Times[0], gs[i].Times[n-1] = gs[i].Times[n-1], gs[i].Times[0] // contract broken
				}
			case 3:
				gs = append(gs, GroupSummary{BackupType: gs[i].BackupType, BackupID: gs[i].BackupID, Times: []int64{t0 - 1, t0}, InProgress: true}) // twice
			case 4:
				gs = append(gs, GroupSummary{BackupType: "vm", BackupID: "0" + gs[i].BackupID, Times: []int64{t0 + 7}, LastSize: 3, LastVerification: VerificationOK})
			case 5:
				gs = append(gs, GroupSummary{BackupType: "ct", BackupID: "104", Times: []int64{}, LastSize: 9})
			}
		}
		if rng.IntN(2) == 0 {
			rng.Shuffle(len(gs), func(a, b int) { gs[a], gs[b] = gs[b], gs[a] })
		}
		out.PBS[x.Repository] = PBSResult{Groups: gs}
	}
	for _, x := range p.PVEListings {
		res, ok := l.PVE[x.Repository]
		if !ok || res.Err != nil {
			out.PVE[x.Repository] = res
			continue
		}
		vols := slices.Clone(res.Volumes)
		if len(vols) > 0 || rng.IntN(2) == 0 {
			for range rng.IntN(6) {
				vols = append(vols, oddVolume(rng, x.Storage))
			}
		}
		rng.Shuffle(len(vols), func(a, b int) { vols[a], vols[b] = vols[b], vols[a] })
		out.PVE[x.Repository] = PVEResult{Volumes: vols, Node: res.Node}
	}
	return out
}

// oddVolume is a volume of any style, some of them unreadable.
func oddVolume(rng *rand.Rand, storage string) proxmox.BackupVolume {
	id := []int{100, 101, 102, 103, 104, 105}[rng.IntN(6)]
	t := t0 + int64(rng.IntN(12))*3600
	var v proxmox.BackupVolume
	switch rng.IntN(9) {
	case 0:
		v = pbsVolume(storage, []string{"vm", "ct"}[rng.IntN(2)], id, t, []int64{1, 4096}[rng.IntN(2)])
		ok := proxmox.Verification{State: []string{"ok", "failed", "x"}[rng.IntN(3)]}
		v.Verification = &ok
	case 1:
		v = vzdumpVolume(storage, "qemu", id, t)
		v.VolID = fmt.Sprintf("%s:backup/vzdump-qemu-0%d-custom.vma", storage, id) // no stamp, leading zero
		v.Subtype, v.VMID = "unknown", 0
	case 2:
		v = vzdumpVolume(storage, "lxc", id, t)
		v.CTime = 0 // time from the name
	case 3:
		v = vzdumpVolume(storage, "openvz", id, t)
		v.Content = "iso"
	case 4:
		v = vzdumpVolume(storage, "qemu", id, t)
		v.VolID = storage + ":backup/something-else.txt"
	case 5:
		v = pbsVolume(storage, "vm", id, t, 4096)
		v.VolID = storage + ":backup/vm/" + strconv.Itoa(id) + "/garbage"
		v.CTime = 0
	case 6:
		v = vzdumpVolume(storage, "qemu", id, t)
		v.Protected = true
		v.Size = proxmox.Int(rng.IntN(3) << 30)
	case 7:
		v = pbsVolume(storage, "ct", id, t, 4096)
		v.CTime = 0
	default:
		v = vzdumpVolume(storage, "qemu", id, t)
		v.VMID = proxmox.Int(id + 1) // vmid field and name disagree
	}
	return v
}

// TestSharedTimesAreWindows: summaries whose Times share one array (what
// Merge makes of a PVE listing) cannot write into each other's times.
func TestSharedTimesAreWindows(t *testing.T) {
	recs := []Record{
		{BackupType: "vm", BackupID: "100", Time: 1}, {BackupType: "vm", BackupID: "100", Time: 2},
		{BackupType: "vm", BackupID: "101", Time: 3},
	}
	gs := summarizeRecords(recs, true)
	if len(gs) != 2 || !slices.Equal(gs[0].Times, []int64{1, 2}) || !slices.Equal(gs[1].Times, []int64{3}) {
		t.Fatalf("summaries %+v", gs)
	}
	_ = append(gs[0].Times, 99)
	if gs[1].Times[0] != 3 {
		t.Fatalf("appending to one group's times changed the next group's: %v", gs[1].Times)
	}
}
