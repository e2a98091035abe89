package collector

import (
	"bufio"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// The golden exposition: the collector's whole answer for the demo's
// homelab, every collector group on, checked in beside this test as
// testdata/golden.prom. It is the reference of every family (docs_test.go
// and tools/mixinlint read it too), and the binary's end-to-end test
// (main_test.go TestEndToEnd) checks that the exporter serves exactly it.
// go test ./collector -run TestGoldenExposition -update rewrites it.

var update = flag.Bool("update", false, "rewrite testdata/golden.prom")

// goldenFile is the golden exposition, relative to this package.
const goldenFile = "testdata/golden.prom"

// goldenNow is the clock of the demo homelab the golden file shows.
const goldenNow = 1_767_225_600 // 2026-01-01T00:00:00Z, as main_test.go's demoNow

// timingFamilies change from run to run: left out of the golden file.
var timingFamilies = regexp.MustCompile(`^proxmox_backup_.*scrape_duration_seconds`)

// filterTiming drops the series of timingFamilies, with their HELP and
// TYPE lines.
func filterTiming(body string) string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name := line
		if strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE ") {
			name = strings.Fields(line)[2]
		}
		if timingFamilies.MatchString(name) {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n") + "\n"
}

func TestGoldenExposition(t *testing.T) {
	now := time.Unix(goldenNow, 0)
	enabled := map[string]bool{}
	for _, g := range CollectorGroups {
		enabled[g.Name] = true
	}
	l := startLab(t, emulator.Homelab(now), Options{Now: func() time.Time { return now }, Enabled: enabled})
	got := filterTiming(l.scrape(t, 0))
	if *update {
		if err := os.WriteFile(goldenFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (go test -run TestGoldenExposition -update)", err)
	}
	if got != string(want) {
		t.Errorf("exposition differs from %s (go test ./collector -run TestGoldenExposition -update to accept):\n%s", goldenFile, lineDiff(string(want), got))
	}
}

// lineDiff lists the lines only one of two expositions has.
func lineDiff(want, got string) string {
	w, g := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(want, "\n") {
		w[l] = true
	}
	for _, l := range strings.Split(got, "\n") {
		g[l] = true
	}
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
