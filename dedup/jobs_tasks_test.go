package dedup

import (
	"slices"
	"strings"
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

func TestJobCovers(t *testing.T) {
	off := proxmox.Bool(false)
	on := proxmox.Bool(true)
	inPool := vm(105, "n2")
	inPool.Pool = "prod"
	tests := []struct {
		name  string
		job   proxmox.BackupJob
		guest proxmox.ClusterResource
		want  bool
	}{
		{"all", proxmox.BackupJob{All: true}, vm(100, "n1"), true},
		{"all minus exclude", proxmox.BackupJob{All: true, Exclude: "101,100"}, vm(100, "n1"), false},
		{"all, exclude others", proxmox.BackupJob{All: true, Exclude: "1000"}, vm(100, "n1"), true},
		{"vmid list", proxmox.BackupJob{VMID: "99, 100,101"}, vm(100, "n1"), true},
		{"vmid list without it", proxmox.BackupJob{VMID: "1000,10"}, vm(100, "n1"), false},
		{"single vmid as number", proxmox.BackupJob{VMID: "100"}, ct(100, "n1"), true},
		{"pool", proxmox.BackupJob{Pool: "prod"}, inPool, true},
		{"other pool", proxmox.BackupJob{Pool: "dev"}, inPool, false},
		{"node restriction matches", proxmox.BackupJob{All: true, Node: "n1"}, vm(100, "n1"), true},
		{"node restriction elsewhere", proxmox.BackupJob{All: true, Node: "n2"}, vm(100, "n1"), false},
		{"disabled", proxmox.BackupJob{All: true, Enabled: &off}, vm(100, "n1"), false},
		{"explicitly enabled", proxmox.BackupJob{All: true, Enabled: &on}, vm(100, "n1"), true},
		{"no selection", proxmox.BackupJob{}, vm(100, "n1"), false},
		{"not a vzdump job", proxmox.BackupJob{Type: "other", All: true}, vm(100, "n1"), false},
	}
	for _, tc := range tests {
		if got := JobCovers(tc.job, tc.guest); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	jobs := []proxmox.BackupJob{{ID: "b", All: true}, {ID: "a", VMID: "100"}, {ID: "c", All: true, Enabled: &off}}
	got := CoveringJobs(jobs, vm(100, "n1"))
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" {
		t.Errorf("CoveringJobs: %+v", got)
	}
}

// TestMergeHiddenPool (issue 14 hole 4): PVE leaves a pool the token
// lacks Pool.Audit on out of GET /pools and out of its guests' rows, so a
// guest row without a pool may be in it. Membership in a job of such a
// pool is unknown unless another job covers the guest; the job is named in
// a pool_hidden warning with the privilege to grant.
func TestMergeHiddenPool(t *testing.T) {
	off := proxmox.Bool(false)
	inProd, inDev := vm(101, "n1"), vm(102, "n1")
	inProd.Pool, inDev.Pool = "prod", "dev"
	guests := []proxmox.ClusterResource{vm(100, "n1"), inProd, inDev, vm(103, "n2"), vm(104, "n1")}
	prodJob := proxmox.BackupJob{ID: "prod", Type: "vzdump", Schedule: "daily", Pool: "prod"}
	secretJob := proxmox.BackupJob{ID: "secret", Type: "vzdump", Schedule: "hourly", Pool: "secret"}
	type want struct {
		inJob, unknown bool
		interval       int64
	}
	known := func(in bool, interval int64) want { return want{inJob: in, interval: interval} }
	unknown := want{unknown: true}
	for _, tc := range []struct {
		name      string
		jobs      []proxmox.BackupJob
		pools     []string
		poolsRead bool
		want      map[string]want // by VMID
		warnPools []string
	}{
		{name: "pool visible: members in, others out",
			jobs: []proxmox.BackupJob{prodJob}, pools: []string{"dev", "prod"}, poolsRead: true,
			want: map[string]want{"100": known(false, 0), "101": known(true, day), "102": known(false, 0), "103": known(false, 0)}},
		{name: "pool hidden: guests without a pool row unknown, guests shown in another pool out",
			jobs: []proxmox.BackupJob{secretJob}, pools: []string{"dev", "prod"}, poolsRead: true,
			want:      map[string]want{"100": unknown, "101": known(false, 0), "102": known(false, 0), "103": unknown},
			warnPools: []string{"secret"}},
		{name: "pools not read: a pool job's membership is unknown, without a warning (the read failure is reported)",
			jobs: []proxmox.BackupJob{prodJob}, poolsRead: false,
			want: map[string]want{"100": unknown, "101": known(true, day), "102": known(false, 0)}},
		{name: "another job covers the guest: in, interval known when the hidden job runs less often",
			jobs: []proxmox.BackupJob{{ID: "weekly", Type: "vzdump", Schedule: "sun 01:00", Pool: "secret"},
				{ID: "all", Type: "vzdump", Schedule: "daily", All: true, Exclude: "104"}},
			pools: []string{"dev", "prod"}, poolsRead: true,
			want:      map[string]want{"100": known(true, day), "101": known(true, day), "104": unknown},
			warnPools: []string{"secret"}},
		{name: "another job covers the guest, the hidden job may run more often: in, interval unknown",
			jobs:  []proxmox.BackupJob{secretJob, {ID: "list", Type: "vzdump", Schedule: "daily", VMID: "100"}},
			pools: nil, poolsRead: true,
			want:      map[string]want{"100": known(true, 0), "103": unknown},
			warnPools: []string{"secret"}},
		{name: "node restriction elsewhere: out, not unknown",
			jobs:  []proxmox.BackupJob{{ID: "n2only", Type: "vzdump", Schedule: "daily", Pool: "secret", Node: "n2"}},
			pools: []string{"prod"}, poolsRead: true,
			want:      map[string]want{"100": known(false, 0), "103": unknown},
			warnPools: []string{"secret"}},
		{name: "disabled job of a hidden pool: nothing unknown, no warning",
			jobs:  []proxmox.BackupJob{{ID: "off", Type: "vzdump", Schedule: "daily", Pool: "secret", Enabled: &off}},
			pools: []string{"prod"}, poolsRead: true,
			want: map[string]want{"100": known(false, 0), "103": known(false, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := oneCluster(nfsStorage("nfs", "nas", "/e"))
			c := &e.Clusters[0]
			c.Guests, c.Jobs, c.Pools, c.PoolsRead = guests, tc.jobs, tc.pools, tc.poolsRead
			src := fakeSource{pve: map[string][]proxmox.BackupVolume{"pve-c1/nfs": {}}}
			p := BuildPlan(e)
			res := Merge(e, p, src.fetch(p))
			for id, w := range tc.want {
				g := findGuest(t, res, "c1", "vm", id)
				if got := (want{g.InJob, g.InJobUnknown, g.ExpectedIntervalSeconds}); got != w {
					t.Errorf("vm/%s: in job %v, unknown %v, interval %d; want %+v", id, got.inJob, got.unknown, got.interval, w)
				}
			}
			var warned []string
			for _, w := range res.Warnings {
				if w.Kind != WarnPoolHidden {
					continue
				}
				warned = append(warned, w.Pool)
				for _, part := range []string{"backup job " + w.Job, "pool " + w.Pool, "Pool.Audit on /pool/" + w.Pool} {
					if !strings.Contains(w.Message, part) {
						t.Errorf("warning %q does not name %q", w.Message, part)
					}
				}
				if w.Cluster != "c1" || w.Target != c.Target {
					t.Errorf("warning on cluster %q target %q", w.Cluster, w.Target)
				}
			}
			if !slices.Equal(warned, tc.warnPools) {
				t.Errorf("pool_hidden warnings for %v, want %v (%+v)", warned, tc.warnPools, res.Warnings)
			}
		})
	}
}

func TestNeedsPools(t *testing.T) {
	off := proxmox.Bool(false)
	for _, tc := range []struct {
		name string
		jobs []proxmox.BackupJob
		want bool
	}{
		{"no jobs", nil, false},
		{"vmid and all jobs", []proxmox.BackupJob{{VMID: "100"}, {All: true}}, false},
		{"an enabled pool job", []proxmox.BackupJob{{VMID: "100"}, {Pool: "prod"}}, true},
		{"only a disabled pool job", []proxmox.BackupJob{{Pool: "prod", Enabled: &off}}, false},
		{"pool beside all: all wins", []proxmox.BackupJob{{All: true, Pool: "prod"}}, false},
		{"not a vzdump job", []proxmox.BackupJob{{Type: "other", Pool: "prod"}}, false},
	} {
		if got := NeedsPools(tc.jobs); got != tc.want {
			t.Errorf("%s: NeedsPools = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func logLines(lines ...string) []proxmox.TaskLogLine {
	out := make([]proxmox.TaskLogLine, len(lines))
	for i, l := range lines {
		out[i] = proxmox.TaskLogLine{N: proxmox.Int(i + 1), T: l}
	}
	return out
}

func TestGuestTaskResults(t *testing.T) {
	guests := []proxmox.ClusterResource{vm(100, "n1"), ct(101, "n1"), vm(102, "n2"), vm(103, "n2")}
	tasks := []TaskWithLog{
		// Single guest, older, failed.
		{Task: proxmox.Task{UPID: "UPID:n1:00000001:00000001:65A00000:vzdump:100:root@pam:", Node: "n1", Type: "vzdump", ID: "100", StartTime: 1000, EndTime: 1100, Status: "some error"}},
		// Multi-guest job run: 100 finished, 101 failed, 103 started but never finished.
		{Task: proxmox.Task{UPID: "UPID:n1:00000002:00000001:65A00001:vzdump::root@pam:", Node: "n1", Type: "vzdump", StartTime: 2000, EndTime: 2500, Status: "job errors"},
			Log: logLines(
				"INFO: starting new backup job: vzdump --all 1",
				"INFO: Starting Backup of VM 100 (qemu)",
				"INFO: Finished Backup of VM 100 (00:01:00)",
				"INFO: Starting Backup of VM 101 (lxc)",
				"ERROR: Backup of VM 101 failed - no space left",
				"INFO: Starting Backup of VM 103 (qemu)",
				"INFO: Backup job finished with errors",
				"TASK ERROR: job errors")},
		// Same task again from another task list.
		{Task: proxmox.Task{UPID: "UPID:n1:00000002:00000001:65A00001:vzdump::root@pam:", Node: "n1", Type: "vzdump", StartTime: 2000, EndTime: 2500, Status: "job errors"}},
		// Single guest with warnings: success.
		{Task: proxmox.Task{UPID: "UPID:n2:00000003:00000001:65A00002:vzdump:102:root@pam:", Node: "n2", Type: "vzdump", ID: "102", StartTime: 3000, EndTime: 3100, Status: "WARNINGS: 1"}},
		// Running task for 102: ignored.
		{Task: proxmox.Task{UPID: "UPID:n2:00000004:00000001:65A00003:vzdump:102:root@pam:", Node: "n2", Type: "vzdump", ID: "102", StartTime: 4000, Status: "RUNNING"}},
		// Multi-guest task without its log: cannot be resolved.
		{Task: proxmox.Task{UPID: "UPID:n2:00000005:00000001:65A00004:vzdump::root@pam:", Node: "n2", Type: "vzdump", StartTime: 5000, EndTime: 5100, Status: "OK"}},
		// A task for a VMID that no longer exists (no type anywhere).
		{Task: proxmox.Task{UPID: "UPID:n2:00000006:00000001:65A00005:vzdump:999:root@pam:", Node: "n2", Type: "vzdump", ID: "999", StartTime: 6000, EndTime: 6100, Status: "OK"}},
		// Not a backup task.
		{Task: proxmox.Task{UPID: "UPID:n2:00000007:00000001:65A00006:qmstart:102:root@pam:", Node: "n2", Type: "qmstart", ID: "102", StartTime: 7000, EndTime: 7001, Status: "some error"}},
	}
	got := GuestTaskResults("c1", guests, tasks)
	want := map[GuestKey]struct {
		success bool
		end     int64
	}{
		{"c1", "vm", "100"}: {true, 2500}, // the job run is newer than the failed single task
		{"c1", "ct", "101"}: {false, 2500},
		{"c1", "vm", "103"}: {false, 2500},
		{"c1", "vm", "102"}: {true, 3100},
	}
	if len(got) != len(want) {
		t.Errorf("got %d results, want %d: %+v", len(got), len(want), got)
	}
	for k, w := range want {
		r, ok := got[k]
		if !ok || r.Success != w.success || r.EndTime != w.end {
			t.Errorf("%v: got %+v (present %v), want success=%v end=%d", k, r, ok, w.success, w.end)
		}
	}
	if got[GuestKey{"c1", "ct", "101"}].Message != "no space left" {
		t.Errorf("failure reason lost: %+v", got[GuestKey{"c1", "ct", "101"}])
	}
	if !NeedsLog(tasks[1].Task) || NeedsLog(tasks[0].Task) || NeedsLog(tasks[4].Task) {
		t.Errorf("NeedsLog")
	}
}

func TestSummarizeSnapshots(t *testing.T) {
	a := snapshot("vm", "100", t0)
	a.Verification = &proxmox.Verification{State: "failed"}
	a.Protected = true
	b := snapshot("vm", "100", t0+day)
	b.Verification = &proxmox.Verification{State: "ok"}
	b.Fingerprint = "8d:80:00:ab" // encrypted: the manifest names its key
	running := snapshot("vm", "100", t0+2*day)
	running.Size = nil
	h := snapshot("host", "pve1", t0)
	got := SummarizeSnapshots([]proxmox.Snapshot{running, b, h, a, a})
	if len(got) != 2 || got[0].BackupType != "host" || got[1].BackupType != "vm" {
		t.Fatalf("groups: %+v", got)
	}
	g := got[1]
	if len(g.Times) != 2 || g.Times[0] != t0 || g.Times[1] != t0+day || !g.InProgress ||
		g.LastVerification != VerificationOK || g.LastSize != int64(*b.Size) || g.VerifyFailed != 1 || g.Protected != 1 ||
		g.Verified != 1 || !g.LastEncrypted || g.Unencrypted != 1 {
		t.Errorf("vm/100 summary: %+v", g)
	}
	// A group with only a running snapshot has no completed point.
	only := SummarizeSnapshots([]proxmox.Snapshot{running})
	if len(only) != 1 || len(only[0].Times) != 0 || !only[0].InProgress || only[0].LastVerification != VerificationNone {
		t.Errorf("running only: %+v", only)
	}
}

func TestSummarizeVolumes(t *testing.T) {
	unknown := proxmox.BackupVolume{VolID: "nfs:backup/vzdump-qemu-120-2024_01_15-02_00_03.vma.zst", Content: "backup", Subtype: "unknown", CTime: proxmox.Int(t0), Size: 10}
	noTime := proxmox.BackupVolume{VolID: "nfs:backup/vzdump-qemu-121-before-upgrade.vma.zst", Content: "backup", Subtype: "qemu", VMID: 121, Size: 10}
	junk := proxmox.BackupVolume{VolID: "nfs:backup/notes.txt", Content: "backup", Subtype: "unknown", CTime: proxmox.Int(t0)}
	verified := pbsVolume("pbs", "vm", 100, t0, 5000)
	verified.Verification = &proxmox.Verification{State: "ok"}
	verified.Protected = true
	got, skipped := SummarizeVolumes([]proxmox.BackupVolume{unknown, noTime, junk, verified, pbsVolume("pbs", "ct", 7, t0, 1)})
	if skipped != 2 {
		t.Errorf("skipped %d, want 2 (no time, no guest)", skipped)
	}
	if len(got) != 3 {
		t.Fatalf("groups: %+v", got)
	}
	if g := got[0]; g.BackupType != "ct" || len(g.Times) != 0 || !g.InProgress {
		t.Errorf("size-1 PBS volume must be in progress: %+v", g)
	}
	if g := got[1]; g.BackupID != "100" || g.LastVerification != VerificationOK || g.Protected != 1 || g.LastSize != 5000 {
		t.Errorf("PBS volume through PVE: %+v", g)
	}
	if g := got[2]; g.BackupID != "120" || g.BackupType != "vm" || len(g.Times) != 1 || g.LastVerification != VerificationNone {
		t.Errorf("subtype unknown resolved from the name: %+v", g)
	}
}
