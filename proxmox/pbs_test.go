package proxmox

import (
	"context"
	"errors"
	"net/url"
	"testing"
)

func TestPBSRequests(t *testing.T) {
	rec := newRecorder(t)
	c := mustPBS(t, pinned(t, "pbs", rec.srv.URL))
	// A PBS UPID: the worker id is systemd-escaped with backslashes.
	const upid = `UPID:pbs1:000003E8:0000A1B2:00000004:65A48840:verificationjob:main\x3av\x2d3f2a1b7c\x2d9d41:root@pam:`
	const upidEscaped = `UPID:pbs1:000003E8:0000A1B2:00000004:65A48840:verificationjob:main%5Cx3av%5Cx2d3f2a1b7c%5Cx2d9d41:root@pam:`
	runRequestCases(t, c, rec, []requestCase[*PBSClient]{
		{name: "Version", sample: "pbs-version.json", path: "/version", rows: 1,
			call: func(ctx context.Context, c *PBSClient) (int, error) { return one(c.Version(ctx)) }},
		{name: "NodeStatus", sample: "pbs-node-status-fingerprint.json", path: "/nodes/localhost/status", rows: 1,
			call: func(ctx context.Context, c *PBSClient) (int, error) { return one(c.NodeStatus(ctx)) }},
		{name: "Certificates", sample: "pbs-certificates-info.json", path: "/nodes/localhost/certificates/info", rows: 1,
			call: func(ctx context.Context, c *PBSClient) (int, error) { return rows(c.Certificates(ctx)) }},
		{name: "Datastores", sample: "pbs-admin-datastore.json", path: "/admin/datastore", rows: 3,
			call: func(ctx context.Context, c *PBSClient) (int, error) { return rows(c.Datastores(ctx)) }},
		{name: "DatastoreUsage", sample: "pbs-status-datastore-usage.json", path: "/status/datastore-usage", rows: 2,
			call: func(ctx context.Context, c *PBSClient) (int, error) { return rows(c.DatastoreUsage(ctx)) }},
		{name: "DatastoreStatus verbose", sample: "pbs-datastore-status-verbose.json", path: "/admin/datastore/main/status",
			query: url.Values{"verbose": {"1"}}, rows: 1,
			call: func(ctx context.Context, c *PBSClient) (int, error) { return one(c.DatastoreStatus(ctx, "main", true)) }},
		{name: "Namespaces: root parent omitted, max-depth 7", sample: "pbs-namespaces.json", path: "/admin/datastore/main/namespace",
			query: url.Values{"max-depth": {"7"}}, rows: 4,
			call: func(ctx context.Context, c *PBSClient) (int, error) { return rows(c.Namespaces(ctx, "main")) }},
		{name: "Groups root: no ns", sample: "pbs-groups.json", path: "/admin/datastore/main/groups", rows: 3,
			call: func(ctx context.Context, c *PBSClient) (int, error) { return rows(c.Groups(ctx, "main", "")) }},
		{name: "Groups nested ns", literal: `{"data":[]}`, path: "/admin/datastore/main/groups",
			query: url.Values{"ns": {"cluster-a/prod"}},
			call: func(ctx context.Context, c *PBSClient) (int, error) {
				return rows(c.Groups(ctx, "main", "cluster-a/prod"))
			}},
		{name: "Snapshots unfiltered in root", sample: "pbs-snapshots.json", path: "/admin/datastore/main/snapshots", rows: 2,
			call: func(ctx context.Context, c *PBSClient) (int, error) {
				return rows(c.Snapshots(ctx, "main", "", "", ""))
			}},
		{name: "EachSnapshot: a namespace streamed", sample: "pbs-snapshots.json", path: "/admin/datastore/main/snapshots",
			query: url.Values{"ns": {"cluster-a"}}, rows: 2,
			call: func(ctx context.Context, c *PBSClient) (int, error) {
				n := 0
				err := c.EachSnapshot(ctx, "main", "cluster-a", func(Snapshot) { n++ })
				return n, err
			}},
		{name: "Snapshots of one group in a namespace", literal: `{"data":[]}`, path: "/admin/datastore/main/snapshots",
			query: url.Values{"ns": {"cluster-a"}, "backup-type": {"vm"}, "backup-id": {"101"}},
			call: func(ctx context.Context, c *PBSClient) (int, error) {
				return rows(c.Snapshots(ctx, "main", "cluster-a", "vm", "101"))
			}},
		{name: "Snapshots of one group in root", literal: `{"data":[]}`, path: "/admin/datastore/main/snapshots",
			query: url.Values{"backup-type": {"ct"}, "backup-id": {"105"}},
			call: func(ctx context.Context, c *PBSClient) (int, error) {
				return rows(c.Snapshots(ctx, "main", "", "ct", "105"))
			}},
		{name: "GCStatus", sample: "pbs-admin-gc-never-run.json", path: "/admin/gc", rows: 1,
			call: func(ctx context.Context, c *PBSClient) (int, error) { return rows(c.GCStatus(ctx)) }},
		{name: "VerifyJobs", sample: "pbs-admin-verify.json", path: "/admin/verify", rows: 1,
			call: func(ctx context.Context, c *PBSClient) (int, error) { return rows(c.VerifyJobs(ctx)) }},
		{name: "PruneJobs", sample: "pbs-admin-prune.json", path: "/admin/prune", rows: 1,
			call: func(ctx context.Context, c *PBSClient) (int, error) { return rows(c.PruneJobs(ctx)) }},
		{name: "SyncJobs", sample: "pbs-admin-sync.json", path: "/admin/sync", rows: 1,
			call: func(ctx context.Context, c *PBSClient) (int, error) { return rows(c.SyncJobs(ctx)) }},
		{name: "SyncJobsAll: both directions", sample: "pbs-admin-sync.json", path: "/admin/sync",
			query: url.Values{"sync-direction": {"all"}}, rows: 1,
			call: func(ctx context.Context, c *PBSClient) (int, error) {
				jobs, all, err := c.SyncJobsAll(ctx)
				if err == nil && !all {
					return 0, errors.New("allDirections false for an answered sync-direction=all")
				}
				return len(jobs), err
			}},
		{name: "Permissions", literal: `{"data":{"/remote":{"Remote.Audit":true}}}`, path: "/access/permissions", rows: 1,
			call: func(ctx context.Context, c *PBSClient) (int, error) {
				p, err := c.Permissions(ctx)
				return len(p), err
			}},
		{name: "Tasks with filters, unlimited", sample: "pbs-node-tasks-constructed.json", path: "/nodes/localhost/tasks",
			query: url.Values{"typefilter": {"verif"}, "since": {"1705190400"}, "limit": {"0"}, "store": {"main"}}, rows: 4,
			call: func(ctx context.Context, c *PBSClient) (int, error) {
				return rows(c.Tasks(ctx, PBSTaskQuery{TypeFilter: "verif", Since: 1705190400, Limit: -1, Store: "main"}))
			}},
		{name: "Tasks zero query", literal: `{"data":[]}`, path: "/nodes/localhost/tasks",
			call: func(ctx context.Context, c *PBSClient) (int, error) { return rows(c.Tasks(ctx, PBSTaskQuery{})) }},
		{name: "Tasks running, errors, limit", literal: `{"data":[]}`, path: "/nodes/localhost/tasks",
			query: url.Values{"running": {"1"}, "errors": {"1"}, "limit": {"100"}, "start": {"100"}, "until": {"2"}},
			call: func(ctx context.Context, c *PBSClient) (int, error) {
				return rows(c.Tasks(ctx, PBSTaskQuery{Running: true, Errors: true, Limit: 100, Start: 100, Until: 2}))
			}},
		{name: "TaskStatus escapes the UPID", sample: "pbs-task-status.json", path: "/nodes/localhost/tasks/" + upidEscaped + "/status", rows: 1,
			call: func(ctx context.Context, c *PBSClient) (int, error) { return one(c.TaskStatus(ctx, upid)) }},
		{name: "TaskLog", literal: `{"data":[{"n":1,"t":"start"}],"total":1,"success":1}`, path: "/nodes/localhost/tasks/" + upidEscaped + "/log",
			query: url.Values{"start": {"0"}, "limit": {"0"}}, rows: 1,
			call: func(ctx context.Context, c *PBSClient) (int, error) { return rows(c.TaskLog(ctx, upid)) }},
	})
}
