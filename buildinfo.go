package main

import (
	"runtime/debug"

	"github.com/prometheus/common/version"
)

// fillVersion gives prometheus/common/version a version when no -ldflags
// set one (go run, go install, a plain go build), so that the landing page,
// --version and proxmox_backup_exporter_build_info never show an empty
// one. The Makefile's -ldflags win. The revision needs nothing:
// version.GetRevision already falls back to the build's VCS revision.
func fillVersion() {
	if version.Version != "" {
		return
	}
	bi, _ := debug.ReadBuildInfo()
	version.Version = versionOf(bi)
}

// versionOf is the module version the go command stamped into the binary
// (go install m@v1.2.3, or a go build in a VCS checkout, Go 1.24 and
// later), or "devel" when there is none (go run, a build outside VCS).
func versionOf(bi *debug.BuildInfo) string {
	if bi == nil || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return "devel"
	}
	return bi.Main.Version
}
