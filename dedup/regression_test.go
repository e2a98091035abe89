package dedup

import (
	"strings"
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

const day = 86400

// homelab is the case the project was started for: a 3-node cluster with a
// pbs storage named "backup-server" whose PBS is also configured directly
// (the storage names the PBS by IP, the exporter by host name: they match
// by fingerprint), an NFS storage shared by all nodes, node-local "local"
// storages, and a dir storage named "pbs-backups" (a name trap).
func homelab() (Estate, fakeSource) {
	local := dirStorage("local", "iso,vztmpl,backup")
	trap := dirStorage("pbs-backups", "backup")
	trap.Nodes = "pve1"
	e := Estate{
		Clusters: []Cluster{{
			Target: "pve-homelab", Name: "homelab", Up: true,
			Nodes:  nodes("pve1", "pve2", "pve3"),
			Guests: []proxmox.ClusterResource{vm(100, "pve1"), ct(101, "pve2"), vm(102, "pve3")},
			Storages: []proxmox.StorageConfig{
				pbsStorage("backup-server", "10.0.0.5", "store1", "", fpPBS1),
				nfsStorage("nfs-backup", "10.0.0.20", "/mnt/tank/pve"),
				local, trap,
				dirStorage("iso-only", "iso"),
			},
			Jobs: []proxmox.BackupJob{{ID: "backup-daily", Type: "vzdump", Schedule: "21:00", All: true, Storage: "backup-server"}},
		}},
		PBS: []PBS{pbsTarget("pbs1", "pbs.example.org:8007", strings.ToLower(fpPBS1), ds("store1"))},
	}
	src := fakeSource{
		pbs: map[string][]proxmox.Snapshot{
			"pbs1/store1/": {
				snapshot("vm", "100", t0), snapshot("vm", "100", t0+day), snapshot("vm", "100", t0+2*day),
				snapshot("ct", "101", t0), snapshot("ct", "101", t0+day),
				snapshot("host", "pbs1", t0),
			},
		},
		pve: map[string][]proxmox.BackupVolume{
			"pve-homelab/nfs-backup": {
				vzdumpVolume("nfs-backup", "qemu", 100, t0+3600), vzdumpVolume("nfs-backup", "qemu", 100, t0+day+3600),
				vzdumpVolume("nfs-backup", "lxc", 101, t0+3600),
			},
			"pve-homelab/local@pve1":       {vzdumpVolume("local", "qemu", 100, t0+3*day)},
			"pve-homelab/local@pve2":       {vzdumpVolume("local", "qemu", 100, t0+4*day)},
			"pve-homelab/local@pve3":       {},
			"pve-homelab/pbs-backups@pve1": {vzdumpVolume("pbs-backups", "qemu", 102, t0+5*day)},
			// What PVE would answer for the pbs storage: the same PBS
			// snapshots. The plan must never ask for it.
			"pve-homelab/backup-server": {pbsVolume("backup-server", "vm", 100, t0, 5000)},
		},
	}
	return e, src
}

// naiveCount counts vm/100's recovery points the way a reader without
// deduplication does: every PBS namespace read directly, every pbs storage
// read again through PVE, every file storage listed on every node that
// has it. It is computed from the fixture's inputs, not from the plan.
func naiveCount(e Estate, src fakeSource, typ, id string) (pbsCount, nfsCount, total int) {
	countPBS := func(snaps []proxmox.Snapshot) int {
		n := 0
		for _, s := range snaps {
			if s.BackupType == typ && string(s.BackupID) == id && s.Size != nil {
				n++
			}
		}
		return n
	}
	for _, p := range e.PBS {
		for _, d := range p.Datastores {
			for _, ns := range d.Namespaces {
				n := countPBS(src.pbs[p.Target+"/"+d.Name+"/"+ns])
				pbsCount += n
			}
		}
	}
	for _, c := range e.Clusters {
		for _, s := range c.Storages {
			if !strings.Contains(s.Content, "backup") {
				continue
			}
			if s.Type == "pbs" {
				pbsCount += countPBS(src.pbs["pbs1/"+s.Datastore+"/"+s.Namespace])
				continue
			}
			for _, n := range c.Nodes {
				if s.Nodes != "" && s.Nodes != n.Node {
					continue
				}
				vols, ok := src.pve[c.Target+"/"+s.Storage+"@"+n.Node]
				if !ok {
					vols = src.pve[c.Target+"/"+s.Storage]
				}
				for _, v := range vols {
					if strings.Contains(v.VolID, "-"+id+"-") && v.Subtype == map[string]string{"vm": "qemu", "ct": "lxc"}[typ] {
						total++
						if s.Type == "nfs" {
							nfsCount++
						}
					}
				}
			}
		}
	}
	return pbsCount, nfsCount, total + pbsCount
}

func TestRegressionHomelabCountsEveryRecoveryPointOnce(t *testing.T) {
	e, src := homelab()
	p := BuildPlan(e)

	// Routing by type, never by name.
	if r := findStorage(t, p, "homelab", "backup-server"); r.Route != RoutePBS || r.MatchedBy != MatchFingerprint || r.Repository != "pbs1:store1" {
		t.Errorf("backup-server: got route %s by %q to %q, want pbs by fingerprint to pbs1:store1", r.Route, r.MatchedBy, r.Repository)
	}
	if r := findStorage(t, p, "homelab", "pbs-backups"); r.Route != RoutePVE || r.Repository != "homelab/pve1:pbs-backups" {
		t.Errorf("pbs-backups (dir): got %s %q, want pve homelab/pve1:pbs-backups", r.Route, r.Repository)
	}
	if r := findStorage(t, p, "homelab", "nfs-backup"); r.Route != RoutePVE || r.Repository != "homelab:nfs-backup" {
		t.Errorf("nfs-backup: got %s %q", r.Route, r.Repository)
	}
	if r := findStorage(t, p, "homelab", "local"); len(r.Repositories) != 3 {
		t.Errorf("local: want one repository per node, got %v", r.Repositories)
	}
	for _, s := range p.Storages {
		if s.Storage == "iso-only" {
			t.Errorf("a storage without backup content is in the plan")
		}
	}
	// The pbs storage is never listed through PVE; NFS once.
	var listed []string
	for _, l := range p.PVEListings {
		listed = append(listed, l.Storage+"@"+strings.Join(l.Nodes, ","))
		if l.Storage == "backup-server" {
			t.Errorf("pbs storage read directly is also listed through PVE: %+v", l)
		}
	}
	// Sorted by repository name.
	want := "local@pve1 pbs-backups@pve1 local@pve2 local@pve3 nfs-backup@pve1,pve2,pve3"
	if got := strings.Join(listed, " "); got != want {
		t.Errorf("PVE listings:\n got %s\nwant %s", got, want)
	}
	if len(p.PBSListings) != 1 || p.PBSListings[0].Repository != "pbs1:store1" {
		t.Errorf("PBS listings: %+v", p.PBSListings)
	}

	res := Merge(e, p, src.fetch(p))
	g := findGuest(t, res, "homelab", "vm", "100")
	// 3 on PBS + 2 on NFS + 1 on pve1's local + 1 on pve2's local.
	if !g.Known || g.Snapshots != 7 {
		t.Fatalf("vm/100: known=%v snapshots=%d, want known and 7", g.Known, g.Snapshots)
	}
	if g.Last != t0+4*day || g.LastCopies != 1 {
		t.Errorf("vm/100: last=%d copies=%d", g.Last, g.LastCopies)
	}
	pbsNaive, nfsNaive, naive := naiveCount(e, src, "vm", "100")
	if pbsNaive != 2*3 || nfsNaive != 3*2 {
		t.Errorf("naive reader: PBS %d (want twice 3), NFS %d (want three times 2)", pbsNaive, nfsNaive)
	}
	if naive == g.Snapshots {
		t.Errorf("naive count %d equals the deduplicated count: the fixture does not exercise deduplication", naive)
	}
	if g := findGuest(t, res, "homelab", "ct", "101"); g.Snapshots != 3 || !g.InJob || g.ExpectedIntervalSeconds != day {
		t.Errorf("ct/101: %+v", g)
	}
	if g := findGuest(t, res, "homelab", "vm", "102"); g.Snapshots != 1 {
		t.Errorf("vm/102: %+v", g)
	}
	// Per group per repository.
	if g := findGroup(t, res, "pbs1:store1", "vm", "100"); g.Snapshots != 3 || g.Cluster != "homelab" || g.Orphan {
		t.Errorf("pbs1:store1 vm/100: %+v", g)
	}
	if g := findGroup(t, res, "pbs1:store1", "host", "pbs1"); g.Orphan || g.Cluster != "homelab" {
		t.Errorf("host group must not be an orphan: %+v", g)
	}
	if g := findGroup(t, res, "homelab:nfs-backup", "vm", "100"); g.Snapshots != 2 || g.LastVerification != VerificationNone {
		t.Errorf("nfs vm/100: %+v", g)
	}
	// What was not read twice: vm/ct PBS records once through PVE; the
	// NFS records (3) and the pbs storage's (5) on two more nodes each.
	wantDup := map[string]int{DuplicatePBSViaPVE: 5, DuplicateSharedStorage: 3*2 + 5*2, DuplicateSameRepository: 0}
	for k, v := range wantDup {
		if res.Duplicates[k] != v {
			t.Errorf("duplicates[%s] = %d, want %d", k, res.Duplicates[k], v)
		}
	}
	for name, up := range res.RepositoryUp {
		if !up {
			t.Errorf("repository %s down", name)
		}
	}
}
