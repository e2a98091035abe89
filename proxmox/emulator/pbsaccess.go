package emulator

import (
	"strconv"
	"strings"
)

// This file holds what a PBS token may see of sync jobs: the
// sync-direction filter of PBS 3.3 and the Remote.Audit privilege.

// pbsAtLeast reports whether the PBS's version is major.minor or newer.
func pbsAtLeast(p *PBSServer, major, minor int) bool {
	return versionAtLeast(orDefault(p.Version, "3.2"), major, minor)
}

// versionAtLeast reports whether version "x.y" (or "x.y.z") is
// major.minor or newer.
func versionAtLeast(version string, major, minor int) bool {
	maj, rest, _ := strings.Cut(version, ".")
	mnr, _, _ := strings.Cut(rest, ".")
	a, _ := strconv.Atoi(maj)
	b, _ := strconv.Atoi(mnr)
	return a > major || a == major && b >= minor
}

// syncJobsListed filters sync jobs as GET /admin/sync and /config/sync
// do (proxmox-backup api2/admin/sync.rs list_config_sync_jobs): PBS 3.3
// and later take sync-direction (pull, the default, push or all) and keep
// the jobs of that direction; older versions refuse the parameter. Jobs
// with a remote the token may not audit are left out.
func syncJobsListed(rc *reqCtx, jobs []*PBSJob) ([]*PBSJob, *reply) {
	p := rc.pbs
	dir := rc.q.Get("sync-direction")
	if !pbsAtLeast(p, 3, 3) {
		if rc.q.Has("sync-direction") {
			r := paramError(rc, "sync-direction", "schema does not allow additional properties.")
			return nil, &r
		}
		dir = "all" // only pull jobs exist before 3.3
	}
	switch dir {
	case "", "pull", "push", "all":
	default:
		r := paramError(rc, "sync-direction", "value '"+dir+"' is not defined in the enumeration.")
		return nil, &r
	}
	dir = orDefault(dir, "pull")
	var out []*PBSJob
	for _, j := range jobs {
		if dir != "all" && orDefault(j.SyncDirection, "pull") != dir {
			continue
		}
		if p.NoRemoteAudit && j.Remote != "" {
			continue
		}
		out = append(out, j)
	}
	return out, nil
}

// pbsPermissions is GET /access/permissions for the token itself: its
// privileges by ACL path with the propagate bit (proxmox-backup
// api2/access/mod.rs list_permissions). The emulated token follows the
// documented recipe: the Audit role on / (Sys.Audit, Datastore.Audit; it
// has no Remote.Audit) and the RemoteAudit role on /remote, which
// NoRemoteAudit leaves out; the NoBackupPrivilege fault takes away
// Datastore.Audit.
func pbsPermissions(rc *reqCtx) reply {
	paths := []string{"/", "/access", "/datastore", "/remote", "/system"}
	return okReply(len(paths), func(w *jw) {
		w.obj()
		w.key("data")
		w.obj()
		for _, path := range paths {
			w.key(path)
			w.obj()
			if !rc.noPriv { // NoBackupPrivilege: no Datastore.Audit
				w.fBool("Datastore.Audit", true)
			}
			if path == "/remote" && !rc.pbs.NoRemoteAudit {
				w.fBool("Remote.Audit", true)
			}
			w.fBool("Sys.Audit", true)
			w.end()
		}
		w.end()
		w.end()
	})
}
