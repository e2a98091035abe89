package collector

// The benchmarks measure the exporter alone: the emulator serving the
// generated estate runs in a separate process (this test binary, re-executed
// with benchEmulatorEnv set), so getrusage(RUSAGE_SELF) and the Go heap
// statistics of the benchmark process are the exporter's own. The child
// prints how to reach it as one JSON line on stdout and then answers "stats"
// commands on stdin with the requests served since the previous one, and
// "backup N" by giving N groups a new snapshot (backupGroups); it exits when
// its stdin closes, so it cannot outlive the benchmark.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// benchEmulatorEnv carries the child's emulator.GenOptions as JSON.
const benchEmulatorEnv = "PBE_BENCH_EMULATOR"

// Routes whose counts the benchmarks report separately.
const (
	snapshotsRoute = "/admin/datastore/{store}/snapshots"
	// unfilteredSuffix marks a snapshot listing without backup-type and
	// backup-id in the child's per-route counts.
	unfilteredSuffix = " (unfiltered)"
)

func init() {
	// init, not TestMain: the child must not run anything of the test
	// binary, and other files of the package are free to add a TestMain.
	if spec := os.Getenv(benchEmulatorEnv); spec != "" {
		os.Exit(runBenchEmulator(spec, os.Stdin, os.Stdout))
	}
}

// emulatorInfo is what the child prints first: every address, token and
// certificate the exporter needs (test-only credentials of the emulator).
type emulatorInfo struct {
	Clusters []struct {
		Name, TokenID, TokenSecret, CAPEM string
		URLs                              []string
	}
	PBS []struct {
		Name, URL, TokenID, TokenSecret, Fingerprint string
	}
	// Snapshots is the total number of PBS snapshots in the estate.
	Snapshots int
}

// routeStat is what the emulator served on one route.
type routeStat struct {
	Requests int `json:"requests"`
	Items    int `json:"items"`
}

func runBenchEmulator(spec string, in io.Reader, out io.Writer) int {
	var o emulator.GenOptions
	if err := json.Unmarshal([]byte(spec), &o); err != nil {
		fmt.Fprintln(os.Stderr, "bench emulator:", err)
		return 2
	}
	m := emulator.Generate(o)
	srv, err := emulator.Start(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench emulator:", err)
		return 2
	}
	defer srv.Close()
	info := emulatorInfo{Snapshots: m.Snapshots()}
	for _, c := range m.Clusters {
		id, secret := srv.PVEToken(c.Name)
		info.Clusters = append(info.Clusters, struct {
			Name, TokenID, TokenSecret, CAPEM string
			URLs                              []string
		}{c.Name, id, secret, string(srv.PVECAPEM(c.Name)), srv.PVEURLs(c.Name)})
	}
	for _, p := range m.PBS {
		id, secret := srv.PBSToken(p.Name)
		info.PBS = append(info.PBS, struct {
			Name, URL, TokenID, TokenSecret, Fingerprint string
		}{p.Name, srv.PBSURL(p.Name), id, secret, srv.PBSFingerprint(p.Name)})
	}
	enc := json.NewEncoder(out)
	if err := enc.Encode(info); err != nil {
		return 2
	}
	sc := bufio.NewScanner(in)
	cursor := 0
	for sc.Scan() {
		switch sc.Text() {
		case "stats":
			stats := map[string]routeStat{}
			for _, r := range srv.Requests() {
				route := r.Route
				if route == snapshotsRoute && r.Query.Get("backup-type") == "" && r.Query.Get("backup-id") == "" {
					route += unfilteredSuffix
				}
				s := stats[route]
				s.Requests++
				s.Items += r.Items
				stats[route] = s
			}
			srv.ResetRequests()
			if err := enc.Encode(stats); err != nil {
				return 2
			}
		default:
			var n int
			if _, err := fmt.Sscanf(sc.Text(), "backup %d", &n); err != nil {
				fmt.Fprintln(os.Stderr, "bench emulator: unknown command", sc.Text())
				return 2
			}
			if err := enc.Encode(backupGroups(srv, n, &cursor)); err != nil {
				return 2
			}
		}
	}
	return 0 // stdin closed: the benchmark is over
}

// backupGroups gives n PBS groups of the estate a new snapshot each, a
// minute newer than the group's newest, as a backup run would: the groups
// after the ones the previous call changed (cursor), in model order. It
// returns how many groups it changed.
func backupGroups(srv *emulator.Server, n int, cursor *int) int {
	changed := 0
	srv.Update(func(m *emulator.Model) {
		var groups []*emulator.Group
		for _, p := range m.PBS {
			for _, ds := range p.Datastores {
				for _, ns := range ds.Namespaces {
					groups = append(groups, ns.Groups...)
				}
			}
		}
		for ; changed < n && changed < len(groups); changed++ {
			g := groups[*cursor%len(groups)]
			*cursor++
			newest := time.Time{}
			for _, s := range g.Snapshots {
				if s.Time.After(newest) {
					newest = s.Time
				}
			}
			g.Snapshots = append(g.Snapshots, emulator.Snapshot{Time: newest.Add(time.Minute), Size: 1 << 30, Verification: "ok"})
		}
	})
	return changed
}

// benchEmulator is the parent's handle on a child emulator.
type benchEmulator struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	dec   *json.Decoder
	info  emulatorInfo
}

// startBenchEmulator starts the child and waits for its addresses. The
// child is stopped by b.Cleanup.
func startBenchEmulator(b *testing.B, o emulator.GenOptions) *benchEmulator {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	spec, err := json.Marshal(o)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), benchEmulatorEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	// Belt and braces: the child also dies if the benchmark is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	e := &benchEmulator{cmd: cmd, stdin: stdin, dec: json.NewDecoder(stdout)}
	b.Cleanup(e.stop)
	if err := e.dec.Decode(&e.info); err != nil {
		b.Fatalf("bench emulator did not start: %v", err)
	}
	return e
}

// stop closes the child's stdin (it exits) and waits for it; a child that
// does not exit within ten seconds is killed.
func (e *benchEmulator) stop() {
	e.stdin.Close()
	done := make(chan struct{})
	go func() {
		e.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		e.cmd.Process.Kill()
		<-done
	}
}

// stats returns the requests served per route since the last call.
func (e *benchEmulator) stats(b *testing.B) map[string]routeStat {
	b.Helper()
	if _, err := io.WriteString(e.stdin, "stats\n"); err != nil {
		b.Fatal(err)
	}
	var s map[string]routeStat
	if err := e.dec.Decode(&s); err != nil {
		b.Fatal(err)
	}
	return s
}

// backup gives n groups of the child's estate a new snapshot each
// (backupGroups) and returns once the child has.
func (e *benchEmulator) backup(b *testing.B, n int) {
	b.Helper()
	if _, err := fmt.Fprintf(e.stdin, "backup %d\n", n); err != nil {
		b.Fatal(err)
	}
	var changed int
	if err := e.dec.Decode(&changed); err != nil {
		b.Fatal(err)
	}
	if changed != n {
		b.Fatalf("the emulator changed %d groups, not %d", changed, n)
	}
}

// config is the exporter configuration for the child's estate, with the
// defaults a loaded configuration file gets (max_concurrency).
func (e *benchEmulator) config(b *testing.B) *config.Config {
	b.Helper()
	dir := b.TempDir()
	cfg := &config.Config{}
	for _, c := range e.info.Clusters {
		ca := filepath.Join(dir, c.Name+"-ca.pem")
		if err := os.WriteFile(ca, []byte(c.CAPEM), 0o600); err != nil {
			b.Fatal(err)
		}
		cfg.PVE = append(cfg.PVE, config.Target{Name: c.Name, URLs: c.URLs, TokenID: c.TokenID,
			TokenSecret: config.Secret(c.TokenSecret), TLS: config.TLS{CAFile: ca}, MaxConcurrency: config.DefaultMaxConcurrency})
	}
	for _, p := range e.info.PBS {
		cfg.PBS = append(cfg.PBS, config.Target{Name: p.Name, URLs: []string{p.URL}, TokenID: p.TokenID,
			TokenSecret: config.Secret(p.TokenSecret), TLS: config.TLS{Fingerprint: p.Fingerprint}, MaxConcurrency: config.DefaultMaxConcurrency})
	}
	return cfg
}

// formatStats renders per-route request counts divided by n, one route per
// line, for the benchmark log.
func formatStats(s map[string]routeStat, n int) string {
	routes := slices.Sorted(maps.Keys(s))
	var sb strings.Builder
	for _, r := range routes {
		fmt.Fprintf(&sb, "  %-60s %8.1f requests %10.1f items\n", r, float64(s[r].Requests)/float64(n), float64(s[r].Items)/float64(n))
	}
	return sb.String()
}
