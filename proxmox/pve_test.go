package proxmox

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
)

// recorder is a server that records the last request and answers with a
// sample file (or an empty list/object).
type recorder struct {
	mu       sync.Mutex
	path     string // as sent, escaped
	rawQuery url.Values
	srv      *testServer
	body     []byte
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.srv = newServer(t, nil, func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.path = req.URL.EscapedPath()
		r.rawQuery = req.URL.Query()
		body := r.body
		r.mu.Unlock()
		okHandler(string(body))(w, req)
	})
	return r
}

// serve sets the next answer: a sample file name, or a literal body.
func (r *recorder) serve(t *testing.T, sample, literal string) {
	t.Helper()
	b := []byte(literal)
	if sample != "" {
		var err error
		if b, err = os.ReadFile(filepath.Join(samplesDir, sample)); err != nil {
			t.Fatal(err)
		}
	}
	r.mu.Lock()
	r.body = b
	r.mu.Unlock()
}

func (r *recorder) last() (string, url.Values) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.path, r.rawQuery
}

// requestCase is one typed method: the request it must send and the rows
// it must return for the answer it gets.
type requestCase[C any] struct {
	name    string
	call    func(ctx context.Context, c C) (int, error) // returns rows decoded
	sample  string                                      // answer; "" = literal
	literal string
	path    string     // escaped path after /api2/json
	query   url.Values // exact query; nil = none
	rows    int
}

func runRequestCases[C any](t *testing.T, c C, rec *recorder, cases []requestCase[C]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec.serve(t, tc.sample, tc.literal)
			n, err := tc.call(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			path, q := rec.last()
			if path != "/api2/json"+tc.path {
				t.Errorf("path = %s, want /api2/json%s", path, tc.path)
			}
			want := tc.query
			if want == nil {
				want = url.Values{}
			}
			if !reflect.DeepEqual(q, want) {
				t.Errorf("query = %v, want %v", q, want)
			}
			if n != tc.rows {
				t.Errorf("decoded %d rows, want %d", n, tc.rows)
			}
		})
	}
}

func one[T any](v T, err error) (int, error) { return 1, err }

func rows[T any](v []T, err error) (int, error) { return len(v), err }

func TestPVERequests(t *testing.T) {
	rec := newRecorder(t)
	c := mustPVE(t, pinned(t, "pve", rec.srv.URL))
	const upid = "UPID:pve1:0012D687:0A1B2C3D:65A48393:vzdump::root@pam!mon:"
	runRequestCases(t, c, rec, []requestCase[*PVEClient]{
		{name: "Version", sample: "pve-version.json", path: "/version", rows: 1,
			call: func(ctx context.Context, c *PVEClient) (int, error) { return one(c.Version(ctx)) }},
		{name: "ClusterStatus", literal: `{"data":[{"type":"cluster","name":"homelab","quorate":1},{"type":"node","name":"pve1","online":1}]}`,
			path: "/cluster/status", rows: 2,
			call: func(ctx context.Context, c *PVEClient) (int, error) { return rows(c.ClusterStatus(ctx)) }},
		{name: "Nodes", sample: "pve-nodes.json", path: "/nodes", rows: 4,
			call: func(ctx context.Context, c *PVEClient) (int, error) { return rows(c.Nodes(ctx)) }},
		{name: "ClusterResources vm", sample: "pve-cluster-resources.json", path: "/cluster/resources",
			query: url.Values{"type": {"vm"}}, rows: 20,
			call: func(ctx context.Context, c *PVEClient) (int, error) { return rows(c.ClusterResources(ctx, "vm")) }},
		{name: "ClusterResources all", literal: `{"data":[]}`, path: "/cluster/resources",
			call: func(ctx context.Context, c *PVEClient) (int, error) { return rows(c.ClusterResources(ctx, "")) }},
		{name: "StorageConfig", sample: "pve-storage-config-pbs.json", path: "/storage", rows: 3,
			call: func(ctx context.Context, c *PVEClient) (int, error) { return rows(c.StorageConfig(ctx)) }},
		{name: "NodeStorage backup", sample: "pve-node-storage.json", path: "/nodes/pve1/storage",
			query: url.Values{"content": {"backup"}}, rows: 4,
			call: func(ctx context.Context, c *PVEClient) (int, error) {
				return rows(c.NodeStorage(ctx, "pve1", "backup"))
			}},
		{name: "NodeStorage unfiltered", literal: `{"data":[]}`, path: "/nodes/pve1/storage",
			call: func(ctx context.Context, c *PVEClient) (int, error) { return rows(c.NodeStorage(ctx, "pve1", "")) }},
		{name: "StorageContent always content=backup", sample: "pve-storage-content-backup-pbs-full.json",
			path: "/nodes/pve1/storage/pbs-main/content", query: url.Values{"content": {"backup"}}, rows: 3,
			call: func(ctx context.Context, c *PVEClient) (int, error) {
				return rows(c.StorageContent(ctx, "pve1", "pbs-main"))
			}},
		{name: "StorageContent escapes segments", literal: `{"data":[]}`,
			path: "/nodes/pve%201/storage/a%2Fb/content", query: url.Values{"content": {"backup"}},
			call: func(ctx context.Context, c *PVEClient) (int, error) {
				return rows(c.StorageContent(ctx, "pve 1", "a/b"))
			}},
		{name: "BackupJobs", sample: "pve-cluster-backup.json", path: "/cluster/backup", rows: 2,
			call: func(ctx context.Context, c *PVEClient) (int, error) { return rows(c.BackupJobs(ctx)) }},
		{name: "Pools", sample: "pve-pools.json", path: "/pools", rows: 2,
			call: func(ctx context.Context, c *PVEClient) (int, error) { return rows(c.Pools(ctx)) }},
		{name: "NotBackedUp", sample: "pve-cluster-backup-info-not-backed-up.json", path: "/cluster/backup-info/not-backed-up", rows: 1,
			call: func(ctx context.Context, c *PVEClient) (int, error) { return rows(c.NotBackedUp(ctx)) }},
		{name: "ClusterTasks", sample: "pve-cluster-tasks.json", path: "/cluster/tasks", rows: 3,
			call: func(ctx context.Context, c *PVEClient) (int, error) { return rows(c.ClusterTasks(ctx)) }},
		{name: "NodeTasks with every filter", sample: "pve-node-tasks-vzdump.json", path: "/nodes/pve1/tasks",
			query: url.Values{"typefilter": {"vzdump"}, "since": {"1705190400"}, "limit": {"500"}, "source": {"all"}}, rows: 3,
			call: func(ctx context.Context, c *PVEClient) (int, error) {
				return rows(c.NodeTasks(ctx, "pve1", TaskQuery{TypeFilter: "vzdump", Since: 1705190400, Limit: 500, Source: "all"}))
			}},
		{name: "NodeTasks zero query sends nothing (limit=0 would list nothing)", literal: `{"data":[]}`, path: "/nodes/pve1/tasks",
			call: func(ctx context.Context, c *PVEClient) (int, error) {
				return rows(c.NodeTasks(ctx, "pve1", TaskQuery{}))
			}},
		{name: "NodeTasks paging and vmid", literal: `{"data":[]}`, path: "/nodes/pve1/tasks",
			query: url.Values{"until": {"1705280000"}, "start": {"50"}, "vmid": {"101"}},
			call: func(ctx context.Context, c *PVEClient) (int, error) {
				return rows(c.NodeTasks(ctx, "pve1", TaskQuery{Until: 1705280000, Start: 50, VMID: 101}))
			}},
		{name: "TaskStatus", sample: "pve-task-status-vzdump.json", path: "/nodes/pve1/tasks/" + upid + "/status", rows: 1,
			call: func(ctx context.Context, c *PVEClient) (int, error) { return one(c.TaskStatus(ctx, "pve1", upid)) }},
		{name: "TaskLog whole log", sample: "pve-task-log-vzdump-pbs-error.json", path: "/nodes/pve1/tasks/" + upid + "/log",
			query: url.Values{"start": {"0"}, "limit": {"0"}}, rows: 10,
			call: func(ctx context.Context, c *PVEClient) (int, error) { return rows(c.TaskLog(ctx, "pve1", upid)) }},
	})
}
