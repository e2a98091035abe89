//go:build e2e && !linux

package main

import "os/exec"

// killWithParent has no portable equivalent of Linux's Pdeathsig; the
// test's cleanups kill the servers.
func killWithParent(*exec.Cmd) {}
