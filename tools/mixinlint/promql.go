package mixinlint

import (
	"maps"
	"regexp"
	"slices"
	"strings"
)

// promqlKeywords are identifiers of the PromQL grammar that are not metric
// names when they are not followed by "(".
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "by": true, "without": true,
	"on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "offset": true, "inf": true, "nan": true, "atan2": true,
}

// groupingClause matches modifier label lists, whose contents are label
// names, not metrics: by (a, b), on(a), group_left (x), ...
var groupingClause = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)

// labelValuesCall matches Grafana's label_values(selector, label) so the
// label argument is not mistaken for a metric name. The selector may hold
// commas between its matchers: the label is after the last one.
var labelValuesCall = regexp.MustCompile(`label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)`)

// MetricNames returns the metric names (sorted, unique) referenced by a
// PromQL expression, or by a Grafana query that may contain template
// variables ($cluster, ${datasource}, $__rate_interval) and label_values().
//
// It is a small lexer, not a parser: it removes string literals, label
// matchers, range/subquery brackets and grouping label lists, then keeps the
// identifiers that are neither keywords nor function calls. That is enough
// for the expressions we write and keeps promql (and its huge dependency
// tree) out of the tools module.
func MetricNames(expr string) []string {
	s := labelValuesCall.ReplaceAllString(expr, "($1)")
	s = stripDelimited(s)
	s = groupingClause.ReplaceAllString(s, " ")
	seen := map[string]bool{}
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == '$':
			// A template variable outside brackets ($__range etc.): skip it.
			i++
			for i < len(s) && (isIdentChar(s[i]) || s[i] == '{' || s[i] == '}') {
				i++
			}
		case isDigit(ch) || (ch == '.' && i+1 < len(s) && isDigit(s[i+1])):
			// Numbers, including 1e3, 0x1f and durations like 26h.
			for i < len(s) && (isIdentChar(s[i]) || s[i] == '.') {
				i++
			}
		case isIdentStart(ch):
			start := i
			for i < len(s) && isIdentChar(s[i]) {
				i++
			}
			word := s[start:i]
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r') {
				j++
			}
			if j < len(s) && s[j] == '(' {
				continue // function or aggregation
			}
			if promqlKeywords[strings.ToLower(word)] {
				continue
			}
			seen[word] = true
		default:
			i++
		}
	}
	return append([]string{}, slices.Sorted(maps.Keys(seen))...) // an expression without metrics names none, not nil
}

// stripDelimited removes string literals and the contents of {...} and
// [...], keeping the delimiters so tokens stay separated.
func stripDelimited(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '"', '\'', '`':
			i++
			for i < len(s) && s[i] != ch {
				if s[i] == '\\' && ch != '`' {
					i++
				}
				i++
			}
			b.WriteString(`""`)
		case '{', '[':
			closing := byte('}')
			if ch == '[' {
				closing = ']'
			}
			// Grafana's ${var} inside a selector never nests a '}' before the
			// selector's own closing brace in our queries; strings inside
			// matchers are skipped so "a}b" cannot end the matcher early.
			for i++; i < len(s) && s[i] != closing; i++ {
				if s[i] == '"' || s[i] == '\'' {
					q := s[i]
					for i++; i < len(s) && s[i] != q; i++ {
						if s[i] == '\\' {
							i++
						}
					}
				}
			}
			b.WriteByte(ch)
			b.WriteByte(closing)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c == ':' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) }
