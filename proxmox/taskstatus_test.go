package proxmox

import (
	"testing"
)

func TestClassifyTaskStatus(t *testing.T) {
	tests := []struct {
		in       string
		class    string
		warnings int
		success  bool
		wantErr  bool
	}{
		{"OK", TaskOK, 0, true, false},
		{"WARNINGS: 3", TaskWarning, 3, true, false},
		{"job errors", TaskError, 0, false, false},
		{"unexpected status", TaskError, 0, false, false},
		{"WARNINGS: x", TaskError, 0, false, false},
		{"RUNNING", TaskRunning, 0, false, false},
		{"running", TaskRunning, 0, false, false},
		{"unknown", TaskUnknown, 0, false, false},
		{"", "", 0, false, true},
	}
	for _, tc := range tests {
		c, n, err := ClassifyTaskStatus(tc.in)
		if (err != nil) != tc.wantErr || c != tc.class || n != tc.warnings || TaskSucceeded(tc.in) != tc.success {
			t.Errorf("%q: %s %d %v success=%v", tc.in, c, n, err, TaskSucceeded(tc.in))
		}
	}
}

func FuzzClassifyTaskStatus(f *testing.F) {
	for _, s := range []string{"OK", "WARNINGS: 1", "job errors", "unexpected status", "RUNNING", "unknown", "", "WARNINGS: 99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, n, err := ClassifyTaskStatus(s)
		if err != nil {
			return
		}
		switch c {
		case TaskOK, TaskWarning, TaskError, TaskRunning, TaskUnknown:
		default:
			t.Fatalf("%q -> class %q", s, c)
		}
		if n < 0 || (n > 0 && c != TaskWarning) {
			t.Fatalf("%q -> %d warnings, class %s", s, n, c)
		}
	})
}
