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
		// qemu-server's summary (VZDump/QemuServer.pm): render_bytes' units.
		{"INFO: transferred 32.00 GiB in 61 seconds (537.2 MiB/s)", LogEvent{Kind: LogTransferred, Bytes: 32 << 30}, nil},
		{"INFO: transferred 1.50 KiB in <1 seconds", LogEvent{Kind: LogTransferred, Bytes: 1536}, nil},
		{"INFO: transferred 512.00 B in 2 seconds (256.0 B/s)", LogEvent{Kind: LogTransferred, Bytes: 512}, nil},
		{"INFO: transferred 20.25 MiB in 3 seconds (6.8 MiB/s)", LogEvent{Kind: LogTransferred, Bytes: 20.25 * (1 << 20)}, nil},
		{"2024-01-15 02:00:35 INFO: transferred 1.23 TiB in 4000 seconds (322.4 MiB/s) ", LogEvent{Kind: LogTransferred, Bytes: 1352399302164}, nil},
		{"INFO: transferred 2.00 PiB in 9 seconds (227.6 TiB/s)", LogEvent{Kind: LogTransferred, Bytes: 2 << 50}, nil},
		// The rounded amount is read to the nearest byte.
		{"INFO: transferred 0.33 KiB in 1 seconds (0 B/s)", LogEvent{Kind: LogTransferred, Bytes: 338}, nil},
		// Not render_bytes' form, or not the summary.
		{"INFO: transferred 32 GiB in 61 seconds (537.2 MiB/s)", LogEvent{}, ErrNotGuestEvent},
		{"INFO: transferred 32.00 GB in 61 seconds (537.2 MiB/s)", LogEvent{}, ErrNotGuestEvent},
		{"INFO: transferred 32.000 GiB in 61 seconds (537.2 MiB/s)", LogEvent{}, ErrNotGuestEvent},
		{"INFO: transferred 32.00 GiB in 61s", LogEvent{}, ErrNotGuestEvent},
		{"INFO: transferred 32.00 GiB in 61 seconds (537.18 MiB/s)", LogEvent{}, ErrNotGuestEvent},
		{"INFO: transferred 0.00 B in <1 seconds", LogEvent{}, ErrNotGuestEvent},
		{"INFO: transferred 1.00 GiB of 2.00 GiB (50.00%) in 5s", LogEvent{}, ErrNotGuestEvent},
		{"INFO: first sync finished - transferred 1,234 bytes in 3s", LogEvent{}, ErrNotGuestEvent},
		{"XINFO: transferred 1.00 GiB in 1 seconds (1.0 GiB/s)", LogEvent{}, ErrNotGuestEvent},
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
		"INFO: transferred 32.00 GiB in 61 seconds (537.2 MiB/s)", "INFO: transferred 1.50 KiB in <1 seconds",
		"INFO: transferred 999999999.99 PiB in 1 seconds (0 B/s)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ev, err := ParseTaskLogLine(s)
		if err != nil {
			return
		}
		if ev.Kind == LogTransferred {
			// The line names no guest; its amount is stated and positive.
			if ev.VMID != "" || ev.Bytes <= 0 || !strings.Contains(s, "transferred ") {
				t.Fatalf("%q -> %+v", s, ev)
			}
			return
		}
		if ev.VMID == "" || !strings.Contains(s, ev.VMID) || ev.Bytes != 0 {
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

func TestGuestLogEvents(t *testing.T) {
	lines := []TaskLogLine{
		{N: 1, T: "INFO: starting new backup job: vzdump 100 101 102 --mode snapshot --storage pbs"},
		// Before any guest: nobody's amount.
		{N: 2, T: "INFO: transferred 9.00 GiB in 9 seconds (1.0 GiB/s)"},
		{N: 3, T: "INFO: Starting Backup of VM 100 (qemu)"},
		{N: 4, T: "INFO: transferred 32.00 GiB in 61 seconds (537.2 MiB/s)"},
		// One summary per backup: a second is not trusted.
		{N: 5, T: "INFO: transferred 1.00 GiB in 1 seconds (1.0 GiB/s)"},
		{N: 6, T: "INFO: Finished Backup of VM 100 (00:01:05)"},
		// Between guests: nobody's amount.
		{N: 7, T: "INFO: transferred 2.00 GiB in 2 seconds (1.0 GiB/s)"},
		{N: 8, T: "INFO: Starting Backup of VM 101 (lxc)"},
		{N: 9, T: "INFO: Finished Backup of VM 101 (00:00:10)"},
		{N: 12, T: "INFO: transferred 3.00 MiB in <1 seconds"},
		// Out of order in the slice, in order by N.
		{N: 11, T: "INFO: Starting Backup of VM 102 (qemu)"},
		{N: 13, T: "ERROR: Backup of VM 102 failed - interrupted by signal"},
	}
	got := GuestLogEvents(lines)
	want := []LogEvent{
		{Kind: LogStart, VMID: "100", GuestType: "qemu"},
		{Kind: LogTransferred, VMID: "100", Bytes: 32 << 30},
		{Kind: LogFinish, VMID: "100", Seconds: 65},
		{Kind: LogStart, VMID: "101", GuestType: "lxc"},
		{Kind: LogFinish, VMID: "101", Seconds: 10},
		{Kind: LogStart, VMID: "102", GuestType: "qemu"},
		{Kind: LogTransferred, VMID: "102", Bytes: 3 << 20},
		{Kind: LogFail, VMID: "102", Message: "interrupted by signal"},
	}
	sameEvents(t, got, want)
}

// A guest whose backup has no Finished line (the task was aborted) keeps
// the amount stated during its backup; a later guest's start ends it.
func TestGuestLogEventsNoFinish(t *testing.T) {
	got := GuestLogEvents([]TaskLogLine{
		{N: 1, T: "INFO: Starting Backup of VM 100 (qemu)"},
		{N: 2, T: "INFO: transferred 4.00 GiB in 8 seconds (512.0 MiB/s)"},
		{N: 3, T: "INFO: Starting Backup of VM 101 (qemu)"},
		{N: 4, T: "INFO: transferred 5.00 GiB in 8 seconds (640.0 MiB/s)"},
	})
	want := []LogEvent{
		{Kind: LogStart, VMID: "100", GuestType: "qemu"},
		{Kind: LogTransferred, VMID: "100", Bytes: 4 << 30},
		{Kind: LogStart, VMID: "101", GuestType: "qemu"},
		{Kind: LogTransferred, VMID: "101", Bytes: 5 << 30},
	}
	sameEvents(t, got, want)
}

func sameEvents(t *testing.T, got, want []LogEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
