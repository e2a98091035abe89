// Package mixinlint applies to the rendered monitoring mixin the checks
// mixtool's linter would (mixtool cannot be installed here) plus our own
// contract: alert naming and annotations, dashboard uid/title/tags/
// variables, a unit and a description on every panel, and every metric the
// mixin reads being one the exporter exports.
package mixinlint

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// AlertPrefix is the common prefix of every alert of the mixin, so users can
// route all of them with one matcher (alertname=~"ProxmoxBackup.*").
const AlertPrefix = "ProxmoxBackup"

// MaxGroupRules is the most rules a group may hold: Prometheus evaluates a
// group's rules one after the other, so a long group delays its last
// rules, and a short one reads as one topic.
const MaxGroupRules = 20

// MaxUIDLength is Grafana's limit on dashboard uids.
const MaxUIDLength = 40

// Severities are the values the severity label may take.
var Severities = map[string]bool{"critical": true, "warning": true, "info": true}

var (
	alertNameRE  = regexp.MustCompile(`^` + AlertPrefix + `[A-Z][a-zA-Z0-9]*$`)
	recordNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]*[a-zA-Z0-9_]$`)
)

// Problem is one lint finding.
type Problem struct {
	Where string // file and rule/panel
	What  string
}

// String formats the problem as "where: what" for test output.
func (p Problem) String() string { return p.Where + ": " + p.What }

// RuleFile is the subset of a Prometheus rule file the linter reads.
type RuleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []Rule `yaml:"rules"`
	} `yaml:"groups"`
}

// Rule is one alerting or recording rule.
type Rule struct {
	Alert  string `yaml:"alert"`
	Record string `yaml:"record"`
	Expr   string `yaml:"expr"`
	For    string `yaml:"for"`
	// KeepFiringFor (Prometheus >= 2.42) keeps an alert firing through a
	// source outage that makes its series absent.
	KeepFiringFor string            `yaml:"keep_firing_for"`
	Labels        map[string]string `yaml:"labels"`
	Annotations   map[string]string `yaml:"annotations"`
}

// ParseRules decodes a rule file strictly (unknown keys are errors, like
// Prometheus itself).
func ParseRules(data []byte) (*RuleFile, error) {
	var f RuleFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	return &f, nil
}

// RecordNames returns the names recorded by a rule file.
func RecordNames(f *RuleFile) []string {
	var out []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				out = append(out, r.Record)
			}
		}
	}
	return out
}

// Known is the set of metric names the mixin may read.
type Known map[string]bool

// LintRules checks a rule file: alert names, severities, annotations,
// recording rule names, and that every metric an expression reads is known.
func LintRules(file string, f *RuleFile, known Known) []Problem {
	var ps []Problem
	add := func(where, format string, args ...any) {
		ps = append(ps, Problem{Where: file + ": " + where, What: fmt.Sprintf(format, args...)})
	}
	type key struct{ alert, severity string }
	seen := map[key]bool{}
	for _, g := range f.Groups {
		if g.Name == "" {
			add("group", "rule group without a name")
		}
		if len(g.Rules) > MaxGroupRules {
			add(g.Name, "%d rules; a group holds at most %d", len(g.Rules), MaxGroupRules)
		}
		for i, r := range g.Rules {
			where := fmt.Sprintf("%s rule %d", g.Name, i)
			switch {
			case r.Alert != "" && r.Record != "":
				add(where, "both alert and record set")
				continue
			case r.Alert != "":
				where = g.Name + " " + r.Alert
				if !alertNameRE.MatchString(r.Alert) {
					add(where, "alert name must be CamelCase and start with %q", AlertPrefix)
				}
				sev := r.Labels["severity"]
				if !Severities[sev] {
					add(where, "severity label %q is not one of critical, warning, info", sev)
				}
				k := key{r.Alert, sev}
				if seen[k] {
					add(where, "duplicate alert with severity %q", sev)
				}
				seen[k] = true
				summary := r.Annotations["summary"]
				switch {
				case strings.TrimSpace(summary) == "":
					add(where, "summary annotation missing")
				case strings.Contains(summary, "{{"):
					// A static summary groups well in notifications; details
					// belong in the description.
					add(where, "summary annotation must be static (no templating)")
				case !oneSentence(summary):
					add(where, "summary annotation must be one sentence ending with a period: %q", summary)
				}
				switch desc := r.Annotations["description"]; {
				case strings.TrimSpace(desc) == "":
					add(where, "description annotation missing")
				case !strings.Contains(desc, "{{"):
					// The description names what fired; a static one says
					// no more than the summary.
					add(where, "description annotation must be templated (name the labels of what fired)")
				}
				switch u := r.Annotations["runbook_url"]; {
				case !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://"):
					add(where, "runbook_url annotation missing or not a URL: %q", u)
				case alertNameRE.MatchString(r.Alert) && !strings.HasSuffix(u, "#"+strings.ToLower(r.Alert)):
					// runbookURLPattern: the anchor of the alert's own
					// section in mixins/README.md.
					add(where, "runbook_url %q does not end in #%s, the alert's section", u, strings.ToLower(r.Alert))
				}
			case r.Record != "":
				where = g.Name + " " + r.Record
				if !recordNameRE.MatchString(r.Record) {
					add(where, "recording rule name must be level:metric:operations style (contain a colon)")
				}
			default:
				add(where, "neither alert nor record set")
				continue
			}
			if strings.TrimSpace(r.Expr) == "" {
				add(where, "empty expr")
			}
			for _, m := range unknownMetrics(r.Expr, known) {
				add(where, "metric %q is not exported by the exporter (nor recorded by the mixin)", m)
			}
		}
	}
	return ps
}

// Dashboard is the subset of a Grafana dashboard the linter reads.
type Dashboard struct {
	UID        string   `json:"uid"`
	Title      string   `json:"title"`
	Tags       []string `json:"tags"`
	Templating struct {
		List []Variable `json:"list"`
	} `json:"templating"`
	Panels []Panel `json:"panels"`
}

// Variable is a dashboard template variable.
type Variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Datasource *Datasource     `json:"datasource"`
}

// Datasource is a panel or query data source reference.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Panel is a dashboard panel (rows carry nested panels).
type Panel struct {
	ID          int         `json:"id"`
	Type        string      `json:"type"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Datasource  *Datasource `json:"datasource"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Expr       string      `json:"expr"`
		RefID      string      `json:"refId"`
		Datasource *Datasource `json:"datasource"`
	} `json:"targets"`
	Panels []Panel `json:"panels"`
}

// DatasourceVariable is the template variable every panel's data source
// must refer to, so imported dashboards work with any Prometheus name.
const DatasourceVariable = "${datasource}"

// RequiredVariables are the template variables every dashboard must have.
var RequiredVariables = []string{"datasource", "cluster"}

// ParseDashboard decodes a dashboard.
func ParseDashboard(data []byte) (*Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// LintDashboards checks dashboards by file name: uid (set, unique, at most
// 40 characters), title, tags, required variables, and per panel a title,
// a description, a unit, the datasource variable, and known metrics.
func LintDashboards(dashboards map[string]*Dashboard, known Known) []Problem {
	var ps []Problem
	uids := map[string]string{}
	files := slices.Sorted(maps.Keys(dashboards))
	for _, file := range files {
		d := dashboards[file]
		add := func(where, format string, args ...any) {
			ps = append(ps, Problem{Where: file + where, What: fmt.Sprintf(format, args...)})
		}
		switch {
		case d.UID == "":
			add("", "uid missing")
		case len(d.UID) > MaxUIDLength:
			add("", "uid %q longer than %d characters", d.UID, MaxUIDLength)
		case uids[d.UID] != "":
			add("", "uid %q also used by %s", d.UID, uids[d.UID])
		}
		if d.UID != "" && uids[d.UID] == "" {
			uids[d.UID] = file
		}
		if strings.TrimSpace(d.Title) == "" {
			add("", "title missing")
		}
		if len(d.Tags) == 0 {
			add("", "tags missing")
		}
		vars := map[string]Variable{}
		for _, v := range d.Templating.List {
			vars[v.Name] = v
		}
		for _, name := range RequiredVariables {
			if _, ok := vars[name]; !ok {
				add("", "template variable %q missing", name)
			}
		}
		if v, ok := vars["datasource"]; ok && v.Type != "datasource" {
			add("", "template variable datasource has type %q, want datasource", v.Type)
		}
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			q := v.Definition
			var obj struct {
				Query string `json:"query"`
			}
			if json.Unmarshal(v.Query, &obj) == nil && obj.Query != "" {
				q = obj.Query
			} else {
				var s string
				if json.Unmarshal(v.Query, &s) == nil && s != "" {
					q = s
				}
			}
			for _, m := range unknownMetrics(q, known) {
				add(" variable "+v.Name, "metric %q is not exported by the exporter (nor recorded by the mixin)", m)
			}
		}
		var walk func(ps []Panel)
		walk = func(panels []Panel) {
			for _, p := range panels {
				if p.Type == "row" {
					walk(p.Panels)
					continue
				}
				where := fmt.Sprintf(" panel %d %q", p.ID, p.Title)
				if strings.TrimSpace(p.Title) == "" {
					add(where, "title missing")
				}
				if strings.TrimSpace(p.Description) == "" {
					add(where, "description missing")
				}
				if p.FieldConfig.Defaults.Unit == "" {
					add(where, "unit missing (fieldConfig.defaults.unit)")
				}
				if p.Datasource == nil || p.Datasource.UID != DatasourceVariable {
					add(where, "datasource must be the %s variable", DatasourceVariable)
				}
				if len(p.Targets) == 0 {
					add(where, "no queries")
				}
				for _, t := range p.Targets {
					if strings.TrimSpace(t.Expr) == "" {
						add(where, "query %s is empty", t.RefID)
					}
					if t.Datasource != nil && t.Datasource.UID != DatasourceVariable {
						add(where, "query %s datasource must be the %s variable", t.RefID, DatasourceVariable)
					}
					for _, m := range unknownMetrics(t.Expr, known) {
						add(where, "query %s: metric %q is not exported by the exporter (nor recorded by the mixin)", t.RefID, m)
					}
				}
				walk(p.Panels)
			}
		}
		walk(d.Panels)
	}
	return ps
}

func unknownMetrics(expr string, known Known) []string {
	var out []string
	for _, m := range MetricNames(expr) {
		if !known[m] {
			out = append(out, m)
		}
	}
	return out
}

// oneSentence reports whether s is a single sentence: it ends with a
// period, and no sentence ends before (". " inside).
func oneSentence(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasSuffix(s, ".") && !strings.Contains(s[:len(s)-1], ". ")
}
