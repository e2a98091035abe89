// Command mixin renders the proxmox-backup-exporter monitoring mixin
// (mixins/mixin.libsonnet) into the files users load without jsonnet:
// prometheus_alerts.yaml, prometheus_alerts_opt_in.yaml (every opt-in alert
// switched on), prometheus_rules.yaml and dashboards_out/*.json.
//
// Usage:
//
//	go run ./cmd/mixin [-out DIR] [-config-json JSON] MIXIN_DIR   # write
//	go run ./cmd/mixin -check MIXIN_DIR                            # CI: fail on drift
//
// -check renders into a temporary directory and compares it with the files
// committed in MIXIN_DIR, so a change to the jsonnet that was not rendered
// (or a hand edit of a generated file) fails CI.
//
// -config-json merges a JSON object into the mixin's _config, e.g. short
// `for` durations for an end-to-end test:
//
//	go run ./cmd/mixin -out /tmp/rules -config-json '{"guestNoBackupFor":"0s"}' ../mixins
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	check := flag.Bool("check", false, "render into a temporary directory and fail if the files in MIXIN_DIR differ")
	out := flag.String("out", "", "output directory (default: MIXIN_DIR)")
	configJSON := flag.String("config-json", "", "JSON object merged into the mixin's _config")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: mixin [-check] [-out DIR] [-config-json JSON] MIXIN_DIR\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out, *configJSON, *check); err != nil {
		fmt.Fprintln(os.Stderr, "mixin:", err)
		os.Exit(1)
	}
}

func run(mixinDir, out, configJSON string, check bool) error {
	if check && (out != "" || configJSON != "") {
		// The committed files are the defaults; comparing them with a
		// customised rendering would always fail.
		return fmt.Errorf("-check cannot be combined with -out or -config-json")
	}
	files, err := Render(mixinDir, configJSON)
	if err != nil {
		return err
	}
	if check {
		tmp, err := os.MkdirTemp("", "mixin-check-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if err := Write(tmp, files); err != nil {
			return err
		}
		problems, err := Compare(tmp, mixinDir)
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			for _, p := range problems {
				fmt.Fprintln(os.Stderr, p)
			}
			return fmt.Errorf("generated files in %s are out of date: run `cd tools && go run ./cmd/mixin ../mixins` and commit the result", mixinDir)
		}
		return nil
	}
	if out == "" {
		out = mixinDir
	}
	return Write(out, files)
}
