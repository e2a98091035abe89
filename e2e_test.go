//go:build e2e

package main

// The whole chain with real software (issue 7): emulated PVE + PBS ->
// the exporter binary -> a real Prometheus scraping it every second with
// the mixin's alert and recording rules -> a real Alertmanager routing the
// alerts as mixins/README.md recommends. Run with
//
//	go test -tags e2e -run E2E -count=1 -v .
//
// (make e2e, part of make test). It needs Debian's prometheus and
// prometheus-alertmanager; without them it skips locally and fails in CI
// (CI=true), where .ci/run installs them.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// e2eClient talks to the three local servers; its idle connections are
// closed at the end so no goroutine outlives the test.
var e2eClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}

// The alerts the demo homelab must raise, with every label but job and
// instance (emulator.Homelab documents why each one is there). The set
// is exact: an alert that fires and is not listed fails the test, which is
// how "templates (107), excluded guests (109) and orphans (vm/120) never
// alert" and "no source or repository is down" are checked.
var wantFiring = []string{
	// 106 is only in a disabled job and has no backup at all.
	`ProxmoxBackupGuestNoBackup{backup_id="106",backup_type="ct",cluster="homelab",name="scratch",severity="warning"}`,
	// 105: in no job; 106 and 108: only in the disabled job.
	`ProxmoxBackupGuestNotInJob{backup_id="105",backup_type="vm",cluster="homelab",name="win11",severity="warning"}`,
	`ProxmoxBackupGuestNotInJob{backup_id="106",backup_type="ct",cluster="homelab",name="scratch",severity="warning"}`,
	`ProxmoxBackupGuestNotInJob{backup_id="108",backup_type="ct",cluster="homelab",name="old-app",severity="warning"}`,
	// 104: last night's run failed, newest point ~29h old on a daily job
	// (warning at 26h). 105 (20 days) and 108 (4 days) have no schedule:
	// fixed thresholds 26h and 48h, both exceeded.
	`ProxmoxBackupGuestBackupStale{backup_id="104",backup_type="ct",cluster="homelab",name="media",severity="warning"}`,
	`ProxmoxBackupGuestBackupStale{backup_id="105",backup_type="vm",cluster="homelab",name="win11",severity="critical"}`,
	`ProxmoxBackupGuestBackupStale{backup_id="105",backup_type="vm",cluster="homelab",name="win11",severity="warning"}`,
	`ProxmoxBackupGuestBackupStale{backup_id="108",backup_type="ct",cluster="homelab",name="old-app",severity="critical"}`,
	`ProxmoxBackupGuestBackupStale{backup_id="108",backup_type="ct",cluster="homelab",name="old-app",severity="warning"}`,
	`ProxmoxBackupGuestBackupTaskFailed{backup_id="104",backup_type="ct",cluster="homelab",name="media",severity="warning"}`,
	// 102's newest point failed verification; its sync copy in the
	// unmapped datastore "archive" (cluster="", which Prometheus drops)
	// failed too.
	`ProxmoxBackupVerificationFailed{backup_id="102",backup_type="vm",repository="pbs1:archive",severity="critical",state="failed"}`,
	`ProxmoxBackupVerificationFailed{backup_id="102",backup_type="vm",cluster="homelab",repository="pbs1:store1/homelab",severity="critical",state="failed"}`,
	// 103 is never verified; so are the host backup in the root namespace
	// and the copies in homelab/archive, which no cluster claims.
	`ProxmoxBackupNeverVerified{backup_id="103",backup_type="ct",cluster="homelab",repository="pbs1:store1/homelab",severity="warning",state="none"}`,
	`ProxmoxBackupNeverVerified{backup_id="100",backup_type="vm",repository="pbs1:store1/homelab/archive",severity="warning",state="none"}`,
	`ProxmoxBackupNeverVerified{backup_id="pbs1",backup_type="host",repository="pbs1:store1",severity="warning",state="none"}`,
	// store1: 86 % used (warning at 85 %), full in about two weeks by PBS's
	// estimate (inside the test's 30-day horizon).
	`ProxmoxBackupDatastoreAlmostFull{datastore="store1",severity="warning",target="pbs1"}`,
	`ProxmoxBackupDatastoreFillingUp{datastore="store1",severity="warning",target="pbs1"}`,
	`ProxmoxBackupPBSJobFailed{datastore="store1",job_id="v-homelab",job_type="verify",severity="warning",target="pbs1"}`,
	// GC never ran on the sync target "archive" (every `for` is 0s here).
	`ProxmoxBackupGarbageCollectionNeverRun{datastore="archive",severity="warning",state="never",target="pbs1"}`,
	// No verify job covers a whole datastore: v-homelab verifies the
	// namespace homelab of store1 only, and archive has none.
	`ProxmoxBackupDatastoreNotVerified{datastore="archive",severity="warning",target="pbs1"}`,
	`ProxmoxBackupDatastoreNotVerified{datastore="store1",severity="warning",target="pbs1"}`,
}

// sourceAlerts are the only alerts a source that is down may add.
var sourceAlerts = []string{"ProxmoxBackupSourceDown", "ProxmoxBackupRepositoryDown", "ProxmoxBackupDatastoreDown"}

// wantGuestStates is cluster:proxmox_backup_guests:count per state for the
// demo: 11 guests, 107 a template, 109 tagged nobackup; fresh are 100-103
// and 110, stale 104 105 108, missing 106.
var wantGuestStates = map[string]float64{
	"fresh": 5, "stale": 3, "missing": 1, "unknown": 0, "not_in_job": 3, "excluded": 1, "template": 1,
}

func TestE2EPrometheus(t *testing.T) {
	promBin := requireTool(t, "prometheus")
	amBin := requireTool(t, "prometheus-alertmanager", "alertmanager")
	t.Cleanup(e2eClient.CloseIdleConnections)
	start := time.Now()

	// 1. The emulated estate, built around the real clock: the exporter
	// and Prometheus judge ages against time.Now().
	srv, err := emulator.Start(emulator.Homelab(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfgFile := writeE2EConfig(t, dir, srv)

	bin, mixinBin := buildE2E(t, dir)
	exporterAddr := freeAddr(t)
	startProc(t, "exporter", bin, "--config.file="+cfgFile, "--web.listen-address="+exporterAddr,
		// Prometheus' scrape_timeout is 1s here; leave the exporter most of it.
		"--scrape.timeout-offset=200ms")
	waitReady(t, "exporter", "http://"+exporterAddr+"/-/healthy")

	// 2. The mixin's rules with every `for` set to 0s, and a 30-day
	// "filling up" horizon so PBS's two-week estimate for store1 counts.
	rulesDir := filepath.Join(dir, "rules")
	renderRules(t, mixinBin, rulesDir)

	hook := newWebhook(t)
	amURL, amRoute := startAlertmanager(t, amBin, dir, hook.URL)

	promAddr := freeAddr(t)
	promFile := filepath.Join(dir, "prometheus.yml")
	writeFile(t, promFile, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
  - %q
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: proxmox-backup
    static_configs:
      - targets: [%q]
`, filepath.Join(rulesDir, "prometheus_alerts.yaml"), filepath.Join(rulesDir, "prometheus_rules.yaml"), strings.TrimPrefix(amURL, "http://"), exporterAddr))
	startProc(t, "prometheus", promBin, "--config.file="+promFile, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--rules.alert.resend-delay=1s")
	p := &promAPI{t: t, base: "http://" + promAddr}
	waitReady(t, "prometheus", p.base+"/-/ready")
	t.Logf("setup done in %s", time.Since(start).Round(time.Millisecond))

	// 3. Healthy estate. Wait for the target and a few stored scrapes
	// (deriv() and predict_linear() need two samples, rate windows more)
	// before any subtest, so each can also run alone (-run E2E/Dashboards).
	eventually(t, 30*time.Second, "the exporter target is up", func() (bool, string) {
		var res struct {
			ActiveTargets []struct {
				Labels    map[string]string `json:"labels"`
				Health    string            `json:"health"`
				LastError string            `json:"lastError"`
			} `json:"activeTargets"`
		}
		p.get("/api/v1/targets", nil, &res)
		for _, tg := range res.ActiveTargets {
			if tg.Labels["job"] == "proxmox-backup" {
				return tg.Health == "up", fmt.Sprintf("health %q, error %q", tg.Health, tg.LastError)
			}
		}
		return false, "no proxmox-backup target"
	})
	eventually(t, 30*time.Second, "five scrapes stored", func() (bool, string) {
		v := p.query(`count_over_time(up{job="proxmox-backup"}[1h])`)
		return len(v) == 1 && v[0].value >= 5, fmt.Sprint(v)
	})

	t.Run("TargetUp", func(t *testing.T) {
		p := p.on(t)
		if v := p.query(`up{job="proxmox-backup"}`); len(v) != 1 || v[0].value != 1 {
			t.Errorf("up = %v, want one series at 1", v)
		}
		if v := p.query(`min(proxmox_backup_target_up{job="proxmox-backup"})`); len(v) != 1 || v[0].value != 1 {
			t.Errorf("a source is down on the healthy demo: %v", v)
		}
		if v := p.query(`count(proxmox_backup_target_up{job="proxmox-backup"})`); len(v) != 1 || v[0].value != 2 {
			t.Errorf("want 2 sources (homelab, pbs1): %v", v)
		}
	})

	t.Run("Alerts", func(t *testing.T) {
		checkFiring(p.on(t), wantFiring)
	})

	t.Run("Rules", func(t *testing.T) {
		p := p.on(t)
		p.waitEvaluations(1)
		var recording []string
		for _, r := range p.rules() {
			if r.Health != "ok" || r.LastError != "" {
				t.Errorf("rule %s: health %q: %s", r.Name, r.Health, r.LastError)
			}
			if r.Type == "recording" && !slices.Contains(recording, r.Name) {
				recording = append(recording, r.Name)
			}
		}
		if len(recording) == 0 {
			t.Fatal("no recording rules loaded")
		}
		for _, name := range recording {
			if v := p.query(fmt.Sprintf(`{__name__=%q}`, name)); len(v) == 0 {
				t.Errorf("recording rule %s produces no series", name)
			}
		}
		for state, want := range wantGuestStates {
			q := fmt.Sprintf(`cluster:proxmox_backup_guests:count{cluster="homelab", state=%q}`, state)
			if v := p.query(q); len(v) != 1 || v[0].value != want {
				t.Errorf("%s = %v, want %v", q, v, want)
			}
		}
		if v := p.query(`cluster:proxmox_backup_guests_fresh:ratio{cluster="homelab"}`); len(v) != 1 || v[0].value != 5.0/9 {
			t.Errorf("fresh ratio = %v, want 5/9", v)
		}
	})

	t.Run("EveryFamily", func(t *testing.T) {
		// Every family of the golden exposition reaches Prometheus from
		// the emulated homelab, the new ones of each round included: but
		// those of the storages group (off by default) and the warm-up's
		// (gone once warm).
		offByDefault := map[string]bool{"proxmox_backup_storage_size_bytes": true, "proxmox_backup_storage_used_bytes": true,
			"proxmox_backup_storage_available_bytes": true, "proxmox_backup_job_enabled": true}
		golden, err := os.ReadFile(goldenFile)
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, s := range p.on(t).query(`count by (__name__) ({__name__=~"proxmox_backup_.+", job="proxmox-backup"})`) {
			have[s.labels["__name__"]] = true
		}
		n := 0
		for _, m := range regexp.MustCompile(`(?m)^# TYPE (proxmox_backup_\S+) `).FindAllSubmatch(golden, -1) {
			name := string(m[1])
			if offByDefault[name] || transient[name] {
				continue
			}
			n++
			if !have[name] {
				t.Errorf("%s is in %s but not in Prometheus", name, goldenFile)
			}
		}
		t.Logf("%d families of the golden exposition in Prometheus", n)
	})

	t.Run("Dashboards", func(t *testing.T) {
		// The demo has no estates: the estate variable lists nothing and
		// "All" matches every series.
		checkDashboards(t, p.on(t), dashboardView{optional: map[string]bool{"estate": true}})
	})

	// 5. Alertmanager (before the faults change the alerts).
	t.Run("Alertmanager", func(t *testing.T) {
		checkAlertmanager(t, amURL, amRoute, hook)
	})

	// 4. A source down: it alone speaks; guests become unknown, not zero.
	for _, tc := range []struct{ target, kind string }{{"homelab", "pve"}, {"pbs1", "pbs"}} {
		t.Run("SourceDown/"+tc.target, func(t *testing.T) {
			sourceDown(t, p.on(t), srv, tc.target, tc.kind, amURL, hook)
		})
	}
	t.Logf("e2e finished in %s", time.Since(start).Round(time.Millisecond))
}

// writeE2EConfig writes the config a user would for the homelab, the way
// the README recommends: every node URL of the cluster with its CA file,
// the PBS with its certificate fingerprint pinned, token secrets in files
// of their own (mode 0600).
func writeE2EConfig(t *testing.T, dir string, srv *emulator.Server) string {
	t.Helper()
	writeFile(t, filepath.Join(dir, "pve-root-ca.pem"), string(srv.PVECAPEM("homelab")))
	pveID, pveSecret := srv.PVEToken("homelab")
	pbsID, pbsSecret := srv.PBSToken("pbs1")
	writeFile(t, filepath.Join(dir, "homelab.secret"), pveSecret+"\n")
	writeFile(t, filepath.Join(dir, "pbs1.secret"), pbsSecret+"\n")
	var urls []string
	for _, u := range srv.PVEURLs("homelab") {
		urls = append(urls, strconv.Quote(u))
	}
	path := filepath.Join(dir, "config.yml")
	// Relative file names are relative to the config file.
	writeFile(t, path, fmt.Sprintf(`pve:
  - name: homelab
    urls: [%s]
    token_id: %q
    token_secret_file: homelab.secret
    tls:
      ca_file: pve-root-ca.pem
pbs:
  - name: pbs1
    urls: [%q]
    token_id: %q
    token_secret_file: pbs1.secret
    tls:
      fingerprint: %q
`, strings.Join(urls, ", "), pveID, srv.PBSURL("pbs1"), pbsID, srv.PBSFingerprint("pbs1")))
	return path
}

// requireTool finds a binary by any of its names: missing, the test
// fails in CI (.ci/run installs it) and skips elsewhere.
func requireTool(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not installed (apt-get install prometheus prometheus-alertmanager)", strings.Join(names, " / "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// buildE2E builds the exporter and the mixin renderer into dir, at the
// same time.
func buildE2E(t *testing.T, dir string) (bin, mixinBin string) {
	t.Helper()
	var (
		buildErr [2]error
		wg       sync.WaitGroup
	)
	wg.Add(2)
	go func() { defer wg.Done(); bin, buildErr[0] = goBuild(dir, ".", "proxmox_backup_exporter") }()
	go func() { defer wg.Done(); mixinBin, buildErr[1] = goBuild(dir, "./cmd/mixin", "mixin") }()
	wg.Wait()
	for _, err := range buildErr {
		if err != nil {
			t.Fatal(err)
		}
	}
	return bin, mixinBin
}

// goBuild builds a main package into dir; pkg "./cmd/mixin" is the
// renderer of the separate tools module, which keeps go-jsonnet out of the
// exporter's go.mod.
func goBuild(dir, pkg, name string) (string, error) {
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if strings.HasPrefix(pkg, "./cmd/") {
		cmd.Dir = "tools"
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

// forKey matches the `for` durations in mixins/config.libsonnet (and the
// keep_firing_for ones, *KeepFiringFor, which renderRules leaves alone).
var forKey = regexp.MustCompile(`(?m)^\s*([a-zA-Z]+For):`)

// renderRules renders the mixin's rules with every `for` at 0s (read
// from config.libsonnet, so a new alert's `for` is covered too), and
// keep_firing_for as shipped: the source-down subtests check that alerts
// keep firing through an outage, and every other subtest that none fires
// that must not (a kept alert would linger for hours).
func renderRules(t *testing.T, mixinBin, out string) {
	t.Helper()
	src, err := os.ReadFile("mixins/config.libsonnet")
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{"datastoreFillingUpSeconds": 30 * 24 * 3600}
	for _, m := range forKey.FindAllStringSubmatch(string(src), -1) {
		if !strings.HasSuffix(strings.ToLower(m[1]), "keepfiringfor") {
			cfg[m[1]] = "0s"
		}
	}
	if len(cfg) < 10 {
		t.Fatalf("found only %d `for` keys in mixins/config.libsonnet", len(cfg)-1)
	}
	js, _ := json.Marshal(cfg)
	mixins, _ := filepath.Abs("mixins")
	if b, err := exec.Command(mixinBin, "-out", out, "-config-json", string(js), mixins).CombinedOutput(); err != nil {
		t.Fatalf("render mixin: %v\n%s", err, b)
	}
	for _, f := range []string{"prometheus_alerts.yaml", "prometheus_rules.yaml"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if regexp.MustCompile(`(?m)^\s+for: [1-9]`).Match(b) {
			t.Fatalf("%s still has a non-zero for:", f)
		}
		if f == "prometheus_alerts.yaml" && !regexp.MustCompile(`(?m)^\s+keep_firing_for: [1-9]`).Match(b) {
			t.Fatalf("%s has no keep_firing_for: the source-down checks would test nothing", f)
		}
	}
}

// startProc runs a server process until the end of the test. The log is
// shown when the test fails.
func startProc(t *testing.T, name, bin string, args ...string) {
	t.Helper()
	logs := &syncBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	killWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	procs.Store(name, done)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			l := logs.String()
			if len(l) > 6000 {
				l = "...\n" + l[len(l)-6000:]
			}
			t.Logf("%s log:\n%s", name, l)
		}
	})
}

// procs maps a process name to a channel closed when it exits, so a
// readiness wait fails at once when the server died (e.g. port taken).
var procs sync.Map

func waitReady(t *testing.T, name, u string) {
	t.Helper()
	d, _ := procs.Load(name)
	done, _ := d.(chan struct{})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := e2eClient.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-done:
			t.Fatalf("%s exited before it was ready", name)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s: %v", name, u, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s\n%s", timeout, what, detail)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// promAPI is a minimal client of Prometheus' HTTP API. Its t is the test
// it reports to: subtests take their own copy with on(t), since Fatal must
// come from the goroutine of the test it fails.
type promAPI struct {
	t    *testing.T
	base string
}

func (p *promAPI) on(t *testing.T) *promAPI { return &promAPI{t: t, base: p.base} }

// sample is one series of an instant vector.
type sample struct {
	labels map[string]string
	value  float64
}

func (s sample) String() string { return fmt.Sprintf("%v=%g", s.labels, s.value) }

// get decodes the data of a Prometheus API answer; an error status fails
// the test with Prometheus' message.
func (p *promAPI) get(path string, q url.Values, data any) {
	p.t.Helper()
	if err := p.tryGet(path, q, data); err != nil {
		p.t.Fatal(err)
	}
}

func (p *promAPI) tryGet(path string, q url.Values, data any) error {
	u := p.base + path
	if q != nil {
		u += "?" + q.Encode()
	}
	resp, err := e2eClient.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var env struct {
		Status   string          `json:"status"`
		Error    string          `json:"error"`
		Warnings []string        `json:"warnings"`
		Data     json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("GET %s: HTTP %d: %s", u, resp.StatusCode, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("GET %s: %s", u, env.Error)
	}
	if len(env.Warnings) > 0 {
		return fmt.Errorf("GET %s: warnings %v", u, env.Warnings)
	}
	return json.Unmarshal(env.Data, data)
}

// query runs an instant query and returns the vector (a scalar becomes
// one sample without labels).
func (p *promAPI) query(expr string) []sample {
	p.t.Helper()
	s, err := p.tryQuery(expr)
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

func (p *promAPI) tryQuery(expr string) ([]sample, error) {
	var res struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.tryGet("/api/v1/query", url.Values{"query": {expr}}, &res); err != nil {
		return nil, err
	}
	switch res.ResultType {
	case "vector":
		var v []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(res.Result, &v); err != nil {
			return nil, err
		}
		out := make([]sample, 0, len(v))
		for _, s := range v {
			f, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
			out = append(out, sample{labels: s.Metric, value: f})
		}
		return out, nil
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(res.Result, &v); err != nil {
			return nil, err
		}
		f, _ := strconv.ParseFloat(fmt.Sprint(v[1]), 64)
		return []sample{{value: f}}, nil
	}
	return nil, fmt.Errorf("query %s: result type %s", expr, res.ResultType)
}

// queryRange returns the number of series with at least one point over
// the last window.
func (p *promAPI) tryQueryRange(expr string, window time.Duration) (int, error) {
	end := time.Now()
	var res struct {
		Result []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	q := url.Values{"query": {expr}, "start": {unix(end.Add(-window))}, "end": {unix(end)}, "step": {"1"}}
	if err := p.tryGet("/api/v1/query_range", q, &res); err != nil {
		return 0, err
	}
	n := 0
	for _, s := range res.Result {
		if len(s.Values) > 0 {
			n++
		}
	}
	return n, nil
}

func unix(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }

// promRule is one rule of /api/v1/rules.
type promRule struct {
	Name           string    `json:"name"`
	Type           string    `json:"type"`
	Health         string    `json:"health"`
	LastError      string    `json:"lastError"`
	LastEvaluation time.Time `json:"lastEvaluation"`
}

func (p *promAPI) rules() []promRule {
	p.t.Helper()
	var res struct {
		Groups []struct {
			Rules []promRule `json:"rules"`
		} `json:"groups"`
	}
	p.get("/api/v1/rules", nil, &res)
	var out []promRule
	for _, g := range res.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// waitEvaluations waits until every rule has been evaluated n more times
// (evaluation_interval is 1s, so n seconds after the oldest last
// evaluation seen now).
func (p *promAPI) waitEvaluations(n int) {
	p.t.Helper()
	var oldest time.Time
	for _, r := range p.rules() {
		if oldest.IsZero() || r.LastEvaluation.Before(oldest) {
			oldest = r.LastEvaluation
		}
	}
	after := oldest.Add(time.Duration(n)*time.Second - 100*time.Millisecond)
	eventually(p.t, 30*time.Second, fmt.Sprintf("%d more rule evaluations", n), func() (bool, string) {
		for _, r := range p.rules() {
			if !r.LastEvaluation.After(after) {
				return false, fmt.Sprintf("rule %s last evaluated %s", r.Name, r.LastEvaluation)
			}
		}
		return true, ""
	})
}

// promAlert is one alert of /api/v1/alerts.
type promAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

// key is the alert's name and labels without job and instance, in the
// form wantFiring uses.
func (a promAlert) key() string {
	var names []string
	for k := range a.Labels {
		if k != "alertname" && k != "job" && k != "instance" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(a.Labels["alertname"] + "{")
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", k, a.Labels[k])
	}
	b.WriteByte('}')
	return b.String()
}

// firing returns the firing alerts by key.
func (p *promAPI) firing() map[string]promAlert {
	p.t.Helper()
	var res struct {
		Alerts []promAlert `json:"alerts"`
	}
	p.get("/api/v1/alerts", nil, &res)
	out := map[string]promAlert{}
	for _, a := range res.Alerts {
		if a.State == "firing" {
			out[a.key()] = a
		}
	}
	return out
}

// checkFiring waits until every alert of want fires, lets the rules run a
// few more times, and then wants exactly want firing: none missing, none
// more.
func checkFiring(p *promAPI, want []string) {
	t := p.t
	t.Helper()
	var got map[string]promAlert
	eventually(t, 30*time.Second, "the alerts fire", func() (bool, string) {
		got = p.firing()
		missing := missingKeys(want, got)
		return len(missing) == 0, "missing:\n  " + strings.Join(missing, "\n  ")
	})
	// Let every alerting rule run a few more times over the stored
	// scrapes before judging what must not fire.
	p.waitEvaluations(3)
	got = p.firing()
	if extra := extraKeys(got, want); len(extra) > 0 {
		t.Errorf("alerts fire that must not:\n  %s", strings.Join(extra, "\n  "))
	}
	if missing := missingKeys(want, got); len(missing) > 0 {
		t.Errorf("alerts stopped firing:\n  %s", strings.Join(missing, "\n  "))
	}
}

func missingKeys(want []string, got map[string]promAlert) []string {
	var out []string
	for _, k := range want {
		if _, ok := got[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

func extraKeys(got map[string]promAlert, want []string) []string {
	var out []string
	for k := range got {
		if !slices.Contains(want, k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// dashboardVar matches Grafana variables: $name, ${name}, ${name:fmt}, [[name]].
var dashboardVar = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)

// grafanaBuiltins are Grafana's interval variables, set as a dashboard
// over the last hour at 1m resolution would set them.
var grafanaBuiltins = map[string]string{"__rate_interval": "1m", "__interval": "1m", "__range": "1h"}

// dashboardView is how checkDashboards opens the dashboards: the value of
// some variables ("All", .*, for the others), and the variables that may
// have no values.
type dashboardView struct {
	values   map[string]string
	optional map[string]bool
}

// checkDashboards runs every query of every panel (and every variable's
// label_values) of the committed dashboards; each must return data, as a
// user opening the dashboard on the demo would see it.
func checkDashboards(t *testing.T, p *promAPI, view dashboardView) {
	files, _ := filepath.Glob("mixins/dashboards_out/*.json")
	if len(files) == 0 {
		t.Fatal("no dashboards in mixins/dashboards_out")
	}
	queries := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Title      string `json:"title"`
			Templating struct {
				List []struct {
					Name  string `json:"name"`
					Type  string `json:"type"`
					Query any    `json:"query"`
				} `json:"list"`
			} `json:"templating"`
			Panels []dashPanel `json:"panels"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		vars := map[string]string{}
		for k, v := range grafanaBuiltins {
			vars[k] = v
		}
		for _, v := range d.Templating.List {
			if v.Type != "datasource" {
				vars[v.Name] = ".*" // "All"
			}
		}
		maps.Copy(vars, view.values)
		expand := func(expr string) (string, error) {
			var unknown []string
			out := dashboardVar.ReplaceAllStringFunc(expr, func(m string) string {
				sm := dashboardVar.FindStringSubmatch(m)
				name := sm[1] + sm[2] + sm[3]
				if v, ok := vars[name]; ok {
					return v
				}
				unknown = append(unknown, name)
				return m
			})
			if len(unknown) > 0 {
				return "", fmt.Errorf("unknown variables %v", unknown)
			}
			return out, nil
		}
		// Variables: label_values(selector, label) must list something.
		labelValues := regexp.MustCompile(`^\s*label_values\((.*),\s*(\w+)\)\s*$`)
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			q := fmt.Sprint(v.Query)
			if m, ok := v.Query.(map[string]any); ok {
				q = fmt.Sprint(m["query"])
			}
			lv := labelValues.FindStringSubmatch(q)
			if lv == nil {
				t.Errorf("%s: variable %s: query %q is not label_values(selector, label)", d.Title, v.Name, q)
				continue
			}
			sel, err := expand(lv[1])
			if err != nil {
				t.Errorf("%s: variable %s: %v", d.Title, v.Name, err)
				continue
			}
			var values []string
			err = p.tryGet("/api/v1/label/"+lv[2]+"/values", url.Values{"match[]": {sel}}, &values)
			queries++
			if err != nil || len(values) == 0 && !view.optional[v.Name] {
				t.Errorf("%s: variable %s has no values: %s (%v)", d.Title, v.Name, q, err)
			}
			if want, ok := view.values[v.Name]; ok && !slices.Contains(values, want) {
				t.Errorf("%s: variable %s lists %v, not %q", d.Title, v.Name, values, want)
			}
		}
		var walk func(ps []dashPanel)
		walk = func(ps []dashPanel) {
			for _, pn := range ps {
				walk(pn.Panels)
				for _, tg := range pn.Targets {
					if tg.Expr == "" || tg.Hide {
						continue
					}
					expr, err := expand(tg.Expr)
					if err != nil {
						t.Errorf("%s / %q: %v in %s", d.Title, pn.Title, err, tg.Expr)
						continue
					}
					queries++
					n := 0
					if tg.Instant {
						var s []sample
						s, err = p.tryQuery(expr)
						n = len(s)
						for _, smp := range s {
							for name, want := range view.values {
								if got, ok := smp.labels[name]; ok && got != want {
									t.Errorf("%s / panel %q: a series of %s=%q with %s=%q picked: %s", d.Title, pn.Title, name, got, name, want, expr)
								}
							}
						}
					} else {
						n, err = p.tryQueryRange(expr, time.Minute)
					}
					switch {
					case err != nil:
						t.Errorf("%s / panel %q: query failed: %v\n%s", d.Title, pn.Title, err, tg.Expr)
					case n == 0:
						t.Errorf("%s / panel %q: no data for\n%s", d.Title, pn.Title, tg.Expr)
					}
				}
			}
		}
		walk(d.Panels)
	}
	t.Logf("ran %d dashboard queries (panels and variables) over %d dashboards", queries, len(files))
}

// dashPanel is the part of a Grafana panel the check reads.
type dashPanel struct {
	Title   string      `json:"title"`
	Panels  []dashPanel `json:"panels"`
	Targets []struct {
		Expr    string `json:"expr"`
		Instant bool   `json:"instant"`
		Hide    bool   `json:"hide"`
	} `json:"targets"`
}

// sourceDown takes one source down in the emulator: its SourceDown alert
// must fire, nothing but source alerts may be added to what fired before,
// nothing that fired before may resolve (keep_firing_for rides out the
// outage: Alertmanager gets no "resolved" for a problem nobody fixed), no
// guest's count may turn into 0; then everything recovers, to exactly the
// alerts that fired before.
func sourceDown(t *testing.T, p *promAPI, srv *emulator.Server, target, kind, amURL string, hook *webhook) {
	settled(t, p, "before taking "+target+" down")
	notesBefore := hook.quiet(t)
	baseline := map[string]bool{}
	for _, k := range wantFiring {
		baseline[k] = true
	}
	zeroBefore := map[string]bool{}
	for _, s := range p.query(`proxmox_backup_guest_snapshots{job="proxmox-backup"} == 0`) {
		zeroBefore[s.labels["backup_type"]+"/"+s.labels["backup_id"]] = true
	}
	check := func() string {
		var bad []string
		firing := p.firing()
		for k, a := range firing {
			if !baseline[k] && !slices.Contains(sourceAlerts, a.Labels["alertname"]) {
				bad = append(bad, "new alert "+k)
			}
		}
		for k := range baseline {
			if _, ok := firing[k]; !ok {
				bad = append(bad, "resolved although nothing was fixed: "+k)
			}
		}
		for _, s := range p.query(`proxmox_backup_guest_snapshots{job="proxmox-backup"} == 0`) {
			if g := s.labels["backup_type"] + "/" + s.labels["backup_id"]; !zeroBefore[g] {
				bad = append(bad, "guest "+g+" reported with 0 recovery points")
			}
		}
		return strings.Join(bad, "\n")
	}

	srv.SetFault(emulator.Fault{Target: target, Kind: emulator.Down})
	cleared := false
	defer func() {
		if !cleared {
			srv.ClearFaults()
		}
	}()
	want := fmt.Sprintf(`ProxmoxBackupSourceDown{kind=%q,severity="warning",target=%q}`, kind, target)
	eventually(t, 30*time.Second, want+" fires", func() (bool, string) {
		if bad := check(); bad != "" {
			t.Fatalf("while %s is down:\n%s", target, bad)
		}
		_, ok := p.firing()[want]
		return ok, fmt.Sprint(extraKeys(p.firing(), nil))
	})
	// A few more evaluations on data scraped while it is down.
	p.waitEvaluations(3)
	if bad := check(); bad != "" {
		t.Fatalf("while %s is down:\n%s", target, bad)
	}
	down := p.firing()
	if _, ok := down[want]; !ok {
		t.Fatalf("%s stopped firing while %s is down", want, target)
	}
	if kind == "pbs" {
		onePage(t, amURL, hook, notesBefore, target)
	}
	var kept []string
	for k := range baseline {
		if _, ok := down[k]; ok {
			kept = append(kept, k)
		}
	}
	t.Logf("while %s is down, %d of the %d alerts that fired before keep firing (keep_firing_for)", target, len(kept), len(baseline))
	// In the homelab every guest may have backups on the PBS (the pbs
	// storage is on every node), so with either source down every guest's
	// count is unknown: absent, not 0. ct/106's "no backup", which fired
	// before, keeps firing on no data (keep_firing_for); check() saw to it
	// that no other guest's was raised.
	if v := p.query(`proxmox_backup_guest_snapshots{job="proxmox-backup"}`); len(v) != 0 {
		t.Errorf("guest counts while %s is down: %v, want none (unknown)", target, v)
	}
	if kind == "pbs" {
		// PVE still lists the guests; those that may have backups on the
		// PBS are unknown, which the coverage rules must show.
		if v := p.query(`cluster:proxmox_backup_guests:count{cluster="homelab", state="unknown"}`); len(v) != 1 || v[0].value == 0 {
			t.Errorf("no unknown guests while the PBS is down: %v", v)
		}
	}

	srv.ClearFaults()
	cleared = true
	settled(t, p, "after "+target+" is back")
	if v := p.query(`min(proxmox_backup_target_up{job="proxmox-backup"})`); len(v) != 1 || v[0].value != 1 {
		t.Errorf("sources after recovery: %v", v)
	}
}

// onePage: a PBS that goes down pages once. Alertmanager sends one
// notification, SourceDown's for that target, and holds back every other
// alert about the target (the README's inhibition), which an outage longer
// than keep_firing_for would otherwise resolve and raise again.
func onePage(t *testing.T, amURL string, hook *webhook, notesBefore int, target string) {
	t.Helper()
	isSourceDown := func(labels map[string]string) bool {
		return labels["alertname"] == "ProxmoxBackupSourceDown" && labels["target"] == target
	}
	eventually(t, 30*time.Second, "the SourceDown notification for "+target, func() (bool, string) {
		for _, n := range hook.notifications()[notesBefore:] {
			if n.Status == "firing" && isSourceDown(n.GroupLabels) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d notifications since the outage began", len(hook.notifications())-notesBefore)
	})
	eventually(t, 30*time.Second, "every other alert about "+target+" held back by its SourceDown", func() (bool, string) {
		groups, err := alertGroups(amURL)
		if err != nil {
			return false, err.Error()
		}
		var open []string
		held := 0
		for _, g := range groups {
			for _, a := range g.Alerts {
				if a.Labels["target"] != target || isSourceDown(a.Labels) {
					continue
				}
				if a.Status.State != "suppressed" || len(a.Status.InhibitedBy) == 0 {
					open = append(open, fmt.Sprint(a.Labels))
				} else {
					held++
				}
			}
		}
		// The demo's datastore and job alerts on the PBS keep firing
		// through the outage: there is something to hold back.
		return len(open) == 0 && held > 0, fmt.Sprintf("%d held, not held: %v", held, open)
	})
	for _, n := range hook.notifications()[notesBefore:] {
		if !isSourceDown(n.GroupLabels) {
			var alerts []string
			for _, a := range n.Alerts {
				alerts = append(alerts, fmt.Sprint(a.Labels))
			}
			t.Errorf("while %s is down, a second page: %s %v: %s", target, n.Status, n.GroupLabels, strings.Join(alerts, "; "))
		}
	}
}

// settled waits until exactly the demo's alerts fire.
func settled(t *testing.T, p *promAPI, when string) {
	t.Helper()
	eventually(t, 30*time.Second, "exactly the demo's alerts firing "+when, func() (bool, string) {
		got := p.firing()
		missing := missingKeys(wantFiring, got)
		extra := extraKeys(got, wantFiring)
		return len(missing) == 0 && len(extra) == 0, fmt.Sprintf("missing %v\nextra %v", missing, extra)
	})
}

// webhook records Alertmanager's notifications.
type webhook struct {
	*httptest.Server
	mu    sync.Mutex
	notes []amNotification
}

// amNotification is the part of Alertmanager's webhook payload we check.
type amNotification struct {
	Receiver    string            `json:"receiver"`
	Status      string            `json:"status"`
	GroupLabels map[string]string `json:"groupLabels"`
	Alerts      []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

func newWebhook(t *testing.T) *webhook {
	h := &webhook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n amNotification
		if err := json.NewDecoder(r.Body).Decode(&n); err == nil {
			h.mu.Lock()
			h.notes = append(h.notes, n)
			h.mu.Unlock()
		}
	}))
	t.Cleanup(h.Close)
	return h
}

// quiet waits until no notification has arrived for a few seconds (the
// resolved notes of an earlier outage come in after its alerts resolve)
// and returns how many there are.
func (h *webhook) quiet(t *testing.T) int {
	t.Helper()
	n := len(h.notifications())
	eventually(t, 60*time.Second, "Alertmanager's notifications to settle", func() (bool, string) {
		time.Sleep(3 * time.Second)
		m := len(h.notifications())
		done := m == n
		n = m
		return done, fmt.Sprintf("%d notifications", m)
	})
	return n
}

func (h *webhook) notifications() []amNotification {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.notes)
}

// amRoute is the mixin README's route for the ProxmoxBackup alerts.
type amRoute struct {
	Receiver string   `yaml:"receiver"`
	GroupBy  []string `yaml:"group_by"`
}

// startAlertmanager runs Alertmanager in dir with the configuration
// mixins/README.md recommends (alertmanagerConfig) and returns its URL
// once it is ready.
func startAlertmanager(t *testing.T, bin, dir, hookURL string) (string, amRoute) {
	t.Helper()
	cfg, route := alertmanagerConfig(t, hookURL)
	file := writeFile(t, filepath.Join(dir, "alertmanager.yml"), cfg)
	addr := freeAddr(t)
	startProc(t, "alertmanager", bin, "--config.file="+file, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	u := "http://" + addr
	waitReady(t, "alertmanager", u+"/-/ready")
	return u, route
}

// alertmanagerConfig is the Alertmanager configuration mixins/README.md
// recommends (taken from the README itself, so the test follows it), with
// every receiver a webhook to the test and short group timers.
func alertmanagerConfig(t *testing.T, hookURL string) (string, amRoute) {
	t.Helper()
	readme, err := os.ReadFile("mixins/README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(# alertmanager.yml\n.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("mixins/README.md has no ```yaml block starting with # alertmanager.yml")
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(m[1], &cfg); err != nil {
		t.Fatalf("mixins/README.md alertmanager.yml: %v", err)
	}
	route, _ := cfg["route"].(map[string]any)
	if route == nil {
		t.Fatal("mixins/README.md alertmanager.yml has no route")
	}
	receivers := map[string]bool{}
	walkRoutes(route, func(r map[string]any) {
		if name, ok := r["receiver"].(string); ok {
			receivers[name] = true
		}
		if _, ok := r["group_wait"]; ok {
			r["group_wait"] = "1s"
		}
		if _, ok := r["group_interval"]; ok {
			r["group_interval"] = "1s"
		}
	})
	backup := backupRoute(route)
	if backup.Receiver == "" || len(backup.GroupBy) == 0 {
		t.Fatalf("mixins/README.md alertmanager.yml has no route with group_by for ProxmoxBackup alerts:\n%s", m[1])
	}
	var recv []any
	for name := range receivers {
		recv = append(recv, map[string]any{
			"name":            name,
			"webhook_configs": []any{map[string]any{"url": hookURL + "/" + name, "send_resolved": true}},
		})
	}
	cfg["receivers"] = recv
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(out), backup
}

// walkRoutes calls fn for a route and every route below it.
func walkRoutes(r map[string]any, fn func(map[string]any)) {
	fn(r)
	subs, _ := r["routes"].([]any)
	for _, s := range subs {
		if sm, ok := s.(map[string]any); ok {
			walkRoutes(sm, fn)
		}
	}
}

// backupRoute is the first route whose matchers select the ProxmoxBackup
// alerts.
func backupRoute(route map[string]any) amRoute {
	var out amRoute
	walkRoutes(route, func(r map[string]any) {
		ms, _ := r["matchers"].([]any)
		if out.Receiver != "" || !strings.Contains(fmt.Sprint(ms), "ProxmoxBackup") {
			return
		}
		out.Receiver, _ = r["receiver"].(string)
		gb, _ := r["group_by"].([]any)
		for _, l := range gb {
			out.GroupBy = append(out.GroupBy, fmt.Sprint(l))
		}
	})
	return out
}

// TestE2EExampleAlertmanager: the shipped examples/alertmanager.yml groups
// the mixin's alerts as mixins/README.md recommends (the grouping the
// end-to-end test proves with a real Alertmanager).
func TestE2EExampleAlertmanager(t *testing.T) {
	readme, err := os.ReadFile("mixins/README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("examples/alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(# alertmanager.yml\n.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("mixins/README.md has no ```yaml block starting with # alertmanager.yml")
	}
	var want, got struct {
		Route        map[string]any `yaml:"route"`
		InhibitRules []struct {
			Source []string `yaml:"source_matchers"`
			Target []string `yaml:"target_matchers"`
			Equal  []string `yaml:"equal"`
		} `yaml:"inhibit_rules"`
	}
	if err := yaml.Unmarshal(m[1], &want); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(example, &got); err != nil {
		t.Fatal(err)
	}
	w, g := backupRoute(want.Route), backupRoute(got.Route)
	if len(w.GroupBy) == 0 || !slices.Equal(w.GroupBy, g.GroupBy) {
		t.Errorf("examples/alertmanager.yml groups ProxmoxBackup alerts by %v, mixins/README.md recommends %v", g.GroupBy, w.GroupBy)
	}
	// The inhibitions the end-to-end test proves (one page per outage) are
	// the example's. Matchers are compared without spaces: the README
	// writes them flow style and quoted, the example block style.
	norm := func(ms []string) string {
		return strings.NewReplacer(" ", "", `"`, "").Replace(strings.Join(ms, ","))
	}
	if len(want.InhibitRules) == 0 || len(got.InhibitRules) != len(want.InhibitRules) {
		t.Fatalf("examples/alertmanager.yml has %d inhibit rules, mixins/README.md %d", len(got.InhibitRules), len(want.InhibitRules))
	}
	for i, w := range want.InhibitRules {
		g := got.InhibitRules[i]
		if norm(g.Source) != norm(w.Source) || norm(g.Target) != norm(w.Target) || !slices.Equal(g.Equal, w.Equal) {
			t.Errorf("inhibit rule %d: examples/alertmanager.yml %+v, mixins/README.md %+v", i, g, w)
		}
	}
}

// amGroup is one group of Alertmanager's /api/v2/alerts/groups.
type amGroup struct {
	Labels   map[string]string `json:"labels"`
	Receiver struct {
		Name string `json:"name"`
	} `json:"receiver"`
	Alerts []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			State       string   `json:"state"`
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	} `json:"alerts"`
}

// alertGroups reads Alertmanager's alert groups.
func alertGroups(amURL string) ([]amGroup, error) {
	resp, err := e2eClient.Get(amURL + "/api/v2/alerts/groups")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var groups []amGroup
	if err := json.NewDecoder(resp.Body).Decode(&groups); err != nil {
		return nil, err
	}
	return groups, nil
}

// checkAlertmanager: every firing alert reached Alertmanager, in groups by
// the README's group_by (one group per alert name and cluster, or alert
// name and PBS), routed to its receiver, and notifications went out per
// group.
func checkAlertmanager(t *testing.T, amURL string, route amRoute, hook *webhook) {
	var groups []amGroup
	eventually(t, 30*time.Second, "Alertmanager holds every alert the demo raises", func() (bool, string) {
		var err error
		if groups, err = alertGroups(amURL); err != nil {
			return false, err.Error()
		}
		got := map[string]promAlert{}
		for _, g := range groups {
			for _, a := range g.Alerts {
				got[promAlert{Labels: a.Labels}.key()] = promAlert{}
			}
		}
		missing := missingKeys(wantFiring, got)
		return len(missing) == 0, fmt.Sprintf("missing in Alertmanager: %v", missing)
	})
	seen := map[string]bool{}
	for _, g := range groups {
		if g.Receiver.Name != route.Receiver {
			t.Errorf("group %v went to receiver %q, want %q", g.Labels, g.Receiver.Name, route.Receiver)
		}
		for k := range g.Labels {
			if !slices.Contains(route.GroupBy, k) {
				t.Errorf("group %v has label %s, not in group_by %v", g.Labels, k, route.GroupBy)
			}
		}
		id := fmt.Sprint(g.Labels)
		if seen[id] {
			t.Errorf("two groups with labels %s", id)
		}
		seen[id] = true
		for _, a := range g.Alerts {
			for _, l := range route.GroupBy {
				if a.Labels[l] != g.Labels[l] {
					t.Errorf("alert %v in group %v: %s differs", a.Labels, g.Labels, l)
				}
			}
		}
	}
	find := func(labels map[string]string) *amGroup {
		for i := range groups {
			match := len(groups[i].Labels) == len(labels)
			for k, v := range labels {
				match = match && groups[i].Labels[k] == v
			}
			if match {
				return &groups[i]
			}
		}
		return nil
	}
	// One notification lists every guest of a cluster not in a job...
	g := find(map[string]string{"alertname": "ProxmoxBackupGuestNotInJob", "cluster": "homelab"})
	if g == nil || len(g.Alerts) != 3 {
		t.Errorf("want one GuestNotInJob group for cluster homelab with 3 alerts, got %+v", g)
	}
	// ... and one every failed job of a PBS.
	if g := find(map[string]string{"alertname": "ProxmoxBackupPBSJobFailed", "target": "pbs1"}); g == nil || len(g.Alerts) != 1 {
		t.Errorf("want one PBSJobFailed group for target pbs1, got %+v", g)
	}
	// The README's inhibition: the critical stale alert of a guest hides
	// its warning.
	if g := find(map[string]string{"alertname": "ProxmoxBackupGuestBackupStale", "cluster": "homelab"}); g == nil {
		t.Error("no GuestBackupStale group for cluster homelab")
	} else {
		for _, a := range g.Alerts {
			crit := a.Labels["backup_id"] == "105" || a.Labels["backup_id"] == "108"
			suppressed := a.Status.State == "suppressed" && len(a.Status.InhibitedBy) > 0
			if crit && a.Labels["severity"] == "warning" && !suppressed {
				t.Errorf("warning %v not inhibited by its critical alert: %+v", a.Labels, a.Status)
			}
			if a.Labels["severity"] == "critical" && a.Status.State != "active" {
				t.Errorf("critical %v is %s", a.Labels, a.Status.State)
			}
		}
	}
	// Notifications leave per group.
	eventually(t, 30*time.Second, "a grouped GuestNotInJob notification", func() (bool, string) {
		notes := hook.notifications()
		for _, n := range notes {
			if n.Receiver == route.Receiver && n.GroupLabels["alertname"] == "ProxmoxBackupGuestNotInJob" &&
				n.GroupLabels["cluster"] == "homelab" && len(n.Alerts) == 3 {
				return true, ""
			}
		}
		var b bytes.Buffer
		for _, n := range notes {
			fmt.Fprintf(&b, "%s %v %d alerts\n", n.Receiver, n.GroupLabels, len(n.Alerts))
		}
		return false, b.String()
	})
}
