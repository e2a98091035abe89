package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
)

// TestMissingFileIsNotExist: the caller can tell a missing config file from
// a broken one (main then says how to pass one), and only then.
func TestMissingFileIsNotExist(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "missing.yml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, not fs.ErrNotExist", err)
	}
	_, _, err = Parse([]byte("pve: [\n"), "bad.yml")
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Parse(bad) = %v, want an error other than fs.ErrNotExist", err)
	}
}
