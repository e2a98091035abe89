package mixinlint

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Paths relative to this package directory (tools/mixinlint).
var (
	repoRoot = filepath.Join("..", "..")
	mixinDir = filepath.Join(repoRoot, "mixins")
	// The exporter's golden exposition (issue 4) is the truth about what the
	// exporter exports.
	goldenFile = filepath.Join(repoRoot, "collector", "testdata", "golden.prom")
)

// goldenFiltered are contract metrics the golden exposition
// (collector/golden_test.go, `timingFamilies`) leaves out entirely, HELP
// and TYPE included, because their values change from run to run. The exporter does export them; list them
// by name so a typo in any other name still fails.
//
// The warm-up families are exported only while a PBS namespace's first
// read outlasts a scrape, which the demo's never does (docs_test.go knows
// them too; collector/warmup_test.go shows them).
var goldenFiltered = []string{
	"proxmox_backup_scrape_duration_seconds",
	"proxmox_backup_target_scrape_duration_seconds",
	"proxmox_backup_repository_warming",
	"proxmox_backup_repository_warmup_records_read",
	"proxmox_backup_repository_warmup_records_expected",
}

// knownMetrics returns what the mixin may read: the exporter's metrics (from
// the golden exposition if present, else the contract; $MIXIN_METRICS_FILE
// overrides both), Prometheus' own series and the mixin's recording rules.
func knownMetrics(t *testing.T, records []string) Known {
	t.Helper()
	known := Known{}
	var src string
	var exported map[string]bool
	load := func(path string, golden bool) bool {
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if golden {
			exported, err = MetricsFromExposition(f)
		} else {
			exported, err = MetricsFromContract(f, "proxmox_backup_")
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		src = path
		return true
	}
	switch env := os.Getenv("MIXIN_METRICS_FILE"); {
	case env != "":
		if !load(env, !strings.HasSuffix(env, ".md")) {
			t.Fatalf("MIXIN_METRICS_FILE=%s does not exist", env)
		}
	case load(goldenFile, true):
		for _, m := range goldenFiltered {
			exported[m] = true
		}
	default:
		t.Fatalf("no list of exported metrics: %s does not exist (set MIXIN_METRICS_FILE)", goldenFile)
	}
	if len(exported) < 10 {
		t.Fatalf("%s yields only %d metric names; is it the right file?", src, len(exported))
	}
	t.Logf("exported metrics from %s (%d names)", src, len(exported))
	for m := range exported {
		known[m] = true
	}
	for _, m := range PrometheusMetrics {
		known[m] = true
	}
	for _, r := range records {
		known[r] = true
	}
	return known
}

func readRules(t *testing.T, name string) *RuleFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(mixinDir, name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseRules(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}

// TestMixin lints the committed, rendered mixin.
func TestMixin(t *testing.T) {
	alerts := readRules(t, "prometheus_alerts.yaml")
	rules := readRules(t, "prometheus_rules.yaml")
	known := knownMetrics(t, RecordNames(rules))

	var ps []Problem
	ps = append(ps, LintRules("prometheus_alerts.yaml", alerts, known)...)
	// The opt-in alerts are linted too (the file is a superset).
	ps = append(ps, LintRules("prometheus_alerts_opt_in.yaml", readRules(t, "prometheus_alerts_opt_in.yaml"), known)...)
	ps = append(ps, LintRules("prometheus_rules.yaml", rules, known)...)

	files, err := filepath.Glob(filepath.Join(mixinDir, "dashboards_out", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no dashboards in mixins/dashboards_out")
	}
	dashboards := map[string]*Dashboard{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ParseDashboard(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		dashboards[filepath.Base(f)] = d
	}
	ps = append(ps, LintDashboards(dashboards, known)...)
	for _, p := range ps {
		t.Error(p)
	}
	if n := len(alerts.Groups); n == 0 {
		t.Error("no alert groups")
	}
}

var headingAnchor = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*$`)

// TestRunbooks checks that every runbook_url points at a section of
// mixins/README.md (GitHub's anchor of a heading is its lower-cased text).
func TestRunbooks(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(mixinDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range headingAnchor.FindAllStringSubmatch(string(readme), -1) {
		a := strings.ToLower(strings.TrimSpace(m[1]))
		a = regexp.MustCompile(`[^a-z0-9 _-]`).ReplaceAllString(a, "")
		anchors[strings.ReplaceAll(a, " ", "-")] = true
	}
	for _, g := range readRules(t, "prometheus_alerts_opt_in.yaml").Groups { // every alert, opt-in ones included
		for _, r := range g.Rules {
			u := r.Annotations["runbook_url"]
			i := strings.LastIndex(u, "#")
			if i < 0 || !strings.HasSuffix(u[:i], "/mixins/README.md") {
				t.Errorf("%s: runbook_url %q does not point into mixins/README.md", r.Alert, u)
				continue
			}
			if !anchors[u[i+1:]] {
				t.Errorf("%s: mixins/README.md has no section #%s", r.Alert, u[i+1:])
			}
		}
	}
}

// TestEveryAlertHasUnitTests checks that mixins/tests holds, for every alert,
// a promtool case where it fires and one where it does not.
func TestEveryAlertHasUnitTests(t *testing.T) {
	type alertTest struct {
		Alertname string `yaml:"alertname"`
		ExpAlerts []any  `yaml:"exp_alerts"`
	}
	var suite struct {
		Tests []struct {
			AlertRuleTest []alertTest `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	firing, silent := map[string]bool{}, map[string]bool{}
	files, err := filepath.Glob(filepath.Join(mixinDir, "tests", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		suite.Tests = nil
		if err := yaml.Unmarshal(data, &suite); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range suite.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					firing[a.Alertname] = true
				} else {
					silent[a.Alertname] = true
				}
			}
		}
	}
	var names []string
	for _, g := range readRules(t, "prometheus_alerts_opt_in.yaml").Groups { // every alert, opt-in ones included
		for _, r := range g.Rules {
			names = append(names, r.Alert)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if !firing[n] {
			t.Errorf("%s: no promtool test where it fires", n)
		}
		if !silent[n] {
			t.Errorf("%s: no promtool test where it stays silent", n)
		}
	}
}
