package proxmox

import (
	"context"
	"net/url"
	"strconv"
	"strings"
)

// PVEClient reads a Proxmox VE cluster's API (REFERENCE.md §2). It
// authenticates with `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`.
type PVEClient struct {
	*Client
}

// NewPVEClient validates t (URLs, token format, TLS settings) and returns a
// client. It does no I/O.
func NewPVEClient(t Target) (*PVEClient, error) {
	c, err := newClient(t, "pve")
	if err != nil {
		return nil, err
	}
	return &PVEClient{Client: c}, nil
}

// seg escapes one path segment (a node, storage or UPID). It keeps every
// character RFC 3986 allows in a segment (so a UPID goes out as Proxmox's
// own clients send it, "root@pam!mon:" unescaped) and percent-encodes the
// rest ('/', '?', '#', '%', backslash, space, non-ASCII).
func seg(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isPathChar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// isPathChar reports whether c is an RFC 3986 pchar other than '%'.
func isPathChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0
}

// getOne is Get for object endpoints; it returns the zero value on error.
func getOne[T any](ctx context.Context, c *Client, path string, q url.Values) (T, error) {
	var out T
	if err := c.Get(ctx, path, q, &out); err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// Version is GET /version.
func (c *PVEClient) Version(ctx context.Context) (PVEVersion, error) {
	return getOne[PVEVersion](ctx, c.Client, "/version", nil)
}

// ClusterStatus is GET /cluster/status (needs Sys.Audit on /).
func (c *PVEClient) ClusterStatus(ctx context.Context) ([]ClusterStatusItem, error) {
	return getList[ClusterStatusItem](ctx, c.Client, "/cluster/status", nil)
}

// Nodes is GET /nodes.
func (c *PVEClient) Nodes(ctx context.Context) ([]Node, error) {
	return getList[Node](ctx, c.Client, "/nodes", nil)
}

// ClusterResources is GET /cluster/resources?type=typ ("vm", "storage", or
// "" for every type). It is answered from the cluster file system, so it
// works while other nodes are down.
func (c *PVEClient) ClusterResources(ctx context.Context, typ string) ([]ClusterResource, error) {
	var q url.Values
	if typ != "" {
		q = url.Values{"type": {typ}}
	}
	return getList[ClusterResource](ctx, c.Client, "/cluster/resources", q)
}

// StorageConfig is GET /storage: every storage section of storage.cfg.
func (c *PVEClient) StorageConfig(ctx context.Context) ([]StorageConfig, error) {
	return getList[StorageConfig](ctx, c.Client, "/storage", nil)
}

// NodeStorage is GET /nodes/{node}/storage[?content=content]. With a
// content filter, storages not allowed on the node are left out by PVE.
func (c *PVEClient) NodeStorage(ctx context.Context, node, content string) ([]NodeStorage, error) {
	var q url.Values
	if content != "" {
		q = url.Values{"content": {content}}
	}
	return getList[NodeStorage](ctx, c.Client, "/nodes/"+seg(node)+"/storage", q)
}

// StorageContent is GET /nodes/{node}/storage/{storage}/content?content=backup:
// the backup volumes of one storage as seen from one node. Without the
// privileges of REFERENCE.md §1.4 PVE silently returns fewer (or no) rows.
func (c *PVEClient) StorageContent(ctx context.Context, node, storage string) ([]BackupVolume, error) {
	q := url.Values{"content": {"backup"}}
	return getList[BackupVolume](ctx, c.Client, "/nodes/"+seg(node)+"/storage/"+seg(storage)+"/content", q)
}

// BackupJobs is GET /cluster/backup (needs Sys.Audit on /).
func (c *PVEClient) BackupJobs(ctx context.Context) ([]BackupJob, error) {
	return getList[BackupJob](ctx, c.Client, "/cluster/backup", nil)
}

// Pools is GET /pools: the pools the token may see. It never fails for a
// missing privilege: pools without PoolAuditPrivilege are silently left
// out (pve-manager PVE/API2/Pool.pm index).
func (c *PVEClient) Pools(ctx context.Context) ([]Pool, error) {
	return getList[Pool](ctx, c.Client, "/pools", nil)
}

// NotBackedUp is GET /cluster/backup-info/not-backed-up (needs Sys.Audit
// on /). PVE counts disabled jobs as coverage.
func (c *PVEClient) NotBackedUp(ctx context.Context) ([]NotBackedUpGuest, error) {
	return getList[NotBackedUpGuest](ctx, c.Client, "/cluster/backup-info/not-backed-up", nil)
}

// ClusterTasks is GET /cluster/tasks: running tasks plus the last ~25
// finished ones per node. Good for "what runs now", not for history.
func (c *PVEClient) ClusterTasks(ctx context.Context) ([]Task, error) {
	return getList[Task](ctx, c.Client, "/cluster/tasks", nil)
}

// TaskQuery filters GET /nodes/{node}/tasks. Zero values are not sent, so
// PVE's defaults apply (limit 50, source archive = finished tasks only).
type TaskQuery struct {
	// TypeFilter is an exact task type, e.g. "vzdump".
	TypeFilter string
	// Since is the earliest start time (epoch seconds).
	Since int64
	// Until is the latest start time (epoch seconds).
	Until int64
	// Limit is the maximum number of rows; 0 sends nothing (PVE's
	// default 50). PVE's task list returns nothing for limit=0, so there
	// is no "all".
	Limit int
	// Start skips that many rows (paging).
	Start int
	// Source is "archive" (PVE default), "active" or "all".
	Source string
	// VMID matches the task id (single-guest vzdump runs only).
	VMID int
}

func (q TaskQuery) values() url.Values {
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
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Start > 0 {
		v.Set("start", strconv.Itoa(q.Start))
	}
	if q.Source != "" {
		v.Set("source", q.Source)
	}
	if q.VMID > 0 {
		v.Set("vmid", strconv.Itoa(q.VMID))
	}
	return v
}

// NodeTasks is GET /nodes/{node}/tasks, newest first (proxied to the node:
// fails with 59x when it is down).
func (c *PVEClient) NodeTasks(ctx context.Context, node string, q TaskQuery) ([]Task, error) {
	return getList[Task](ctx, c.Client, "/nodes/"+seg(node)+"/tasks", q.values())
}

// TaskStatus is GET /nodes/{node}/tasks/{upid}/status.
func (c *PVEClient) TaskStatus(ctx context.Context, node, upid string) (TaskStatus, error) {
	return getOne[TaskStatus](ctx, c.Client, "/nodes/"+seg(node)+"/tasks/"+seg(upid)+"/status", nil)
}

// TaskLog is GET /nodes/{node}/tasks/{upid}/log?start=0&limit=0: the whole
// log (limit=0 means unlimited for logs, unlike the task list).
func (c *PVEClient) TaskLog(ctx context.Context, node, upid string) ([]TaskLogLine, error) {
	q := url.Values{"start": {"0"}, "limit": {"0"}}
	return getList[TaskLogLine](ctx, c.Client, "/nodes/"+seg(node)+"/tasks/"+seg(upid)+"/log", q)
}
