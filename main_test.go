package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// In the manner of node_exporter's end-to-end test: build the binary, run
// it against an emulated estate, scrape it and compare the exposition with
// the collector's golden file, which collector's TestGoldenExposition
// writes beside itself (go test ./collector -run TestGoldenExposition
// -update): the binary must serve exactly the collector's exposition.
const goldenFile = "collector/testdata/golden.prom"

// demoNow fixes the demo homelab's clock so the exposition is reproducible.
const demoNow = 1_767_225_600 // 2026-01-01T00:00:00Z

// buildBinary compiles the exporter once per test into a temp dir.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "proxmox_backup_exporter")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startExporter runs the binary with args plus a free listen address and
// waits until it is healthy. It returns the base URL and the log.
func startExporter(t *testing.T, bin string, args ...string) (string, *syncBuffer) {
	t.Helper()
	_, base, logs := startProcess(t, bin, args...)
	return base, logs
}

// startProcess is startExporter that also returns the process, for tests
// that signal it; the test's cleanup kills it if it still runs.
func startProcess(t *testing.T, bin string, args ...string) (*exec.Cmd, string, *syncBuffer) {
	t.Helper()
	addr := freeAddr(t)
	logs := &syncBuffer{}
	cmd := exec.Command(bin, append(args, "--web.listen-address="+addr)...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/-/healthy")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, base, logs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter not healthy: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// syncBuffer is a log buffer the child process writes while tests read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func get(t *testing.T, url string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", url, resp.StatusCode, body)
	}
	return string(body)
}

// nondeterministic are families whose values change from run to run: the
// golden exposition has none of them.
var nondeterministic = regexp.MustCompile(`^(go_|process_|promhttp_|proxmox_backup_exporter_build_info|` +
	`proxmox_backup_config_last_reload_success|.*scrape_duration_seconds)`)

// familyNames lists the metric families of a text exposition.
func familyNames(t *testing.T, exposition io.Reader) []string {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(exposition)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(mfs))
}

// TestEndToEnd scrapes the demo and compares with the golden exposition,
// then lints the whole exposition (promlint, and promtool when present).
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	// Every collector group on: the golden file is the reference of every
	// family, including those off by default.
	args := []string{"--demo", fmt.Sprintf("--demo.now=%d", demoNow)}
	for _, g := range collector.CollectorGroups {
		args = append(args, "--collector."+g.Name)
	}
	base, logs := startExporter(t, bin, args...)
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	// The first scrape, as the collector's golden file is (a warm one
	// sends fewer requests).
	golden := familyNames(t, bytes.NewReader(want))
	if err := testutil.ScrapeAndCompare(base+"/metrics", bytes.NewReader(want), golden...); err != nil {
		t.Errorf("the binary's exposition differs from the collector's %s (if the collector changed, go test ./collector -run TestGoldenExposition -update):\n%v", goldenFile, err)
	}
	body := get(t, base+"/metrics")
	for _, name := range familyNames(t, strings.NewReader(body)) {
		if !slices.Contains(golden, name) && !nondeterministic.MatchString(name) {
			t.Errorf("main serves %s, which the collector's %s does not have", name, goldenFile)
		}
	}

	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "proxmox_backup") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool is not on PATH in CI")
		}
		t.Log("promtool not on PATH; skipping promtool check metrics")
	} else {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	}

	// The status page answers in both forms; the landing page links it.
	if s := get(t, base+"/status?format=json"); !strings.Contains(s, `"storages"`) {
		t.Errorf("status JSON:\n%s", s)
	}
	if s := get(t, base+"/"); !strings.Contains(s, "/status") {
		t.Errorf("landing page lacks /status:\n%s", s)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", logs.String())
	}
}

// writeConfig writes a config file for the emulated homelab; secret
// overrides the PVE token secret when not empty (to break it).
func writeConfig(t *testing.T, dir string, srv *emulator.Server, pveSecret string) string {
	t.Helper()
	return writeFile(t, filepath.Join(dir, "config.yml"), targetsYAML(t, dir, srv, pveSecret, ""))
}

// targetsYAML is the pve and pbs keys of the homelab behind srv, each line
// indented by indent (for an entry of the estates list). The PVE CA file
// is written to dir, named after srv's PBS port so that several homelabs
// can share dir.
func targetsYAML(t *testing.T, dir string, srv *emulator.Server, pveSecret, indent string) string {
	t.Helper()
	ca := writeFile(t, filepath.Join(dir, fmt.Sprintf("pve-ca-%d.pem", srv.PBSPort("pbs1"))), string(srv.PVECAPEM("homelab")))
	pveID, secret := srv.PVEToken("homelab")
	if pveSecret != "" {
		secret = pveSecret
	}
	pbsID, pbsSecret := srv.PBSToken("pbs1")
	var urls []string
	for _, u := range srv.PVEURLs("homelab") {
		urls = append(urls, fmt.Sprintf("%q", u))
	}
	cfg := fmt.Sprintf(`pve:
  - name: homelab
    urls: [%s]
    token_id: %q
    token_secret: %q
    tls:
      ca_file: %q
pbs:
  - name: pbs1
    urls: [%q]
    token_id: %q
    token_secret: %q
    tls:
      fingerprint: %q
`, strings.Join(urls, ", "), pveID, secret, ca, srv.PBSURL("pbs1"), pbsID, pbsSecret, srv.PBSFingerprint("pbs1"))
	return indent + strings.ReplaceAll(strings.TrimSuffix(cfg, "\n"), "\n", "\n"+indent) + "\n"
}

// estatesYAML is a config of one estate per homelab, named by names.
func estatesYAML(t *testing.T, dir string, names []string, srvs ...*emulator.Server) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("estates:\n")
	for i, srv := range srvs {
		fmt.Fprintf(&b, "  - name: %s\n", names[i])
		b.WriteString(targetsYAML(t, dir, srv, "", "    "))
	}
	return b.String()
}

// writeFile writes data to path (mode 0600) and returns path.
func writeFile(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func startHomelab(t *testing.T) *emulator.Server {
	t.Helper()
	srv, err := emulator.Start(emulator.Homelab(time.Unix(demoNow, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// TestReloadKeepsOldConfig: a bad config on /-/reload is rejected, the old
// one keeps serving, and the reload gauge says so; a good one is applied.
func TestReloadKeepsOldConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	srv := startHomelab(t)
	dir := t.TempDir()
	path := writeConfig(t, dir, srv, "")
	bin := buildBinary(t)
	base, _ := startExporter(t, bin, "--config.file="+path)
	if body := get(t, base+"/metrics"); !strings.Contains(body, `proxmox_backup_target_up{kind="pve",target="homelab"} 1`) {
		t.Fatalf("first scrape:\n%s", body)
	}
	post := func() int {
		resp, err := http.Post(base+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if err := os.WriteFile(path, []byte("pve:\n  - name: homelab\n    bogus_key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := post(); code != http.StatusInternalServerError {
		t.Fatalf("bad config reload: HTTP %d, want 500", code)
	}
	body := get(t, base+"/metrics")
	if !strings.Contains(body, "proxmox_backup_config_last_reload_successful 0") ||
		!strings.Contains(body, `proxmox_backup_target_up{kind="pve",target="homelab"} 1`) {
		t.Fatalf("after a bad reload:\n%s", body)
	}
	writeConfig(t, dir, srv, "")
	if code := post(); code != http.StatusOK {
		t.Fatalf("good config reload: HTTP %d", code)
	}
	if body := get(t, base+"/metrics"); !strings.Contains(body, "proxmox_backup_config_last_reload_successful 1") {
		t.Fatal("reload gauge not back to 1")
	}
	if resp, err := http.Get(base + "/-/reload"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /-/reload: %v %v", resp, err)
	}
}

// TestCheckExitCode: --check prints the plan and exits 0 on a healthy
// estate, 1 with a hint on a broken one, and never prints a secret.
func TestCheckExitCode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	srv := startHomelab(t)
	bin := buildBinary(t)
	run := func(path string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, "--check", "--config.file="+path).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	good := writeConfig(t, t.TempDir(), srv, "")
	out, code := run(good)
	if code != 0 || !strings.Contains(out, "RESULT: OK") || !strings.Contains(out, "ROUTING PLAN") ||
		!strings.Contains(out, "backup-server") {
		t.Fatalf("healthy check: exit %d\n%s", code, out)
	}
	const wrong = "00000000-0000-0000-0000-000000000000"
	bad := writeConfig(t, t.TempDir(), srv, wrong)
	out, code = run(bad)
	if code != 1 || !strings.Contains(out, "RESULT: FAILED") || !strings.Contains(out, "hint:") {
		t.Fatalf("broken check: exit %d\n%s", code, out)
	}
	_, secret := srv.PVEToken("homelab")
	_, pbsSecret := srv.PBSToken("pbs1")
	for _, s := range []string{secret, pbsSecret, wrong} {
		if strings.Contains(out, s) {
			t.Fatal("a secret was printed")
		}
	}
}

// TestLandingPageLinks: every link on / leads somewhere on the exporter
// that answers 200 (exporter-toolkit links pprof, which is served only
// with --web.enable-pprof), and the page and build_info carry a version
// although no -ldflags set one.
func TestLandingPageLinks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	base, _ := startExporter(t, bin, "--demo", fmt.Sprintf("--demo.now=%d", demoNow))
	page := get(t, base+"/")
	links := regexp.MustCompile(`(?:href|src)="([^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(links) < 4 {
		t.Fatalf("landing page has %d links:\n%s", len(links), page)
	}
	root, _ := url.Parse(base + "/")
	for _, l := range links {
		ref, err := url.Parse(html.UnescapeString(l[1]))
		if err != nil {
			t.Errorf("link %q: %v", l[1], err)
			continue
		}
		u := root.ResolveReference(ref)
		if u.Host != root.Host {
			t.Errorf("link %q leaves the exporter", l[1])
			continue
		}
		resp, err := http.Get(u.String())
		if err != nil {
			t.Errorf("link %q: %v", l[1], err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("link %q answers %d", l[1], resp.StatusCode)
		}
	}
	if m := regexp.MustCompile(`\(version=([^,]*),`).FindStringSubmatch(page); m == nil || m[1] == "" {
		t.Errorf("landing page shows no version:\n%s", page)
	}
	metrics := get(t, base+"/metrics")
	if m := regexp.MustCompile(`proxmox_backup_exporter_build_info\{.*version="([^"]*)"`).FindStringSubmatch(metrics); m == nil || m[1] == "" {
		t.Errorf("build_info has no version: %v", m)
	}
}

// TestShutdownOnSIGTERM: a stop says so in one log line and exits 0.
func TestShutdownOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	cmd, _, logs := startProcess(t, bin, "--demo")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	if n := strings.Count(logs.String(), `msg="shutting down" signal=terminated`); n != 1 {
		t.Errorf("%d shutdown lines, want 1:\n%s", n, logs.String())
	}
}

// TestConfigErrorsForPeople: config errors reach stderr one per line as
// file:line: key: message (besides the log line), also under --check, and
// a missing config file says how to pass one.
func TestConfigErrorsForPeople(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yml")
	const cfg = `pve:
  - name: a
    urls: [https://pve1.example.org:8006]
    token_id: exporter@pve!backup
    token_secret_file: /nonexistent/secret
  - name: b
    urls: [https://pve2.example.org:8006]
    token_id: "no token id"
    token_secret: "${UNSET_VARIABLE_FOR_TEST}"
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, int) {
		var stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("%v: %v", args, err)
		}
		return stderr.String(), ee.ExitCode()
	}
	for _, args := range [][]string{{"--config.file=" + path}, {"--check", "--config.file=" + path}} {
		out, code := run(args...)
		if code != 1 {
			t.Errorf("%v: exit %d", args, code)
		}
		for _, want := range []string{path + ":5: pve[0].token_secret_file: ", path + ":8: pve[1].token_id: ", path + ":9: pve[1].token_secret: "} {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want)).MatchString(out) {
				t.Errorf("%v: no line starting %q:\n%s", args, want, out)
			}
		}
		if !strings.Contains(out, `level=ERROR`) {
			t.Errorf("%v: the log line is gone:\n%s", args, out)
		}
	}
	out, _ := run("--config.file=" + filepath.Join(dir, "missing.yml"))
	for _, want := range []string{"--config.file=PATH", "--demo"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing config: output lacks %q:\n%s", want, out)
		}
	}
}

// TestPprofFlag: with --web.enable-pprof the landing page links the
// profiles and they are served.
func TestPprofFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	base, _ := startExporter(t, bin, "--demo", "--web.enable-pprof")
	if page := get(t, base+"/"); !strings.Contains(page, `href="/debug/pprof/heap"`) {
		t.Errorf("landing page lacks the heap profile link:\n%s", page)
	}
	if body := get(t, base+"/debug/pprof/heap"); body == "" {
		t.Error("empty heap profile")
	}
}

// TestProbeEstates: the binary serves each estate on /probe?estate=NAME,
// /metrics has only the exporter's own metrics when the config has no
// default estate, an estate added to the file is served after a SIGHUP and
// one removed is gone, and --check reports every estate under its name.
func TestProbeEstates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	a, b := startHomelab(t), startHomelab(t)
	dir := t.TempDir()
	path := writeFile(t, filepath.Join(dir, "config.yml"), estatesYAML(t, dir, []string{"a"}, a))
	bin := buildBinary(t)
	cmd, base, _ := startProcess(t, bin, "--config.file="+path)
	const up = `proxmox_backup_target_up{kind="pbs",target="pbs1"} 1`
	if body := get(t, base+"/metrics"); strings.Contains(body, "proxmox_backup_target_up") || !strings.Contains(body, "proxmox_backup_config_last_reload_successful 1") {
		t.Fatalf("/metrics without a default estate:\n%s", body)
	}
	if body := get(t, base+"/probe?estate=a"); !strings.Contains(body, up) || strings.Contains(body, "go_goroutines") {
		t.Fatalf("/probe?estate=a:\n%s", body)
	}
	status := func(query string) (int, string) {
		resp, err := http.Get(base + "/probe?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := status("estate=b"); code != http.StatusBadRequest || !strings.Contains(body, `unknown estate "b"`) {
		t.Fatalf("/probe?estate=b before the reload: HTTP %d %s", code, body)
	}

	writeFile(t, path, estatesYAML(t, dir, []string{"b"}, b))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The reload is asynchronous: wait for estate b to appear.
	for {
		code, body := status("estate=b")
		if code == http.StatusOK {
			if !strings.Contains(body, up) {
				t.Fatalf("/probe?estate=b after the reload:\n%s", body)
			}
			break
		}
		if !strings.Contains(body, `unknown estate "b"`) {
			t.Fatalf("/probe?estate=b during the reload: HTTP %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _ := status("estate=a"); code != http.StatusBadRequest {
		t.Fatalf("/probe?estate=a after its removal: HTTP %d, want 400", code)
	}

	both := writeFile(t, filepath.Join(t.TempDir(), "config.yml"), estatesYAML(t, dir, []string{"a", "b"}, a, b))
	outb, err := exec.Command(bin, "--check", "--config.file="+both).CombinedOutput()
	out := string(outb)
	if err != nil || !strings.Contains(out, "=== estate a ===") || !strings.Contains(out, "=== estate b ===") ||
		strings.Count(out, "RESULT: OK") != 2 {
		t.Fatalf("--check of two estates: %v\n%s", err, out)
	}
}
