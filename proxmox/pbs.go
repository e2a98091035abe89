package proxmox

import (
	"context"
	"net/url"
	"strconv"
)

// PBSClient reads a Proxmox Backup Server's API (REFERENCE.md §3). It
// authenticates with `Authorization: PBSAPIToken=USER@REALM!TOKENID:SECRET`
// and records the fingerprint of the certificate it sees (SeenFingerprint),
// which is how a PVE pbs storage is matched to this server.
type PBSClient struct {
	*Client
}

// NewPBSClient validates t (URLs, token format, TLS settings) and returns a
// client. It does no I/O.
func NewPBSClient(t Target) (*PBSClient, error) {
	c, err := newClient(t, "pbs")
	if err != nil {
		return nil, err
	}
	return &PBSClient{Client: c}, nil
}

// pbsNode is the node name PBS answers to (it is single-node).
const pbsNode = "localhost"

// maxNamespaceDepth is PBS's maximum namespace depth (root is 0).
const maxNamespaceDepth = 7

// Version is GET /version (PBS: version "x.y", release = patch).
func (c *PBSClient) Version(ctx context.Context) (PBSVersion, error) {
	return getOne[PBSVersion](ctx, c.Client, "/version", nil)
}

// NodeStatus is GET /nodes/localhost/status (needs Sys.Audit on
// /system/status); Info.Fingerprint is the proxy certificate's fingerprint.
func (c *PBSClient) NodeStatus(ctx context.Context) (PBSNodeStatus, error) {
	return getOne[PBSNodeStatus](ctx, c.Client, "/nodes/"+pbsNode+"/status", nil)
}

// Certificates is GET /nodes/localhost/certificates/info (needs Sys.Modify
// on /system/certificates, which an exporter token usually lacks; prefer
// SeenFingerprint).
func (c *PBSClient) Certificates(ctx context.Context) ([]PBSCertificateInfo, error) {
	return getList[PBSCertificateInfo](ctx, c.Client, "/nodes/"+pbsNode+"/certificates/info", nil)
}

// Datastores is GET /admin/datastore.
func (c *PBSClient) Datastores(ctx context.Context) ([]Datastore, error) {
	return getList[Datastore](ctx, c.Client, "/admin/datastore", nil)
}

// DatastoreUsage is GET /status/datastore-usage: sizes, history, estimated
// full date and last GC of every datastore.
func (c *PBSClient) DatastoreUsage(ctx context.Context) ([]DatastoreUsage, error) {
	return getList[DatastoreUsage](ctx, c.Client, "/status/datastore-usage", nil)
}

// DatastoreStatus is GET /admin/datastore/{store}/status[?verbose=1];
// verbose adds group and snapshot counts over all namespaces.
func (c *PBSClient) DatastoreStatus(ctx context.Context, store string, verbose bool) (DatastoreStatus, error) {
	var q url.Values
	if verbose {
		q = url.Values{"verbose": {"1"}}
	}
	return getOne[DatastoreStatus](ctx, c.Client, "/admin/datastore/"+seg(store)+"/status", q)
}

// Namespaces is GET /admin/datastore/{store}/namespace?max-depth=7: every
// namespace below the root, recursively, the root ("") first as PBS returns
// it. `parent` is not sent: absent means the root namespace.
func (c *PBSClient) Namespaces(ctx context.Context, store string) ([]Namespace, error) {
	q := url.Values{"max-depth": {strconv.Itoa(maxNamespaceDepth)}}
	return getList[Namespace](ctx, c.Client, "/admin/datastore/"+seg(store)+"/namespace", q)
}

// Groups is GET /admin/datastore/{store}/groups[?ns=ns]: the groups of one
// namespace (no recursion); ns "" is the root and is not sent.
func (c *PBSClient) Groups(ctx context.Context, store, ns string) ([]BackupGroup, error) {
	var q url.Values
	if ns != "" {
		q = url.Values{"ns": {ns}}
	}
	return getList[BackupGroup](ctx, c.Client, "/admin/datastore/"+seg(store)+"/groups", q)
}

// Snapshots is GET /admin/datastore/{store}/snapshots in one namespace (no
// recursion), optionally restricted to one group. Empty arguments are not
// sent: ns "" is the root, backupType/backupID "" mean every group. The
// list is not sorted.
func (c *PBSClient) Snapshots(ctx context.Context, store, ns, backupType, backupID string) ([]Snapshot, error) {
	return getList[Snapshot](ctx, c.Client, "/admin/datastore/"+seg(store)+"/snapshots", snapshotsQuery(ns, backupType, backupID))
}

// EachSnapshot is GET /admin/datastore/{store}/snapshots of one whole
// namespace (no recursion; ns "" is the root), decoded one snapshot at a
// time and handed to fn as it arrives, in the order of the answer: the
// listing of a large namespace never sits in memory. The client's
// response size limit bounds each snapshot, not the listing. On an error
// fn may have seen part of the listing.
func (c *PBSClient) EachSnapshot(ctx context.Context, store, ns string, fn func(Snapshot)) error {
	return getEach(ctx, c.Client, "/admin/datastore/"+seg(store)+"/snapshots", snapshotsQuery(ns, "", ""), fn)
}

// snapshotsQuery is the query of a snapshot listing; empty arguments are
// not sent.
func snapshotsQuery(ns, backupType, backupID string) url.Values {
	q := url.Values{}
	if ns != "" {
		q.Set("ns", ns)
	}
	if backupType != "" {
		q.Set("backup-type", backupType)
	}
	if backupID != "" {
		q.Set("backup-id", backupID)
	}
	return q
}

// GCStatus is GET /admin/gc: one entry per datastore with the last GC run
// (UPID empty when GC never ran) and the next one.
func (c *PBSClient) GCStatus(ctx context.Context) ([]GCJobStatus, error) {
	return getList[GCJobStatus](ctx, c.Client, "/admin/gc", nil)
}

// VerifyJobs is GET /admin/verify: verification jobs with last-run state.
func (c *PBSClient) VerifyJobs(ctx context.Context) ([]JobStatus, error) {
	return getList[JobStatus](ctx, c.Client, "/admin/verify", nil)
}

// PruneJobs is GET /admin/prune: prune jobs with last-run state.
func (c *PBSClient) PruneJobs(ctx context.Context) ([]JobStatus, error) {
	return getList[JobStatus](ctx, c.Client, "/admin/prune", nil)
}

// SyncJobs is GET /admin/sync: sync jobs with last-run state. No
// sync-direction is sent: PBS before 3.3 rejects unknown parameters, and
// the default on newer versions is unverified (REFERENCE.md §7).
func (c *PBSClient) SyncJobs(ctx context.Context) ([]JobStatus, error) {
	return getList[JobStatus](ctx, c.Client, "/admin/sync", nil)
}

// PBSTaskQuery filters GET /nodes/localhost/tasks. Zero values are not
// sent, so PBS's defaults apply (limit 50, finished and running tasks).
type PBSTaskQuery struct {
	// TypeFilter is a substring of the worker type ("verif" matches
	// verify, verify_group, verificationjob, ...).
	TypeFilter string
	// Since and Until bound the start time (epoch seconds).
	Since, Until int64
	// Limit is the maximum number of rows: 0 sends nothing (PBS default
	// 50), a negative value sends limit=0, which PBS reads as unlimited.
	Limit int
	// Start skips that many rows.
	Start int
	// Store keeps tasks of one datastore.
	Store string
	// Running keeps only running tasks.
	Running bool
	// Errors keeps only tasks that did not end OK.
	Errors bool
}

func (q PBSTaskQuery) values() url.Values {
	v := url.Values{}
	if q.TypeFilter != "" {
		v.Set("typefilter", q.TypeFilter)
	}
	if q.Since != 0 {
		v.Set("since", strconv.FormatInt(q.Since, 10))
	}
	if q.Until != 0 {
		v.Set("until", strconv.FormatInt(q.Until, 10))
	}
	switch {
	case q.Limit > 0:
		v.Set("limit", strconv.Itoa(q.Limit))
	case q.Limit < 0:
		v.Set("limit", "0")
	}
	if q.Start > 0 {
		v.Set("start", strconv.Itoa(q.Start))
	}
	if q.Store != "" {
		v.Set("store", q.Store)
	}
	if q.Running {
		v.Set("running", "1")
	}
	if q.Errors {
		v.Set("errors", "1")
	}
	return v
}

// Tasks is GET /nodes/localhost/tasks.
func (c *PBSClient) Tasks(ctx context.Context, q PBSTaskQuery) ([]PBSTask, error) {
	return getList[PBSTask](ctx, c.Client, "/nodes/"+pbsNode+"/tasks", q.values())
}

// TaskStatus is GET /nodes/localhost/tasks/{upid}/status (PBS uses
// type/id here, like PVE, unlike its task list).
func (c *PBSClient) TaskStatus(ctx context.Context, upid string) (TaskStatus, error) {
	return getOne[TaskStatus](ctx, c.Client, "/nodes/"+pbsNode+"/tasks/"+seg(upid)+"/status", nil)
}

// TaskLog is GET /nodes/localhost/tasks/{upid}/log?start=0&limit=0 (the
// whole log).
func (c *PBSClient) TaskLog(ctx context.Context, upid string) ([]TaskLogLine, error) {
	q := url.Values{"start": {"0"}, "limit": {"0"}}
	return getList[TaskLogLine](ctx, c.Client, "/nodes/"+pbsNode+"/tasks/"+seg(upid)+"/log", q)
}
