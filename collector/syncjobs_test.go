package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// syncModel is the homelab on PBS 3.3 with a push job to a remote besides
// its local pull job.
func syncModel(noRemoteAudit bool) func(now time.Time) *emulator.Model {
	return func(now time.Time) *emulator.Model {
		m := emulator.Homelab(now)
		p := m.PBSServer("pbs1")
		p.Version, p.Release = "3.3", "2"
		p.NoRemoteAudit = noRemoteAudit
		p.SyncJobs = append(p.SyncJobs, &emulator.PBSJob{ID: "s-push", Store: "store1", Remote: "cold", RemoteStore: "offsite",
			Schedule: "daily", SyncDirection: "push", LastRunStart: now.Add(-5 * time.Hour), LastRunEnd: now.Add(-4 * time.Hour),
			LastRunState: "WARNINGS: 2", NextRun: now.Add(19 * time.Hour)})
		return m
	}
}

// TestSyncJobsBothDirections: on PBS 3.3 the push job is read besides the
// pull job (PBS lists only pull jobs unless asked for all), each labelled
// with its direction, and the token's permissions prove the list
// complete.
func TestSyncJobsBothDirections(t *testing.T) {
	x := parseExposition(startEnv(t, envSpec{model: syncModel(false)}).mustScrape(10 * time.Second).body)
	for id, dir := range map[string]string{"s-archive": "pull", "s-push": "push"} {
		if v, ok := x.get("proxmox_backup_pbs_sync_job_info", "job_id", id, "direction", dir); !ok || v != "1" {
			t.Errorf("sync_job_info{%s, %s} = %q (present %v)", id, dir, v, ok)
		}
	}
	if v, ok := x.get("proxmox_backup_pbs_job_next_run_timestamp_seconds", "job_type", "sync", "job_id", "s-push"); !ok || v == "" {
		t.Errorf("the push job has no job series")
	}
	if v, ok := x.get("proxmox_backup_pbs_sync_jobs_visible", "target", "pbs1"); !ok || v != "1" {
		t.Errorf("sync_jobs_visible = %q (present %v), want 1", v, ok)
	}
}

// TestSyncJobsHiddenWithoutRemoteAudit: without Remote.Audit PBS leaves
// the push job out silently; the permissions say so, and /status names
// the privilege.
func TestSyncJobsHiddenWithoutRemoteAudit(t *testing.T) {
	e := startEnv(t, envSpec{model: syncModel(true)})
	x := parseExposition(e.mustScrape(10 * time.Second).body)
	if _, ok := x.get("proxmox_backup_pbs_sync_job_info", "job_id", "s-push"); ok {
		t.Fatalf("the emulated PBS showed a job the token may not see")
	}
	if v, ok := x.get("proxmox_backup_pbs_sync_jobs_visible", "target", "pbs1"); !ok || v != "0" {
		t.Errorf("sync_jobs_visible = %q (present %v), want 0", v, ok)
	}
	if v, _ := x.get("proxmox_backup_target_up", "target", "pbs1"); v != "1" {
		t.Errorf("a hidden sync job is not a failed request: target_up = %s", v)
	}
	if _, js := e.status(); !strings.Contains(js, "Remote.Audit on /remote") {
		t.Errorf("/status does not name the missing privilege:\n%s", js)
	}
}

// TestSyncJobsBeforePBS33: a PBS before 3.3 refuses sync-direction; its
// jobs are read without it, and the scrape does not fail. Later scrapes
// ask without it at once (one request, not a refused one and a second),
// until the PBS runs another version: after an upgrade to 3.3 its push
// jobs are read.
func TestSyncJobsBeforePBS33(t *testing.T) {
	e := startEnv(t, envSpec{})
	syncRequests := func() (plain, all int) {
		for _, r := range e.srv.Requests() {
			if r.Target == "pbs1" && r.Path == "/admin/sync" {
				if r.Query.Has("sync-direction") {
					all++
				} else {
					plain++
				}
			}
		}
		return plain, all
	}
	x := parseExposition(e.mustScrape(10 * time.Second).body)
	if v, ok := x.get("proxmox_backup_pbs_sync_job_info", "job_id", "s-archive", "direction", "pull"); !ok || v != "1" {
		t.Errorf("sync_job_info{s-archive, pull} = %q (present %v)", v, ok)
	}
	if v, _ := x.get("proxmox_backup_target_up", "target", "pbs1"); v != "1" {
		t.Errorf("target_up = %s after the refused parameter", v)
	}
	if plain, all := syncRequests(); plain != 1 || all != 1 {
		t.Errorf("first scrape: %d plain and %d sync-direction requests, want one each", plain, all)
	}

	e.srv.ResetRequests()
	e.mustScrape(10 * time.Second)
	if plain, all := syncRequests(); plain != 1 || all != 0 {
		t.Errorf("second scrape on the same version: %d plain and %d sync-direction requests, want 1 and 0", plain, all)
	}

	// The upgrade: the scrape that sees 3.3 still asks the old way (push
	// jobs cannot exist yet), the next one asks for every direction.
	e.srv.Update(func(m *emulator.Model) {
		p := m.PBSServer("pbs1")
		p.Version, p.Release = "3.3", "2"
		p.SyncJobs = append(p.SyncJobs, &emulator.PBSJob{ID: "s-push", Store: "store1", Remote: "cold", RemoteStore: "x",
			Schedule: "daily", SyncDirection: "push"})
	})
	e.mustScrape(10 * time.Second)
	x = parseExposition(e.mustScrape(10 * time.Second).body)
	if v, ok := x.get("proxmox_backup_pbs_sync_job_info", "job_id", "s-push", "direction", "push"); !ok || v != "1" {
		t.Errorf("after the upgrade: sync_job_info{s-push, push} = %q (present %v)", v, ok)
	}
}
