package config

import (
	"strings"
	"testing"
)

// FuzzExpand: ${VAR} expansion never panics, leaves strings without "$"
// alone, expands a well-formed reference to the variable's value, and for
// secret values never quotes the value in an error (issue 8: a malformed
// reference inside a pasted secret must not print the secret).
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"${HOME}", "$${HOME}", "${", "${1X}", "a$b", "x${A}y${B}z", "${A", "$", "$$", "hunter2-${}-secret"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	env := map[string]string{"A": "alpha", "B": "", "HOME": "/root"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	f.Fuzz(func(t *testing.T, s string, secret bool) {
		got, err := expand(s, lookup, secret)
		if !strings.Contains(s, "$") && (err != nil || got != s) {
			t.Fatalf("%q without $ -> %q, %v", s, got, err)
		}
		if err != nil {
			if secret && len(s) >= 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("error %q quotes the secret value", err)
			}
			return
		}
		if strings.Count(s, "${A}") > 0 && !strings.Contains(s, "$${A}") && !strings.Contains(got, "alpha") {
			t.Fatalf("%q -> %q: ${A} not expanded", s, got)
		}
	})
}
