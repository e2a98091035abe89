package dedup

import (
	"fmt"
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
	return proxmox.ClusterResource{ID: fmt.Sprintf("qemu/%d", id), Type: "qemu", VMID: proxmox.Int(id), Node: node, Name: fmt.Sprintf("vm%d", id)}
}

func ct(id int, node string) proxmox.ClusterResource {
	return proxmox.ClusterResource{ID: fmt.Sprintf("lxc/%d", id), Type: "lxc", VMID: proxmox.Int(id), Node: node, Name: fmt.Sprintf("ct%d", id)}
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
