package collector

import (
	"testing"
	"time"
)

// TestEncryptionScenario: in the homelab, vm 103's PBS snapshots are
// encrypted (the manifest names a key), the others are not; vm 100 also
// has a vzdump archive, which never is.
func TestEncryptionScenario(t *testing.T) {
	e := startEnv(t, envSpec{})
	x := parseExposition(e.mustScrape(10 * time.Second).body)
	want := []struct {
		name string
		kv   []string
		v    string
	}{
		{"proxmox_backup_guest_last_encrypted", []string{"backup_id", "103"}, "1"},
		{"proxmox_backup_guest_last_encrypted", []string{"backup_id", "100"}, "0"},
		{"proxmox_backup_last_encrypted", []string{"repository", "pbs1:store1/homelab", "backup_id", "103"}, "1"},
		{"proxmox_backup_unencrypted_snapshots", []string{"repository", "pbs1:store1/homelab", "backup_id", "103"}, "0"},
		{"proxmox_backup_last_encrypted", []string{"repository", "pbs1:store1/homelab", "backup_id", "100"}, "0"},
		{"proxmox_backup_unencrypted_snapshots", []string{"repository", "pbs1:store1/homelab", "backup_id", "100"}, "14"},
	}
	for _, w := range want {
		if v, ok := x.get(w.name, w.kv...); !ok || v != w.v {
			t.Errorf("%s%v = %q (present %v), want %s", w.name, w.kv, v, ok, w.v)
		}
	}
	// Every guest with a known newest point has the series; a guest
	// without a recovery point has none.
	for k := range x {
		if n, l := splitSeries(k); n == "proxmox_backup_guest_last_timestamp_seconds" {
			if _, ok := x.get("proxmox_backup_guest_last_encrypted", "cluster", l["cluster"], "backup_type", l["backup_type"], "backup_id", l["backup_id"]); !ok {
				t.Errorf("guest %s/%s has a newest point but no guest_last_encrypted", l["backup_type"], l["backup_id"])
			}
		}
	}
}
