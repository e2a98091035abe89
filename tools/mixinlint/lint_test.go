package mixinlint

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

var testKnown = Known{"up": true, "proxmox_backup_target_up": true, "proxmox_backup:x:sum": true}

const goodRules = `
groups:
  - name: g
    rules:
      - alert: ProxmoxBackupSourceDown
        expr: proxmox_backup_target_up{job="j"} == 0
        for: 5m
        labels: {severity: warning}
        annotations:
          summary: A source is down.
          description: Target {{ $labels.target }} is down.
          runbook_url: https://example.org/README.md#proxmoxbackupsourcedown
      - record: proxmox_backup:x:sum
        expr: sum(up)
`

// TestLintRules proves each rule check catches its mistake: every case
// breaks the good file in one way and expects exactly that finding.
func TestLintRules(t *testing.T) {
	tests := []struct {
		name    string
		replace [2]string
		want    string // substring of the single expected problem; "" = clean
	}{
		{"good file is clean", [2]string{"", ""}, ""},
		{"missing prefix", [2]string{"alert: ProxmoxBackupSourceDown", "alert: SourceDown"}, "CamelCase"},
		{"not CamelCase", [2]string{"alert: ProxmoxBackupSourceDown", "alert: ProxmoxBackup_source_down"}, "CamelCase"},
		{"bad severity", [2]string{"severity: warning", "severity: page"}, "severity label"},
		{"missing severity", [2]string{"labels: {severity: warning}", "labels: {team: x}"}, "severity label"},
		{"templated summary", [2]string{"summary: A source is down.", "summary: '{{ $labels.target }} is down.'"}, "static"},
		{"missing summary", [2]string{"summary: A source is down.", "summary: ''"}, "summary annotation missing"},
		{"missing description", [2]string{"description: Target {{ $labels.target }} is down.", "description: ''"}, "description annotation missing"},
		{"missing runbook", [2]string{"runbook_url: https://example.org/README.md#proxmoxbackupsourcedown", "runbook_url: see wiki"}, "runbook_url"},
		{"runbook of another alert", [2]string{"README.md#proxmoxbackupsourcedown", "README.md#proxmoxbackupexporterdown"}, "the alert's section"},
		{"summary of two sentences", [2]string{"summary: A source is down.", "summary: A source is down. Check it."}, "one sentence"},
		{"summary without a period", [2]string{"summary: A source is down.", "summary: A source is down"}, "one sentence"},
		{"static description", [2]string{"description: Target {{ $labels.target }} is down.", "description: A target is down."}, "templated"},
		{"unknown metric in alert", [2]string{"proxmox_backup_target_up{job=\"j\"} == 0", "proxmox_backup_target_upp == 0"}, `"proxmox_backup_target_upp"`},
		{"unknown metric in record", [2]string{"expr: sum(up)", "expr: sum(nope)"}, `"nope"`},
		{"record name without colon", [2]string{"record: proxmox_backup:x:sum", "record: proxmox_backup_x_sum"}, "level:metric:operations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := goodRules
			if tt.replace[0] != "" {
				if !strings.Contains(src, tt.replace[0]) {
					t.Fatalf("test bug: %q not in the good file", tt.replace[0])
				}
				src = strings.Replace(src, tt.replace[0], tt.replace[1], 1)
			}
			f, err := ParseRules([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			ps := LintRules("rules.yaml", f, testKnown)
			checkProblems(t, ps, tt.want)
		})
	}
}

func TestLintRulesDuplicateAlert(t *testing.T) {
	src := strings.Replace(goodRules, "      - record:", `      - alert: ProxmoxBackupSourceDown
        expr: up == 0
        labels: {severity: warning}
        annotations: {summary: S., description: "{{ $labels.job }}", runbook_url: "https://x/README.md#proxmoxbackupsourcedown"}
      - record:`, 1)
	f, err := ParseRules([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, LintRules("rules.yaml", f, testKnown), "duplicate alert")
}

func TestLintRulesGroupSize(t *testing.T) {
	rule := `      - record: proxmox_backup:x%d:sum
        expr: sum(up)
`
	// The good group has 2 rules: MaxGroupRules-2 more fill it, one more
	// is one too many.
	for _, tc := range []struct {
		extra int
		want  string
	}{{MaxGroupRules - 2, ""}, {MaxGroupRules - 1, "21 rules; a group holds at most 20"}} {
		var extra strings.Builder
		for i := range tc.extra {
			fmt.Fprintf(&extra, rule, i)
		}
		src := strings.Replace(goodRules, "      - record:", extra.String()+"      - record:", 1)
		f, err := ParseRules([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		checkProblems(t, LintRules("rules.yaml", f, testKnown), tc.want)
	}
}

func TestParseRulesRejectsUnknownKeys(t *testing.T) {
	if _, err := ParseRules([]byte("groups:\n  - name: g\n    rules:\n      - alert: A\n        exprr: up\n")); err == nil {
		t.Fatal("unknown key exprr accepted")
	}
}

func goodDashboard() map[string]any {
	ds := map[string]any{"type": "prometheus", "uid": "${datasource}"}
	return map[string]any{
		"uid":   "proxmox-backup-overview",
		"title": "Proxmox Backup / Overview",
		"tags":  []any{"proxmox"},
		"templating": map[string]any{"list": []any{
			map[string]any{"name": "datasource", "type": "datasource", "query": "prometheus"},
			map[string]any{"name": "cluster", "type": "query", "datasource": ds,
				"query": map[string]any{"query": "label_values(proxmox_backup_target_up, cluster)"}},
		}},
		"panels": []any{
			map[string]any{
				"id": 1, "type": "stat", "title": "Up", "description": "Sources up.",
				"datasource":  ds,
				"fieldConfig": map[string]any{"defaults": map[string]any{"unit": "none"}},
				"targets":     []any{map[string]any{"refId": "A", "expr": `proxmox_backup_target_up{cluster=~"$cluster"}`, "datasource": ds}},
			},
		},
	}
}

// TestLintDashboards proves each dashboard check catches its mistake.
func TestLintDashboards(t *testing.T) {
	panel := func(d map[string]any) map[string]any { return d["panels"].([]any)[0].(map[string]any) }
	tests := []struct {
		name   string
		mutate func(d map[string]any)
		want   string
	}{
		{"good dashboard is clean", func(map[string]any) {}, ""},
		{"missing unit", func(d map[string]any) {
			panel(d)["fieldConfig"] = map[string]any{"defaults": map[string]any{}}
		}, "unit missing"},
		{"missing description", func(d map[string]any) { delete(panel(d), "description") }, "description missing"},
		{"missing title", func(d map[string]any) { d["title"] = "" }, "title missing"},
		{"missing tags", func(d map[string]any) { delete(d, "tags") }, "tags missing"},
		{"missing uid", func(d map[string]any) { delete(d, "uid") }, "uid missing"},
		{"uid too long", func(d map[string]any) { d["uid"] = strings.Repeat("x", 41) }, "longer than 40"},
		{"missing cluster variable", func(d map[string]any) {
			l := d["templating"].(map[string]any)
			l["list"] = l["list"].([]any)[:1]
		}, `"cluster" missing`},
		{"hard-coded datasource", func(d map[string]any) {
			panel(d)["datasource"] = map[string]any{"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}
		}, "datasource must be"},
		{"unknown metric in panel", func(d map[string]any) {
			panel(d)["targets"] = []any{map[string]any{"refId": "A", "expr": "proxmox_backup_nope"}}
		}, `"proxmox_backup_nope"`},
		{"unknown metric in variable", func(d map[string]any) {
			d["templating"].(map[string]any)["list"].([]any)[1].(map[string]any)["query"] = "label_values(proxmox_backup_nope, cluster)"
		}, `"proxmox_backup_nope"`},
		{"nested row panel without unit", func(d map[string]any) {
			p := panel(d)
			inner := map[string]any{}
			for k, v := range p {
				inner[k] = v
			}
			inner["fieldConfig"] = map[string]any{}
			d["panels"] = []any{map[string]any{"type": "row", "title": "r", "panels": []any{inner}}}
		}, "unit missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := goodDashboard()
			tt.mutate(d)
			data, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := ParseDashboard(data)
			if err != nil {
				t.Fatal(err)
			}
			checkProblems(t, LintDashboards(map[string]*Dashboard{"d.json": parsed}, testKnown), tt.want)
		})
	}
}

func TestLintDashboardsDuplicateUID(t *testing.T) {
	data, _ := json.Marshal(goodDashboard())
	a, _ := ParseDashboard(data)
	b, _ := ParseDashboard(data)
	checkProblems(t, LintDashboards(map[string]*Dashboard{"a.json": a, "b.json": b}, testKnown), "also used by a.json")
}

func checkProblems(t *testing.T, ps []Problem, want string) {
	t.Helper()
	if want == "" {
		for _, p := range ps {
			t.Errorf("unexpected problem: %s", p)
		}
		return
	}
	if len(ps) != 1 || !strings.Contains(ps[0].What+ps[0].Where, want) {
		t.Errorf("want exactly one problem containing %q, got %q", want, ps)
	}
}
