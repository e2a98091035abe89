package collector

import (
	"strconv"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// TestVerificationCoverageScenario: homelab's only verify job covers one
// namespace of store1, so neither datastore is covered; a scheduled root
// job that ran covers archive, one that never ran does not cover store1.
// The recovery points per datastore by verification state add up to what
// the groups say.
func TestVerificationCoverageScenario(t *testing.T) {
	model := func(now time.Time) *emulator.Model {
		m := emulator.Homelab(now)
		p := m.PBSServer("pbs1")
		p.VerifyJobs = append(p.VerifyJobs,
			&emulator.PBSJob{ID: "v-archive", Store: "archive", Schedule: "weekly",
				LastRunStart: now.Add(-3 * time.Hour), LastRunEnd: now.Add(-2 * time.Hour), LastRunState: "OK"},
			&emulator.PBSJob{ID: "v-new", Store: "store1", Schedule: "daily"})
		return m
	}
	x := parseExposition(startEnv(t, envSpec{model: model}).mustScrape(10 * time.Second).body)
	for ds, want := range map[string]string{"archive": "1", "store1": "0"} {
		if v, ok := x.get("proxmox_backup_datastore_verify_covered", "datastore", ds); !ok || v != want {
			t.Errorf("verify_covered{%s} = %q (present %v), want %s", ds, v, ok, want)
		}
	}
	// The per-datastore counts are the sums over the datastore's groups
	// in its PBS repositories.
	dsOf := map[string]string{}
	for k := range x {
		if n, l := splitSeries(k); n == "proxmox_backup_repository_info" && l["kind"] == "pbs" {
			dsOf[l["repository"]] = l["datastore"]
		}
	}
	sum := map[string]map[string]int{"store1": {}, "archive": {}}
	for k, v := range x {
		n, l := splitSeries(k)
		ds, ok := dsOf[l["repository"]]
		if !ok || n != "proxmox_backup_snapshots" && n != "proxmox_backup_verify_failed_snapshots" {
			continue
		}
		i, _ := strconv.Atoi(v)
		sum[ds][n] += i
	}
	for ds, s := range sum {
		total := 0
		for _, st := range []string{"ok", "failed", "none"} {
			v, ok := x.get("proxmox_backup_datastore_snapshots", "datastore", ds, "state", st)
			if !ok {
				t.Fatalf("datastore_snapshots{%s,%s} missing", ds, st)
			}
			i, _ := strconv.Atoi(v)
			total += i
			if st == "failed" && i != s["proxmox_backup_verify_failed_snapshots"] {
				t.Errorf("%s failed = %d, groups say %d", ds, i, s["proxmox_backup_verify_failed_snapshots"])
			}
		}
		if total != s["proxmox_backup_snapshots"] || total == 0 {
			t.Errorf("%s: states add up to %d, groups hold %d", ds, total, s["proxmox_backup_snapshots"])
		}
	}
	if v, _ := x.get("proxmox_backup_datastore_snapshots", "datastore", "store1", "state", "ok"); v == "0" {
		t.Errorf("store1 has verified snapshots, ok count is 0")
	}
}
