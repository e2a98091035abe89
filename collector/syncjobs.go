package collector

import (
	"context"
	"sync"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Sync jobs in both directions. PBS leaves a sync job out of GET
// /admin/sync when the token lacks Remote.Audit on its remote, without an
// error, so an empty or short list proves nothing by itself: the token's
// own permissions say whether it could see every job.

// syncFamilies are the sync job families.
var syncFamilies = struct {
	info    *family
	visible *family
}{
	info: newDesc("pbs_sync_job_info",
		"Every PBS sync job the token sees (value 1), with its direction (pull or push) and remote; join on job_id with the pbs_job_* families.",
		"target", "datastore", "job_id", "direction", "remote", "remote_store"),
	visible: newDesc("pbs_sync_jobs_visible",
		"1 if the token's permissions prove it sees every sync job (Remote.Audit on /remote), 0 if PBS may be leaving jobs out of the list; absent when the permissions could not be read.",
		"target"),
}

// readSyncJobs reads the sync jobs of both directions. A PBS that refused
// sync-direction (before 3.3) is asked without it while it runs the
// version it ran then: one request per scrape instead of a refused one
// and a second; a new version is asked with it again.
func readSyncJobs(ctx context.Context, pd *pbsData) ([]proxmox.JobStatus, error) {
	api := pd.t.pbs
	if pd.t.syncDirections.refused() {
		pd.syncPullOnly = true
		return api.SyncJobs(ctx)
	}
	rows, all, err := api.SyncJobsAll(ctx)
	pd.syncPullOnly = err == nil && !all
	return rows, err
}

// syncDirectionMemory is the version of a PBS that refused sync-direction,
// kept across scrapes.
type syncDirectionMemory struct {
	mu      sync.Mutex
	version string // "" = not refused, or the version is unknown
}

func (m *syncDirectionMemory) refused() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.version != ""
}

// note records this scrape's outcome once the version is known: a refusal
// is remembered with the version, and forgotten when the version changes.
func (m *syncDirectionMemory) note(pd *pbsData) {
	if pd.version == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case pd.syncPullOnly && m.version == "":
		m.version = pd.version
	case m.version != "" && m.version != pd.version:
		m.version = ""
	}
}

// readSyncVisibility reads the token's permissions and judges whether
// the sync job list is complete. A token that may not see every job gets
// a warning naming the privilege.
func readSyncVisibility(ctx context.Context, pd *pbsData) {
	api, run := pd.t.pbs, pd.run
	var perms map[string]map[string]bool
	if err := run.call(func() (err error) { perms, err = api.Permissions(ctx); return err }); err != nil {
		run.fail(proxmox.EndpointPermissions, "jobs", err, api.SeenFingerprint())
		return
	}
	visible := proxmox.SeesAllSyncJobs(perms)
	pd.syncVisible, pd.perms = &visible, perms
	if !visible {
		run.warn(Failure{
			Endpoint: proxmox.EndpointSyncJobs, Part: "sync jobs", Reason: "permission",
			Message: "the token lacks " + proxmox.RemoteAuditPrivilege + " on /remote: PBS leaves the sync jobs of remotes it may not audit out of the list",
			Hint:    proxmox.PrivilegeHint("pbs", proxmox.PathOf(proxmox.EndpointSyncJobs)),
		})
	}
}

// emitSyncJobs exports the sync jobs' directions and whether their list
// is complete.
func emitSyncJobs(e *emitter, res *scrapeResult) {
	for _, pd := range res.pbs {
		if !pd.up {
			continue
		}
		if pd.syncVisible != nil {
			e.values(syncFamilies.visible, boolFloat(*pd.syncVisible), pd.t.name)
		}
		for _, j := range pd.jobs {
			if j.Type == "sync" {
				e.values(syncFamilies.info, 1, pd.t.name, j.Datastore, j.ID, j.Direction, j.Remote, j.RemoteStore)
			}
		}
	}
}
