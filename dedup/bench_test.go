package dedup

import (
	"sort"
	"strconv"
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// benchEstate is issue 5's case (a) as dedup sees it: one cluster of four
// nodes with guests guests, a shared NFS storage with two vzdump files per
// guest, and a PBS namespace with one group of perGroup recovery points per
// guest, already summarised (what the collector's group cache hands over).
func benchEstate(guests, perGroup int) (Estate, Plan, Listings) {
	const fp = fpPBS1
	c := Cluster{Target: "cluster1", Name: "cluster1", Up: true, Nodes: nodes("pve1", "pve2", "pve3", "pve4"),
		Storages: []proxmox.StorageConfig{
			nfsStorage("nfs-backup", "10.0.0.9", "/export/backup"),
			pbsStorage("backup-server", "10.0.0.10", "store1", "cluster1", fp),
		},
		Jobs: []proxmox.BackupJob{{ID: "daily", Type: "vzdump", Schedule: "02:00", All: true, Storage: "backup-server"}},
	}
	var vols []proxmox.BackupVolume
	var groups []GroupSummary
	for i := range guests {
		id := 100 + i
		node := c.Nodes[i%4].Node
		typ, bt := "qemu", proxmox.BackupTypeVM
		if i%3 == 2 {
			typ, bt = "lxc", proxmox.BackupTypeCT
		}
		if typ == "qemu" {
			c.Guests = append(c.Guests, vm(id, node))
		} else {
			c.Guests = append(c.Guests, ct(id, node))
		}
		for k := range 2 {
			vols = append(vols, vzdumpVolume("nfs-backup", typ, id, t0-int64(k)*7*86400+int64(i)))
		}
		g := GroupSummary{BackupType: bt, BackupID: strconv.Itoa(id), LastSize: 1 << 33, LastVerification: VerificationOK, VerifyFailed: 1}
		for k := range perGroup {
			g.Times = append(g.Times, t0-int64(perGroup-1-k)*86400+int64(i))
		}
		groups = append(groups, g)
	}
	e := Estate{Clusters: []Cluster{c}, PBS: []PBS{pbsTarget("pbs1", "10.0.0.10:8007", fp, ds("store1", "cluster1"))}}
	p := BuildPlan(e)
	l := Listings{PVE: map[string]PVEResult{}, PBS: map[string]PBSResult{}}
	// The collector hands groups over sorted by type and id, as PBS
	// lists them.
	sort.Slice(groups, func(a, b int) bool {
		if groups[a].BackupType != groups[b].BackupType {
			return groups[a].BackupType < groups[b].BackupType
		}
		return groups[a].BackupID < groups[b].BackupID
	})
	for _, x := range p.PVEListings {
		l.PVE[x.Repository] = PVEResult{Volumes: vols, Node: x.Nodes[0]}
	}
	for _, x := range p.PBSListings {
		if x.Namespace == "cluster1" {
			l.PBS[x.Repository] = PBSResult{Groups: groups}
		} else {
			l.PBS[x.Repository] = PBSResult{}
		}
	}
	return e, p, l
}

// BenchmarkMerge is dedup's share of a warm scrape of issue 5's case (a):
// 5,000 guests, 10,000 vzdump files and 5,000 PBS groups of 50 points.
//
//	go test -run '^$' -bench BenchmarkMerge -benchmem ./dedup/
func BenchmarkMerge(b *testing.B) {
	for _, perGroup := range []int{50, 200} {
		b.Run(strconv.Itoa(perGroup)+"_per_group", func(b *testing.B) {
			e, p, l := benchEstate(5000, perGroup)
			var res Result
			for b.Loop() {
				res = Merge(e, p, l)
			}
			if len(res.Guests) != 5000 || len(res.Groups) != 10000 {
				b.Fatalf("%d guests, %d groups", len(res.Guests), len(res.Groups))
			}
		})
	}
}
