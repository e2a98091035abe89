package dedup

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz tests for every parser of Proxmox strings. Seeds come from the
// Proxmox API samples in proxmox/testdata/samples. They check that parsers never
// panic and that what they accept is consistent; CI runs each briefly with
// -fuzz (see the Makefile), plain `go test` runs the seeds.

func FuzzParseBackupVolumeID(f *testing.F) {
	for _, s := range []string{
		"pbs-main:backup/ct/105/2024-01-15T01:03:12Z",
		"datastore:backup/vm/931/2023-12-14T04:34:34Z",
		"nfs-backup:backup/vzdump-lxc-105-2024_01_15-02_04_41.tar.zst",
		"nfs-backup:backup/vzdump-qemu-120-before-upgrade.vma.zst",
		"local:backup/vzdump-openvz-104-2012_05_01-00_00_00.tgz",
		"local:iso/debian.iso", "", ":", "a:backup/", "ab:backup/vm//",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, volid string) {
		b, err := ParseBackupVolumeID(volid)
		if err != nil {
			return
		}
		if b.BackupType == "" || b.BackupID == "" || !strings.HasPrefix(volid, b.Storage+":backup/") {
			t.Fatalf("accepted %q as %+v", volid, b)
		}
		if b.Style == StylePBS {
			// A PBS volume round-trips.
			again, err := ParsePBSBackupPath(strings.TrimPrefix(volid, b.Storage+":"))
			if err != nil || again.Time != b.Time || again.BackupID != b.BackupID {
				t.Fatalf("round trip of %q: %+v %v", volid, again, err)
			}
		}
	})
}

func FuzzParseVzdumpName(f *testing.F) {
	for _, s := range []string{
		"vzdump-qemu-101-2024_01_14-02_00_02.vma.zst", "vzdump-lxc-105-2024_01_15-02_04_41.tar.zst",
		"vzdump-openvz-1-2010_01_01-00_00_00.tgz", "vzdump-qemu-120-before-upgrade.vma.zst",
		"vzdump-qemu-100-2024_13_40-25_61_61.vma", "vzdump-qemu-0-x.vma", "vzdump-qemu--.vma",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, err := ParseVzdumpName(name)
		if err != nil {
			return
		}
		if n.BackupType != "vm" && n.BackupType != "ct" || n.VMID == "" || n.VMID[0] == '0' || len(n.VMID) > 9 {
			t.Fatalf("accepted %q as %+v", name, n)
		}
		if n.HasTime && (n.Month < 1 || n.Month > 12 || n.Day < 1 || n.Day > 31 || n.Hour > 23) {
			t.Fatalf("impossible stamp in %q: %+v", name, n)
		}
	})
}

func FuzzParseUPID(f *testing.F) {
	for _, s := range []string{
		"UPID:pve1:0013D68F:0A1B2C3D:65A48840:vzdump:101:exporter@pve!mon:",
		"UPID:pve1:0012D687:0A1B2C3D:65A48393:vzdump::root@pam:",
		"UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:",
		"UPID:proxmox2:000D7AA2:08D5A17C:63DF62A5:vzclone:200:root@pam!api_token:",
		`UPID:pbs1:000003E8:0000A1B2:00000005:65A48395:backup:main\x3avm-101:pve-backup@pbs!pve:`,
		`UPID:pbs1:000003E8:0000A1B2:00000006:65A489D0:syncjob:offsite\x3amain\x3amain\x3a\x3as\x2d6c1e2f3a\x2d77b0:root@pam:`,
		`UPID:golem:000030B1:000082AF:0000000F:6AC223A0:verificationjob:erebor\x3aweekly:root@pam:`,
		`UPID:pbs:00000243:0000025C:0000063A:685C1D00:garbage_collection:proxmox\x2dbackups:root@pam:`,
		"UPID:", "UPID:a:b:c:d:e:f:g:h:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUPID(s)
		if err != nil {
			return
		}
		if u.Product != "pve" && u.Product != "pbs" || u.Node == "" || u.Type == "" || u.User == "" || u.StartTime < 0 {
			t.Fatalf("accepted %q as %+v", s, u)
		}
	})
}

func FuzzUnescapeSystemd(f *testing.F) {
	for _, s := range []string{`main\x3avm-101`, `a\x2db`, `\x`, `\x4`, `\xzz`, `---`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := UnescapeSystemd(s)
		if err == nil && len(out) > len(s) {
			t.Fatalf("unescaping %q grew it to %q", s, out)
		}
	})
}

func FuzzCanonicalFingerprint(f *testing.F) {
	for _, s := range []string{fpPBS1, fpPBS2, strings.ToLower(strings.ReplaceAll(fpPBS1, ":", "")), "", "zz", "94:FD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fp, err := CanonicalFingerprint(s)
		if err != nil {
			return
		}
		if len(fp) != 64 || strings.ToLower(fp) != fp {
			t.Fatalf("%q -> %q", s, fp)
		}
		// Idempotent.
		if again, err := CanonicalFingerprint(fp); err != nil || again != fp {
			t.Fatalf("not idempotent: %q -> %q", fp, again)
		}
	})
}

func FuzzParseMaintenance(f *testing.F) {
	for _, s := range []string{"type=read-only,message=disk%20swap", "type=unmount", "offline", "", "type=", "message=%", ",,", "type=a,type=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMaintenance(s)
		if err != nil {
			return
		}
		if s != "" && m.Type == "" {
			t.Fatalf("accepted %q without a type", s)
		}
	})
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
	})
}

func FuzzShortestInterval(f *testing.F) {
	for _, s := range []string{
		"daily", "hourly", "weekly", "monthly", "21:00", "21:04", "06,18:30", "mon..fri 22:30", "sat 03:00",
		"sat 15:00", "sun 03:00", "fri 09:00", "*/6:00", "*:0/15", "sun 01:00", "0/15", "8..17/3:00",
		"*-*-01 00:00", "2024..2025-01-01", "sat..mon", "", "*:*:*", "mon,,", "1..",
		"1970..9999-*-* *:*:*", "sun 1970..9999-02-29", "*:*:0/1", // adversarial: see testdata/fuzz/FuzzShortestInterval
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Past the length limit every input takes the same path (rejected
		// before parsing; TestShortestIntervalErrors covers huge ones), and
		// the fuzzer's minimization of an "interesting" input is quadratic
		// in its length: a 1.3 KB one kept both workers minimizing, not
		// fuzzing, for most of a run, and made the run end inside a
		// minimization ("context deadline exceeded").
		if !utf8.ValidString(s) || len(s) > maxScheduleLen+8 {
			return
		}
		v, err := ShortestInterval(s)
		if err == nil && (v < 1 || v > 231*366*day) { // years are walked within 1970..2199
			t.Fatalf("%q -> %d s", s, v)
		}
		// Errors quote at most the bounded schedule text, whatever the input.
		if err != nil && len(err.Error()) > maxScheduleErrorLen {
			t.Fatalf("%.40q: error of %d bytes", s, len(err.Error()))
		}
	})
}
