package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad input the testdata files cannot carry (issue 8): file modes and
// sizes are not preserved by git, so these secret files are made here.

// TestUnreadableSecretFile: a secret file the exporter's user may not read
// is an error naming key, line and the likely cause. Root reads any file,
// so as root (CI containers) only the wording is checked.
func TestUnreadableSecretFile(t *testing.T) {
	const want = "permission denied (check the owner and mode, and which user the exporter runs as)"
	if got := fileError(&fs.PathError{Op: "open", Path: "/x", Err: fs.ErrPermission}); got != want {
		t.Errorf("fileError(EACCES) = %q, want %q", got, want)
	}
	if os.Geteuid() == 0 {
		t.Log("running as root: every file is readable, the file case is skipped")
		return
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "locked.secret")
	if err := os.WriteFile(p, []byte("hunter2-locked\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	src := "pve:\n  - urls: [https://pve1.example.org:8006]\n    token_id: exporter@pve!backup\n    token_secret_file: " + p + "\n"
	_, _, err := Parse([]byte(src), "u.yml")
	if err == nil || err.Error() != "u.yml:4: pve[0].token_secret_file: cannot read "+p+": "+want {
		t.Errorf("error = %v", err)
	}
}

// TestOversizedSecretFile: a secret file far larger than any token secret
// (the wrong file, e.g. a key bundle) is refused without echoing it.
func TestOversizedSecretFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "huge.secret")
	if err := os.WriteFile(p, []byte(strings.Repeat("hunter2-", maxSecretBytes/8+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "pbs:\n  - name: pbs1\n    urls: [https://pbs.example.org:8007]\n    token_id: exporter@pbs!backup\n    token_secret_file: " + p + "\n"
	_, _, err := Parse([]byte(src), "h.yml")
	if err == nil || !strings.HasPrefix(err.Error(), "h.yml:5: pbs[0].token_secret_file: cannot read "+p) ||
		!strings.Contains(err.Error(), "larger than 65536 bytes") {
		t.Errorf("error = %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "hunter2") {
		t.Error("the error echoes the file's content")
	}
}

// TestWorldReadableSecretFileWarns: a secret file readable by others loads
// (Kubernetes secrets cannot always avoid it) with a warning naming key,
// line and mode, for every group/other permission bit.
func TestWorldReadableSecretFileWarns(t *testing.T) {
	for _, mode := range []os.FileMode{0o600, 0o400, 0o640, 0o604, 0o660, 0o644} {
		dir := t.TempDir()
		p := filepath.Join(dir, "s.secret")
		if err := os.WriteFile(p, []byte("hunter2-mode\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		src := "pve:\n  - urls: [https://pve1.example.org:8006]\n    token_id: exporter@pve!backup\n    token_secret_file: " + p + "\n"
		cfg, warnings, err := Parse([]byte(src), "m.yml")
		if err != nil || cfg.PVE[0].TokenSecret.Reveal() != "hunter2-mode" {
			t.Fatalf("mode %04o: %v", mode, err)
		}
		open := mode&0o077 != 0
		if open != (len(warnings) == 1) {
			t.Errorf("mode %04o: warnings %v", mode, warnings)
			continue
		}
		if open {
			if got := warnings[0].String(); !strings.HasPrefix(got, "m.yml:4: pve[0].token_secret_file: "+p+" is accessible by group or others") ||
				strings.Contains(got, "hunter2") {
				t.Errorf("mode %04o: warning %q", mode, got)
			}
		}
	}
}
