package main

import (
	"runtime/debug"
	"testing"

	"github.com/prometheus/common/version"
)

// TestVersionOf: the module version when the go command stamped one,
// "devel" when it did not, never empty.
func TestVersionOf(t *testing.T) {
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{nil, "devel"},
		{&debug.BuildInfo{}, "devel"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101000000-9fdb42d12345+dirty"}}, "v0.0.0-20260101000000-9fdb42d12345+dirty"},
	} {
		if got := versionOf(tc.bi); got != tc.want {
			t.Errorf("versionOf(%+v) = %q, want %q", tc.bi, got, tc.want)
		}
	}
}

// TestFillVersionKeepsLdflags: a version set by -ldflags (the Makefile's)
// is kept; an empty one is filled.
func TestFillVersionKeepsLdflags(t *testing.T) {
	old := version.Version
	t.Cleanup(func() { version.Version = old })
	version.Version = "1.2.3-ldflags"
	fillVersion()
	if version.Version != "1.2.3-ldflags" {
		t.Errorf("fillVersion replaced the -ldflags version with %q", version.Version)
	}
	version.Version = ""
	fillVersion()
	if version.Version == "" {
		t.Error("fillVersion left the version empty")
	}
}
