package collector

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Identity by evidence, seen end to end: what the exporter exposes when the
// evidence says two paths are not one place.

// TestStalePinReadThroughPVE: a pbs storage whose pinned fingerprint the
// PBS at its address does not present is not mapped to that PBS by
// address. PVE cannot reach the PBS with that pin (its listing fails, as
// the emulator's PVE does), so the storage's repository is down, the
// guests it could hold are unknown (absent, never 0), and /status names
// the storage with both fingerprints.
func TestStalePinReadThroughPVE(t *testing.T) {
	m := labModel()
	const stale = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
	for _, st := range m.Clusters[0].Storages {
		if st.ID == "backup-server" {
			st.Fingerprint = stale
		}
	}
	l := startLab(t, m, Options{})
	body := l.scrape(t, 10*time.Second)

	expectLines(t, body, `proxmox_backup_storage_route_info{cluster="lab",repository="lab:backup-server"`,
		`proxmox_backup_storage_route_info{cluster="lab",repository="lab:backup-server",route="pve_fallback",storage="backup-server",storage_type="pbs"} 1`)
	expectLines(t, body, `proxmox_backup_repository_up{repository="lab:backup-server"}`,
		`proxmox_backup_repository_up{repository="lab:backup-server"} 0`)
	// The PBS itself is read directly and is fine.
	expectLines(t, body, `proxmox_backup_target_up{kind="pbs",target="pbs1"}`,
		`proxmox_backup_target_up{kind="pbs",target="pbs1"} 1`)
	// vm/100 and ct/104 back up through that storage: unknown, not counted
	// from the PBS's own listing as if PVE reached it.
	for _, id := range []string{"100", "104"} {
		expectLines(t, body, `proxmox_backup_guest_snapshots{backup_id="`+id+`"`)
	}

	w := httptest.NewRecorder()
	l.coll.StatusHandler().ServeHTTP(w, httptest.NewRequest("GET", "/status?format=json", nil))
	js := w.Body.String()
	if !strings.Contains(js, `"stale_pin"`) || !strings.Contains(js, "aabbccddeeff") || !strings.Contains(js, strings.ToLower(strings.ReplaceAll(l.srv.PBSFingerprint("pbs1"), ":", ""))[:12]) {
		t.Errorf("/status names no stale pin with both fingerprints:\n%s", js)
	}
}
