package proxmox

import (
	"context"
	"errors"
	"net/url"
	"strings"
)

// This file holds PBS facts about encryption, job results, sync
// directions and the token's privileges that the exporter judges on.

// Crypt modes of a PBS archive (pbs-api-types CryptMode).
const (
	CryptModeNone     = "none"
	CryptModeEncrypt  = "encrypt"
	CryptModeSignOnly = "sign-only"
)

// SnapshotEncrypted reports whether a PBS snapshot is encrypted as a
// whole, by the rule PVE applies to the same listing (pve-storage
// PBSPlugin list_volumes): the manifest names a key fingerprint, or every
// archive but the unencrypted manifest and client log blobs has crypt
// mode "encrypt" (and there is at least one). Sign-only is not encrypted.
func SnapshotEncrypted(s *Snapshot) bool {
	if s.Fingerprint != "" {
		return true
	}
	encrypted := false
	for _, f := range s.Files {
		if f.Filename == "index.json.blob" || f.Filename == "client.log.blob" {
			continue
		}
		if f.CryptMode != CryptModeEncrypt {
			return false
		}
		encrypted = true
	}
	return encrypted
}

// VolumeEncrypted reports whether a PVE backup volume is encrypted: PVE
// sets `encrypted` (the key fingerprint, or "1") only on PBS snapshots
// that are (pve-storage API2/Storage/Content.pm); a vzdump archive has no
// encryption of its own, so the field is absent there.
func VolumeEncrypted(v BackupVolume) bool {
	return v.Encrypted != "" && v.Encrypted != "0"
}

// Job results as a PBS job state file records them (proxmox-backup
// server/jobstate.rs): "OK", "WARNINGS: n", or the bare error text.
const (
	JobResultOK      = "ok"
	JobResultWarning = "warning"
	JobResultFailed  = "failed"
)

// JobResults lists every job result, sorted (the order of a state-set's
// series).
var JobResults = []string{JobResultFailed, JobResultOK, JobResultWarning}

// JobResult classifies a PBS job's last-run-state: ok, warning (the job
// did its work but logged warnings) or failed (any other text is PBS's
// error message). "" is returned for a state that says nothing of the
// outcome: empty (never ran, or running), running, or "unknown" (the
// state file lost the end state).
func JobResult(state string) string {
	c, _, err := ClassifyTaskStatus(state)
	if err != nil {
		return ""
	}
	switch c {
	case TaskOK:
		return JobResultOK
	case TaskWarning:
		return JobResultWarning
	case TaskError:
		return JobResultFailed
	}
	return ""
}

// Sync directions of a PBS sync job (pbs-api-types SyncDirection); a job
// without the field pulls.
const (
	SyncPull = "pull"
	SyncPush = "push"
)

// Direction returns a sync job's direction, pull when PBS leaves it out.
func (j JobStatus) Direction() string {
	if j.SyncDirection == "" {
		return SyncPull
	}
	return j.SyncDirection
}

// SyncJobsAll is GET /admin/sync?sync-direction=all: pull and push jobs
// (PBS 3.3 and later list only pull jobs without the parameter). A PBS
// before 3.3 refuses the parameter; it has only pull jobs, so allDirections
// false says the plain list was read instead.
func (c *PBSClient) SyncJobsAll(ctx context.Context) (jobs []JobStatus, allDirections bool, err error) {
	jobs, err = getList[JobStatus](ctx, c.Client, "/admin/sync", url.Values{"sync-direction": {"all"}})
	if err == nil {
		return jobs, true, nil
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 || !strings.Contains(e.Message, "sync-direction") {
		return nil, false, err
	}
	jobs, err = c.SyncJobs(ctx)
	return jobs, false, err
}

// Permissions is GET /access/permissions: the token's own privileges by
// ACL path, each with its propagate bit. PBS leaves out paths where the
// token has none; any token may read its own.
func (c *PBSClient) Permissions(ctx context.Context) (map[string]map[string]bool, error) {
	return getOne[map[string]map[string]bool](ctx, c.Client, "/access/permissions", nil)
}

// RemoteAuditPrivilege is the privilege without which PBS leaves a sync
// job with a remote out of GET /admin/sync, without an error
// (proxmox-backup api2/config/sync.rs check_sync_job_read_access).
const RemoteAuditPrivilege = "Remote.Audit"

// SeesAllSyncJobs reports whether privileges (Permissions' answer) prove
// the token sees every sync job: Remote.Audit propagated from / or
// /remote, so no remote's jobs are filtered out. A grant on single
// remotes proves nothing about the others.
func SeesAllSyncJobs(perms map[string]map[string]bool) bool {
	for _, p := range []string{"/", "/remote"} {
		if propagate, ok := perms[p][RemoteAuditPrivilege]; ok && propagate {
			return true
		}
	}
	return false
}

// DatastoreAuditPrivilege is the privilege without which PBS lists only
// the backup groups a token owns, without an error.
const DatastoreAuditPrivilege = "Datastore.Audit"

// SeesAllGroups reports whether privileges (Permissions' answer) prove the
// token sees every backup group of a datastore: Datastore.Audit on
// /datastore/{store} itself, or propagated from /datastore or /.
func SeesAllGroups(perms map[string]map[string]bool, store string) bool {
	if _, ok := perms["/datastore/"+store][DatastoreAuditPrivilege]; ok {
		return true
	}
	for _, p := range []string{"/", "/datastore"} {
		if propagate, ok := perms[p][DatastoreAuditPrivilege]; ok && propagate {
			return true
		}
	}
	return false
}
