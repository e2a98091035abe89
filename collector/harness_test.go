package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// The reliability harness (issue 8): the demo homelab behind the real
// clients and the real /metrics handler, a log captured at debug level, and
// helpers to compare expositions series by series.

// homelabNow is the clock of the homelab scenario in these tests: fixed, so
// two scrapes of an unchanged estate export identical values.
var homelabNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// logBuffer collects slog records; safe for the concurrent writes of a
// scrape.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// records returns the JSON log records written so far.
func (l *logBuffer) records(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		out = append(out, rec)
	}
	return out
}

// env is one running homelab with a collector pointed at it.
type env struct {
	t    testing.TB
	srv  *emulator.Server
	dir  string
	cfg  *config.Config
	coll *Collector
	logs *logBuffer
	opts Options

	handlerOnce sync.Once
	handler     http.Handler

	clockMu sync.Mutex
	now     time.Time
}

func (e *env) clock() time.Time {
	e.clockMu.Lock()
	defer e.clockMu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.clockMu.Lock()
	e.now = e.now.Add(d)
	e.clockMu.Unlock()
}

// tlsMode says how a target trusts its server's certificate.
type tlsMode int

const (
	// trustCA: PVE with the cluster CA (every node URL verifies), PBS with
	// its self-signed certificate as CA file.
	trustCA tlsMode = iota
	// trustPin: the fingerprint of the (first) node's certificate pinned,
	// as most homelabs do.
	trustPin
)

// envSpec describes the configuration of an env.
type envSpec struct {
	model  func(now time.Time) *emulator.Model
	pveTLS tlsMode
	pbsTLS tlsMode
	// tweak edits the config before the collector is built.
	tweak func(e *env, cfg *config.Config)
	opts  Options
}

// startEnv starts the emulator and a collector logging into a buffer at
// debug level. PVE lists every node's URL; PBS is pinned unless asked
// otherwise.
func startEnv(t testing.TB, spec envSpec) *env {
	t.Helper()
	if spec.model == nil {
		spec.model = emulator.Homelab
	}
	srv, err := emulator.Start(spec.model(homelabNow))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, dir: t.TempDir(), logs: &logBuffer{}, now: homelabNow}
	e.cfg = e.config(spec.pveTLS, spec.pbsTLS)
	if spec.tweak != nil {
		spec.tweak(e, e.cfg)
	}
	opts := spec.opts
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.Now == nil {
		opts.Now = e.clock
	}
	e.opts = opts
	e.coll, err = New(e.cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.closeIdle)
	return e
}

// config builds what a user would write for the running estate.
func (e *env) config(pveTLS, pbsTLS tlsMode) *config.Config {
	e.t.Helper()
	m := e.srv.Model()
	cfg := &config.Config{Source: "test"}
	for _, c := range m.Clusters {
		id, secret := e.srv.PVEToken(c.Name)
		tc := config.Target{Name: c.Name, URLs: e.srv.PVEURLs(c.Name), TokenID: id, TokenSecret: config.Secret(secret)}
		switch pveTLS {
		case trustCA:
			tc.TLS.CAFile = e.writeFile(c.Name+"-ca.pem", e.srv.PVECAPEM(c.Name))
		case trustPin:
			tc.TLS.Fingerprint = e.srv.PVEFingerprint(c.Name, c.Nodes[0].Name)
		}
		cfg.PVE = append(cfg.PVE, tc)
	}
	for _, p := range m.PBS {
		id, secret := e.srv.PBSToken(p.Name)
		tc := config.Target{Name: p.Name, URLs: []string{e.srv.PBSURL(p.Name)}, TokenID: id, TokenSecret: config.Secret(secret)}
		switch pbsTLS {
		case trustCA:
			tc.TLS.CAFile = e.writeFile(p.Name+"-cert.pem", e.srv.PBSCertPEM(p.Name))
		case trustPin:
			tc.TLS.Fingerprint = e.srv.PBSFingerprint(p.Name)
		}
		cfg.PBS = append(cfg.PBS, tc)
	}
	return cfg
}

func (e *env) writeFile(name string, data []byte) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// secrets returns every token secret of the config.
func (e *env) secrets() []string {
	var out []string
	for _, tc := range append(append([]config.Target(nil), e.cfg.PVE...), e.cfg.PBS...) {
		if s := tc.TokenSecret.Reveal(); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// scrapeResult is one /metrics answer.
type scrapeAnswer struct {
	body     string
	code     int
	took     time.Duration
	deadline time.Time // when Prometheus would have given up
	done     time.Time // when the handler returned
}

// scrape serves one /metrics request through the real handler with
// Prometheus' timeout header.
func (e *env) scrape(timeout time.Duration) scrapeAnswer {
	e.t.Helper()
	// One handler per env, as main has one: concurrent scrapes share its
	// gathering.
	e.handlerOnce.Do(func() { e.handler = e.coll.Handler(promhttp.HandlerOpts{}) })
	h := e.handler
	r := httptest.NewRequest("GET", "/metrics", nil)
	r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
	w := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(w, r)
	done := time.Now()
	return scrapeAnswer{body: w.Body.String(), code: w.Code, took: done.Sub(start), deadline: start.Add(timeout), done: done}
}

// mustScrape scrapes and fails the test unless the answer is a 200.
func (e *env) mustScrape(timeout time.Duration) scrapeAnswer {
	e.t.Helper()
	a := e.scrape(timeout)
	if a.code != http.StatusOK {
		e.t.Fatalf("scrape: HTTP %d: %s", a.code, a.body)
	}
	return a
}

// status returns /status as HTML and as JSON.
func (e *env) status() (html, js string) {
	w := httptest.NewRecorder()
	e.coll.StatusHandler().ServeHTTP(w, httptest.NewRequest("GET", "/status", nil))
	html = w.Body.String()
	w = httptest.NewRecorder()
	e.coll.StatusHandler().ServeHTTP(w, httptest.NewRequest("GET", "/status?format=json", nil))
	return html, w.Body.String()
}

// check runs --check within timeout and returns its text.
func (e *env) check(timeout time.Duration) (string, Report) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rep, err := e.coll.Check(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		e.t.Fatal(err)
	}
	return b.String(), rep
}

// closeIdle closes the idle keep-alive connections of every client, so
// that their goroutines (and the emulator's) end.
func (e *env) closeIdle() {
	for _, t := range e.coll.currentSet().targets {
		for _, c := range []any{t.pve, t.pbs} {
			if cl, ok := c.(interface{ Close() }); ok && c != nil {
				cl.Close()
			}
		}
	}
}

// restartListener drops every connection to a PBS (node "") or PVE node by
// restarting its listener, as the restart of the proxy that comes with a
// certificate change does; keep-alive connections would otherwise go on
// with the old certificate.
func (e *env) restartListener(target, node string) {
	e.srv.SetFault(emulator.Fault{Target: target, Node: node, Kind: emulator.Down})
	e.srv.ClearFaultsFor(target)
}

// goroutines waits until the number of goroutines is at most limit, and
// returns the last count. Idle connections end asynchronously, so it polls
// (bounded) rather than sleeping a fixed time.
func goroutines(limit int, within time.Duration) int {
	deadline := time.Now().Add(within)
	for {
		runtime.GC()
		n := runtime.NumGoroutine()
		if n <= limit || time.Now().After(deadline) {
			return n
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settledGoroutines returns the goroutine count once it stopped falling.
func settledGoroutines() int {
	last := runtime.NumGoroutine()
	stable := 0
	for i := 0; i < 200 && stable < 5; i++ {
		time.Sleep(2 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n == last {
			stable++
		} else {
			stable = 0
		}
		last = n
	}
	return last
}

// exposition is one parsed /metrics answer: series key -> value.
type exposition map[string]string

func parseExposition(body string) exposition {
	out := exposition{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		out[line[:i]] = line[i+1:]
	}
	return out
}

var labelRe = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// splitSeries returns a series key's metric name and labels.
func splitSeries(key string) (string, map[string]string) {
	name, rest, _ := strings.Cut(key, "{")
	labels := map[string]string{}
	for _, m := range labelRe.FindAllStringSubmatch(rest, -1) {
		labels[m[1]] = m[2]
	}
	return name, labels
}

// keys returns the sorted series keys.

// get returns the value of a series built from name and label pairs.
func (x exposition) get(name string, kv ...string) (string, bool) {
	for k, v := range x {
		n, l := splitSeries(k)
		if n != name {
			continue
		}
		match := true
		for i := 0; i+1 < len(kv); i += 2 {
			if l[kv[i]] != kv[i+1] {
				match = false
				break
			}
		}
		if match {
			return v, true
		}
	}
	return "", false
}

// volatile families change from scrape to scrape whatever the estate does:
// durations and request counts (caches make a warm scrape cheaper).
var volatile = map[string]bool{
	"proxmox_backup_scrape_duration_seconds":        true,
	"proxmox_backup_target_scrape_duration_seconds": true,
	"proxmox_backup_target_api_requests":            true,
}

// diffExpositions lists the series that differ between two expositions,
// ignoring volatile families and the families in skip.
func diffExpositions(want, got exposition, skip ...string) []string {
	ignore := map[string]bool{}
	for _, s := range skip {
		ignore[s] = true
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		name, _ := splitSeries(k)
		if volatile[name] || ignore[name] {
			continue
		}
		if v, ok := got[k]; !ok {
			out = append(out, "- "+k+" "+want[k])
		} else if v != want[k] {
			out = append(out, "~ "+k+" "+want[k]+" -> "+v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		name, _ := splitSeries(k)
		if volatile[name] || ignore[name] {
			continue
		}
		if _, ok := want[k]; !ok {
			out = append(out, "+ "+k+" "+got[k])
		}
	}
	return out
}
