package config

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var (
	credentialRe = regexp.MustCompile(`\$\{CREDENTIALS_DIRECTORY\}/([A-Za-z0-9._-]+)`)
	caFileRe     = regexp.MustCompile(`(?m)^\s*ca_file:\s*([A-Za-z0-9._/-]+)`)
)

// TestExamples loads every example config under examples/ the way a user
// would deploy it, so that the examples never rot: each is copied into a
// temporary directory next to a CA file for every relative ca_file it
// names, and CREDENTIALS_DIRECTORY (as systemd's LoadCredential= sets it)
// points at secret files with mode 0400 for every secret it names. It must
// load with no error and no warning.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/config*.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("expected the example configs under examples/, found %v", files)
	}
	ca, err := os.ReadFile("testdata/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			creds := t.TempDir()
			for _, m := range credentialRe.FindAllSubmatch(data, -1) {
				if err := os.WriteFile(filepath.Join(creds, string(m[1])), []byte("3f0c2a86-1b2d-4c5e-9f00-"+string(m[1])+"\n"), 0o400); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("CREDENTIALS_DIRECTORY", creds)
			dir := t.TempDir()
			for _, m := range caFileRe.FindAllSubmatch(data, -1) {
				if filepath.IsAbs(string(m[1])) {
					t.Errorf("example names an absolute ca_file %s; use a path relative to the config", m[1])
					continue
				}
				if err := os.WriteFile(filepath.Join(dir, string(m[1])), ca, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, "config.yml")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, warnings, err := Load(path)
			if err != nil {
				t.Fatalf("%s does not load:\n%v", f, err)
			}
			for _, w := range warnings {
				t.Errorf("%s: warning: %s", f, w)
			}
			// Every estate (the top-level one, or each of the estates
			// list) shows both kinds of target.
			for _, name := range cfg.EstateNames() {
				e, _ := cfg.Estate(name)
				if len(e.PVE) == 0 || len(e.PBS) == 0 {
					t.Errorf("%s: estate %s: want pve and pbs targets, got %d and %d", f, name, len(e.PVE), len(e.PBS))
				}
				for _, tg := range append(e.PVE, e.PBS...) {
					if tg.TokenSecret.Reveal() == "" {
						t.Errorf("%s: estate %s: target %q has no secret", f, name, tg.Name)
					}
				}
			}
			if len(cfg.EstateNames()) == 0 {
				t.Errorf("%s: no estate", f)
			}
		})
	}
}
