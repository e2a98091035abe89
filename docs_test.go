package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// The README is the newcomer's page and links into docs/ for the long
// references; these tests keep that split honest: the README stays short,
// and no link between the pages (or to examples/, mixins/, …) points at a
// file or heading that does not exist, as happens silently when a section
// moves.

// maxReadmeLines bounds README.md: past it, the long text belongs in docs/.
const maxReadmeLines = 400

// docPages are the Markdown pages whose relative links are checked.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("docs/*.md: no pages found")
	}
	return append([]string{"README.md", filepath.Join("mixins", "README.md")}, pages...)
}

func TestReadmeIsShort(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n >= maxReadmeLines {
		t.Errorf("README.md has %d lines, want fewer than %d: move long reference text into docs/ and link it", n, maxReadmeLines)
	}
}

func TestDocLinks(t *testing.T) {
	anchors := map[string]map[string]bool{} // cleaned path -> anchors of its headings
	anchorsOf := func(path string) (map[string]bool, error) {
		if a, ok := anchors[path]; ok {
			return a, nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		a := headingAnchors(string(b))
		anchors[path] = a
		return a, nil
	}
	checked := 0
	for _, page := range docPages(t) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range markdownLinks(string(b)) {
			if isExternal(l.target) {
				continue
			}
			checked++
			file, frag, _ := strings.Cut(l.target, "#")
			target := page
			if file != "" {
				target = filepath.Join(filepath.Dir(page), filepath.FromSlash(file))
				if _, err := os.Stat(target); err != nil {
					t.Errorf("%s:%d: link %q: %s does not exist", page, l.line, l.target, target)
					continue
				}
			}
			if frag == "" {
				continue
			}
			if !strings.HasSuffix(target, ".md") {
				t.Errorf("%s:%d: link %q: a #fragment into a file that is not Markdown", page, l.line, l.target)
				continue
			}
			a, err := anchorsOf(filepath.Clean(target))
			if err != nil {
				t.Errorf("%s:%d: link %q: %v", page, l.line, l.target, err)
				continue
			}
			if !a[frag] {
				t.Errorf("%s:%d: link %q: %s has no heading with anchor #%s", page, l.line, l.target, target, frag)
			}
		}
	}
	// The README alone links to docs/, examples/ and mixins/: finding no
	// relative link at all means the extraction broke, not that all is well.
	if checked < 10 {
		t.Errorf("found only %d relative links in the documentation; is markdownLinks still finding them?", checked)
	}
}

// mdLink is one inline link of a Markdown page.
type mdLink struct {
	target string
	line   int
}

var (
	fence      = regexp.MustCompile("^\\s*```")
	codeSpan   = regexp.MustCompile("`[^`]*`")
	linkTarget = regexp.MustCompile(`\]\(([^()\s]+)(?:\s+"[^"]*")?\)`)
	heading    = regexp.MustCompile(`^#{1,6}\s+(.+?)\s*#*\s*$`)
	inlineLink = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// markdownLinks returns the targets of the inline links [text](target) of
// a page, outside fenced code blocks and code spans (PromQL and shell
// examples are full of brackets that are not links). Link text may span
// lines; the target never does.
func markdownLinks(page string) []mdLink {
	var links []mdLink
	inFence := false
	for i, line := range strings.Split(page, "\n") {
		if fence.MatchString(line) {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		line = codeSpan.ReplaceAllString(line, "``")
		for _, m := range linkTarget.FindAllStringSubmatch(line, -1) {
			links = append(links, mdLink{target: m[1], line: i + 1})
		}
	}
	return links
}

// isExternal reports whether a link target leaves the repository (a URL
// with a scheme, or a protocol-relative one).
func isExternal(target string) bool {
	if strings.HasPrefix(target, "//") {
		return true
	}
	scheme, _, ok := strings.Cut(target, ":")
	return ok && scheme != "" && !strings.ContainsAny(scheme, "/#.")
}

// headingAnchors returns the anchors GitHub gives the headings of a page:
// the heading's text lower-cased, with everything but letters, digits,
// spaces, '-' and '_' dropped and spaces made '-'; a repeated anchor gets
// "-1", "-2", … appended.
func headingAnchors(page string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	inFence := false
	for _, line := range strings.Split(page, "\n") {
		if fence.MatchString(line) {
			inFence = !inFence
			continue
		}
		m := heading.FindStringSubmatch(line)
		if inFence || m == nil {
			continue
		}
		a := githubAnchor(m[1])
		if n := seen[a]; n > 0 {
			anchors[a+"-"+strconv.Itoa(n)] = true
		} else {
			anchors[a] = true
		}
		seen[a]++
	}
	return anchors
}

// githubAnchor is the anchor GitHub derives from one heading's text.
func githubAnchor(text string) string {
	text = inlineLink.ReplaceAllString(text, "$1") // a link keeps its text
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestGithubAnchor(t *testing.T) {
	for heading, want := range map[string]string{
		"Troubleshooting with `--check`":        "troubleshooting-with---check",
		"5. What was not read twice":            "5-what-was-not-read-twice",
		"Targets (`pve:` and `pbs:` entries)":   "targets-pve-and-pbs-entries",
		"Which `up` covers what":                "which-up-covers-what",
		"A PBS that is switched off":            "a-pbs-that-is-switched-off",
		"ProxmoxBackupGuestNoBackup":            "proxmoxbackupguestnobackup",
		"See [the mixin](mixins/README.md) now": "see-the-mixin-now",
	} {
		if got := githubAnchor(heading); got != want {
			t.Errorf("githubAnchor(%q) = %q, want %q", heading, got, want)
		}
	}
	a := headingAnchors("# Notes\n\n```sh\n# not a heading\n```\n\n## Notes\n")
	for _, want := range []string{"notes", "notes-1"} {
		if !a[want] {
			t.Errorf("headingAnchors: no #%s in %v", want, a)
		}
	}
	if a["not-a-heading"] {
		t.Errorf("headingAnchors: a comment in a code block taken as a heading: %v", a)
	}
}

func TestMarkdownLinks(t *testing.T) {
	page := "See [the\nreference](docs/metrics.md#labels) and [web](https://example.org).\n" +
		"`[not](a-link)` and\n```promql\nx[5m](y)\n```\n![image](docs/images/a.png \"title\")\n"
	var got []string
	for _, l := range markdownLinks(page) {
		got = append(got, l.target+"@"+strconv.Itoa(l.line))
	}
	want := []string{"docs/metrics.md#labels@2", "https://example.org@2", "docs/images/a.png@7"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("markdownLinks = %v, want %v", got, want)
	}
	for target, external := range map[string]bool{
		"https://example.org": true, "mailto:a@example.org": true, "//cdn.example.org/x": true,
		"docs/metrics.md": false, "#labels": false, "docs/../README.md#configuration": false, "mixins/": false,
	} {
		if isExternal(target) != external {
			t.Errorf("isExternal(%q) = %v, want %v", target, !external, external)
		}
	}
}

// tableColumn returns the backticked names leading the first column of every
// Markdown table of page whose header's first cell is header ("metric",
// "key"), outside fenced code blocks. A name is cut at "{" so that
// `last_verification{state}` names the family.
func tableColumn(page, header string) []string {
	var names []string
	inTable, inFence := false, false
	for _, line := range strings.Split(page, "\n") {
		if fence.MatchString(line) {
			inFence = !inFence
		}
		if inFence || !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		cells := strings.Split(line, "|")
		first := strings.TrimSpace(cells[1])
		if first == header {
			inTable = true
			continue
		}
		if !inTable {
			continue
		}
		// Only the leading list of names: "`last_verification` (+ `state` = …)"
		// names one family, not a family per backticked word.
		for m := codeName.FindStringSubmatch(first); m != nil; m = codeName.FindStringSubmatch(first) {
			names = append(names, m[1])
			first = first[len(m[0]):]
		}
	}
	return names
}

var codeName = regexp.MustCompile("^\\s*`([a-z_.]+)(?:\\{[^}`]*\\})?`\\s*,?")

// TestMetricsReference keeps docs/metrics.md (the full reference) and the
// README's table in step with what the exporter exports: every family of
// the demo's golden exposition is documented, and every documented name is
// exported (in the golden file, or among the series main_test.go leaves
// out of it because their values change from run to run).
func TestMetricsReference(t *testing.T) {
	golden, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (proxmox_backup_\S+) `).FindAllSubmatch(golden, -1) {
		exported[string(m[1])] = true
	}
	if len(exported) == 0 {
		t.Fatalf("%s: no proxmox_backup_ families", goldenFile)
	}
	full := func(name string) string {
		if strings.HasPrefix(name, "proxmox_backup_") {
			return name
		}
		return "proxmox_backup_" + name
	}
	known := func(name string) bool { return exported[name] || nondeterministic.MatchString(name) || transient[name] }

	reference := filepath.Join("docs", "metrics.md")
	for page, mustCoverAll := range map[string]bool{reference: true, "README.md": false} {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		documented := map[string]bool{}
		for _, name := range tableColumn(string(b), "metric") {
			documented[full(name)] = true
		}
		if len(documented) == 0 {
			t.Errorf("%s: no table with a \"metric\" column found", page)
		}
		for name := range documented {
			if !known(name) {
				t.Errorf("%s documents %s, which the demo does not export (%s)", page, name, goldenFile)
			}
		}
		if !mustCoverAll {
			continue
		}
		for name := range exported {
			if !documented[name] {
				t.Errorf("%s exports %s, which %s does not document", goldenFile, name, page)
			}
		}
	}
}

// TestConfigurationReference keeps docs/configuration.md in step with the
// configuration file's keys: the targets table names every key of a pve:
// or pbs: entry (nested ones dotted, as tls.ca_file) and no other, and the
// routes example shows every key of a route.
func TestConfigurationReference(t *testing.T) {
	page := filepath.Join("docs", "configuration.md")
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, k := range yamlKeys(reflect.TypeOf(config.Target{}), "") {
		want[k] = true
	}
	got := map[string]bool{}
	for _, k := range tableColumn(string(b), "key") {
		got[k] = true
	}
	for k := range want {
		if !got[k] {
			t.Errorf("%s: the targets table lacks key %q of config.Target", page, k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("%s: the targets table documents key %q, which config.Target does not have", page, k)
		}
	}

	_, routes, ok := strings.Cut(string(b), "\n## Routes\n")
	if !ok {
		t.Fatalf("%s: no \"## Routes\" section", page)
	}
	routes, _, _ = strings.Cut(routes, "\n## ")
	for _, k := range yamlKeys(reflect.TypeOf(config.Route{}), "") {
		if !regexp.MustCompile(`(?m)^\s*(- )?` + regexp.QuoteMeta(k) + `:`).MatchString(routes) {
			t.Errorf("%s: the Routes section's example does not show route key %q", page, k)
		}
	}
}

// yamlKeys lists the YAML keys of a config struct, nested structs' keys
// dotted under their parent's key.
func yamlKeys(typ reflect.Type, prefix string) []string {
	var keys []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, yamlKeys(f.Type, prefix+name+".")...)
			continue
		}
		keys = append(keys, prefix+name)
	}
	return keys
}

// TestTroubleshootingHints keeps the hints quoted in docs/troubleshooting.md
// ("Errors by reason", column "hint printed") word for word what the
// exporter prints: each must be a hint proxmox.Hint gives for some failure,
// or a string of the collector's (which adds the scrape-deadline and
// empty-listing hints). In a quote, <name> stands for one word the message
// fills in and … for the rest of it.
func TestTroubleshootingHints(t *testing.T) {
	page := filepath.Join("docs", "troubleshooting.md")
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	var quoted []string
	inTable := false
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if !strings.HasPrefix(line, "|") || len(cells) < 5 {
			inTable = false
			continue
		}
		if strings.TrimSpace(cells[1]) == "reason" && strings.TrimSpace(cells[3]) == "hint printed" {
			inTable = true
			continue
		}
		if !inTable {
			continue
		}
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cells[3], -1) {
			// Short quotes are names inside the prose (PBSAPIToken=ID:SECRET), not hints.
			if len(m[1]) >= 30 {
				quoted = append(quoted, m[1])
			}
		}
	}
	if len(quoted) < 10 {
		t.Fatalf("%s: found %d quoted hints in the \"hint printed\" column, want at least 10; is the table still there?", page, len(quoted))
	}

	printed := collectorStrings(t)
	for _, kind := range []string{"pve", "pbs"} {
		for _, class := range proxmox.Classes {
			for _, status := range []int{0, 404, 500, 502, 503, 596} {
				for _, endpoint := range []string{"", "/cluster/backup", "/nodes/pve1/storage/local/content", "/nodes/localhost/tasks", "/admin/datastore", "/admin/sync", "/pools/media"} {
					printed = append(printed, proxmox.Hint(&proxmox.Error{Kind: kind, Class: class, Status: status, Endpoint: endpoint}))
				}
			}
		}
	}
	for _, c := range []proxmox.CertificateError{
		{Seen: "66:f1:17:2b", Pinned: "ab:ab:ab"},
		{Seen: "66:f1:17:2b", Reason: "certificate expired or not yet valid"},
		{Seen: "66:f1:17:2b", Reason: "certificate not valid for this host"},
		{Seen: "66:f1:17:2b", Reason: "certificate signed by unknown authority"},
	} {
		printed = append(printed, proxmox.Hint(&c))
	}

	placeholder := regexp.MustCompile(`<[a-z]+>|…`)
	for _, q := range quoted {
		var pattern strings.Builder
		pattern.WriteString("^")
		last := 0
		for _, loc := range placeholder.FindAllStringIndex(q, -1) {
			pattern.WriteString(regexp.QuoteMeta(q[last:loc[0]]))
			if q[loc[0]:loc[1]] == "…" {
				pattern.WriteString(".*")
			} else {
				pattern.WriteString(`\S+`)
			}
			last = loc[1]
		}
		pattern.WriteString(regexp.QuoteMeta(q[last:]) + "$")
		re := regexp.MustCompile(pattern.String())
		found := false
		for _, p := range printed {
			if re.MatchString(p) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s quotes the hint %q, which the exporter does not print (proxmox.Hint, collector)", page, q)
		}
	}
}

// collectorStrings returns the string literals of the collector's non-test
// Go files, where its own hints live.
func collectorStrings(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("collector", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					out = append(out, s)
				}
			}
			return true
		})
	}
	return out
}

// transient are families that exist only in a state the demo never
// reaches within a scrape (a warm-up that outlasts it); the collector's
// tests show them (TestWarmupIsNotAnOutage).
var transient = map[string]bool{
	"proxmox_backup_repository_warming":                 true,
	"proxmox_backup_repository_warmup_records_read":     true,
	"proxmox_backup_repository_warmup_records_expected": true,
}

// TestAlertNames: every alert a page names (ProxmoxBackup…) is an alert of
// the mixin, so a renamed alert cannot leave a page pointing at nothing.
func TestAlertNames(t *testing.T) {
	alerts := map[string]bool{}
	for _, f := range []string{"mixins/prometheus_alerts.yaml", "mixins/prometheus_alerts_opt_in.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?m)^\s*- alert: (\S+)`).FindAllSubmatch(b, -1) {
			alerts[string(m[1])] = true
		}
	}
	if len(alerts) == 0 {
		t.Fatal("mixins/prometheus_alerts*.yaml: no alerts")
	}
	named := regexp.MustCompile(`\bProxmoxBackup[A-Z][A-Za-z]*\b`)
	for _, page := range docPages(t) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range named.FindAllString(string(b), -1) {
			if !alerts[name] {
				t.Errorf("%s names %s, which is no alert of the mixin", page, name)
			}
		}
	}
}
