package collector

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
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
