package dedup

import (
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
	running := snapshot("vm", "100", t0+2*day)
	running.Size = nil
	h := snapshot("host", "pve1", t0)
	got := SummarizeSnapshots([]proxmox.Snapshot{running, b, h, a, a})
	if len(got) != 2 || got[0].BackupType != "host" || got[1].BackupType != "vm" {
		t.Fatalf("groups: %+v", got)
	}
	g := got[1]
	if len(g.Times) != 2 || g.Times[0] != t0 || g.Times[1] != t0+day || !g.InProgress ||
		g.LastVerification != VerificationOK || g.LastSize != int64(*b.Size) || g.VerifyFailed != 1 || g.Protected != 1 {
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
