package emulator

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// GenOptions sizes a generated estate. Zero values take the defaults noted.
type GenOptions struct {
	// Clusters (1), NodesPerCluster (3) and Guests per cluster (10).
	Clusters        int
	NodesPerCluster int
	Guests          int
	// SnapshotsPerGuest PBS snapshots per guest, one per day going back.
	SnapshotsPerGuest int
	// FilesPerGuest vzdump files per guest on the shared NFS storage
	// "nfs-backup"; LocalFilesPerGuest on the node-local "local".
	FilesPerGuest      int
	LocalFilesPerGuest int
	// PBS servers (1 when snapshots are requested). Cluster i writes to
	// PBS i mod PBS, datastore "store1", namespace = the cluster name.
	PBS int
	// Seed makes verification states, sizes and types reproducible.
	Seed uint64
	// Now anchors all times (default 2025-06-01T12:00:00Z, so generated
	// estates are identical run to run).
	Now time.Time
	// Latency is copied into the model.
	Latency Latency
}

// Generate builds a large estate quickly: a million snapshots take well
// under a few seconds and about 130 bytes each. Clusters are named
// "cluster1".., nodes "pve1".., guests have VMIDs from 100; every cluster
// has local (dir), nfs-backup (nfs) and backup-server (pbs) storages and two
// daily "all" jobs; each node ran two vzdump job tasks (one per day). Every
// cluster's nfs-backup names the same default address with files of its
// own: one NAS per site behind a private address that repeats, which the
// exporter must count as separate places.
func Generate(o GenOptions) *Model {
	if o.Clusters <= 0 {
		o.Clusters = 1
	}
	if o.NodesPerCluster <= 0 {
		o.NodesPerCluster = 3
	}
	if o.Guests <= 0 {
		o.Guests = 10
	}
	if o.PBS <= 0 && o.SnapshotsPerGuest > 0 {
		o.PBS = 1
	}
	if o.Now.IsZero() {
		o.Now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	}
	now := o.Now.UTC().Truncate(time.Second)
	day := 24 * time.Hour
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	m := &Model{Latency: o.Latency}

	for i := 0; i < o.PBS; i++ {
		p := &PBSServer{Name: fmt.Sprintf("pbs%d", i+1)}
		hist := make([]float64, 48)
		for j := range hist {
			hist[j] = 0.40 + 0.002*float64(j)
		}
		ds := &Datastore{Name: "store1", Total: 100_000_000_000_000, Used: 48_000_000_000_000, History: hist,
			HistoryStart: now.Add(-24 * time.Hour), GCSchedule: "daily",
			GC: &GCRun{Start: now.Add(-10 * time.Hour), End: now.Add(-9 * time.Hour), State: "OK"}}
		p.Datastores = []*Datastore{ds}
		p.VerifyJobs = []*PBSJob{{ID: "v-all", Store: "store1", Schedule: "daily", LastRunStart: now.Add(-4 * time.Hour),
			LastRunEnd: now.Add(-3 * time.Hour), LastRunState: "OK", NextRun: now.Add(20 * time.Hour)}}
		m.PBS = append(m.PBS, p)
	}

	for ci := 0; ci < o.Clusters; ci++ {
		c := &Cluster{Name: fmt.Sprintf("cluster%d", ci+1)}
		for n := 0; n < o.NodesPerCluster; n++ {
			c.Nodes = append(c.Nodes, &Node{Name: fmt.Sprintf("pve%d", n+1)})
		}
		local := &Storage{ID: "local", Type: "dir", Content: []string{"backup", "iso", "vztmpl"}}
		nfs := &Storage{ID: "nfs-backup", Type: "nfs", Total: 20_000_000_000_000, Used: 5_000_000_000_000}
		c.Storages = []*Storage{local, nfs}
		var ns *Namespace
		var verifyUPID string
		if o.PBS > 0 {
			p := m.PBS[ci%o.PBS]
			c.Storages = append(c.Storages, &Storage{ID: "backup-server", Type: "pbs", PBS: p.Name,
				Datastore: "store1", Namespace: c.Name})
			ns = p.Datastores[0].Namespace(c.Name)
			ns.Groups = make([]*Group, 0, o.Guests)
			verifyUPID = jobUPID(p, "verify", p.VerifyJobs[0])
		}
		c.Jobs = []*BackupJob{{ID: "backup-00000000-0002", Schedule: "sat 03:00", Storage: "nfs-backup", All: true}}
		if ns != nil {
			c.Jobs = append(c.Jobs, &BackupJob{ID: "backup-00000000-0001", Schedule: "02:00", Storage: "backup-server", All: true})
		}
		c.Guests = make([]*Guest, o.Guests)
		perNode := make([][]VzdumpGuest, o.NodesPerCluster)
		nfs.Files = make([]*BackupFile, 0, o.Guests*o.FilesPerGuest)
		local.Files = make([]*BackupFile, 0, o.Guests*o.LocalFilesPerGuest)
		for gi := 0; gi < o.Guests; gi++ {
			typ := "qemu"
			if gi%3 == 2 {
				typ = "lxc"
			}
			node := c.Nodes[gi%o.NodesPerCluster].Name
			g := &Guest{VMID: 100 + gi, Type: typ, Name: "guest" + strconv.Itoa(100+gi), Node: node}
			c.Guests[gi] = g
			perNode[gi%o.NodesPerCluster] = append(perNode[gi%o.NodesPerCluster], VzdumpGuest{VMID: g.VMID, Type: typ})
			for k := 0; k < o.FilesPerGuest; k++ {
				nfs.Files = append(nfs.Files, &BackupFile{VMID: g.VMID, Type: typ,
					Time: now.Add(-time.Duration(k)*7*day - 9*time.Hour + time.Duration(gi)*time.Second), Size: 1_000_000_000 + int64(gi)})
			}
			for k := 0; k < o.LocalFilesPerGuest; k++ {
				local.Files = append(local.Files, &BackupFile{Node: node, VMID: g.VMID, Type: typ,
					Time: now.Add(-time.Duration(k)*day - 11*time.Hour + time.Duration(gi)*time.Second), Size: 900_000_000})
			}
			if ns == nil || o.SnapshotsPerGuest == 0 {
				continue
			}
			grp := &Group{Type: pbsBackupType(typ), ID: strconv.Itoa(g.VMID), Owner: "pve-backup@pbs!pve", Comment: g.Name}
			snaps := make([]Snapshot, o.SnapshotsPerGuest)
			base := int64(8_000_000_000 + rng.IntN(40_000_000_000))
			offset := time.Duration(gi%3600) * time.Second
			for k := range snaps {
				// Oldest first, like most directory listings.
				age := o.SnapshotsPerGuest - 1 - k
				sn := &snaps[k]
				sn.Time = now.Add(-time.Duration(age)*day - 10*time.Hour + offset)
				sn.Size = base + int64(k)*1_048_576
				sn.Comment = g.Name
				switch r := rng.IntN(100); {
				case r < 2:
					sn.Verification = "failed"
					sn.VerifyUPID = verifyUPID
				case r < 90:
					sn.Verification = "ok"
					sn.VerifyUPID = verifyUPID
				}
			}
			grp.Snapshots = snaps
			ns.Groups = append(ns.Groups, grp)
		}
		for day := 1; day >= 0; day-- {
			for n, gs := range perNode {
				if len(gs) == 0 {
					continue
				}
				c.Tasks = append(c.Tasks, VzdumpTask(VzdumpRun{Node: c.Nodes[n].Name,
					Start: now.Add(-time.Duration(day)*24*time.Hour - 10*time.Hour), Storage: "backup-server",
					PBS: true, Selection: "--all 1", Guests: gs}))
			}
		}
		m.Clusters = append(m.Clusters, c)
	}
	return m
}

// Snapshots counts the snapshots of every PBS in the model.
func (m *Model) Snapshots() int {
	n := 0
	for _, p := range m.PBS {
		for _, ds := range p.Datastores {
			for _, ns := range ds.Namespaces {
				for _, g := range ns.Groups {
					n += len(g.Snapshots)
				}
			}
		}
	}
	return n
}
