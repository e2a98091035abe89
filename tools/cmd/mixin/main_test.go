package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const mixinDir = "../../../mixins"

// Rendering takes a while under -race; tests that only read the default
// rendering share one.
var (
	defaultOnce  sync.Once
	defaultFiles map[string][]byte
	defaultErr   error
)

func defaultRendering(t *testing.T) map[string][]byte {
	t.Helper()
	defaultOnce.Do(func() { defaultFiles, defaultErr = Render(mixinDir, "") })
	if defaultErr != nil {
		t.Fatal(defaultErr)
	}
	return defaultFiles
}

// TestCommittedFilesUpToDate is the -check of CI, also run by go test: the
// committed rendering must equal a fresh one.
func TestCommittedFilesUpToDate(t *testing.T) {
	if err := run(mixinDir, "", "", true); err != nil {
		t.Fatal(err)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	a := defaultRendering(t)
	b, err := Render(mixinDir, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{AlertsFile, RulesFile,
		filepath.Join(DashboardsDir, "proxmox-backup-overview.json"),
		filepath.Join(DashboardsDir, "proxmox-backup-datastores.json"),
		filepath.Join(DashboardsDir, "proxmox-backup-sources.json"),
	} {
		if len(a[want]) == 0 {
			t.Errorf("%s not rendered", want)
		}
	}
	if len(a) != len(b) {
		t.Fatalf("renderings differ in file count: %d vs %d", len(a), len(b))
	}
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two renderings", name)
		}
	}
}

// TestCompareFindsDrift proves -check fails for each kind of drift.
func TestCompareFindsDrift(t *testing.T) {
	files := defaultRendering(t)
	overview := filepath.Join(DashboardsDir, "proxmox-backup-overview.json")
	tests := []struct {
		name   string
		mutate func(dir string) error
		want   string
	}{
		{"identical", func(string) error { return nil }, ""},
		{"hand-edited alert file", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, AlertsFile), append(files[AlertsFile], "# edit\n"...), 0o644)
		}, "differs"},
		{"changed dashboard", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, overview), bytes.Replace(files[overview], []byte(`"unit": "s"`), []byte(`"unit": "ms"`), 1), 0o644)
		}, "differs"},
		{"missing rules", func(dir string) error { return os.Remove(filepath.Join(dir, RulesFile)) }, "missing"},
		{"stale dashboard", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, DashboardsDir, "old.json"), []byte("{}\n"), 0o644)
		}, "not generated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, got := t.TempDir(), t.TempDir()
			if err := Write(want, files); err != nil {
				t.Fatal(err)
			}
			if err := Write(got, files); err != nil {
				t.Fatal(err)
			}
			if err := tt.mutate(got); err != nil {
				t.Fatal(err)
			}
			problems, err := Compare(want, got)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if len(problems) != 0 {
					t.Fatalf("unexpected problems: %q", problems)
				}
				return
			}
			if len(problems) != 1 || !strings.Contains(problems[0], tt.want) {
				t.Fatalf("want one problem containing %q, got %q", tt.want, problems)
			}
		})
	}
}

// TestWriteRemovesStaleDashboards: a renamed dashboard must not leave its
// old file behind (the -check would then fail forever).
func TestWriteRemovesStaleDashboards(t *testing.T) {
	files := defaultRendering(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, DashboardsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, DashboardsDir, "renamed.json")
	if err := os.WriteFile(stale, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale dashboard still there: %v", err)
	}
}

// TestConfigOverride: _config overrides reach the rendering (the e2e test
// relies on it for short `for` durations), and tags are regex-escaped.
func TestConfigOverride(t *testing.T) {
	files, err := Render(mixinDir, `{"guestNoBackupFor": "1m", "excludeTags": ["no.backup", "skip+me"], "proxmoxBackupSelector": "job=\"pbe\""}`)
	if err != nil {
		t.Fatal(err)
	}
	alerts := string(files[AlertsFile])
	for _, want := range []string{
		"for: 1m",
		`tags!~"(.*;)?(no\\.backup|skip\\+me)(;.*)?"`,
		`absent(up{job="pbe"})`,
	} {
		if !strings.Contains(alerts, want) {
			t.Errorf("rendering with overrides lacks %q", want)
		}
	}
	if strings.Contains(alerts, `job="proxmox-backup"`) {
		t.Error("selector override not applied everywhere in alerts")
	}
	for name, data := range files {
		if strings.HasPrefix(name, DashboardsDir) && bytes.Contains(data, []byte(`job=\"proxmox-backup\"`)) {
			t.Errorf("%s: selector override not applied", name)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	if _, err := Render(mixinDir, `[1]`); err == nil {
		t.Error("a non-object -config-json was accepted")
	}
	if _, err := Render(t.TempDir(), ""); err == nil {
		t.Error("a directory without mixin.libsonnet rendered")
	}
	if err := run(mixinDir, "", `{"a":1}`, true); err == nil {
		t.Error("-check with -config-json accepted")
	}
}
