package emulator

import (
	"math"
	"strconv"
	"time"
)

// Homelab is the --demo scenario: a 3-node PVE cluster "homelab" (pve1,
// pve2, pve3) backing up to node-local dir storages, a shared NFS storage
// and a PBS, and that PBS ("pbs1") itself. All times are relative to now;
// the same now gives the same model.
//
// PVE storages:
//
//	local          dir, node-local on every node (backup,iso,vztmpl)
//	local-lvm      lvmthin (images,rootdir): no backups
//	nfs-backup     nfs, shared
//	usb            dir restricted to pve3 (nodes=pve3)
//	backup-server  pbs -> pbs1 datastore "store1" namespace "homelab"
//	               (deliberately not named "pbs"; server 127.0.0.1)
//
// Guests (what each one demonstrates):
//
//	100 qemu router     pve1  daily PBS job; 14 snapshots all verified ok,
//	                          one protected; 3 older snapshots in the child
//	                          namespace homelab/archive (invisible via PVE);
//	                          3 copies in datastore "archive" (sync job)
//	101 qemu web01      pve1  daily PBS job; 14 snapshots plus one
//	                          in progress right now (running vzdump task on
//	                          pve1, running PBS backup task; PVE shows size 1;
//	                          PBS's groups listing reports the in-progress
//	                          snapshot as last-backup, as real PBS does when
//	                          it comes last in directory order)
//	102 qemu db01       pve2  daily PBS job; newest verification FAILED,
//	                          older ones ok; 3 copies in "archive"; its
//	                          snapshots are listed newest-first (PBS does not
//	                          sort)
//	103 lxc  dns01      pve2  daily PBS job; encrypted; never verified
//	104 lxc  media      pve3  pool "media", NFS job; last night's run FAILED
//	                          for it (multi-guest task "job errors" with an
//	                          ERROR line); 10 older NFS files, one protected
//	105 qemu win11      pve3  in no job (not-backed-up list); 2 old manual
//	                          backups on local@pve3 (single-guest tasks)
//	106 lxc  scratch    pve1  only in the DISABLED job: covered for PVE's
//	                          not-backed-up list, yet no backup at all
//	107 qemu tmpl-debian pve1 template, in no job, no backup
//	108 lxc  old-app    pve2  only in the DISABLED job; 7 backups on
//	                          local@pve2, the newest 4 days old: stale
//	109 qemu test-vm    pve3  tagged nobackup (and test): in no job, no backup
//	110 lxc  nextcloud  pve3  pool "media", NFS job ok (11 files); 2 manual
//	                          backups on the nodes-restricted "usb" storage
//	vm/120              -     orphan: guest deleted, 3 PBS snapshots remain
//
// Jobs: backup-1a2b3c4d-0001 daily 02:00 vmid 100-103 -> backup-server;
// backup-1a2b3c4d-0002 daily 03:30 pool media -> nfs-backup;
// backup-1a2b3c4d-0003 01:00 vmid 106,108 -> local, DISABLED (ran for 108
// until 4 days ago).
//
// Expected counts: 11 guests; not-backed-up = 105, 107, 109; content of
// backup-server = 60 volumes (5 groups: 14+15+14+14+3, the in-progress one
// included with size 1); nfs-backup = 21 files (104: 10, 110: 11);
// local = 0 on pve1, 7 on pve2 (108), 2 on pve3 (105); usb = 2 (pve3 only).
//
// PBS pbs1:
//
//	store1   4 TB, 86 % used and rising (1440 history points over 30 days,
//	         estimated full in about two weeks); namespaces "" (host/pbs1,
//	         7 snapshots, owner root@pam), homelab (the 5 groups above),
//	         homelab/archive (vm/100, 3), lab2 (another cluster's ct/100 and
//	         vm/101, 5 each: colliding VMIDs, not mapped by any storage)
//	archive  second datastore, not mapped by any storage: vm/100 and vm/102
//	         (3 each, the same backup times as in store1: sync copies);
//	         GC never ran; 5 history points (no estimated full date)
//
// PBS jobs: verify v-homelab (store1/homelab) last run FAILED
// ("verification failed - please check the log for details"); prune
// p-homelab OK; sync s-archive (local, store1/homelab -> archive) OK;
// GC on store1 OK, on archive never.
func Homelab(now time.Time) *Model {
	now = now.UTC().Truncate(time.Second)
	day := 24 * time.Hour
	c := &Cluster{
		Name: "homelab",
		Nodes: []*Node{
			{Name: "pve1"}, {Name: "pve2"}, {Name: "pve3"},
		},
		Guests: []*Guest{
			{VMID: 100, Type: "qemu", Name: "router", Node: "pve1", Tags: []string{"network"}},
			{VMID: 101, Type: "qemu", Name: "web01", Node: "pve1"},
			{VMID: 102, Type: "qemu", Name: "db01", Node: "pve2", Tags: []string{"db", "prod"}},
			{VMID: 103, Type: "lxc", Name: "dns01", Node: "pve2"},
			{VMID: 104, Type: "lxc", Name: "media", Node: "pve3", Pool: "media"},
			{VMID: 105, Type: "qemu", Name: "win11", Node: "pve3", Status: "stopped"},
			{VMID: 106, Type: "lxc", Name: "scratch", Node: "pve1"},
			{VMID: 107, Type: "qemu", Name: "tmpl-debian", Node: "pve1", Template: true},
			{VMID: 108, Type: "lxc", Name: "old-app", Node: "pve2"},
			{VMID: 109, Type: "qemu", Name: "test-vm", Node: "pve3", Tags: []string{"nobackup", "test"}},
			{VMID: 110, Type: "lxc", Name: "nextcloud", Node: "pve3", Pool: "media"},
		},
	}
	local := &Storage{ID: "local", Type: "dir", Content: []string{"backup", "iso", "vztmpl"}, Path: "/var/lib/vz",
		Total: 100_861_726_720, Used: 21_474_836_480, PruneBackups: "keep-all=1"}
	nfs := &Storage{ID: "nfs-backup", Type: "nfs", Content: []string{"backup"}, Server: "10.0.0.20", Export: "/mnt/tank/pve",
		Total: 2_037_808_889_856, Used: 880_708_442_112, PruneBackups: "keep-last=10"}
	usb := &Storage{ID: "usb", Type: "dir", Content: []string{"backup"}, Path: "/mnt/usb", Nodes: []string{"pve3"},
		Total: 1_000_203_804_672, Used: 210_453_397_504}
	pbsSt := &Storage{ID: "backup-server", Type: "pbs", PBS: "pbs1", Datastore: "store1", Namespace: "homelab",
		Username: "pve-backup@pbs!pve", PruneBackups: "keep-all=1"}
	c.Storages = []*Storage{
		local,
		{ID: "local-lvm", Type: "lvmthin", VGName: "pve", ThinPool: "data", Total: 852_878_163_968, Used: 138_507_413_828},
		nfs, usb, pbsSt,
	}
	runAt := func(k int, hoursAgo int) time.Time {
		return now.Add(-time.Duration(hoursAgo)*time.Hour - time.Duration(k)*day).Truncate(time.Minute)
	}
	c.Jobs = []*BackupJob{
		{ID: "backup-1a2b3c4d-0001", Schedule: "02:00", Storage: "backup-server", VMIDs: []int{100, 101, 102, 103},
			NotesTemplate: "{{guestname}}", NextRun: runAt(-1, 6), PruneBackups: map[string]string{"keep-daily": "14"}},
		{ID: "backup-1a2b3c4d-0002", Schedule: "03:30", Storage: "nfs-backup", Pool: "media",
			NotesTemplate: "{{guestname}}", NextRun: runAt(-1, 5)},
		{ID: "backup-1a2b3c4d-0003", Schedule: "01:00", Storage: "local", VMIDs: []int{106, 108}, Disabled: true,
			Comment: "legacy local backups"},
	}

	// PBS side.
	p := &PBSServer{Name: "pbs1"}
	hist := make([]float64, 1440)
	for i := range hist {
		if i < 3 {
			hist[i] = NaN
			continue
		}
		hist[i] = math.Round((0.55+0.31*float64(i)/1439+0.002*math.Sin(float64(i)/7))*1e4) / 1e4
	}
	store1 := &Datastore{Name: "store1", Comment: "main datastore", Total: 4_000_000_000_000, Used: 3_440_000_000_000,
		History: hist, HistoryStart: now.Add(-30 * day).Truncate(30 * time.Minute), GCSchedule: "daily",
		GCNextRun: now.Add(day).Truncate(day).Add(3 * time.Hour),
		GC: &GCRun{Start: now.Add(-20 * time.Hour), End: now.Add(-20*time.Hour + 11*time.Minute), State: "OK",
			IndexFileCount: 412, IndexDataBytes: 13_421_772_800_000, DiskBytes: 3_300_000_000_000, DiskChunks: 1_512_334,
			RemovedBytes: 5_368_709_120, RemovedChunks: 2611}}
	archive := &Datastore{Name: "archive", Comment: "sync target", Total: 8_000_000_000_000, Used: 400_000_000_000,
		History: []float64{0.049, 0.049, 0.05, 0.05, 0.05}, HistoryStart: now.Add(-150 * time.Minute).Truncate(30 * time.Minute),
		GCSchedule: "sat 03:00"}
	p.Datastores = []*Datastore{store1, archive}
	homelab := store1.Namespace("homelab")
	homelab.Comment = "PVE cluster homelab"
	p.VerifyJobs = []*PBSJob{{ID: "v-homelab", Store: "store1", NS: "homelab", Schedule: "daily", IgnoreVerified: true,
		OutdatedAfter: 30, LastRunStart: now.Add(-2 * time.Hour), LastRunEnd: now.Add(-100 * time.Minute),
		LastRunState: "verification failed - please check the log for details", NextRun: now.Add(22 * time.Hour)}}
	p.PruneJobs = []*PBSJob{{ID: "p-homelab", Store: "store1", NS: "homelab", Schedule: "daily", KeepDaily: 14, KeepWeekly: 4,
		LastRunStart: now.Add(-3 * time.Hour), LastRunEnd: now.Add(-3*time.Hour + 40*time.Second), LastRunState: "OK",
		NextRun: now.Add(21 * time.Hour)}}
	p.SyncJobs = []*PBSJob{{ID: "s-archive", Store: "archive", RemoteStore: "store1", RemoteNS: "homelab", Schedule: "hourly",
		Owner: "root@pam", LastRunStart: now.Add(-time.Hour), LastRunEnd: now.Add(-time.Hour + 2*time.Minute),
		LastRunState: "OK", NextRun: now.Truncate(time.Hour).Add(time.Hour)}}
	verifyUPID := jobUPID(p, "verify", p.VerifyJobs[0])

	guest := func(vmid int) *Guest { return c.Guest(vmid) }
	size := func(g *Guest) int64 {
		if g.Type == "lxc" {
			return 1_207_959_552 + int64(g.VMID)*1_000_003
		}
		return 34_359_739_269 + int64(g.VMID)*1_000_003
	}
	fileSize := func(g *Guest, k int) int64 { return size(g)/6 + int64(k)*4_096_000 }

	// Daily PBS job: one task per node with its local guests.
	for k := 13; k >= 0; k-- {
		start := runAt(k, 6)
		for _, node := range []string{"pve1", "pve2"} {
			var gs []*Guest
			for _, vmid := range []int{100, 101, 102, 103} {
				if guest(vmid).Node == node {
					gs = append(gs, guest(vmid))
				}
			}
			run := VzdumpRun{Node: node, Start: start, Storage: "backup-server", PBS: true}
			for _, g := range gs {
				// Incremental (dirty-bitmap): a few GiB changed a day.
				run.Guests = append(run.Guests, VzdumpGuest{VMID: g.VMID, Type: g.Type, Duration: 40 * time.Second,
					Transferred: int64(g.VMID-99) * 1536 << 20})
			}
			c.Tasks = append(c.Tasks, VzdumpTask(run))
			for i, g := range gs {
				sn := Snapshot{Time: run.GuestStart(i), Size: size(g) + int64(13-k)*1_048_576, Comment: g.Name}
				switch g.VMID {
				case 100:
					sn.Verification = "ok"
					sn.Protected = k == 7
				case 101:
					sn.Verification = "ok"
				case 102:
					sn.Verification = "ok"
					if k == 0 {
						sn.Verification = "failed"
					}
				case 103:
					sn.Encrypted = "8d:80:00:ab:90:fc:ea:9a:d6:1a:52:5b:eb:71:d0:e9:d5:dd:d1:85:0e:41:85:51:27:a7:3f:a0:61:b1:a9:50"
				}
				if sn.Verification != "" {
					sn.VerifyUPID = verifyUPID
				}
				grp := homelab.Group(pbsBackupType(g.Type), strconv.Itoa(g.VMID))
				grp.Owner = "pve-backup@pbs!pve"
				grp.Comment = g.Name
				grp.Snapshots = append(grp.Snapshots, sn)
				if k == 0 {
					p.Tasks = append(p.Tasks, &PBSTask{WorkerType: "backup", WorkerID: "store1:" + grp.Type + "/" + grp.ID,
						User: "pve-backup@pbs!pve", Start: sn.Time, End: sn.Time.Add(40 * time.Second), Status: "OK"})
				}
				if k < 3 && (g.VMID == 100 || g.VMID == 102) {
					cp := sn
					cp.Protected = false
					ag := archive.Namespace("").Group(grp.Type, grp.ID)
					ag.Owner = "root@pam"
					ag.Snapshots = append(ag.Snapshots, cp)
				}
			}
		}
	}
	// 101: a manual backup running right now.
	running := VzdumpRun{Node: "pve1", Start: now.Add(-5 * time.Minute), Storage: "backup-server", PBS: true, Running: true,
		Guests: []VzdumpGuest{{VMID: 101, Type: "qemu"}}}
	c.Tasks = append(c.Tasks, VzdumpTask(running))
	g101 := homelab.Group("vm", "101")
	g101.Snapshots = append(g101.Snapshots, Snapshot{Time: running.GuestStart(0), InProgress: true})
	p.Tasks = append(p.Tasks, &PBSTask{WorkerType: "backup", WorkerID: "store1:vm/101", User: "pve-backup@pbs!pve",
		Start: running.GuestStart(0)})

	// Orphan: vm/120 was deleted, its backups remain.
	g120 := homelab.Group("vm", "120")
	g120.Owner = "pve-backup@pbs!pve"
	g120.Comment = "old-vpn"
	for k := 32; k >= 30; k-- {
		g120.Snapshots = append(g120.Snapshots, Snapshot{Time: runAt(k, 6).Add(2 * time.Second), Size: 8_589_935_461,
			Comment: "old-vpn", Verification: "ok", VerifyUPID: verifyUPID})
	}
	// Child namespace: invisible through PVE.
	ga := store1.Namespace("homelab/archive").Group("vm", "100")
	ga.Owner = "root@pam"
	for k := 62; k >= 60; k-- {
		ga.Snapshots = append(ga.Snapshots, Snapshot{Time: runAt(k, 6).Add(2 * time.Second), Size: 34_359_739_269, Comment: "router"})
	}
	// Root namespace: host backups (PVE never shows them).
	gh := store1.Namespace("").Group("host", "pbs1")
	gh.Owner = "root@pam"
	for k := 6; k >= 0; k-- {
		gh.Snapshots = append(gh.Snapshots, Snapshot{Time: runAt(k, 8), Size: 2_147_483_648})
	}
	// Another cluster's namespace with colliding VMIDs, mapped by no storage.
	lab2 := store1.Namespace("lab2")
	lab2.Comment = "lab cluster"
	for _, gg := range []struct{ typ, id, name string }{{"ct", "100", "lab-ct"}, {"vm", "101", "lab-vm"}} {
		grp := lab2.Group(gg.typ, gg.id)
		grp.Owner = "pve-lab2@pbs!pve"
		for k := 4; k >= 0; k-- {
			grp.Snapshots = append(grp.Snapshots, Snapshot{Time: runAt(k, 9), Size: 5_368_709_120, Comment: gg.name,
				Verification: "ok", VerifyUPID: verifyUPID})
		}
	}

	// NFS job: pool media on pve3; last night 104 failed.
	for k := 10; k >= 0; k-- {
		run := VzdumpRun{Node: "pve3", Start: runAt(k, 5), Storage: "nfs-backup", Selection: "--pool media",
			StoragePath: "/mnt/pve/nfs-backup/dump"}
		g104 := VzdumpGuest{VMID: 104, Type: "lxc", Duration: 95 * time.Second}
		if k == 0 {
			g104.Error = "unable to freeze container: command 'lxc-freeze -n 104' failed: exit code 1"
		}
		run.Guests = []VzdumpGuest{g104, {VMID: 110, Type: "lxc", Duration: 210 * time.Second}}
		c.Tasks = append(c.Tasks, VzdumpTask(run))
		for i, vg := range run.Guests {
			if vg.Error != "" {
				continue
			}
			g := guest(vg.VMID)
			nfs.Files = append(nfs.Files, &BackupFile{VMID: g.VMID, Type: g.Type, Time: run.GuestStart(i),
				Size: fileSize(g, k), Notes: g.Name, Protected: g.VMID == 104 && k == 10})
		}
	}
	// Disabled job: it backed up 108 on pve2 until 4 days ago.
	for k := 10; k >= 4; k-- {
		run := VzdumpRun{Node: "pve2", Start: runAt(k, 7), Storage: "local", StoragePath: "/var/lib/vz/dump",
			Guests: []VzdumpGuest{{VMID: 108, Type: "lxc", Duration: 20 * time.Second}}}
		c.Tasks = append(c.Tasks, VzdumpTask(run))
		local.Files = append(local.Files, &BackupFile{Node: "pve2", VMID: 108, Type: "lxc", Time: run.GuestStart(0),
			Size: fileSize(guest(108), k)})
	}
	// 105: two manual backups on local@pve3, by a user's token.
	for _, k := range []int{40, 20} {
		run := VzdumpRun{Node: "pve3", Start: runAt(k, 30), Storage: "local", StoragePath: "/var/lib/vz/dump",
			User: "admin@pve!cli", Guests: []VzdumpGuest{{VMID: 105, Type: "qemu", Duration: 15 * time.Minute}}}
		c.Tasks = append(c.Tasks, VzdumpTask(run))
		local.Files = append(local.Files, &BackupFile{Node: "pve3", VMID: 105, Type: "qemu", Time: run.GuestStart(0),
			Size: fileSize(guest(105), k), Notes: "before update"})
	}
	// 110: manual copies on the usb disk of pve3, one with a warning.
	for _, k := range []int{9, 2} {
		vg := VzdumpGuest{VMID: 110, Type: "lxc", Duration: 4 * time.Minute}
		if k == 2 {
			vg.Warnings = []string{"some files changed while being read"}
		}
		run := VzdumpRun{Node: "pve3", Start: runAt(k, 12), Storage: "usb", StoragePath: "/mnt/usb/dump",
			Format: "tar.gz", Guests: []VzdumpGuest{vg}}
		c.Tasks = append(c.Tasks, VzdumpTask(run))
		usb.Files = append(usb.Files, &BackupFile{Node: "pve3", VMID: 110, Type: "lxc", Time: run.GuestStart(0), Format: "tar.gz",
			Size: fileSize(guest(110), k) * 2, Notes: "nextcloud"})
	}

	// PBS lists snapshots in directory order, not sorted: keep one group
	// newest-first so clients that assume ascending order get caught.
	g102 := homelab.Group("vm", "102").Snapshots
	for i, j := 0, len(g102)-1; i < j; i, j = i+1, j-1 {
		g102[i], g102[j] = g102[j], g102[i]
	}

	return &Model{Clusters: []*Cluster{c}, PBS: []*PBSServer{p}}
}
