package collector

import (
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// TestJobResultsScenario: success, warnings and failure are told apart,
// and a warning is not a failure: homelab's prune job ended OK, its
// verify job with PBS's error text, the push job with "WARNINGS: 2".
func TestJobResultsScenario(t *testing.T) {
	model := func(now time.Time) *emulator.Model {
		m := syncModel(false)(now)
		// PBS writes "unknown" when a job's end state was lost (a crash).
		m.PBSServer("pbs1").PruneJobs = append(m.PBSServer("pbs1").PruneJobs, &emulator.PBSJob{ID: "p-lost", Store: "archive",
			Schedule: "daily", KeepLast: 3, LastRunStart: now.Add(-5 * time.Hour), LastRunEnd: now.Add(-4 * time.Hour), LastRunState: "unknown"})
		return m
	}
	x := parseExposition(startEnv(t, envSpec{model: model}).mustScrape(10 * time.Second).body)
	cases := []struct{ typ, id, want string }{
		{"prune", "p-homelab", "ok"},
		{"verify", "v-homelab", "failed"},
		{"sync", "s-push", "warning"},
		{"gc", "store1", "ok"},
	}
	for _, c := range cases {
		for _, st := range []string{"ok", "warning", "failed"} {
			want := "0"
			if st == c.want {
				want = "1"
			}
			if v, ok := x.get("proxmox_backup_pbs_job_last_run_result", "job_type", c.typ, "job_id", c.id, "state", st); !ok || v != want {
				t.Errorf("%s %s state=%s: %q (present %v), want %s", c.typ, c.id, st, v, ok, want)
			}
		}
	}
	if v, _ := x.get("proxmox_backup_pbs_job_last_run_success", "job_id", "s-push"); v != "1" {
		t.Errorf("a run with warnings did its work: last_run_success = %s, want 1", v)
	}
	// A lost end state is unknown, not a failure: neither series.
	for _, name := range []string{"proxmox_backup_pbs_job_last_run_result", "proxmox_backup_pbs_job_last_run_success"} {
		if v, ok := x.get(name, "job_id", "p-lost"); ok {
			t.Errorf("%s for a lost end state = %s, want absent", name, v)
		}
	}
	// archive's GC never ran: no result at all, rather than a failure.
	if _, ok := x.get("proxmox_backup_pbs_job_last_run_result", "job_type", "gc", "job_id", "archive"); ok {
		t.Errorf("a GC that never ran has a result")
	}
}
