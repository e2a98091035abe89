package dedup

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// twoClusters: clusters "a" and "b" (one node each) with pbs storages on
// pbs1:store1 namespaces "a" and "b", each with a vm/100 of its own.
func twoClusters(nsA, nsB string) (Estate, fakeSource) {
	e := Estate{
		Clusters: []Cluster{
			{Target: "pve-a", Name: "a", Up: true, Nodes: nodes("a1"), Guests: []proxmox.ClusterResource{vm(100, "a1")},
				Storages: []proxmox.StorageConfig{pbsStorage("pbs", "pbs.example.org", "store1", nsA, fpPBS1)}},
			{Target: "pve-b", Name: "b", Up: true, Nodes: nodes("b1"), Guests: []proxmox.ClusterResource{vm(100, "b1")},
				Storages: []proxmox.StorageConfig{pbsStorage("backup", "pbs.example.org", "store1", nsB, fpPBS1)}},
		},
		PBS: []PBS{pbsTarget("pbs1", "pbs.example.org:8007", fpPBS1, ds("store1", "a", "b"))},
	}
	src := fakeSource{pbs: map[string][]proxmox.Snapshot{
		"pbs1/store1/a": {snapshot("vm", "100", t0), snapshot("vm", "100", t0+day)},
		"pbs1/store1/b": {snapshot("vm", "100", t0+2*day)},
	}}
	return e, src
}

func TestMergeVMIDCollisionsAcrossClustersStayApart(t *testing.T) {
	e, src := twoClusters("a", "b")
	p := BuildPlan(e)
	res := Merge(e, p, src.fetch(p))
	if g := findGuest(t, res, "a", "vm", "100"); g.Snapshots != 2 || g.Last != t0+day {
		t.Errorf("a vm/100: %+v", g)
	}
	if g := findGuest(t, res, "b", "vm", "100"); g.Snapshots != 1 || g.Last != t0+2*day {
		t.Errorf("b vm/100: %+v", g)
	}
	if g := findGroup(t, res, "pbs1:store1/a", "vm", "100"); g.Cluster != "a" {
		t.Errorf("group of a: %+v", g)
	}
	if hasWarning(res.Warnings, WarnClusterCollision) {
		t.Errorf("no collision expected: %+v", res.Warnings)
	}
}

func TestMergeTwoClustersOnOneNamespaceCollide(t *testing.T) {
	e, src := twoClusters("", "")
	src.pbs["pbs1/store1/"] = []proxmox.Snapshot{snapshot("vm", "100", t0)}
	p := BuildPlan(e)
	res := Merge(e, p, src.fetch(p))
	g := findGroup(t, res, "pbs1:store1", "vm", "100")
	if g.Cluster != "" || g.Orphan {
		t.Errorf("collided group must have cluster \"\" and no orphan flag: %+v", g)
	}
	if !hasWarning(res.Warnings, WarnClusterCollision) {
		t.Errorf("want a cluster_collision warning")
	}
	// Both clusters can restore from it: their guests count it.
	for _, c := range []string{"a", "b"} {
		if g := findGuest(t, res, c, "vm", "100"); g.Snapshots != 1 {
			t.Errorf("%s vm/100: %+v", c, g)
		}
	}
	// Each cluster's pbs storage would repeat the records through PVE.
	if res.Duplicates[DuplicatePBSViaPVE] != 2 {
		t.Errorf("pbs_via_pve = %d, want 2", res.Duplicates[DuplicatePBSViaPVE])
	}
}

func TestMergeVMAndCTWithTheSameID(t *testing.T) {
	e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "", ""))
	e.Clusters[0].Guests = []proxmox.ClusterResource{vm(100, "n1"), ct(100, "n2")}
	src := fakeSource{pbs: map[string][]proxmox.Snapshot{"pbs1/store1/": {
		snapshot("vm", "100", t0), snapshot("vm", "100", t0+day), snapshot("ct", "100", t0+2*day),
	}}}
	p := BuildPlan(e)
	res := Merge(e, p, src.fetch(p))
	if g := findGuest(t, res, "c1", "vm", "100"); g.Snapshots != 2 || g.Last != t0+day {
		t.Errorf("vm/100: %+v", g)
	}
	if g := findGuest(t, res, "c1", "ct", "100"); g.Snapshots != 1 || g.Last != t0+2*day {
		t.Errorf("ct/100: %+v", g)
	}
	if findGroup(t, res, "pbs1:store1", "ct", "100").Orphan || findGroup(t, res, "pbs1:store1", "vm", "100").Orphan {
		t.Errorf("vm/100 and ct/100 both exist")
	}
}

func TestMergeUnknownIsNeverZero(t *testing.T) {
	base := func() Estate {
		e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "c1", ""), nfsStorage("nfs", "nas", "/e"), dirStorage("local", "backup"))
		e.Clusters = append(e.Clusters, Cluster{Target: "pve-other", Name: "other", Up: true, Nodes: nodes("o1"),
			Guests: []proxmox.ClusterResource{vm(100, "o1")}, Storages: []proxmox.StorageConfig{dirStorage("local", "backup")}})
		return e
	}
	data := fakeSource{
		pbs: map[string][]proxmox.Snapshot{"pbs1/store1/c1": {snapshot("vm", "100", t0)}},
		pve: map[string][]proxmox.BackupVolume{"pve-c1/nfs": {vzdumpVolume("nfs", "qemu", 100, t0+1)}, "pve-other/local": {vzdumpVolume("local", "qemu", 100, t0)}},
	}
	tests := []struct {
		name    string
		estate  func() Estate
		failPVE []string
		failPBS []string
		drop    string // a listing the collector did not deliver
	}{
		{name: "PBS namespace listing failed", estate: base, failPBS: []string{"pbs1:store1/c1"}},
		{name: "shared storage listing failed", estate: base, failPVE: []string{"c1:nfs"}},
		{name: "one node-local listing failed", estate: base, failPVE: []string{"c1/n2:local"}},
		{name: "listing never delivered", estate: base, drop: "c1/n3:local"},
		{name: "node offline", estate: func() Estate {
			e := base()
			e.Clusters[0].Nodes[2] = offlineNode("n3")
			return e
		}},
		{name: "fallback read failed", estate: func() Estate {
			e := base()
			e.PBS[0].Up = false
			return e
		}, failPVE: []string{"c1:s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.estate()
			src := data
			src.failPVE, src.failPBS = map[string]bool{}, map[string]bool{}
			for _, r := range tc.failPVE {
				src.failPVE[r] = true
			}
			for _, r := range tc.failPBS {
				src.failPBS[r] = true
			}
			p := BuildPlan(e)
			l := src.fetch(p)
			delete(l.PVE, tc.drop)
			res := Merge(e, p, l)
			g := findGuest(t, res, "c1", "vm", "100")
			if g.Known || g.Snapshots != 0 || g.Last != 0 || g.LastCopies != 0 {
				t.Errorf("c1 vm/100 must be unknown with no numbers: %+v", g)
			}
			if g := findGuest(t, res, "other", "vm", "100"); !g.Known || g.Snapshots != 1 {
				t.Errorf("another cluster's guest is affected: %+v", g)
			}
			down := 0
			for _, up := range res.RepositoryUp {
				if !up {
					down++
				}
			}
			if down != 1 {
				t.Errorf("want exactly one repository down, got %v", res.RepositoryUp)
			}
		})
	}
	// And with everything read, the same guest is known.
	e := base()
	p := BuildPlan(e)
	res := Merge(e, p, data.fetch(p))
	if g := findGuest(t, res, "c1", "vm", "100"); !g.Known || g.Snapshots != 2 {
		t.Errorf("all read: %+v", g)
	}
}

func TestMergeKnownZeroWhenEverythingWasRead(t *testing.T) {
	e := oneCluster(nfsStorage("nfs", "nas", "/e"))
	e.Clusters[0].Guests = append(e.Clusters[0].Guests, vm(200, "n2"))
	src := fakeSource{pve: map[string][]proxmox.BackupVolume{"pve-c1/nfs": {vzdumpVolume("nfs", "qemu", 100, t0)}}}
	p := BuildPlan(e)
	res := Merge(e, p, src.fetch(p))
	if g := findGuest(t, res, "c1", "vm", "200"); !g.Known || g.Snapshots != 0 || g.Last != 0 {
		t.Errorf("vm/200 has no backup and everything was read: %+v", g)
	}
}

func TestMergeClusterDown(t *testing.T) {
	e, src := twoClusters("a", "b")
	e.Clusters[1].Up = false
	p := BuildPlan(e)
	res := Merge(e, p, src.fetch(p))
	for _, g := range res.Guests {
		if g.Cluster == "b" {
			t.Errorf("guest of a down cluster exported: %+v", g)
		}
	}
	// Its last known storages still attribute its namespace.
	if g := findGroup(t, res, "pbs1:store1/b", "vm", "100"); g.Cluster != "b" || g.Orphan {
		t.Errorf("namespace of a down cluster: %+v", g)
	}
}

func TestMergeInProgressNeverCounts(t *testing.T) {
	e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "", ""), pbsStorage("far", "far.example.org", "x", "", ""))
	running := snapshot("vm", "100", t0+day)
	running.Size = nil
	src := fakeSource{
		pbs: map[string][]proxmox.Snapshot{"pbs1/store1/": {snapshot("vm", "100", t0), running}},
		pve: map[string][]proxmox.BackupVolume{"pve-c1/far": {pbsVolume("far", "vm", 100, t0+2*day, 1), pbsVolume("far", "vm", 100, t0+3*day, 4096)}},
	}
	p := BuildPlan(e)
	res := Merge(e, p, src.fetch(p))
	if g := findGroup(t, res, "pbs1:store1", "vm", "100"); g.Snapshots != 1 || !g.InProgress || g.Last != t0 {
		t.Errorf("PBS group with a running snapshot: %+v", g)
	}
	if g := findGroup(t, res, "c1:far", "vm", "100"); g.Snapshots != 1 || !g.InProgress || g.Last != t0+3*day {
		t.Errorf("PVE-read group with a size-1 volume: %+v", g)
	}
	if g := findGuest(t, res, "c1", "vm", "100"); g.Snapshots != 2 {
		t.Errorf("guest counts in-progress points: %+v", g)
	}
}

func TestMergeOrphans(t *testing.T) {
	e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "c1", ""))
	src := fakeSource{pbs: map[string][]proxmox.Snapshot{
		"pbs1/store1/c1": {snapshot("vm", "100", t0), snapshot("vm", "999", t0), snapshot("host", "pve1", t0)},
		"pbs1/store1/":   {snapshot("vm", "998", t0)},
	}}
	p := BuildPlan(e)
	res := Merge(e, p, src.fetch(p))
	for _, c := range []struct {
		repo, typ, id string
		orphan        bool
	}{
		{"pbs1:store1/c1", "vm", "100", false},
		{"pbs1:store1/c1", "vm", "999", true},     // guest deleted
		{"pbs1:store1/c1", "host", "pve1", false}, // host backups have no guest
		{"pbs1:store1", "vm", "998", false},       // cluster unknown: cannot say
	} {
		if g := findGroup(t, res, c.repo, c.typ, c.id); g.Orphan != c.orphan {
			t.Errorf("%s %s/%s: orphan=%v, want %v", c.repo, c.typ, c.id, g.Orphan, c.orphan)
		}
	}
	// No guest series for an orphan.
	for _, g := range res.Guests {
		if g.BackupID == "999" {
			t.Errorf("orphan became a guest: %+v", g)
		}
	}
}

func TestMergeSyncCopyCountsOnceAndShowsCopies(t *testing.T) {
	e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "c1", ""))
	e.PBS = append(e.PBS, pbsTarget("offsite", "offsite.example.org:8007", fpPBS2, ds("mirror", "c1")))
	e.Overrides = []Override{{PBS: "offsite", Datastore: "mirror", Namespace: "c1", Cluster: "c1"}}
	src := fakeSource{pbs: map[string][]proxmox.Snapshot{
		"pbs1/store1/c1":    {snapshot("vm", "100", t0), snapshot("vm", "100", t0+day)},
		"offsite/mirror/c1": {snapshot("vm", "100", t0)}, // the sync has not copied the newest yet
	}}
	p := BuildPlan(e)
	res := Merge(e, p, src.fetch(p))
	g := findGuest(t, res, "c1", "vm", "100")
	if g.Snapshots != 2 || g.LastCopies != 1 {
		t.Errorf("before sync: %+v", g)
	}
	src.pbs["offsite/mirror/c1"] = append(src.pbs["offsite/mirror/c1"], snapshot("vm", "100", t0+day))
	res = Merge(e, p, src.fetch(p))
	g = findGuest(t, res, "c1", "vm", "100")
	if g.Snapshots != 2 || g.LastCopies != 2 {
		t.Errorf("after sync: %+v", g)
	}
	if gr := findGroup(t, res, "offsite:mirror/c1", "vm", "100"); gr.Cluster != "c1" {
		t.Errorf("attributed offsite group: %+v", gr)
	}
	// The offsite PBS is powered off: it may hold older points the
	// primary pruned, so the guest is unknown, not counted short.
	e.PBS[1].Up = false
	p = BuildPlan(e)
	res = Merge(e, p, src.fetch(p))
	if g := findGuest(t, res, "c1", "vm", "100"); g.Known {
		t.Errorf("offsite down: %+v", g)
	}
	if up, planned := res.RepositoryUp["offsite:mirror/c1"]; up || !planned {
		t.Errorf("offsite repository: up=%v planned=%v", up, planned)
	}
	// A route to a namespace that does not exist is reported, not planned.
	e.PBS[1].Up = true
	e.Overrides[0].Namespace = "gone"
	p = BuildPlan(e)
	if !hasWarning(p.Warnings, WarnOverrideConflict) {
		t.Errorf("want a warning for a route to a missing namespace: %+v", p.Warnings)
	}
}

func TestMergeTwoClustersOneNFSExport(t *testing.T) {
	e := Estate{Clusters: []Cluster{
		{Target: "pve-a", Name: "a", Up: true, Nodes: nodes("a1", "a2"), Guests: []proxmox.ClusterResource{vm(100, "a1")},
			Storages: []proxmox.StorageConfig{nfsStorage("nas", "NAS.lan", "/volume1/pve")}},
		{Target: "pve-b", Name: "b", Up: true, Nodes: nodes("b1"), Guests: []proxmox.ClusterResource{ct(300, "b1")},
			Storages: []proxmox.StorageConfig{nfsStorage("shared-dumps", "nas.lan", "/volume1/pve/")}},
	}}
	// The same files, as each cluster names its storage: one place.
	files := func(storage string) []proxmox.BackupVolume {
		return []proxmox.BackupVolume{vzdumpVolume(storage, "qemu", 100, t0), vzdumpVolume(storage, "lxc", 300, t0+1)}
	}
	src := fakeSource{pve: map[string][]proxmox.BackupVolume{"pve-a/nas": files("nas"), "pve-b/shared-dumps": files("shared-dumps")}}
	p := BuildPlan(e)
	// An address is a hint: both storages are listed, and the listings
	// decide.
	if len(p.PVEListings) != 2 || len(p.SameAddress) != 1 || !reflect.DeepEqual(p.SameAddress[0].Repositories, []string{"a:nas", "b:shared-dumps"}) {
		t.Fatalf("both storages at one address must be listed: %+v %+v", p.PVEListings, p.SameAddress)
	}
	l := src.fetch(p)
	p = JoinSamePlaces(p, l)
	if len(p.PVEListings) != 1 || p.PVEListings[0].Repository != "a:nas" {
		t.Fatalf("the same files are one place: %+v", p.PVEListings)
	}
	if r := findStorage(t, p, "b", "shared-dumps"); r.Repository != "a:nas" || r.Route != RoutePVE {
		t.Errorf("b's storage: %+v", r)
	}
	checkPlanInvariants(t, p)
	res := Merge(e, p, l)
	if g := findGuest(t, res, "a", "vm", "100"); g.Snapshots != 1 {
		t.Errorf("a vm/100: %+v", g)
	}
	if g := findGuest(t, res, "b", "ct", "300"); g.Snapshots != 1 || !g.Known {
		t.Errorf("b ct/300: %+v", g)
	}
	if g := findGroup(t, res, "a:nas", "vm", "100"); g.Cluster != "" || !hasWarning(res.Warnings, WarnClusterCollision) {
		t.Errorf("group on an export of two clusters: %+v %+v", g, res.Warnings)
	}
	// b listed the 2 files again; a would list them on a2 as well.
	if res.Duplicates[DuplicateSameRepository] != 2 || res.Duplicates[DuplicateSharedStorage] != 2 {
		t.Errorf("duplicates %v", res.Duplicates)
	}
	// If the one listing fails, the other is no evidence: two places,
	// a's guests unknown, b's counted from b's own listing.
	src.failPVE = map[string]bool{"a:nas": true}
	p = BuildPlan(e)
	l = src.fetch(p)
	res = Merge(e, JoinSamePlaces(p, l), l)
	if findGuest(t, res, "a", "vm", "100").Known {
		t.Errorf("a's guest known although its only repository failed")
	}
	if g := findGuest(t, res, "b", "ct", "300"); !g.Known || g.Snapshots != 1 {
		t.Errorf("b ct/300 without evidence: %+v", g)
	}
}

// Two sites mount 192.168.1.10:/volume1/backup, each its own NAS: the
// same address with different files is two places, each credited to its
// own cluster (issue 14 hole 1).
func TestMergeSameAddressDifferentPlaces(t *testing.T) {
	e := Estate{Clusters: []Cluster{
		{Target: "pve-a", Name: "a", Up: true, Nodes: nodes("a1"), Guests: []proxmox.ClusterResource{vm(100, "a1")},
			Storages: []proxmox.StorageConfig{nfsStorage("nas", "192.168.1.10", "/volume1/backup")}},
		{Target: "pve-b", Name: "b", Up: true, Nodes: nodes("b1"), Guests: []proxmox.ClusterResource{vm(100, "b1"), ct(300, "b1")},
			Storages: []proxmox.StorageConfig{nfsStorage("nas", "192.168.1.10", "/volume1/backup")}},
	}}
	src := fakeSource{pve: map[string][]proxmox.BackupVolume{
		"pve-a/nas": {vzdumpVolume("nas", "qemu", 100, t0)},
		"pve-b/nas": {vzdumpVolume("nas", "qemu", 100, t0+60), vzdumpVolume("nas", "qemu", 100, t0+120), vzdumpVolume("nas", "lxc", 300, t0)},
	}}
	p := BuildPlan(e)
	l := src.fetch(p)
	p = JoinSamePlaces(p, l)
	checkPlanInvariants(t, p)
	res := Merge(e, p, l)
	if g := findGuest(t, res, "a", "vm", "100"); g.Snapshots != 1 || !g.Known {
		t.Errorf("a vm/100: %+v", g)
	}
	if g := findGuest(t, res, "b", "vm", "100"); g.Snapshots != 2 || !g.Known {
		t.Errorf("b vm/100: %+v", g)
	}
	if g := findGuest(t, res, "b", "ct", "300"); g.Snapshots != 1 || !g.Known {
		t.Errorf("b ct/300 has backups: %+v", g)
	}
	if g := findGroup(t, res, "b:nas", "ct", "300"); g.Cluster != "b" {
		t.Errorf("b's group: %+v", g)
	}
	if !hasWarning(res.Warnings, WarnSameAddress) || hasWarning(res.Warnings, WarnClusterCollision) {
		t.Errorf("want a same_address warning and no collision: %+v", res.Warnings)
	}
	// Declared one place, they are read once whatever they show.
	e.Overrides = []Override{{Cluster: "b", Storage: "nas", SameAs: "a:nas"}}
	p = BuildPlan(e)
	if len(p.PVEListings) != 1 || len(p.SameAddress) != 0 {
		t.Errorf("declared one place: %+v %+v", p.PVEListings, p.SameAddress)
	}
	// A route naming a storage that is not there is reported.
	e.Overrides = []Override{{Cluster: "b", Storage: "nas", SameAs: "a:gone"}}
	if p = BuildPlan(e); !hasWarning(p.Warnings, WarnOverrideConflict) || len(p.PVEListings) != 2 {
		t.Errorf("same_as to a missing storage: %+v", p)
	}
}

// A pbs storage without a pin matched by address is one place across
// clusters only when the exporter has seen the PBS's certificate there.
func TestBuildPlanUnpinnedAddressAcrossClusters(t *testing.T) {
	c := func(name string) Cluster {
		return Cluster{Target: "pve-" + name, Name: name, Up: true, Nodes: nodes(name + "1"),
			Storages: []proxmox.StorageConfig{pbsStorage("pbs", "10.0.0.5", "store1", "", "")}}
	}
	// No configured PBS at that address: two sites, two places.
	p := BuildPlan(Estate{Clusters: []Cluster{c("a"), c("b")}})
	if len(p.PVEListings) != 2 || findStorage(t, p, "a", "pbs").Repository == findStorage(t, p, "b", "pbs").Repository {
		t.Errorf("unpinned unmatched address merged across clusters: %+v", p.PVEListings)
	}
	// Another cluster's pin for that address says nothing about this
	// cluster's view of it.
	pinned := c("a")
	pinned.Storages[0].Fingerprint = fpPBS1
	p = BuildPlan(Estate{Clusters: []Cluster{pinned, c("b")}})
	if findStorage(t, p, "a", "pbs").Repository == findStorage(t, p, "b", "pbs").Repository {
		t.Errorf("a pin of cluster a taken as the identity of b's address: %+v", p.Storages)
	}
	// A configured PBS there whose certificate the exporter checked is a
	// hint, not proof: private addresses repeat across sites. What PVE
	// reports for the storage (size and use) shows whether it is that
	// PBS's datastore.
	store := ds("store1")
	store.Total, store.Used = 4_000_000_000_000, 1_500_000_000_000
	pbs := pbsTarget("pbs1", "10.0.0.5:8007", fpPBS1, store)
	sees := func(c Cluster, total, used int64) Cluster {
		c.NodeStorages = map[string][]proxmox.NodeStorage{c.Nodes[0].Node: {{Storage: "pbs", Type: "pbs",
			Enabled: true, Active: true, Total: proxmox.Int(total), Used: proxmox.Int(used)}}}
		return c
	}
	same := func(c Cluster) Cluster { return sees(c, store.Total, store.Used+store.Total/200) }
	unproven := func(p Plan, cluster string) bool {
		for _, w := range p.Warnings {
			if w.Kind == WarnUnprovenAddress && w.Cluster == cluster && w.Storage == "pbs" {
				return true
			}
		}
		return false
	}
	// Both clusters see that datastore: one place, read from the PBS.
	p = BuildPlan(Estate{Clusters: []Cluster{same(c("a")), same(c("b"))}, PBS: []PBS{pbs}})
	if a, b := findStorage(t, p, "a", "pbs"), findStorage(t, p, "b", "pbs"); a.Route != RoutePBS || a.Repository != "pbs1:store1" || b.Repository != a.Repository {
		t.Errorf("both clusters see pbs1's datastore: %+v %+v", a, b)
	}
	// Site b reaches another PBS at that address (another size): b's
	// storage is a place of its own, read through PVE, with a warning;
	// a's stays pbs1's.
	p = BuildPlan(Estate{Clusters: []Cluster{same(c("a")), sees(c("b"), 2_000_000_000_000, 300_000_000_000)}, PBS: []PBS{pbs}})
	a, bs := findStorage(t, p, "a", "pbs"), findStorage(t, p, "b", "pbs")
	if a.Route != RoutePBS || bs.Route != RoutePVEFallback || bs.Cause != WarnUnprovenAddress || bs.PBSTarget != "" || bs.Repository == a.Repository || !unproven(p, "b") || unproven(p, "a") {
		t.Errorf("another PBS behind b's address: %+v %+v %+v", a, bs, p.Warnings)
	}
	// The same size but another use: not the same datastore either.
	p = BuildPlan(Estate{Clusters: []Cluster{same(c("a")), sees(c("b"), store.Total, store.Used/2)}, PBS: []PBS{pbs}})
	if b := findStorage(t, p, "b", "pbs"); b.Route != RoutePVEFallback || !unproven(p, "b") {
		t.Errorf("same size, other use: %+v", b)
	}
	// PVE reports nothing for the storages: no evidence, two places.
	p = BuildPlan(Estate{Clusters: []Cluster{c("a"), c("b")}, PBS: []PBS{pbs}})
	if a, b := findStorage(t, p, "a", "pbs"), findStorage(t, p, "b", "pbs"); a.Route != RoutePVEFallback || a.Repository == b.Repository || !unproven(p, "a") || !unproven(p, "b") {
		t.Errorf("no evidence: %+v %+v", a, b)
	}
	// A pin of the cluster for that address, in another storage, is
	// evidence for its unpinned storages.
	pinning := c("b")
	pinned2 := pbsStorage("pbs-pinned", "10.0.0.5", "store1", "", "")
	pinned2.Fingerprint = fpPBS1
	pinning.Storages = append(pinning.Storages, pinned2)
	p = BuildPlan(Estate{Clusters: []Cluster{same(c("a")), pinning}, PBS: []PBS{pbs}})
	if b := findStorage(t, p, "b", "pbs"); b.Route != RoutePBS || unproven(p, "b") {
		t.Errorf("cluster b pins pbs1 for the address elsewhere: %+v", b)
	}
	// One cluster alone: the address is taken as it is, as the contract
	// says for a storage without a pin.
	p = BuildPlan(Estate{Clusters: []Cluster{c("a")}, PBS: []PBS{pbs}})
	if a := findStorage(t, p, "a", "pbs"); a.Route != RoutePBS || unproven(p, "a") {
		t.Errorf("one cluster: %+v", a)
	}
	// Down and never seen: its certificate is unchecked, so the address is
	// one place only within each cluster, each read through PVE.
	pbs.Up, pbs.Fingerprint = false, ""
	p = BuildPlan(Estate{Clusters: []Cluster{c("a"), c("b")}, PBS: []PBS{pbs}})
	if a, b := findStorage(t, p, "a", "pbs"), findStorage(t, p, "b", "pbs"); a.Route != RoutePVEFallback || a.Repository == b.Repository {
		t.Errorf("unverified PBS at the address merged across clusters: %+v %+v", a, b)
	}
	// Down, its certificate seen before: still no evidence that both
	// clusters reach it there (PVE reports no size for a PBS that is down).
	pbs.Fingerprint = fpPBS1
	p = BuildPlan(Estate{Clusters: []Cluster{c("a"), c("b")}, PBS: []PBS{pbs}})
	if a, b := findStorage(t, p, "a", "pbs"), findStorage(t, p, "b", "pbs"); a.Route != RoutePVEFallback || a.Repository == b.Repository {
		t.Errorf("PBS with a known certificate, down: %+v %+v", a, b)
	}
}

func TestMergeFallbackNextToDirectReadCountsOnce(t *testing.T) {
	e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "c1", ""))
	e.Overrides = []Override{{Cluster: "c1", Storage: "s", To: "pve"}}
	src := fakeSource{pbs: map[string][]proxmox.Snapshot{"pbs1/store1/c1": {snapshot("vm", "100", t0), snapshot("host", "x", t0)}}}
	p := BuildPlan(e)
	res := Merge(e, p, src.fetch(p))
	if g := findGuest(t, res, "c1", "vm", "100"); g.Snapshots != 1 {
		t.Errorf("vm/100: %+v", g)
	}
	// The PVE view would have repeated only the vm record, on 3 nodes.
	if res.Duplicates[DuplicateSameRepository] != 1 || res.Duplicates[DuplicateSharedStorage] != 2 {
		t.Errorf("duplicates %v", res.Duplicates)
	}
}

func TestMergeSameVolidOnTwoNodesIsTwoFiles(t *testing.T) {
	e := oneCluster(dirStorage("local", "backup"))
	v := vzdumpVolume("local", "qemu", 100, t0)
	src := fakeSource{pve: map[string][]proxmox.BackupVolume{"pve-c1/local@n1": {v}, "pve-c1/local@n2": {v}, "pve-c1/local@n3": {}}}
	p := BuildPlan(e)
	res := Merge(e, p, src.fetch(p))
	findGroup(t, res, "c1/n1:local", "vm", "100")
	findGroup(t, res, "c1/n2:local", "vm", "100")
	// One point in time, held in two places.
	if g := findGuest(t, res, "c1", "vm", "100"); g.Snapshots != 1 || g.LastCopies != 2 {
		t.Errorf("vm/100: %+v", g)
	}
}

func TestMergeGuestFields(t *testing.T) {
	e := oneCluster(nfsStorage("nfs", "nas", "/e"))
	g := vm(100, "n1")
	g.Template, g.Tags, g.Name = flag(true), "prod;db, Nobackup db", "db01"
	e.Clusters[0].Guests = []proxmox.ClusterResource{g, vm(101, "n2"), ct(102, "n3"), vm(103, "n1")}
	disabled := proxmox.Bool(false)
	e.Clusters[0].Jobs = []proxmox.BackupJob{
		{ID: "daily", Type: "vzdump", Schedule: "daily", VMID: "100,101"},
		{ID: "six", Type: "vzdump", Schedule: "*/6:00", VMID: "101"},
		{ID: "off", Type: "vzdump", Schedule: "hourly", VMID: "102", Enabled: &disabled},
		{ID: "bad", Type: "vzdump", Schedule: "every tuesday", VMID: "103"},
	}
	src := fakeSource{pve: map[string][]proxmox.BackupVolume{"pve-c1/nfs": {}}}
	p := BuildPlan(e)
	res := Merge(e, p, src.fetch(p))
	a := findGuest(t, res, "c1", "vm", "100")
	if !a.Template || a.Name != "db01" || a.Node != "n1" || !reflect.DeepEqual(a.Tags, []string{"Nobackup", "db", "prod"}) {
		t.Errorf("vm/100 fields: %+v", a)
	}
	if !a.InJob || a.ExpectedIntervalSeconds != day {
		t.Errorf("vm/100 job: %+v", a)
	}
	if b := findGuest(t, res, "c1", "vm", "101"); b.ExpectedIntervalSeconds != 6*3600 {
		t.Errorf("vm/101: shortest of daily and every 6 h: %+v", b)
	}
	if c := findGuest(t, res, "c1", "ct", "102"); c.InJob || c.ExpectedIntervalSeconds != 0 {
		t.Errorf("ct/102 only in a disabled job: %+v", c)
	}
	if d := findGuest(t, res, "c1", "vm", "103"); !d.InJob || d.ExpectedIntervalSeconds != 0 {
		t.Errorf("vm/103 in a job with an unparsable schedule: %+v", d)
	}
	if !hasWarning(res.Warnings, WarnScheduleUnparsable) {
		t.Errorf("want a schedule_unparsable warning")
	}
}

func TestMergePermissionSuspected(t *testing.T) {
	for _, tc := range []struct {
		content string
		used    int64
		volumes []proxmox.BackupVolume
		want    bool
	}{
		{"backup", 5 << 30, nil, true},
		{"backup", 0, nil, false},           // empty storage
		{"backup,iso", 5 << 30, nil, false}, // other content may fill it
		{"backup", 5 << 30, []proxmox.BackupVolume{vzdumpVolume("nfs", "qemu", 100, t0)}, false},
	} {
		t.Run(fmt.Sprintf("%s/%d/%d", tc.content, tc.used, len(tc.volumes)), func(t *testing.T) {
			s := nfsStorage("nfs", "nas", "/e")
			s.Content = tc.content
			e := oneCluster(s)
			e.Clusters[0].NodeStorages = map[string][]proxmox.NodeStorage{"n1": {{Storage: "nfs", Enabled: true, Active: true, Used: proxmox.Int(tc.used)}}}
			src := fakeSource{pve: map[string][]proxmox.BackupVolume{"pve-c1/nfs": tc.volumes}}
			p := BuildPlan(e)
			res := Merge(e, p, src.fetch(p))
			if got := hasWarning(res.Warnings, WarnPermissionSuspected); got != tc.want {
				t.Errorf("permission_suspected = %v, want %v (%+v)", got, tc.want, res.Warnings)
			}
		})
	}
}

func TestMergeVerificationStates(t *testing.T) {
	e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "", ""))
	ok := snapshot("vm", "100", t0)
	ok.Verification = &proxmox.Verification{State: "ok"}
	failed := snapshot("vm", "100", t0+day)
	failed.Verification = &proxmox.Verification{State: "failed"}
	failed.Protected = true
	never := snapshot("ct", "101", t0)
	src := fakeSource{pbs: map[string][]proxmox.Snapshot{"pbs1/store1/": {failed, ok, never}}}
	p := BuildPlan(e)
	res := Merge(e, p, src.fetch(p))
	if g := findGroup(t, res, "pbs1:store1", "vm", "100"); g.LastVerification != VerificationFailed || g.VerifyFailed != 1 || g.Protected != 1 || g.First != t0 || g.Last != t0+day {
		t.Errorf("vm/100: %+v", g)
	}
	if g := findGroup(t, res, "pbs1:store1", "ct", "101"); g.LastVerification != VerificationNone || g.VerifyFailed != 0 {
		t.Errorf("never verified is none, not failed: %+v", g)
	}
}

func TestMergeIsDeterministic(t *testing.T) {
	e, src := homelab()
	p := BuildPlan(e)
	want := Merge(e, p, src.fetch(p))
	for i := 0; i < 10; i++ {
		if got := Merge(e, p, src.fetch(p)); !reflect.DeepEqual(got, want) {
			t.Fatalf("merge differs between runs")
		}
	}
	if !strings.HasPrefix(want.Groups[0].Repository, "homelab") {
		t.Errorf("groups not sorted by repository: %+v", want.Groups[0])
	}
}

// TestMergeIgnoresInputOrder: the result does not depend on the order in
// which the plan names repositories, nor on the order of guests, volumes
// and summaries in the listings. Checked
// on the property test's random estates roughened with what they lack
// (jobs, tags, odd and repeated guests, odd volumes, summaries breaking
// their contract) and on the benchmark's estate.
func TestMergeIgnoresInputOrder(t *testing.T) {
	seeds := 400
	if testing.Short() {
		seeds = 60
	}
	type estate struct {
		e Estate
		p Plan
		l Listings
	}
	var estates []estate
	for seed := range seeds {
		w := genWorldFrom(int64(seed) + 1)
		p := BuildPlan(w.e)
		l := w.fetch(p)
		e := w.e
		if seed%4 != 0 { // a quarter as generated
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			e, l = roughenEstate(rng, e), roughenListings(rng, p, l)
		}
		estates = append(estates, estate{e, p, l})
	}
	for _, perGroup := range []int{1, 3} {
		e, p, l := benchEstate(300, perGroup)
		estates = append(estates, estate{e, p, l})
	}
	for i, x := range estates {
		want := Merge(x.e, x.p, x.l)
		rng := rand.New(rand.NewPCG(uint64(i), 8))
		shuffle := func(n int, swap func(a, b int)) { rng.Shuffle(n, swap) }
		e, p, l := x.e, x.p, Listings{PVE: map[string]PVEResult{}, PBS: map[string]PBSResult{}}
		p.Repositories = slices.Clone(p.Repositories)
		shuffle(len(p.Repositories), func(a, b int) { p.Repositories[a], p.Repositories[b] = p.Repositories[b], p.Repositories[a] })
		e.Clusters = slices.Clone(e.Clusters)
		for c := range e.Clusters {
			// Two different guests with one VMID (PVE never lists such)
			// are told apart by order only: the first one listed wins.
			if ambiguousGuests(e.Clusters[c].Guests) {
				continue
			}
			gs := slices.Clone(e.Clusters[c].Guests)
			shuffle(len(gs), func(a, b int) { gs[a], gs[b] = gs[b], gs[a] })
			e.Clusters[c].Guests = gs
		}
		for name, r := range x.l.PVE {
			r.Volumes = slices.Clone(r.Volumes)
			shuffle(len(r.Volumes), func(a, b int) { r.Volumes[a], r.Volumes[b] = r.Volumes[b], r.Volumes[a] })
			l.PVE[name] = r
		}
		for name, r := range x.l.PBS {
			r.Groups = slices.Clone(r.Groups)
			shuffle(len(r.Groups), func(a, b int) { r.Groups[a], r.Groups[b] = r.Groups[b], r.Groups[a] })
			l.PBS[name] = r
		}
		if got := Merge(e, p, l); !reflect.DeepEqual(got, want) {
			t.Fatalf("estate %d: the result depends on the order of the input\n got %+v\nwant %+v", i, got, want)
		}
	}
}

// ambiguousGuests reports whether two different guests share a type and
// VMID.
func ambiguousGuests(gs []proxmox.ClusterResource) bool {
	seen := map[GuestKey]proxmox.ClusterResource{}
	for _, g := range gs {
		k := GuestKey{BackupType: proxmox.BackupTypeOfGuest(g.Type), BackupID: normalizeVMID(guestID(g))}
		if o, ok := seen[k]; ok && !reflect.DeepEqual(o, g) {
			return true
		}
		seen[k] = g
	}
	return false
}

// TestMergeGuestsFollowTheirJobs: on roughened random estates, every
// guest aggregate says what its cluster's jobs mean for it: in a job when
// an enabled job selects it (JobCovers), the expected interval the
// shortest of the covering jobs' schedules (0 when none covers it or one
// schedule cannot be read), and its tags split as SplitTags splits them.
// An enabled job of a pool the token may not see (not among Cluster.Pools)
// may select a guest whose row shows no pool: with no job known to cover
// it, its membership is unknown; with one, the interval stays known only
// if that job would not run more often.
func TestMergeGuestsFollowTheirJobs(t *testing.T) {
	checked := 0
	for seed := range 200 {
		w := genWorldFrom(int64(seed) + 1)
		p := BuildPlan(w.e)
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		e := roughenEstate(rng, w.e)
		res := Merge(e, p, roughenListings(rng, p, w.fetch(p)))
		got := map[GuestKey]GuestAggregate{}
		for _, a := range res.Guests {
			got[GuestKey{a.Cluster, a.BackupType, a.BackupID}] = a
		}
		for _, c := range e.Clusters {
			if !c.Up {
				continue
			}
			// A key two different guests share is left out: which of
			// them the aggregate describes is not the point here.
			byKey := map[GuestKey][]proxmox.ClusterResource{}
			for _, g := range c.Guests {
				k := GuestKey{c.Name, proxmox.BackupTypeOfGuest(g.Type), normalizeVMID(guestID(g))}
				if len(byKey[k]) == 0 || !reflect.DeepEqual(byKey[k][0], g) {
					byKey[k] = append(byKey[k], g)
				}
			}
			for k, gs := range byKey {
				a, ok := got[k]
				if len(gs) != 1 || !ok {
					continue
				}
				g := gs[0]
				inJob, interval, unreadable := false, int64(0), false
				for _, j := range c.Jobs {
					if !JobCovers(j, g) {
						continue
					}
					inJob = true
					v, err := ShortestInterval(j.Schedule)
					if err != nil {
						unreadable = true
					} else if interval == 0 || v < interval {
						interval = v
					}
				}
				if unreadable {
					interval = 0
				}
				unknown := false
				for _, j := range c.Jobs {
					hidden := (j.Type == "" || j.Type == "vzdump") && !bool(j.All) && string(j.VMID) == "" && j.Pool != "" &&
						!(c.PoolsRead && slices.Contains(c.Pools, j.Pool))
					inPool := g
					inPool.Pool = j.Pool
					if !hidden || g.Pool != "" || !JobCovers(j, inPool) {
						continue
					}
					if !inJob {
						unknown = true
						continue
					}
					if v, err := ShortestInterval(j.Schedule); err != nil || v < interval {
						interval = 0
					}
				}
				if a.InJob != inJob || a.InJobUnknown != unknown || a.ExpectedIntervalSeconds != interval || !slices.Equal(a.Tags, SplitTags(g.Tags)) {
					t.Fatalf("seed %d: guest %v with jobs %+v, pools %q (read %v): in job %v (unknown %v), interval %d, tags %q; want %v (%v), %d, %q",
						seed+1, k, c.Jobs, c.Pools, c.PoolsRead, a.InJob, a.InJobUnknown, a.ExpectedIntervalSeconds, a.Tags, inJob, unknown, interval, SplitTags(g.Tags))
				}
				checked++
			}
		}
	}
	if checked < 1000 {
		t.Errorf("only %d guests checked", checked)
	}
}

// TestMergeCountsSuppressedReadsByReason: every path the plan left out
// adds the points of the repository that read them instead to its
// reason, through PVE only the groups PVE shows; a reason whose
// repository read nothing is not added, and the three standard reasons
// are always there.
func TestMergeCountsSuppressedReadsByReason(t *testing.T) {
	e, p, l := benchEstate(3, 2) // 3 guests, a PBS group of 2 points each
	var pbsRepo string
	for _, r := range p.Repositories {
		if r.Kind == KindPBS && r.Namespace == "cluster1" {
			pbsRepo = r.Name
		}
	}
	g := l.PBS[pbsRepo].Groups
	l.PBS[pbsRepo] = PBSResult{Groups: append(slices.Clone(g), GroupSummary{BackupType: "host", BackupID: "pbs1", Times: []int64{t0}, LastVerification: VerificationNone})}
	p.Suppressed = []SuppressedPath{
		{Reason: "other", Repository: pbsRepo},                // 3*2 points + the host's
		{Reason: "other", Repository: pbsRepo, PVEView: true}, // PVE does not show the host group
		{Reason: "ghost", Repository: "nowhere"},
	}
	res := Merge(e, p, l)
	want := map[string]int{DuplicatePBSViaPVE: 0, DuplicateSharedStorage: 0, DuplicateSameRepository: 0, "other": 7 + 6}
	if !reflect.DeepEqual(res.Duplicates, want) {
		t.Errorf("duplicates %v, want %v", res.Duplicates, want)
	}
}

// normalizedTruth is what normalizeSummaries must make of summaries that
// may break the GroupSummary contract, computed the plain way: per group
// the union of the times; each summary's last time carries its size and
// verification (merged as copies of one point are: largest size, failed
// over ok over none), the other times none; the newest point is encrypted
// when every summary ending on it says so; the failed, verified,
// unencrypted and protected counts summed, capped at the number of points
// (verified at those not failed); in progress if any says so. Sorted by type, then id.
func normalizedTruth(in []GroupSummary) []GroupSummary {
	type point struct {
		failedCount  int
		verified     int
		unencrypted  int
		protected    int
		inProgress   bool
		times        map[int64]bool
		lastCarriers map[int64][]GroupSummary
	}
	byGroup := map[groupKey]*point{}
	for _, s := range in {
		k := groupKey{s.BackupType, s.BackupID}
		x := byGroup[k]
		if x == nil {
			x = &point{times: map[int64]bool{}, lastCarriers: map[int64][]GroupSummary{}}
			byGroup[k] = x
		}
		for _, t := range s.Times {
			x.times[t] = true
		}
		if n := len(s.Times); n > 0 {
			x.lastCarriers[s.Times[n-1]] = append(x.lastCarriers[s.Times[n-1]], s)
		}
		x.failedCount += s.VerifyFailed
		x.verified += s.Verified
		x.unencrypted += s.Unencrypted
		x.protected += s.Protected
		x.inProgress = x.inProgress || s.InProgress
	}
	out := []GroupSummary{}
	for _, k := range slices.SortedFunc(maps.Keys(byGroup), compareGroupKeys) {
		x := byGroup[k]
		s := GroupSummary{BackupType: k.typ, BackupID: k.id, LastVerification: VerificationNone, InProgress: x.inProgress}
		s.Times = slices.Sorted(maps.Keys(x.times))
		if n := len(s.Times); n > 0 {
			var states []string
			carriers := x.lastCarriers[s.Times[n-1]]
			s.LastEncrypted = len(carriers) > 0
			for _, c := range carriers {
				s.LastSize = max(s.LastSize, c.LastSize)
				states = append(states, c.LastVerification)
				s.LastEncrypted = s.LastEncrypted && c.LastEncrypted
			}
			s.LastVerification = strongestVerification(states)
		}
		s.VerifyFailed = min(x.failedCount, len(s.Times))
		s.Verified = min(x.verified, len(s.Times)-s.VerifyFailed)
		s.Unencrypted = min(x.unencrypted, len(s.Times))
		s.Protected = min(x.protected, len(s.Times))
		out = append(out, s)
	}
	return out
}

// TestNormalizeSummariesMatchesGroundTruth: summaries that keep the
// GroupSummary contract, in any order, and summaries that break it
// (times out of order or repeated, one group twice) come out as
// normalizedTruth computes them.
func TestNormalizeSummariesMatchesGroundTruth(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	states := []string{VerificationOK, VerificationFailed, VerificationNone, "", "weird"}
	for i := range 4000 {
		var in []GroupSummary
		used := map[string]bool{}
		for range rng.IntN(6) {
			g := GroupSummary{BackupType: []string{"vm", "ct", "host"}[rng.IntN(3)], BackupID: strconv.Itoa(rng.IntN(8)),
				LastSize: rng.Int64N(100), LastVerification: states[rng.IntN(len(states))],
				VerifyFailed: rng.IntN(4), Protected: rng.IntN(4), InProgress: rng.IntN(4) == 0,
				Verified: rng.IntN(4), Unencrypted: rng.IntN(4), LastEncrypted: rng.IntN(2) == 0}
			if used[g.BackupType+"/"+g.BackupID] && i%2 == 0 {
				continue // even rounds: well-formed (distinct groups)
			}
			used[g.BackupType+"/"+g.BackupID] = true
			tm := int64(rng.IntN(5))
			for range rng.IntN(4) {
				tm += int64(1 + rng.IntN(3))
				if i%5 == 1 {
					tm -= int64(rng.IntN(3)) // sometimes out of order or repeated
				}
				g.Times = append(g.Times, tm)
			}
			in = append(in, g)
		}
		got, want := normalizeSummaries(in), normalizedTruth(in)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: input %+v\n got %+v\nwant %+v", i, in, got, want)
		}
	}
}

// TestUnionTimesMatchesGroundTruth: on lists that keep its contract
// (ascending and distinct), of any lengths, overlapping or not, unionTimes
// counts the distinct times, returns the newest and how many lists hold
// it, as a set of all times says.
func TestUnionTimesMatchesGroundTruth(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	for round := range 5000 {
		var lists [][]int64
		set := map[int64]bool{}
		for range rng.IntN(5) {
			var l []int64
			tm := int64(rng.IntN(3)) - 1
			for range rng.IntN([]int{3, 8, 60}[rng.IntN(3)]) {
				tm += int64(1 + rng.IntN(4))
				l = append(l, tm)
				set[tm] = true
			}
			lists = append(lists, l)
		}
		var last int64
		for tm := range set {
			last = max(last, tm)
		}
		copies := 0
		for _, l := range lists {
			if len(set) > 0 && slices.Contains(l, last) {
				copies++
			}
		}
		c, gotLast, gotCopies := unionTimes(lists)
		if c != len(set) || gotLast != last || gotCopies != copies {
			t.Fatalf("round %d: %v: got %d %d %d, want %d %d %d", round, lists, c, gotLast, gotCopies, len(set), last, copies)
		}
	}
}
