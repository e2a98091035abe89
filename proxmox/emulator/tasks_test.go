package emulator

import (
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// TestVzdumpTaskTransferred: a job run logs qemu-server's transferred
// summary for each qemu guest that succeeded, in render_bytes' form, so
// the exporter's parser reads back the amount each guest's backup read;
// lxc guests, failed guests and a qemu job that read nothing log none.
func TestVzdumpTaskTransferred(t *testing.T) {
	run := VzdumpRun{Node: "pve1", Start: time.Unix(1_700_000_000, 0), Storage: "pbs", PBS: true, Guests: []VzdumpGuest{
		{VMID: 100, Type: "qemu", Duration: 40 * time.Second, Transferred: 1536 << 20},
		{VMID: 101, Type: "qemu", Duration: 15 * time.Minute}, // 128 MiB a second
		{VMID: 102, Type: "lxc"},
		{VMID: 103, Type: "qemu", Error: "interrupted by signal"},
		{VMID: 104, Type: "qemu", Transferred: -1},
		{VMID: 105, Type: "qemu", Duration: 3 * time.Second, Transferred: 1000},
	}}
	task := VzdumpTask(run)
	lines := make([]proxmox.TaskLogLine, len(task.Log))
	texts := map[string]bool{}
	for i, l := range task.Log {
		lines[i] = proxmox.TaskLogLine{N: proxmox.Int(i + 1), T: l}
		texts[l] = true
	}
	for _, want := range []string{
		"INFO: transferred 1.50 GiB in 40 seconds (38.4 MiB/s)",
		"INFO: transferred 112.50 GiB in 900 seconds (128.0 MiB/s)",
		"INFO: transferred 1000.00 B in 3 seconds (333.0 B/s)",
	} {
		if !texts[want] {
			t.Errorf("log lacks %q:\n%q", want, task.Log)
		}
	}
	got := map[string]int64{}
	for _, ev := range proxmox.GuestLogEvents(lines) {
		if ev.Kind == proxmox.LogTransferred {
			got[ev.VMID] = ev.Bytes
		}
	}
	want := map[string]int64{"100": 1536 << 20, "101": 900 << 27, "105": 1000}
	if len(got) != len(want) {
		t.Errorf("transferred per guest: got %v, want %v", got, want)
	}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("guest %s: got %d bytes, want %d", id, got[id], n)
		}
	}
}
