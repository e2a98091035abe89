package collector

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// labNow is the clock of the lab scenario.
var labNow = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// labModel is a small estate with every case the collector handles: a
// 3-node cluster with a node-local, a shared NFS and a pbs storage named
// "backup-server" on a PBS that is also configured directly; a guest in
// every repository, a guest whose job run failed, a template, a guest in
// no job, and an orphaned PBS group.
func labModel() *emulator.Model {
	day := 24 * time.Hour
	t1 := labNow.Add(-2 * day).Truncate(time.Second)
	t2 := labNow.Add(-1 * day).Truncate(time.Second)
	multi := emulator.VzdumpRun{Node: "pve2", Start: t2.Add(time.Hour), Storage: "backup-server", PBS: true,
		Guests: []emulator.VzdumpGuest{{VMID: 101, Type: "lxc", Error: "no space left"}, {VMID: 104, Type: "lxc"}}}
	single := emulator.VzdumpRun{Node: "pve1", Start: t2, Storage: "backup-server", PBS: true,
		Guests: []emulator.VzdumpGuest{{VMID: 100, Type: "qemu"}}}
	return &emulator.Model{
		Clusters: []*emulator.Cluster{{
			Name:  "lab",
			Nodes: []*emulator.Node{{Name: "pve1"}, {Name: "pve2"}, {Name: "pve3"}},
			Guests: []*emulator.Guest{
				{VMID: 100, Type: "qemu", Name: "web", Node: "pve1", Tags: []string{"prod", "a"}},
				{VMID: 101, Type: "lxc", Name: "db", Node: "pve2"},
				{VMID: 102, Type: "qemu", Name: "tpl", Node: "pve3", Template: true},
				{VMID: 103, Type: "qemu", Name: "scratch", Node: "pve1"},
				{VMID: 104, Type: "lxc", Name: "dns", Node: "pve2"},
			},
			Storages: []*emulator.Storage{
				{ID: "local", Type: "dir", Content: []string{"backup", "iso"}, Total: 100 << 30, Used: 10 << 30,
					Files: []*emulator.BackupFile{{Node: "pve1", VMID: 100, Type: "qemu", Time: t1, Size: 1 << 30}}},
				{ID: "nfs", Type: "nfs", Server: "10.0.0.50", Export: "/export/backup", Total: 1 << 40, Used: 1 << 39,
					Files: []*emulator.BackupFile{
						{VMID: 100, Type: "qemu", Time: t1.Add(time.Hour), Size: 2 << 30},
						{VMID: 101, Type: "lxc", Time: t1, Size: 3 << 30},
					}},
				{ID: "backup-server", Type: "pbs", PBS: "pbs1", Datastore: "store1", Namespace: "lab"},
			},
			Jobs: []*emulator.BackupJob{
				{ID: "backup-daily", Schedule: "02:00", Storage: "backup-server", VMIDs: []int{100, 101, 102, 104}},
				{ID: "backup-old", Schedule: "sat 03:00", Storage: "nfs", VMIDs: []int{103}, Disabled: true},
			},
			Tasks: []*emulator.Task{emulator.VzdumpTask(single), emulator.VzdumpTask(multi)},
		}},
		PBS: []*emulator.PBSServer{{
			Name: "pbs1",
			Datastores: []*emulator.Datastore{{
				Name: "store1", Total: 4 << 40, Used: 3 << 40,
				GC:         &emulator.GCRun{Start: t1, End: t1.Add(time.Hour), State: "OK"},
				GCSchedule: "daily", GCNextRun: labNow.Add(6 * time.Hour),
				Namespaces: []*emulator.Namespace{
					{Path: ""},
					{Path: "lab", Groups: []*emulator.Group{
						{Type: "vm", ID: "100", Snapshots: []emulator.Snapshot{
							{Time: t1, Size: 10 << 30, Verification: "ok"},
							{Time: single.GuestStart(0), Size: 11 << 30, Verification: "ok", Protected: true},
						}},
						{Type: "ct", ID: "104", Snapshots: []emulator.Snapshot{
							{Time: multi.GuestStart(1), Size: 1 << 30, Verification: "failed"},
						}},
						{Type: "vm", ID: "999", Snapshots: []emulator.Snapshot{{Time: t1, Size: 5 << 30}}},
					}},
				},
			}},
			VerifyJobs: []*emulator.PBSJob{{ID: "v-store1", Store: "store1", Schedule: "daily",
				LastRunStart: t1, LastRunEnd: t1.Add(time.Hour), LastRunState: "OK", NextRun: labNow.Add(time.Hour)}},
		}},
	}
}

// lab is a running emulated estate with a collector pointed at it.
type lab struct {
	srv  *emulator.Server
	cfg  *config.Config
	coll *Collector
	now  time.Time
	mu   sync.Mutex
}

func (l *lab) clock() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.now
}

func (l *lab) advance(d time.Duration) {
	l.mu.Lock()
	l.now = l.now.Add(d)
	l.mu.Unlock()
}

// labConfig is what a user would write for the estate: PVE with the
// cluster CA (so every node URL works), PBS with its fingerprint pinned.
func labConfig(t testing.TB, srv *emulator.Server, m *emulator.Model) *config.Config {
	t.Helper()
	dir := t.TempDir()
	cfg := &config.Config{}
	for _, c := range m.Clusters {
		ca := filepath.Join(dir, c.Name+"-ca.pem")
		if err := os.WriteFile(ca, srv.PVECAPEM(c.Name), 0o600); err != nil {
			t.Fatal(err)
		}
		id, secret := srv.PVEToken(c.Name)
		cfg.PVE = append(cfg.PVE, config.Target{Name: c.Name, URLs: srv.PVEURLs(c.Name), TokenID: id,
			TokenSecret: config.Secret(secret), TLS: config.TLS{CAFile: ca}})
	}
	for _, p := range m.PBS {
		id, secret := srv.PBSToken(p.Name)
		cfg.PBS = append(cfg.PBS, config.Target{Name: p.Name, URLs: []string{srv.PBSURL(p.Name)}, TokenID: id,
			TokenSecret: config.Secret(secret), TLS: config.TLS{Fingerprint: srv.PBSFingerprint(p.Name)}})
	}
	return cfg
}

func startLab(t testing.TB, m *emulator.Model, opts Options) *lab {
	t.Helper()
	srv, err := emulator.Start(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	l := &lab{srv: srv, now: labNow}
	l.cfg = labConfig(t, srv, m)
	if opts.Now == nil {
		opts.Now = l.clock
	}
	l.coll, err = New(l.cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// scrape fetches /metrics through the real handler, with a Prometheus
// timeout header when timeout > 0.
func (l *lab) scrape(t testing.TB, timeout time.Duration) string {
	t.Helper()
	h := l.coll.Handler(promhttp.HandlerOpts{})
	r := httptest.NewRequest("GET", "/metrics", nil)
	if timeout > 0 {
		r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strings.TrimSuffix(timeout.String(), "s"))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("scrape: HTTP %d: %s", w.Code, w.Body.String())
	}
	return w.Body.String()
}

// series returns the exposition lines of one metric family (no comments).
func series(body, name string) []string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") ||
			(strings.HasSuffix(name, `"`) && strings.HasPrefix(line, name)) {
			out = append(out, line)
		}
	}
	return out
}

func expectLines(t *testing.T, body, name string, want ...string) {
	t.Helper()
	got := series(body, name)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got:\n  %s\n want:\n  %s", name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestLabScrape checks the deduplicated guest view, the per-repository
// detail, tasks, jobs and source health against the lab estate.
func TestLabScrape(t *testing.T) {
	l := startLab(t, labModel(), Options{Enabled: map[string]bool{CollectorStorages: true}})
	body := l.scrape(t, 10*time.Second)

	// vm/100: local (t1), nfs (t1+1h), PBS t1 and the job's snapshot,
	// the PBS ones also visible through "backup-server": 3 points in time
	// (t1 is in two repositories), not 6.
	expectLines(t, body, "proxmox_backup_guest_snapshots",
		`proxmox_backup_guest_snapshots{backup_id="100",backup_type="vm",cluster="lab"} 3`,
		`proxmox_backup_guest_snapshots{backup_id="101",backup_type="ct",cluster="lab"} 1`,
		`proxmox_backup_guest_snapshots{backup_id="102",backup_type="vm",cluster="lab"} 0`,
		`proxmox_backup_guest_snapshots{backup_id="103",backup_type="vm",cluster="lab"} 0`,
		`proxmox_backup_guest_snapshots{backup_id="104",backup_type="ct",cluster="lab"} 1`,
	)
	expectLines(t, body, "proxmox_backup_guest_in_job",
		`proxmox_backup_guest_in_job{backup_id="100",backup_type="vm",cluster="lab"} 1`,
		`proxmox_backup_guest_in_job{backup_id="101",backup_type="ct",cluster="lab"} 1`,
		`proxmox_backup_guest_in_job{backup_id="102",backup_type="vm",cluster="lab"} 1`,
		`proxmox_backup_guest_in_job{backup_id="103",backup_type="vm",cluster="lab"} 0`,
		`proxmox_backup_guest_in_job{backup_id="104",backup_type="ct",cluster="lab"} 1`,
	)
	expectLines(t, body, "proxmox_backup_guest_last_task_success",
		`proxmox_backup_guest_last_task_success{backup_id="100",backup_type="vm",cluster="lab"} 1`,
		`proxmox_backup_guest_last_task_success{backup_id="101",backup_type="ct",cluster="lab"} 0`,
		`proxmox_backup_guest_last_task_success{backup_id="104",backup_type="ct",cluster="lab"} 1`,
	)
	expectLines(t, body, "proxmox_backup_group_orphaned",
		`proxmox_backup_group_orphaned{backup_id="999",backup_type="vm",cluster="lab",repository="pbs1:store1/lab"} 1`,
	)
	expectLines(t, body, `proxmox_backup_last_verification{backup_id="104",backup_type="ct",cluster="lab",repository="pbs1:store1/lab"`,
		`proxmox_backup_last_verification{backup_id="104",backup_type="ct",cluster="lab",repository="pbs1:store1/lab",state="failed"} 1`,
		`proxmox_backup_last_verification{backup_id="104",backup_type="ct",cluster="lab",repository="pbs1:store1/lab",state="none"} 0`,
		`proxmox_backup_last_verification{backup_id="104",backup_type="ct",cluster="lab",repository="pbs1:store1/lab",state="ok"} 0`,
	)
	expectLines(t, body, "proxmox_backup_storage_route_info",
		`proxmox_backup_storage_route_info{cluster="lab",pbs_target="",reason="",repository="lab/pve1:local",route="pve",storage="local",storage_type="dir"} 1`,
		`proxmox_backup_storage_route_info{cluster="lab",pbs_target="",reason="",repository="lab/pve2:local",route="pve",storage="local",storage_type="dir"} 1`,
		`proxmox_backup_storage_route_info{cluster="lab",pbs_target="",reason="",repository="lab/pve3:local",route="pve",storage="local",storage_type="dir"} 1`,
		`proxmox_backup_storage_route_info{cluster="lab",pbs_target="",reason="",repository="lab:nfs",route="pve",storage="nfs",storage_type="nfs"} 1`,
		`proxmox_backup_storage_route_info{cluster="lab",pbs_target="pbs1",reason="",repository="pbs1:store1/lab",route="pbs",storage="backup-server",storage_type="pbs"} 1`,
	)
	expectLines(t, body, "proxmox_backup_target_up",
		`proxmox_backup_target_up{kind="pbs",target="pbs1"} 1`,
		`proxmox_backup_target_up{kind="pve",target="lab"} 1`,
	)
	expectLines(t, body, "proxmox_backup_job_enabled",
		`proxmox_backup_job_enabled{cluster="lab",job="backup-daily",schedule="02:00",storage="backup-server"} 1`,
		`proxmox_backup_job_enabled{cluster="lab",job="backup-old",schedule="sat 03:00",storage="nfs"} 0`,
	)
	for _, name := range []string{
		"proxmox_backup_guest_info", "proxmox_backup_guest_last_timestamp_seconds", "proxmox_backup_guest_last_copies",
		"proxmox_backup_guest_expected_interval_seconds", "proxmox_backup_guest_last_task_timestamp_seconds",
		"proxmox_backup_snapshots", "proxmox_backup_last_timestamp_seconds", "proxmox_backup_first_timestamp_seconds",
		"proxmox_backup_last_size_bytes", "proxmox_backup_verify_failed_snapshots", "proxmox_backup_protected_snapshots",
		"proxmox_backup_in_progress", "proxmox_backup_repository_info", "proxmox_backup_repository_up",
		"proxmox_backup_duplicates_suppressed", "proxmox_backup_datastore_size_bytes", "proxmox_backup_datastore_used_bytes",
		"proxmox_backup_datastore_available_bytes", "proxmox_backup_datastore_up",
		"proxmox_backup_pbs_job_last_run_timestamp_seconds", "proxmox_backup_pbs_job_last_run_success",
		"proxmox_backup_pbs_job_next_run_timestamp_seconds", "proxmox_backup_storage_size_bytes",
		"proxmox_backup_storage_used_bytes", "proxmox_backup_storage_available_bytes",
		"proxmox_backup_target_scrape_duration_seconds", "proxmox_backup_target_api_requests",
		"proxmox_backup_target_errors_total", "proxmox_backup_target_info",
		"proxmox_backup_target_last_success_timestamp_seconds", "proxmox_backup_scrape_duration_seconds",
	} {
		if len(series(body, name)) == 0 {
			t.Errorf("%s: no series", name)
		}
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	checkNoSecrets(t, l, body)
}

// checkNoSecrets fails when a token secret shows in an output.
func checkNoSecrets(t *testing.T, l *lab, outputs ...string) {
	t.Helper()
	for _, tc := range append(l.cfg.PVE, l.cfg.PBS...) {
		for _, out := range outputs {
			if s := tc.TokenSecret.Reveal(); s != "" && strings.Contains(out, s) {
				t.Fatalf("the secret of %s leaked", tc.Name)
			}
		}
	}
}

// TestLabCache follows issue 5 through the whole pipeline: a warm scrape
// makes no snapshot listing, and a new backup, a pruned one, a verification
// flip (after the refresh interval) and a deleted group all show.
func TestLabCache(t *testing.T) {
	const refresh = time.Hour
	l := startLab(t, labModel(), Options{VerificationRefresh: refresh})
	const snapRoute = "/admin/datastore/{store}/snapshots"
	l.scrape(t, 0)
	if n := l.srv.CountRequests(snapRoute); n != 1 {
		t.Fatalf("cold scrape: %d snapshot listings, want 1 (the namespace's 3 groups in one listing)", n)
	}
	for _, r := range l.srv.Requests() {
		if r.Route == snapRoute && (r.Query.Get("backup-id") != "" || r.Query.Get("backup-type") != "") {
			t.Fatalf("cold scrape: snapshot listing of one group: %v", r.Query)
		}
	}
	l.srv.ResetRequests()
	l.advance(time.Minute)
	body := l.scrape(t, 0)
	if n := l.srv.CountRequests(snapRoute); n != 0 {
		t.Fatalf("warm scrape: %d snapshot listings, want 0", n)
	}
	if !strings.Contains(body, `proxmox_backup_snapshots{backup_id="100",backup_type="vm",cluster="lab",repository="pbs1:store1/lab"}`) {
		t.Fatalf("warm scrape lost the cached group vm/100:\n%s", body)
	}
	if n := l.srv.CountRequests("/nodes/{node}/storage/{storage}/content"); n != 4 {
		t.Errorf("warm scrape: %d PVE content listings, want 4 (nfs once, local on 3 nodes)", n)
	}

	group := func(fn func(g *emulator.Group, ns *emulator.Namespace)) {
		l.srv.Update(func(m *emulator.Model) {
			ns := m.PBS[0].Datastores[0].Namespaces[1]
			for _, g := range ns.Groups {
				if g.Type == "vm" && g.ID == "100" {
					fn(g, ns)
				}
			}
		})
	}
	const snaps = "proxmox_backup_snapshots{backup_id=\"100\",backup_type=\"vm\",cluster=\"lab\",repository=\"pbs1:store1/lab\"}"

	// New backup.
	group(func(g *emulator.Group, _ *emulator.Namespace) {
		g.Snapshots = append(g.Snapshots, emulator.Snapshot{Time: labNow.Add(-time.Hour), Size: 1 << 30})
	})
	l.srv.ResetRequests()
	body = l.scrape(t, 0)
	if n := l.srv.CountRequests(snapRoute); n != 1 {
		t.Errorf("new backup: %d snapshot listings, want 1", n)
	}
	expectLines(t, body, snaps, snaps+" 3")

	// Pruned backup.
	group(func(g *emulator.Group, _ *emulator.Namespace) { g.Snapshots = g.Snapshots[1:] })
	body = l.scrape(t, 0)
	expectLines(t, body, snaps, snaps+" 2")

	// Verification flips: invisible before the refresh interval, seen
	// after it.
	const failed = "proxmox_backup_verify_failed_snapshots{backup_id=\"100\",backup_type=\"vm\",cluster=\"lab\",repository=\"pbs1:store1/lab\"}"
	group(func(g *emulator.Group, _ *emulator.Namespace) {
		for i := range g.Snapshots {
			g.Snapshots[i].Verification = "failed"
		}
	})
	body = l.scrape(t, 0)
	expectLines(t, body, failed, failed+" 0")
	l.advance(refresh)
	body = l.scrape(t, 0)
	expectLines(t, body, failed, failed+" 2")

	// Group deleted.
	group(func(_ *emulator.Group, ns *emulator.Namespace) {
		var keep []*emulator.Group
		for _, g := range ns.Groups {
			if !(g.Type == "vm" && g.ID == "100") {
				keep = append(keep, g)
			}
		}
		ns.Groups = keep
	})
	body = l.scrape(t, 0)
	expectLines(t, body, snaps)
}

// TestLabDeadline: a hanging PBS is down within the scrape deadline, and
// everything else is still exported.
func TestLabDeadline(t *testing.T) {
	// Prometheus gives up after 3 s; the offset leaves 0.5 s of that for
	// the answer (and for a busy CI machine).
	l := startLab(t, labModel(), Options{TimeoutOffset: 500 * time.Millisecond})
	l.srv.SetFault(emulator.Fault{Target: "pbs1", Kind: emulator.Hang})
	start := time.Now()
	body := l.scrape(t, 3*time.Second)
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("scrape took %v, past Prometheus' 3 s timeout", took)
	}
	expectLines(t, body, "proxmox_backup_target_up",
		`proxmox_backup_target_up{kind="pbs",target="pbs1"} 0`,
		`proxmox_backup_target_up{kind="pve",target="lab"} 1`,
	)
	expectLines(t, body, `proxmox_backup_target_errors_total{kind="pbs",reason="timeout",target="pbs1"}`,
		`proxmox_backup_target_errors_total{kind="pbs",reason="timeout",target="pbs1"} 1`)
	if len(series(body, "proxmox_backup_guest_info")) != 5 {
		t.Error("guest_info missing while only the PBS hangs")
	}
	// The PBS storage is read through PVE instead (pve_fallback), so the
	// counts are still known and still counted once.
	expectLines(t, body, `proxmox_backup_guest_snapshots{backup_id="100"`,
		`proxmox_backup_guest_snapshots{backup_id="100",backup_type="vm",cluster="lab"} 3`)
	expectLines(t, body, `proxmox_backup_storage_route_info{cluster="lab",pbs_target="pbs1",reason="pbs_down",repository="lab:backup-server"`,
		`proxmox_backup_storage_route_info{cluster="lab",pbs_target="pbs1",reason="pbs_down",repository="lab:backup-server",route="pve_fallback",storage="backup-server",storage_type="pbs"} 1`)
}

// TestLabCoalescing: concurrent scrapes share one upstream fetch.
func TestLabCoalescing(t *testing.T) {
	l := startLab(t, labModel(), Options{})
	l.srv.SetFault(emulator.Fault{Target: "lab", PathPrefix: "/cluster/resources", Kind: emulator.Slow, Delay: 300 * time.Millisecond})
	const n = 10
	var wg sync.WaitGroup
	bodies := make([]string, n)
	for i := range n {
		wg.Go(func() { bodies[i] = l.scrape(t, 0) })
	}
	wg.Wait()
	if got := l.srv.CountRequests("/cluster/resources"); got != 1 {
		t.Fatalf("%d concurrent scrapes made %d inventory requests, want 1", n, got)
	}
	for i := 1; i < n; i++ {
		if strings.Join(series(bodies[i], "proxmox_backup_guest_snapshots"), "\n") != strings.Join(series(bodies[0], "proxmox_backup_guest_snapshots"), "\n") {
			t.Fatal("coalesced scrapes disagree")
		}
	}
}

// TestLabCheck: --check on a healthy and a broken estate.
func TestLabCheck(t *testing.T) {
	l := startLab(t, labModel(), Options{})
	rep, err := l.coll.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	if !rep.OK || !strings.Contains(out.String(), "RESULT: OK") {
		t.Fatalf("healthy lab not OK:\n%s", out.String())
	}
	for _, want := range []string{"backup-server", "pbs1:store1/lab", "pbs_via_pve", "lab:nfs"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}

	l.srv.SetFault(emulator.Fault{Target: "pbs1", Kind: emulator.Status401})
	rep, err = l.coll.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	_ = rep.WriteText(&out)
	if rep.OK || !strings.Contains(out.String(), "RESULT: FAILED") || !strings.Contains(out.String(), "token_id") {
		t.Fatalf("broken lab:\n%s", out.String())
	}
	// The status page says the same, and neither leaks a secret.
	w := httptest.NewRecorder()
	l.coll.StatusHandler().ServeHTTP(w, httptest.NewRequest("GET", "/status?format=json", nil))
	js, _ := io.ReadAll(w.Body)
	if !strings.Contains(string(js), `"reason": "auth"`) {
		t.Errorf("status JSON lacks the auth failure:\n%s", js)
	}
	w = httptest.NewRecorder()
	l.coll.StatusHandler().ServeHTTP(w, httptest.NewRequest("GET", "/status", nil))
	checkNoSecrets(t, l, out.String(), string(js), w.Body.String())
}

// TestLabPBSDown: with the PBS down, its storage falls back to PVE, which
// cannot reach the PBS either. Guests whose backups may live there are
// unknown (absent, never 0); the PVE cluster is not called down for it.
func TestLabPBSDown(t *testing.T) {
	l := startLab(t, labModel(), Options{})
	l.srv.SetFault(emulator.Fault{Target: "pbs1", Kind: emulator.Down})
	body := l.scrape(t, 5*time.Second)
	expectLines(t, body, "proxmox_backup_target_up",
		`proxmox_backup_target_up{kind="pbs",target="pbs1"} 0`,
		`proxmox_backup_target_up{kind="pve",target="lab"} 1`,
	)
	// A shared storage could hold any guest's backups: every count and
	// newest time is unknown, so absent; the inventory is still there.
	expectLines(t, body, "proxmox_backup_guest_snapshots")
	expectLines(t, body, "proxmox_backup_guest_last_timestamp_seconds")
	if n := len(series(body, "proxmox_backup_guest_info")); n != 5 {
		t.Errorf("%d guest_info series, want 5", n)
	}
	expectLines(t, body, `proxmox_backup_repository_up{repository="lab:backup-server"}`,
		`proxmox_backup_repository_up{repository="lab:backup-server"} 0`)
	if got := series(body, `proxmox_backup_target_errors_total{kind="pbs",reason="unreachable",target="pbs1"}`); len(got) != 1 ||
		strings.HasSuffix(got[0], " 0") {
		t.Errorf("unreachable errors not counted: %v", got)
	}

	// Cleared: everything recovers on the next scrape.
	l.srv.ClearFaults()
	body = l.scrape(t, 5*time.Second)
	expectLines(t, body, `proxmox_backup_guest_snapshots{backup_id="100"`,
		`proxmox_backup_guest_snapshots{backup_id="100",backup_type="vm",cluster="lab"} 3`)
	expectLines(t, body, `proxmox_backup_target_up{kind="pbs",target="pbs1"}`,
		`proxmox_backup_target_up{kind="pbs",target="pbs1"} 1`)
}

// TestLabOfflineKeepLastKnown: a PBS with offline.keep_last_known that goes
// away keeps its last known groups (guests stay known) while target_up and
// repository_up say it is down; past the age, the data is dropped.
func TestLabOfflineKeepLastKnown(t *testing.T) {
	m := labModel()
	srv, err := emulator.Start(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	l := &lab{srv: srv, now: labNow}
	l.cfg = labConfig(t, srv, m)
	l.cfg.PBS[0].Offline.KeepLastKnown = time.Hour
	if l.coll, err = New(l.cfg, Options{Now: l.clock}); err != nil {
		t.Fatal(err)
	}
	const guest100 = `proxmox_backup_guest_snapshots{backup_id="100",backup_type="vm",cluster="lab"}`
	const group100 = `proxmox_backup_snapshots{backup_id="100",backup_type="vm",cluster="lab",repository="pbs1:store1/lab"}`
	body := l.scrape(t, 0)
	expectLines(t, body, guest100, guest100+" 3")

	srv.SetFault(emulator.Fault{Target: "pbs1", Kind: emulator.Down})
	l.advance(30 * time.Minute)
	body = l.scrape(t, 5*time.Second)
	expectLines(t, body, guest100, guest100+" 3")
	expectLines(t, body, group100, group100+" 2")
	expectLines(t, body, `proxmox_backup_repository_up{repository="pbs1:store1/lab"}`,
		`proxmox_backup_repository_up{repository="pbs1:store1/lab"} 0`)
	expectLines(t, body, `proxmox_backup_target_up{kind="pbs"`, `proxmox_backup_target_up{kind="pbs",target="pbs1"} 0`)
	expectLines(t, body, `proxmox_backup_target_last_success_timestamp_seconds{kind="pbs"`,
		`proxmox_backup_target_last_success_timestamp_seconds{kind="pbs",target="pbs1"} `+fmtFloat(float64(labNow.Unix())))

	l.advance(time.Hour)
	body = l.scrape(t, 5*time.Second)
	expectLines(t, body, guest100)
	expectLines(t, body, group100)
}

// TestLabLegacyJobAcrossVersions: a vzdump.cron job (starttime and dow,
// no schedule of its own) gives its guests the same expected interval
// whether PVE also sends starttime and dow (PVE 8) or only the schedule
// converted from them (PVE 9).
func TestLabLegacyJobAcrossVersions(t *testing.T) {
	for _, version := range []string{"8.4.1", "9.1.3"} {
		m := labModel()
		m.Clusters[0].Version = version
		daily := m.Clusters[0].Jobs[0]
		daily.Schedule, daily.StartTime, daily.DOW = "", "02:00", "mon,wed,fri"
		l := startLab(t, m, Options{Enabled: map[string]bool{CollectorStorages: true}})
		body := l.scrape(t, 10*time.Second)
		// Monday to Wednesday is the shortest gap: two days.
		expectLines(t, body, `proxmox_backup_guest_expected_interval_seconds{backup_id="100"`,
			`proxmox_backup_guest_expected_interval_seconds{backup_id="100",backup_type="vm",cluster="lab"} 172800`)
		expectLines(t, body, `proxmox_backup_job_enabled{cluster="lab",job="backup-daily"`,
			`proxmox_backup_job_enabled{cluster="lab",job="backup-daily",schedule="mon,wed,fri 02:00",storage="backup-server"} 1`)
	}
}
