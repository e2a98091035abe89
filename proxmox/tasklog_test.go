package proxmox

import (
	"errors"
	"strings"
	"testing"
)

func TestParseTaskLogLine(t *testing.T) {
	tests := []struct {
		in   string
		want LogEvent
		err  error
	}{
		{"INFO: Starting Backup of VM 100 (lxc)", LogEvent{Kind: LogStart, VMID: "100", GuestType: "lxc"}, nil},
		{"INFO: Starting Backup of VM 101 (qemu)", LogEvent{Kind: LogStart, VMID: "101", GuestType: "qemu"}, nil},
		{"INFO: Finished Backup of VM 100 (00:00:03)", LogEvent{Kind: LogFinish, VMID: "100", Seconds: 3}, nil},
		{"INFO: Finished Backup of VM 100 (01:02:03)", LogEvent{Kind: LogFinish, VMID: "100", Seconds: 3723}, nil},
		// format_time lets hours pass 99.
		{"INFO: Finished Backup of VM 100 (123:04:05)", LogEvent{Kind: LogFinish, VMID: "100", Seconds: 123*3600 + 4*60 + 5}, nil},
		// Still a finished backup, but the duration is not format_time's.
		{"INFO: Finished Backup of VM 100 (1:2:3)", LogEvent{Kind: LogFinish, VMID: "100", Seconds: -1}, nil},
		{"INFO: Finished Backup of VM 100 (00:61:00)", LogEvent{Kind: LogFinish, VMID: "100", Seconds: -1}, nil},
		{"INFO: Finished Backup of VM 100 (0003)", LogEvent{Kind: LogFinish, VMID: "100", Seconds: -1}, nil},
		{"ERROR: Backup of VM 101 failed - VM 101 qmp command 'backup' failed - got timeout", LogEvent{Kind: LogFail, VMID: "101", Message: "VM 101 qmp command 'backup' failed - got timeout"}, nil},
		{"2024-01-15 02:00:05 INFO: Starting Backup of VM 7 (qemu)", LogEvent{Kind: LogStart, VMID: "7", GuestType: "qemu"}, nil},
		{"INFO: Backup job finished with errors", LogEvent{}, ErrNotGuestEvent},
		{"INFO: creating Proxmox Backup Server archive 'vm/101/2024-01-15T01:00:05Z'", LogEvent{}, ErrNotGuestEvent},
		{"TASK ERROR: job errors", LogEvent{}, ErrNotGuestEvent},
		{"INFO: Starting Backup of VM 100 (docker)", LogEvent{}, ErrNotGuestEvent},
	}
	for _, tc := range tests {
		got, err := ParseTaskLogLine(tc.in)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("%q: %+v %v", tc.in, got, err)
		}
	}
}

func FuzzParseTaskLogLine(f *testing.F) {
	for _, s := range []string{
		"INFO: Starting Backup of VM 100 (lxc)", "INFO: Finished Backup of VM 100 (00:00:03)",
		"ERROR: Backup of VM 101 failed - VM 101 qmp command 'backup' failed - got timeout",
		"INFO: Backup job finished with errors", "TASK ERROR: job errors", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ev, err := ParseTaskLogLine(s)
		if err != nil {
			return
		}
		if ev.VMID == "" || !strings.Contains(s, ev.VMID) {
			t.Fatalf("%q -> %+v", s, ev)
		}
		if ev.Kind == LogStart && ev.GuestType == "" {
			t.Fatalf("%q: start without guest type", s)
		}
		if ev.Seconds < -1 || (ev.Kind != LogFinish && ev.Seconds != 0) {
			t.Fatalf("%q: duration %d", s, ev.Seconds)
		}
	})
}
