package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// maxNodes bounds how many YAML nodes one config may make the decoder visit,
// so that aliases ("billion laughs") cannot make loading explode.
const maxNodes = 100_000

// maxErrors bounds how many errors one file reports: past that, more lines
// help nobody.
const maxErrors = 50

// Keys accepted at each level. The order is the documented order and the
// order of "known keys" in error messages.
var (
	topKeys     = []string{"pve", "pbs", "routes", "estates"}
	estateKeys  = []string{"name", "pve", "pbs", "routes"}
	pveKeys     = []string{"name", "urls", "token_id", "token_secret", "token_secret_file", "tls", "max_concurrency", "timeout"}
	pbsKeys     = []string{"name", "urls", "token_id", "token_secret", "token_secret_file", "tls", "namespaces", "max_concurrency", "timeout", "offline"}
	tlsKeys     = []string{"ca_file", "fingerprint", "insecure_skip_verify"}
	offlineKeys = []string{"keep_last_known"}
	routeKeys   = []string{"cluster", "storage", "to", "same_as", "pbs", "datastore", "namespace"}
)

// Hints for keys that exist, but not where they were written.
var (
	anywhereHints = map[string]string{
		"<<": "YAML merge keys are not supported; repeat the keys instead",
	}
	pveHints = map[string]string{
		"namespaces": "namespaces applies to pbs targets only",
		"offline":    "offline applies to pbs targets only",
		"url":        `did you mean "urls"? it takes a list: urls: [https://host:8006]`,
	}
	pbsHints = map[string]string{
		"url": `did you mean "urls"? it takes a list: urls: [https://host:8007]`,
	}
	tlsHintsTarget = map[string]string{
		"ca_file":              "ca_file belongs under tls:",
		"fingerprint":          "fingerprint belongs under tls:",
		"insecure_skip_verify": "insecure_skip_verify belongs under tls:",
		"keep_last_known":      "keep_last_known belongs under offline: (pbs targets only)",
	}
)

var (
	// tokenIDRe follows PVE's and PBS's user ID and token name rules:
	// user (may itself contain "@"), "@", realm, "!", token name.
	tokenIDRe = regexp.MustCompile(`^[^\s:/!=]+@[A-Za-z0-9_][A-Za-z0-9._-]*![A-Za-z0-9_][A-Za-z0-9._-]*$`)
	// nameRe keeps target names usable inside repository labels such as
	// "<pbs>:<datastore>/<namespace>" and "<cluster>/<node>:<storage>".
	nameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)
	// safeIDRe is Proxmox's PROXMOX_SAFE_ID: datastore names, namespace
	// components, storage IDs.
	safeIDRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)
)

// maxNamespaceDepth is PBS's limit on namespace nesting.
const maxNamespaceDepth = 7

type decoder struct {
	source  string
	baseDir string
	lookup  func(string) (string, bool)
	errs    Errors
	warns   []Warning
	nodes   int
	tooBig  bool
}

func (d *decoder) errorf(line int, key, format string, args ...any) {
	d.errs = append(d.errs, &Error{Source: d.source, Line: line, Key: key, Message: fmt.Sprintf(format, args...)})
}

func (d *decoder) warnf(line int, key, format string, args ...any) {
	d.warns = append(d.warns, Warning{Source: d.source, Line: line, Key: key, Message: fmt.Sprintf(format, args...)})
}

// resolve follows aliases and counts visited nodes against maxNodes.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.nodes++
	if d.nodes > maxNodes && !d.tooBig {
		d.tooBig = true
		d.errorf(0, "", "the document has more than %d YAML nodes (aliases included); a config file is never that large", maxNodes)
	}
	return n
}

var yamlLineRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlError turns a yaml.v3 syntax error into an Error with its line.
func (d *decoder) yamlError(data []byte, err error) {
	m := yamlLineRe.FindStringSubmatch(err.Error())
	if m == nil {
		d.errorf(0, "", "invalid YAML: %s", err)
		return
	}
	reported, _ := strconv.Atoi(m[1])
	d.errorf(syntaxErrorLine(data, reported, m[2]), "", "invalid YAML: %s", m[2])
}

// syntaxErrorLine finds the line of a YAML syntax error. yaml.v3 does not
// report where the problem is: its message names the line where the
// enclosing block starts (a bad indent on line 3 of a list that starts on
// line 2 says "line 1"), counted from 0 for parser errors and from 1 for
// scanner errors, and names no line at all for line 1. The parser stops at
// the first problem, so every prefix of whole lines that reaches the
// problem fails with the same complaint and shorter ones do not: the
// problem's line is the end of the shortest such prefix, found by binary
// search (a few parses, even of a 1 MiB file). It cannot lie before the
// block the library named. An unclosed bracket or quote fails where it
// opens, which is the line to fix.
func syntaxErrorLine(data []byte, reported int, problem string) int {
	var ends []int
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	first := max(reported, 1) - 1
	if first >= len(ends) {
		return reported
	}
	n := sort.Search(len(ends)-first, func(i int) bool {
		_, _, err := decodeYAML(data[:ends[first+i]])
		if err == nil {
			return false
		}
		m := yamlLineRe.FindStringSubmatch(err.Error())
		return m != nil && m[2] == problem
	})
	if first+n == len(ends) {
		return reported
	}
	return first + n + 1
}

// decodeYAML parses the single document in data. A panic inside the YAML
// library becomes an error: a reload must never crash the exporter.
func decodeYAML(data []byte) (root *yaml.Node, extra bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, extra, err = nil, false, fmt.Errorf("yaml: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, false, nil
		}
		return nil, false, err
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
		return &doc, false, nil
	case err != nil:
		return nil, false, err
	default:
		return &doc, true, nil
	}
}

func parse(data []byte, source, baseDir string, lookup func(string) (string, bool)) (*Config, []Warning, error) {
	d := &decoder{source: source, baseDir: baseDir, lookup: lookup}
	cfg := &Config{Source: source}
	if len(data) > MaxConfigBytes {
		d.errorf(0, "", "the file is larger than %d bytes", MaxConfigBytes)
		return nil, nil, d.errs
	}
	root, extra, err := decodeYAML(data)
	if err != nil {
		d.yamlError(data, err)
		return nil, nil, d.errs
	}
	if extra {
		d.errorf(0, "", "the file holds more than one YAML document (---); put everything in one")
		return nil, nil, d.errs
	}
	var doc *yaml.Node
	if root != nil && len(root.Content) > 0 {
		doc = d.resolve(root.Content[0])
	}
	var pos positions
	if doc != nil && !isNull(doc) {
		if doc.Kind != yaml.MappingNode {
			d.errorf(doc.Line, "", "the file must be a mapping with the keys pve, pbs, routes and estates, not %s", describe(doc))
			pos.targetsInvalid = true
		} else {
			d.walkMap(doc, "", topKeys, nil, func(key string, k, v *yaml.Node, path string) {
				if key == "estates" {
					cfg.Estates, pos.estates = d.estates(v, path)
					return
				}
				d.estateKey(key, v, path, &cfg.PVE, &cfg.PBS, &cfg.Routes, &pos)
			})
		}
	}
	if !d.tooBig {
		d.validate(cfg, &pos)
	}
	sortWarnings(d.warns)
	if len(d.errs) > 0 {
		sortErrors(d.errs)
		if len(d.errs) > maxErrors {
			d.errs = append(d.errs[:maxErrors:maxErrors], &Error{Source: source, Message: fmt.Sprintf("too many errors; only the first %d are shown", maxErrors)})
		}
		return nil, d.warns, d.errs
	}
	return cfg, d.warns, nil
}

// estateKey decodes one of the keys pve, pbs and routes of an estate: the
// top level (the default estate) or an entry of the estates list.
func (d *decoder) estateKey(key string, v *yaml.Node, path string, pve, pbs *[]Target, routes *[]Route, pos *positions) {
	switch key {
	case "pve", "pbs":
		if !isNull(v) && v.Kind != yaml.SequenceNode {
			pos.targetsInvalid = true
		}
		if key == "pve" {
			*pve, pos.pve = d.targets(v, path, key)
		} else {
			*pbs, pos.pbs = d.targets(v, path, key)
		}
	case "routes":
		*routes, pos.routes = d.routes(v, path)
	}
}

// estates decodes the estates list.
func (d *decoder) estates(n *yaml.Node, path string) ([]Estate, []estatePos) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, path, "want a list of estates (each entry starting with \"- name: \"), got %s", describe(n))
		return nil, nil
	}
	var out []Estate
	var pos []estatePos
	for i, c := range n.Content {
		c = d.resolve(c)
		if d.tooBig {
			return nil, nil
		}
		ep := indexPath(path, i)
		e := Estate{Line: c.Line}
		p := estatePos{path: ep, line: c.Line}
		var suggested map[string]bool
		p.ok, suggested = d.walkMap(c, ep, estateKeys, nil, func(key string, k, v *yaml.Node, kp string) {
			if key != "name" {
				d.estateKey(key, v, kp, &e.PVE, &e.PBS, &e.Routes, &p.pos)
				return
			}
			p.nameLine = v.Line
			if s, ok := d.str(v, kp, false); ok {
				if !nameRe.MatchString(s) {
					d.errorf(v.Line, kp, "%q is not a valid estate name: use letters, digits, \".\", \"_\" and \"-\" (it is the estate parameter of /probe and usually a label value)", s)
				}
				e.Name = s
			}
		})
		if p.ok && p.nameLine == 0 && !suggested["name"] {
			d.errorf(p.line, ep, "name is required for an estate: /probe?estate=NAME selects it")
		}
		out = append(out, e)
		pos = append(pos, p)
	}
	return out, pos
}

// walkMap checks that n is a mapping, rejects repeated and unknown keys
// (suggesting the closest known key), and calls handle for each known key.
// It reports whether n was a mapping, and the known keys it suggested for
// unknown ones, so that a typo is not reported a second time as a missing
// required key.
func (d *decoder) walkMap(n *yaml.Node, path string, keys []string, hints map[string]string, handle func(key string, k, v *yaml.Node, path string)) (bool, map[string]bool) {
	suggested := map[string]bool{}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "want a mapping (key: value lines), got %s", describe(n))
		return false, suggested
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content) && !d.tooBig; i += 2 {
		k := d.resolve(n.Content[i])
		v := d.resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "a key must be a plain word, not %s", describe(k))
			continue
		}
		name := k.Value
		kp := joinPath(path, displayKey(name))
		if first, dup := seen[name]; dup {
			d.errorf(k.Line, kp, "key repeated; it was already set on line %d", first)
			continue
		}
		seen[name] = k.Line
		if !slices.Contains(keys, name) {
			msg := "unknown key"
			if h, ok := anywhereHints[name]; ok {
				msg += "; " + h
			} else if h, ok := hints[name]; ok {
				msg += "; " + h
			} else if s := suggest(name, keys); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
				suggested[s] = true
			} else {
				msg += "; known keys here: " + strings.Join(keys, ", ")
			}
			d.errorf(k.Line, kp, "%s", msg)
			continue
		}
		handle(name, k, v, kp)
	}
	return true, suggested
}

// displayKey keeps an unknown key out of messages when it may be a secret
// pasted in the wrong place ("token_secret=…: x", a long random string).
func displayKey(k string) string {
	if len(k) > 40 || strings.ContainsAny(k, "=:") {
		return "<unknown key>"
	}
	return k
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// describe names a node's kind for "want X, got Y" messages without quoting
// its value (which could be a secret).
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing (null)"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		case "!!str", "!!timestamp", "!!binary":
			return "a string"
		default:
			return "a value tagged " + n.Tag
		}
	}
	return "an empty document"
}

// str decodes a string value and expands ${VAR} references in it. Numbers
// are accepted as their literal text (a datastore may be called 2024).
func (d *decoder) str(n *yaml.Node, path string, secret bool) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n.Line, path, "want a string, got %s", describe(n))
		return "", false
	}
	switch n.Tag {
	case "!!str", "!!int", "!!float", "!!timestamp":
	default:
		d.errorf(n.Line, path, "want a string, got %s", describe(n))
		return "", false
	}
	if n.Tag != "!!str" {
		return n.Value, true
	}
	v, err := expand(n.Value, d.lookup, secret)
	if err != nil {
		d.errorf(n.Line, path, "%s", err)
		return "", false
	}
	return v, true
}

// expandedScalar returns the text of a non-string scalar: the value itself
// when it has the wanted tag, or the expansion of a string that holds a
// ${VAR} reference (so "max_concurrency: ${N}" works).
func (d *decoder) expandedScalar(n *yaml.Node, path, tag, want string) (string, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == tag {
		return n.Value, true
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && strings.Contains(n.Value, "${") {
		v, err := expand(n.Value, d.lookup, false)
		if err != nil {
			d.errorf(n.Line, path, "%s", err)
			return "", false
		}
		return v, true
	}
	d.errorf(n.Line, path, "want %s, got %s", want, describe(n))
	return "", false
}

func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	s, ok := d.expandedScalar(n, path, "!!bool", "true or false")
	if !ok {
		return false, false
	}
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	d.errorf(n.Line, path, "want true or false, got %q", s)
	return false, false
}

func (d *decoder) integer(n *yaml.Node, path string) (int, bool) {
	s, ok := d.expandedScalar(n, path, "!!int", "an integer")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 32)
	if err != nil {
		d.errorf(n.Line, path, "want an integer, got %q", s)
		return 0, false
	}
	return int(v), true
}

// duration parses Prometheus-style durations ("30s", "1h30m", "2d"), the
// format users already write in prometheus.yml.
func (d *decoder) duration(n *yaml.Node, path string) (time.Duration, bool) {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		d.errorf(n.Line, path, "want a duration with a unit, like 30s, 5m or 36h, got the bare number %s", n.Value)
		return 0, false
	}
	s, ok := d.expandedScalar(n, path, "!!str", "a duration like 30s, 5m or 36h")
	if !ok {
		return 0, false
	}
	v, err := model.ParseDuration(s)
	if err != nil {
		d.errorf(n.Line, path, "want a duration like 30s, 5m or 36h, got %q", s)
		return 0, false
	}
	return time.Duration(v), true
}

// strList decodes a list of strings and returns each element's line.
func (d *decoder) strList(n *yaml.Node, path string) ([]string, []int, bool) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, path, "want a list, got %s", describe(n))
		return nil, nil, false
	}
	var out []string
	var lines []int
	ok := true
	for i, c := range n.Content {
		c = d.resolve(c)
		if d.tooBig {
			return nil, nil, false
		}
		s, good := d.str(c, indexPath(path, i), false)
		if !good {
			ok = false
			continue
		}
		out = append(out, s)
		lines = append(lines, c.Line)
	}
	return out, lines, ok
}
