package dedup

import (
	"fmt"
	"slices"
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// TestGuestTaskResultsDuration: a job run's log times each guest by its
// Finished line; a single-guest task is timed by its own run time; a
// guest that failed, or whose duration cannot be read, has none.
func TestGuestTaskResultsDuration(t *testing.T) {
	guests := []proxmox.ClusterResource{vm(100, "n1"), ct(101, "n1"), vm(102, "n2"), vm(103, "n1"), vm(104, "n2")}
	tasks := []TaskWithLog{
		{Task: proxmox.Task{UPID: "UPID:n1:00000002:00000001:65A00001:vzdump::root@pam:", Node: "n1", Type: "vzdump", StartTime: 2000, EndTime: 9000, Status: "job errors"},
			Log: logLines(
				"INFO: Starting Backup of VM 100 (qemu)",
				"INFO: Finished Backup of VM 100 (01:30:05)",
				"INFO: Starting Backup of VM 101 (lxc)",
				"ERROR: Backup of VM 101 failed - no space left",
				"INFO: Starting Backup of VM 103 (qemu)",
				"INFO: Finished Backup of VM 103 (1:2)",
				"TASK ERROR: job errors")},
		{Task: proxmox.Task{UPID: "UPID:n2:00000003:00000001:65A00002:vzdump:102:root@pam:", Node: "n2", Type: "vzdump", ID: "102", StartTime: 3000, EndTime: 3100, Status: "WARNINGS: 1"}},
		{Task: proxmox.Task{UPID: "UPID:n2:00000004:00000001:65A00003:vzdump:104:root@pam:", Node: "n2", Type: "vzdump", ID: "104", StartTime: 3000, EndTime: 3500, Status: "some error"}},
	}
	got := GuestTaskResults("c1", guests, tasks)
	want := map[string]struct {
		seconds int64
		timed   bool
	}{
		"100": {5405, true},
		"101": {0, false}, // failed
		"102": {100, true},
		"103": {0, false}, // finished, duration unreadable
		"104": {0, false}, // failed single-guest task
	}
	for id, w := range want {
		bt := "vm"
		if id == "101" {
			bt = "ct"
		}
		r, ok := got[GuestKey{"c1", bt, id}]
		if !ok || r.Seconds != w.seconds || r.Timed != w.timed {
			t.Errorf("%s: got %+v (present %v), want seconds=%d timed=%v", id, r, ok, w.seconds, w.timed)
		}
	}
}

// TestGuestTaskResultsTransferred: the amount qemu-server states is the
// guest's whose backup was in progress, not its neighbour's; a guest whose
// log states none, or whose backup failed, has no amount (not zero).
func TestGuestTaskResultsTransferred(t *testing.T) {
	guests := []proxmox.ClusterResource{vm(100, "n1"), ct(101, "n1"), vm(102, "n1"), vm(103, "n1"), vm(104, "n2"), vm(105, "n2")}
	tasks := []TaskWithLog{
		{Task: proxmox.Task{UPID: "UPID:n1:00000002:00000001:65A00001:vzdump::root@pam:", Node: "n1", Type: "vzdump", StartTime: 2000, EndTime: 9000, Status: "job errors"},
			Log: logLines(
				"INFO: Starting Backup of VM 100 (qemu)",
				"INFO: transferred 32.00 GiB in 61 seconds (537.2 MiB/s)",
				"INFO: Finished Backup of VM 100 (00:01:05)",
				"INFO: Starting Backup of VM 101 (lxc)",
				"INFO: Finished Backup of VM 101 (00:00:10)",
				"INFO: Starting Backup of VM 102 (qemu)",
				"INFO: transferred 2.50 GiB in 5 seconds (512.0 MiB/s)",
				"ERROR: Backup of VM 102 failed - upload failed",
				"INFO: Starting Backup of VM 103 (qemu)",
				"INFO: transferred 1.00 MiB in <1 seconds",
				"INFO: Finished Backup of VM 103 (00:00:02)",
				"TASK ERROR: job errors")},
		{Task: proxmox.Task{UPID: "UPID:n2:00000003:00000001:65A00002:vzdump:104:root@pam:", Node: "n2", Type: "vzdump", ID: "104", StartTime: 3000, EndTime: 3100, Status: "OK"},
			Log: logLines(
				"INFO: Starting Backup of VM 104 (qemu)",
				"INFO: transferred 7.25 GiB in 90 seconds (82.5 MiB/s)",
				"INFO: Finished Backup of VM 104 (00:01:30)",
				"TASK OK")},
		// Its log was not fetched.
		{Task: proxmox.Task{UPID: "UPID:n2:00000004:00000001:65A00003:vzdump:105:root@pam:", Node: "n2", Type: "vzdump", ID: "105", StartTime: 3000, EndTime: 3500, Status: "OK"}},
	}
	got := GuestTaskResults("c1", guests, tasks)
	want := map[string]int64{ // -1: no amount
		"100": 32 << 30,
		"101": -1, // lxc: stated nowhere
		"102": -1, // failed after the transfer
		"103": 1 << 20,
		"104": 7.25 * (1 << 30),
		"105": -1, // log not read
	}
	for id, w := range want {
		bt := "vm"
		if id == "101" {
			bt = "ct"
		}
		r, ok := got[GuestKey{"c1", bt, id}]
		if !ok {
			t.Errorf("%s: no result", id)
			continue
		}
		if w < 0 {
			if r.Transferred || r.Bytes != 0 {
				t.Errorf("%s: got %d bytes (transferred %v), want none", id, r.Bytes, r.Transferred)
			}
		} else if !r.Transferred || r.Bytes != w {
			t.Errorf("%s: got %d bytes (transferred %v), want %d", id, r.Bytes, r.Transferred, w)
		}
	}
}

// TestLogsToRead: the logs of finished multi-guest tasks, and of the
// newest finished single-guest task of each guest only (not its older
// ones, nor a running one), whatever the listing's order.
func TestLogsToRead(t *testing.T) {
	task := func(id string, end int64, status string) proxmox.Task {
		return proxmox.Task{UPID: fmt.Sprintf("UPID:n1:%08X:00000001:65A00000:vzdump:%s:root@pam:", end, id), Node: "n1",
			Type: "vzdump", ID: id, StartTime: proxmox.Int(end - 100), EndTime: proxmox.Int(end), Status: status}
	}
	running := task("100", 0, "RUNNING")
	running.EndTime = 0
	tasks := []proxmox.Task{
		task("100", 2000, "OK"),                   // 0: 100's older
		task("", 2500, "job errors"),              // 1: multi-guest
		task("100", 3000, "some error"),           // 2: 100's newest finished
		task("101", 1500, "WARNINGS: 1"),          // 3: 101's only
		running,                                   // 4: running
		task("", 0, "RUNNING"),                    // 5: multi-guest, running
		{Type: "vzdump", ID: "100", Status: "OK"}, // 6: no end time
	}
	tasks[5].EndTime = 0
	got := LogsToRead(tasks)
	want := []bool{false, true, true, true, false, false, false}
	if !slices.Equal(got, want) {
		t.Errorf("LogsToRead = %v, want %v", got, want)
	}
}
