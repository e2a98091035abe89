package config

import (
	"errors"
	"strings"
	"testing"
)

// TestSyntaxErrorLines: a YAML syntax error names the line to fix, not
// the line where the enclosing block starts (yaml.v3's context line, 0- or
// 1-based depending on the error).
func TestSyntaxErrorLines(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		line       int
		problem    string
	}{
		{"bad indent in a list item", "pve:\n  - name: a\n   urls: [x]\n", 3, "did not find expected '-' indicator"},
		{"tab in indentation", "pve:\n  - name: a\n    urls:\n      - x\n\ttoken_id: y\n", 5, "found a tab character that violates indentation"},
		{"tab on the first line", "\tpve: 1\n", 1, "found character that cannot start any token"},
		{"bad indent in a nested mapping", "pve:\n  - name: a\n    tls:\n      ca_file: x\n     fingerprint: y\n", 5, "did not find expected key"},
		{"unclosed bracket", "pbs: []\npve:\n- name: a\n  urls: [x\n  token_id: y\n", 4, "did not find expected ',' or ']'"},
		{"unterminated quote", "pve:\n  - name: a\n    token_id: \"abc\n", 3, "found unexpected end of stream"},
		{"colon in a plain value", "pve:\n  - name: a\n    urls: x: y\n", 3, "mapping values are not allowed in this context"},
		{"missing colon", "pve:\n  - name: a\n  bad\n", 3, "could not find expected ':'"},
		{"reserved character", "pve: []\npbs: @x\n", 2, "found character that cannot start any token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tc.yaml), "config.yml")
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("want one error, got %v", err)
			}
			if es[0].Line != tc.line || !strings.Contains(es[0].Message, tc.problem) {
				t.Errorf("got %q, want line %d: %s", es[0].Error(), tc.line, tc.problem)
			}
		})
	}
}

// TestSyntaxErrorLineDeepInAFile: the line is right however far the
// problem lies below the block the library names.
func TestSyntaxErrorLineDeepInAFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("pve:\n")
	for range 500 {
		b.WriteString("  - name: a\n    urls: [https://pve1:8006]\n")
	}
	b.WriteString("   token_id: x\n")
	_, _, err := Parse([]byte(b.String()), "config.yml")
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Line != 1002 {
		t.Errorf("got %v, want an error on line 1002", err)
	}
}
