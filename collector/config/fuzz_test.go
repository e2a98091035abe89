package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary documents to the loader, seeded with every file
// in testdata. Whatever the input, Parse must not panic, must return either
// a config or an Errors value, and a config it accepts must satisfy the
// invariants the collector relies on.
func FuzzParse(f *testing.F) {
	f.Setenv("TEST_PVE_SECRET", pveSecret)
	f.Setenv("TEST_PBS_SECRET", pbsSecret)
	f.Setenv("TEST_PVE2_SECRET", pve2Secret)
	f.Setenv("TEST_SECRETS", f.TempDir())
	files, err := filepath.Glob("testdata/*.yml")
	if err != nil {
		f.Fatal(err)
	}
	bad, _ := filepath.Glob("testdata/bad/*.yml")
	for _, p := range append(files, bad...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _, err := Parse(data, "fuzz.yml")
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error is not a non-empty Errors: %#v", err)
			}
			if cfg != nil {
				t.Fatalf("config returned with an error")
			}
			for _, e := range errs {
				if e.Source != "fuzz.yml" || e.Message == "" {
					t.Fatalf("malformed error %#v", e)
				}
			}
			return
		}
		if len(cfg.PVE)+len(cfg.PBS) == 0 {
			t.Fatalf("accepted a config without targets")
		}
		for _, list := range [][]Target{cfg.PVE, cfg.PBS} {
			for _, tg := range list {
				if len(tg.URLs) == 0 || !tokenIDRe.MatchString(tg.TokenID) || tg.TokenSecret == "" ||
					tg.MaxConcurrency < 1 || tg.MaxConcurrency > MaxMaxConcurrency {
					t.Fatalf("accepted an incomplete target: %+v", tg)
				}
			}
		}
		for _, tg := range cfg.PBS {
			if tg.Name == "" {
				t.Fatalf("accepted a pbs target without a name")
			}
		}
	})
}
