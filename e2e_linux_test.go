//go:build e2e && linux

package main

import (
	"os/exec"
	"syscall"
)

// killWithParent makes the kernel kill the server if the test binary dies
// without running its cleanups (a go test -timeout panic, a signal), so no
// Prometheus or Alertmanager outlives it.
func killWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
