package collector

import (
	"testing"
	"time"
)

// TestJobResultsScenario: success, warnings and failure are told apart,
// and a warning is not a failure: homelab's prune job ended OK, its
// verify job with PBS's error text, the push job with "WARNINGS: 2".
func TestJobResultsScenario(t *testing.T) {
	x := parseExposition(startEnv(t, envSpec{model: syncModel(false)}).mustScrape(10 * time.Second).body)
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
	// archive's GC never ran: no result at all, rather than a failure.
	if _, ok := x.get("proxmox_backup_pbs_job_last_run_result", "job_type", "gc", "job_id", "archive"); ok {
		t.Errorf("a GC that never ran has a result")
	}
}
