package collector

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// TestEmitGuestDuration: a timed task gives its guest a duration; a
// failed one, or one on a node whose tasks could not be read, gives none.
func TestEmitGuestDuration(t *testing.T) {
	res := fixedResult()
	cd := res.clusters[0]
	cd.tasks["vm/100"] = guestTask{End: 1_699_990_000, Success: true, Seconds: 5405, Timed: true}
	cd.tasks["ct/101"] = guestTask{End: 1_699_990_100, Success: false}
	// vm/102 ran on pve3, whose tasks are unknown: its task says nothing.
	cd.tasks["vm/102"] = guestTask{End: 1_699_990_200, Success: true, Seconds: 60, Timed: true}
	rc := resultCollector{c: newTestCollector(Options{}), res: res}
	want := `
# HELP proxmox_backup_guest_last_task_duration_seconds How long the guest's backup in its newest finished vzdump task took; absent when that backup failed or its log gives no duration.
# TYPE proxmox_backup_guest_last_task_duration_seconds gauge
proxmox_backup_guest_last_task_duration_seconds{backup_id="100",backup_type="vm",cluster="homelab"} 5405
`
	if err := testutil.CollectAndCompare(rc, strings.NewReader(want), "proxmox_backup_guest_last_task_duration_seconds"); err != nil {
		t.Fatal(err)
	}
}

// TestEmitGuestTransferred: a guest's amount is the one its newest task's
// log states for its own backup, through the emulator's job logs and the
// real clients; a newest backup whose log states none, an lxc guest and
// a failed backup have no amount, not a zero or an older task's.
func TestEmitGuestTransferred(t *testing.T) {
	model := func(now time.Time) *emulator.Model {
		m := emulator.Homelab(now)
		c := m.Cluster("homelab")
		// Newer than the nightly job: 100 states 7.25 GiB, 101 nothing;
		// 102's backup fails after its transfer.
		c.Tasks = append(c.Tasks, emulator.VzdumpTask(emulator.VzdumpRun{Node: "pve1", Start: now.Add(-time.Hour), Storage: "backup-server", PBS: true,
			Guests: []emulator.VzdumpGuest{
				{VMID: 100, Type: "qemu", Duration: 90 * time.Second, Transferred: 29 << 28},
				{VMID: 101, Type: "qemu", Transferred: -1},
			}}))
		c.Tasks = append(c.Tasks, emulator.VzdumpTask(emulator.VzdumpRun{Node: "pve2", Start: now.Add(-time.Hour), Storage: "backup-server", PBS: true,
			Guests: []emulator.VzdumpGuest{{VMID: 102, Type: "qemu", Error: "upload failed"}}}))
		return m
	}
	x := parseExposition(startEnv(t, envSpec{model: model}).mustScrape(10 * time.Second).body)
	const name = "proxmox_backup_guest_last_task_transferred_bytes"
	if v, ok := x.get(name, "backup_type", "vm", "backup_id", "100"); !ok || v != "7.784628224e+09" {
		t.Errorf("vm/100: %q (present %v), want 7.25 GiB", v, ok)
	}
	if v, ok := x.get("proxmox_backup_guest_last_task_duration_seconds", "backup_type", "vm", "backup_id", "100"); !ok || v != "90" {
		t.Errorf("vm/100 duration: %q (present %v), want 90", v, ok)
	}
	for _, g := range [][2]string{{"vm", "101"}, {"vm", "102"}, {"ct", "103"}} {
		if v, ok := x.get(name, "backup_type", g[0], "backup_id", g[1]); ok {
			t.Errorf("%s/%s: %s, want absent", g[0], g[1], v)
		}
	}
}

// TestEmitGuestTransferredSingleGuestTask: a guest backed up by tasks of
// its own (task id = VMID) gets the amount its newest one transferred, and
// only that task's log is read, not its older ones'.
func TestEmitGuestTransferredSingleGuestTask(t *testing.T) {
	var upids []string // oldest first
	model := func(now time.Time) *emulator.Model {
		m := emulator.Homelab(now)
		c := m.Cluster("homelab")
		for i, gib := range []int64{3, 4, 5} {
			task := emulator.VzdumpTask(emulator.VzdumpRun{Node: "pve3", Start: now.Add(time.Duration(i-3) * time.Hour),
				Storage: "backup-server", PBS: true, Guests: []emulator.VzdumpGuest{{VMID: 101, Type: "qemu", Duration: time.Minute, Transferred: gib << 30}}})
			c.Tasks = append(c.Tasks, task)
			upids = append(upids, task.UPID())
		}
		return m
	}
	e := startEnv(t, envSpec{model: model})
	x := parseExposition(e.mustScrape(10 * time.Second).body)
	if v, ok := x.get("proxmox_backup_guest_last_task_transferred_bytes", "backup_type", "vm", "backup_id", "101"); !ok || v != "5.36870912e+09" {
		t.Errorf("vm/101: %q (present %v), want the newest task's 5 GiB", v, ok)
	}
	read := make([]bool, len(upids))
	for _, r := range e.srv.Requests() {
		for i, u := range upids {
			if r.Route == "/nodes/{node}/tasks/{upid}/log" && strings.Contains(r.Path, url.PathEscape(u)) {
				read[i] = true
			}
		}
	}
	if want := []bool{false, false, true}; !slices.Equal(read, want) {
		t.Errorf("logs read of vm/101's tasks, oldest first: %v, want %v", read, want)
	}
}
