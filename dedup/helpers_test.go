package dedup

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Test fixtures shared by the table, regression and property tests.

const (
	fpPBS1 = "94:FD:AC:E7:D5:36:0E:11:5B:23:05:40:D2:A4:E1:8A:C1:52:41:01:07:28:C0:4D:C5:EE:DF:7F:7C:03:AB:41"
	fpPBS2 = "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00"
)

// t0 is an arbitrary fixed time for fixtures.
var t0 = time.Date(2024, 1, 15, 1, 0, 0, 0, time.UTC).Unix()

func onlineNode(name string) proxmox.Node  { return proxmox.Node{Node: name, Status: "online"} }
func offlineNode(name string) proxmox.Node { return proxmox.Node{Node: name, Status: "offline"} }

func nodes(names ...string) []proxmox.Node {
	out := make([]proxmox.Node, len(names))
	for i, n := range names {
		out[i] = onlineNode(n)
	}
	return out
}

func vm(id int, node string) proxmox.ClusterResource {
	return proxmox.ClusterResource{ID: fmt.Sprintf("qemu/%d", id), Type: "qemu", VMID: proxmox.Int(id), Node: node, Name: fmt.Sprintf("vm%d", id), Template: flag(false)}
}

func ct(id int, node string) proxmox.ClusterResource {
	return proxmox.ClusterResource{ID: fmt.Sprintf("lxc/%d", id), Type: "lxc", VMID: proxmox.Int(id), Node: node, Name: fmt.Sprintf("ct%d", id), Template: flag(false)}
}

// flag is a template flag as PVE states it for a guest on an online node.
func flag(b bool) *proxmox.Bool {
	v := proxmox.Bool(b)
	return &v
}

func pbsStorage(name, server, datastore, namespace, fp string) proxmox.StorageConfig {
	return proxmox.StorageConfig{Storage: name, Type: "pbs", Content: "backup", Server: server, Datastore: datastore, Namespace: namespace, Fingerprint: fp}
}

func nfsStorage(name, server, export string) proxmox.StorageConfig {
	return proxmox.StorageConfig{Storage: name, Type: "nfs", Content: "backup", Server: server, Export: export, Path: "/mnt/pve/" + name}
}

func dirStorage(name, content string) proxmox.StorageConfig {
	return proxmox.StorageConfig{Storage: name, Type: "dir", Content: content, Path: "/var/lib/vz"}
}

func ds(name string, namespaces ...string) Datastore {
	return Datastore{Name: name, Up: true, Namespaces: append([]string{""}, namespaces...)}
}

func pbsTarget(name, endpoint, fp string, stores ...Datastore) PBS {
	return PBS{Target: name, Endpoints: []string{endpoint}, Fingerprint: fp, Up: true, Datastores: stores}
}

// vzdumpVolume is a vzdump archive as PVE lists it.
func vzdumpVolume(storage, guestType string, id int, t int64) proxmox.BackupVolume {
	ts := time.Unix(t, 0).UTC().Format("2006_01_02-15_04_05")
	ext := "vma.zst"
	if guestType == "lxc" {
		ext = "tar.zst"
	}
	return proxmox.BackupVolume{
		VolID:   fmt.Sprintf("%s:backup/vzdump-%s-%d-%s.%s", storage, guestType, id, ts, ext),
		Content: "backup", Format: ext, Subtype: guestType, VMID: proxmox.Int(id), CTime: proxmox.Int(t), Size: 1 << 30,
	}
}

// pbsVolume is a PBS snapshot as PVE lists it through a pbs storage.
func pbsVolume(storage, backupType string, id int, t int64, size int64) proxmox.BackupVolume {
	sub := map[string]string{"vm": "qemu", "ct": "lxc"}[backupType]
	return proxmox.BackupVolume{
		VolID:   fmt.Sprintf("%s:backup/%s/%d/%s", storage, backupType, id, time.Unix(t, 0).UTC().Format("2006-01-02T15:04:05Z")),
		Content: "backup", Format: "pbs-" + backupType, Subtype: sub, VMID: proxmox.Int(id), CTime: proxmox.Int(t), Size: proxmox.Int(size),
	}
}

func intp(v int64) *proxmox.Int { i := proxmox.Int(v); return &i }

func snapshot(backupType, id string, t int64) proxmox.Snapshot {
	return proxmox.Snapshot{BackupType: backupType, BackupID: proxmox.String(id), BackupTime: proxmox.Int(t), Size: intp(1000 + t%1000)}
}

// findStorage returns the route of one storage.
func findStorage(t *testing.T, p Plan, cluster, storage string) StorageRoute {
	t.Helper()
	for _, s := range p.Storages {
		if s.Cluster == cluster && s.Storage == storage {
			return s
		}
	}
	t.Fatalf("storage %s/%s not in plan: %+v", cluster, storage, p.Storages)
	return StorageRoute{}
}

func findRepo(t *testing.T, p Plan, name string) Repository {
	t.Helper()
	for _, r := range p.Repositories {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("repository %s not in plan; have %v", name, repoNames(p))
	return Repository{}
}

func repoNames(p Plan) []string {
	var out []string
	for _, r := range p.Repositories {
		out = append(out, r.Name)
	}
	return out
}

func hasWarning(ws []Warning, kind string) bool {
	for _, w := range ws {
		if w.Kind == kind {
			return true
		}
	}
	return false
}

func findGuest(t *testing.T, r Result, cluster, typ, id string) GuestAggregate {
	t.Helper()
	for _, g := range r.Guests {
		if g.Cluster == cluster && g.BackupType == typ && g.BackupID == id {
			return g
		}
	}
	t.Fatalf("guest %s/%s/%s not in result", cluster, typ, id)
	return GuestAggregate{}
}

func findGroup(t *testing.T, r Result, repo, typ, id string) GroupAggregate {
	t.Helper()
	for _, g := range r.Groups {
		if g.Repository == repo && g.BackupType == typ && g.BackupID == id {
			return g
		}
	}
	t.Fatalf("group %s %s/%s not in result", repo, typ, id)
	return GroupAggregate{}
}

// fakeSource answers the plan's listings from fixed data, the way the
// collector would fetch them: PVE listings by cluster target + storage +
// node ("" = any node), PBS listings by target + datastore + namespace.
type fakeSource struct {
	pve     map[string][]proxmox.BackupVolume // "target/storage" or "target/storage@node"
	pbs     map[string][]proxmox.Snapshot     // "target/datastore/namespace"
	failPVE map[string]bool                   // repository names
	failPBS map[string]bool
}

func (f fakeSource) fetch(p Plan) Listings {
	l := Listings{PVE: map[string]PVEResult{}, PBS: map[string]PBSResult{}}
	for _, x := range p.PVEListings {
		if f.failPVE[x.Repository] {
			l.PVE[x.Repository] = PVEResult{Err: fmt.Errorf("listing failed")}
			continue
		}
		node := x.Nodes[0]
		vols, ok := f.pve[x.ClusterTarget+"/"+x.Storage+"@"+node]
		if !ok {
			vols = f.pve[x.ClusterTarget+"/"+x.Storage]
		}
		l.PVE[x.Repository] = PVEResult{Volumes: vols, Node: node}
	}
	for _, x := range p.PBSListings {
		if f.failPBS[x.Repository] {
			l.PBS[x.Repository] = PBSResult{Err: fmt.Errorf("listing failed")}
			continue
		}
		l.PBS[x.Repository] = PBSResult{Groups: SummarizeSnapshots(f.pbs[x.PBSTarget+"/"+x.Datastore+"/"+x.Namespace])}
	}
	return l
}

func joinNames(rs []Repository) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Name)
	}
	return strings.Join(s, ",")
}

// Random jobs, guests and roughened estates and listings: what the
// generated worlds of property_test.go lack (jobs of every selection kind,
// tags, odd or repeated guests, summaries out of order or breaking their
// contract, volumes of every kind in any order).

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
	g.Template = flag(rng.IntN(5) == 0)
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
