package emulator

import (
	"net/http"
	"slices"
	"testing"
)

// TestPoolAudit: a pool the token lacks Pool.Audit on vanishes from every
// view that would reveal its membership, without an error, as
// pve-manager's Cluster.pm resources and Pool.pm index do; the others stay.
func TestPoolAudit(t *testing.T) {
	s := startHomelab(t)
	s.Update(func(m *Model) {
		c := m.Cluster("homelab")
		c.Guests = append(c.Guests, &Guest{VMID: 120, Type: "qemu", Name: "web", Node: "pve1", Pool: "prod"})
	})
	poolsOf := func(t *testing.T) (listed, rows []string, guestPool map[string]string) {
		t.Helper()
		for _, r := range pve(t, s, "homelab", "pve1", "/pools", nil).rows(t) {
			listed = append(listed, str(r, "poolid"))
		}
		guestPool = map[string]string{}
		for _, r := range pve(t, s, "homelab", "pve1", "/cluster/resources", nil).rows(t) {
			switch str(r, "type") {
			case "pool":
				if str(r, "id") != "/pool/"+str(r, "pool") {
					t.Errorf("pool row id %q for pool %q", str(r, "id"), str(r, "pool"))
				}
				rows = append(rows, str(r, "pool"))
			case "qemu", "lxc":
				guestPool[str(r, "id")] = str(r, "pool")
			}
		}
		vmRows := pve(t, s, "homelab", "pve1", "/cluster/resources", qv("type", "vm")).rows(t)
		for _, r := range vmRows {
			if guestPool[str(r, "id")] != str(r, "pool") {
				t.Errorf("%s: pool %q with type=vm, %q without", str(r, "id"), str(r, "pool"), guestPool[str(r, "id")])
			}
		}
		return listed, rows, guestPool
	}

	listed, rows, gp := poolsOf(t)
	if want := []string{"media", "prod"}; !slices.Equal(listed, want) || !slices.Equal(rows, want) {
		t.Fatalf("with Pool.Audit: /pools %v, pool rows %v; want %v", listed, rows, want)
	}
	if gp["lxc/104"] != "media" || gp["qemu/120"] != "prod" {
		t.Fatalf("with Pool.Audit: guest pools %v", gp)
	}

	s.Update(func(m *Model) { m.Cluster("homelab").NoPoolAudit = []string{"media"} })
	listed, rows, gp = poolsOf(t)
	if want := []string{"prod"}; !slices.Equal(listed, want) || !slices.Equal(rows, want) {
		t.Errorf("without Pool.Audit on media: /pools %v, pool rows %v; want %v", listed, rows, want)
	}
	if gp["lxc/104"] != "" || gp["lxc/110"] != "" || gp["qemu/120"] != "prod" {
		t.Errorf("without Pool.Audit on media: guest pools %v; want media's guests without pool, prod kept", gp)
	}
	// Backup jobs still select by the real membership: PVE's own
	// not-backed-up view (run with root's rights inside vzdump) counts the
	// media job for its guests.
	for _, r := range pve(t, s, "homelab", "pve1", "/cluster/backup-info/not-backed-up", nil).rows(t) {
		if id := num(r, "vmid"); id == 104 || id == 110 {
			t.Errorf("guest %d listed as not backed up, though the media job selects it", id)
		}
	}
}

// TestClusterResourcesRejectsTypePool: the schema's type enumeration has
// no "pool" (the handler's test for it is dead code), so PVE answers 400.
func TestClusterResourcesRejectsTypePool(t *testing.T) {
	s := startHomelab(t)
	r := pve(t, s, "homelab", "pve1", "/cluster/resources", qv("type", "pool"))
	if r.status != http.StatusBadRequest {
		t.Fatalf("type=pool: status %d, want 400", r.status)
	}
}

// TestClusterBackupLegacyJobByVersion: a vzdump.cron job (starttime, dow)
// is answered with its converted schedule by every version, and with
// starttime and dow as well only before PVE 9 (pve-manager commit
// "api: backup: drop legacy starttime and dow from API response").
func TestClusterBackupLegacyJobByVersion(t *testing.T) {
	for _, tc := range []struct {
		version    string
		withLegacy bool
	}{{"8.4.1", true}, {"9.1.3", false}} {
		s := startHomelab(t)
		s.Update(func(m *Model) {
			c := m.Cluster("homelab")
			c.Version = tc.version
			c.Jobs = append(c.Jobs, &BackupJob{ID: "legacy-1", StartTime: "02:30", DOW: "mon,wed,fri", VMIDs: []int{100}},
				&BackupJob{ID: "legacy-2", StartTime: "04:00", DOW: "mon,tue,wed,thu,fri,sat,sun", VMIDs: []int{101}})
		})
		got := map[string]map[string]any{}
		for _, r := range pve(t, s, "homelab", "pve1", "/cluster/backup", nil).rows(t) {
			got[str(r, "id")] = r
		}
		for id, want := range map[string][3]string{
			"legacy-1": {"mon,wed,fri 02:30", "02:30", "mon,wed,fri"},
			"legacy-2": {"04:00", "04:00", "mon,tue,wed,thu,fri,sat,sun"},
		} {
			r := got[id]
			if str(r, "schedule") != want[0] {
				t.Errorf("PVE %s %s: schedule %q, want %q", tc.version, id, str(r, "schedule"), want[0])
			}
			_, hasStart := r["starttime"]
			_, hasDOW := r["dow"]
			if hasStart != tc.withLegacy || hasDOW != tc.withLegacy {
				t.Errorf("PVE %s %s: starttime present %v, dow present %v; want %v", tc.version, id, hasStart, hasDOW, tc.withLegacy)
			}
			if tc.withLegacy && (str(r, "starttime") != want[1] || str(r, "dow") != want[2]) {
				t.Errorf("PVE %s %s: starttime %q dow %q", tc.version, id, str(r, "starttime"), str(r, "dow"))
			}
		}
	}
}
