package proxmox

import (
	"context"
	"net/url"
	"strings"
	"testing"
)

// TestEndpointLabelsNameTheRequests: every endpoint label is the request
// its client method sends (for names that need no escaping), so a failure
// logged under a label points at the call that failed.
func TestEndpointLabelsNameTheRequests(t *testing.T) {
	ctx := context.Background()
	rec := newRecorder(t)
	rec.serve(t, "", `{"data":[]}`)
	pve := mustPVE(t, pinned(t, "pve", rec.srv.URL))
	pbs := mustPBS(t, pinned(t, "pbs", rec.srv.URL))
	const upid = "UPID:pve1:0012D687:0A1B2C3D:65A48393:vzdump::root@pam!mon:"
	cases := []struct {
		label string
		call  func() error
		// path is set for a label that names every request of a kind
		// ("{upid}" for any task): the path the call must send.
		path string
	}{
		{EndpointVersion, func() error { _, err := pve.Version(ctx); return err }, ""},
		{EndpointClusterStatus, func() error { _, err := pve.ClusterStatus(ctx); return err }, ""},
		{EndpointNodes, func() error { _, err := pve.Nodes(ctx); return err }, ""},
		{EndpointClusterResourcesVM, func() error { _, err := pve.ClusterResources(ctx, "vm"); return err }, ""},
		{EndpointStorageConfig, func() error { _, err := pve.StorageConfig(ctx); return err }, ""},
		{EndpointBackupJobs, func() error { _, err := pve.BackupJobs(ctx); return err }, ""},
		{EndpointPools, func() error { _, err := pve.Pools(ctx); return err }, ""},
		{EndpointNodeStorage("pve1"), func() error { _, err := pve.NodeStorage(ctx, "pve1", ""); return err }, ""},
		{EndpointStorageContent("pve1", "nfs"), func() error { _, err := pve.StorageContent(ctx, "pve1", "nfs"); return err }, ""},
		{EndpointNodeTasks("pve1"), func() error { _, err := pve.NodeTasks(ctx, "pve1", TaskQuery{}); return err }, ""},
		{EndpointNodeTaskLog("pve1"), func() error { _, err := pve.TaskLog(ctx, "pve1", upid); return err }, "/nodes/pve1/tasks/" + upid + "/log"},
		{EndpointDatastores, func() error { _, err := pbs.Datastores(ctx); return err }, ""},
		{EndpointDatastoreUsage, func() error { _, err := pbs.DatastoreUsage(ctx); return err }, ""},
		{EndpointGCStatus, func() error { _, err := pbs.GCStatus(ctx); return err }, ""},
		{EndpointVerifyJobs, func() error { _, err := pbs.VerifyJobs(ctx); return err }, ""},
		{EndpointPruneJobs, func() error { _, err := pbs.PruneJobs(ctx); return err }, ""},
		{EndpointSyncJobs, func() error { _, err := pbs.SyncJobs(ctx); return err }, ""},
		{EndpointSyncJobs, func() error { _, _, err := pbs.SyncJobsAll(ctx); return err }, ""},
		{EndpointPermissions, func() error { _, err := pbs.Permissions(ctx); return err }, ""},
		{EndpointNamespaces("store1"), func() error { _, err := pbs.Namespaces(ctx, "store1"); return err }, ""},
		{EndpointGroups("store1"), func() error { _, err := pbs.Groups(ctx, "store1", ""); return err }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			rec.mu.Lock()
			rec.path = ""
			rec.mu.Unlock()
			// The answer is an empty list for every call: only the
			// request matters here, not whether it decodes.
			_ = tc.call()
			method, target, ok := strings.Cut(tc.label, " ")
			if !ok || method != "GET" {
				t.Fatalf("label %q is not \"GET <path>\"", tc.label)
			}
			path, query, _ := strings.Cut(target, "?")
			if tc.path != "" {
				path = tc.path
			}
			gotPath, gotQuery := rec.last()
			if gotPath != "/api2/json"+path {
				t.Errorf("the call sent %s, the label names /api2/json%s", gotPath, path)
			}
			if query != "" {
				want, err := url.ParseQuery(query)
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range want {
					if gotQuery.Get(k) != v[0] {
						t.Errorf("the call sent %s=%q, the label names %q", k, gotQuery.Get(k), v[0])
					}
				}
			}
		})
	}
}
