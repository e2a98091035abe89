package dedup

import (
	"errors"
	"testing"
	"time"
)

func TestParseBackupVolumeID(t *testing.T) {
	utc := func(s string) int64 {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.Unix()
	}
	tests := []struct {
		volid   string
		want    BackupVolume
		wantErr bool
	}{
		{volid: "pbs-main:backup/vm/101/2024-01-15T01:00:05Z", want: BackupVolume{Storage: "pbs-main", Style: StylePBS, BackupType: "vm", BackupID: "101", Time: 1705280405, HasTime: true}},
		{volid: "datastore:backup/vm/931/2023-12-14T04:34:34Z", want: BackupVolume{Storage: "datastore", Style: StylePBS, BackupType: "vm", BackupID: "931", Time: 1702528474, HasTime: true}},
		{volid: "pbs:backup/ct/105/2024-01-15T01:03:12Z", want: BackupVolume{Storage: "pbs", Style: StylePBS, BackupType: "ct", BackupID: "105", Time: utc("2024-01-15T01:03:12Z"), HasTime: true}},
		{volid: "nfs-backup:backup/vzdump-lxc-105-2024_01_15-02_04_41.tar.zst", want: BackupVolume{Storage: "nfs-backup", Style: StyleVzdump, BackupType: "ct", BackupID: "105", Time: utc("2024-01-15T02:04:41Z"), HasTime: true}},
		{volid: "local:backup/vzdump-qemu-101-2024_01_14-02_00_02.vma.zst", want: BackupVolume{Storage: "local", Style: StyleVzdump, BackupType: "vm", BackupID: "101", Time: utc("2024-01-14T02:00:02Z"), HasTime: true}},
		{volid: "old:backup/vzdump-openvz-104-2012_05_01-00_00_00.tgz", want: BackupVolume{Storage: "old", Style: StyleVzdump, BackupType: "ct", BackupID: "104", Time: utc("2012-05-01T00:00:00Z"), HasTime: true}},
		{volid: "nfs-backup:backup/vzdump-qemu-120-before-upgrade.vma.zst", want: BackupVolume{Storage: "nfs-backup", Style: StyleVzdump, BackupType: "vm", BackupID: "120"}},
		{volid: "xx:backup/vzdump-qemu-120-2024_02_30-00_00_00.vma", want: BackupVolume{Storage: "xx", Style: StyleVzdump, BackupType: "vm", BackupID: "120"}}, // not a date
		{volid: "local:iso/debian.iso", wantErr: true},
		{volid: "no-storage-prefix", wantErr: true},
		{volid: ":backup/vm/1/2024-01-15T01:00:05Z", wantErr: true},
		{volid: "9bad:backup/vm/1/2024-01-15T01:00:05Z", wantErr: true},
		{volid: "pp:backup/qemu/1/2024-01-15T01:00:05Z", wantErr: true},
		{volid: "pp:backup/vm/1/2024-01-15 01:00:05", wantErr: true},
		{volid: "pp:backup/vm/1", wantErr: true},
		{volid: "ll:backup/vzdump-qemu-100-2024_01_15-02_00_03.vma.xz", wantErr: true},
		{volid: "ll:backup/vzdump-qemu-1234567890-2024_01_15-02_00_03.vma", wantErr: true},
		{volid: "ll:backup/vzdump-qemu-100-2024_01_15-02_00_03.dat", wantErr: true}, // vzdump's temporary name
	}
	for _, tc := range tests {
		t.Run(tc.volid, func(t *testing.T) {
			got, err := ParseBackupVolumeID(tc.volid)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			got.Vzdump = nil
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseVzdumpNameFormats(t *testing.T) {
	for name, format := range map[string]string{
		"vzdump-qemu-100-2024_01_15-02_00_03.vma":     "vma",
		"vzdump-qemu-100-2024_01_15-02_00_03.vma.lzo": "vma.lzo",
		"vzdump-lxc-100-2024_01_15-02_00_03.tar.gz":   "tar.gz",
		"vzdump-lxc-100-2024_01_15-02_00_03.tar.bz2":  "tar.bz2",
		"vzdump-lxc-100-2024_01_15-02_00_03.tgz":      "tgz",
	} {
		n, err := ParseVzdumpName(name)
		if err != nil || n.Format != format || n.VMID != "100" || !n.HasTime || n.Hour != 2 {
			t.Errorf("%s: %+v %v", name, n, err)
		}
	}
}

func TestParseUPID(t *testing.T) {
	tests := []struct {
		in      string
		want    UPID
		wantErr bool
	}{
		{in: "UPID:pve1:0013D68F:0A1B2C3D:65A48840:vzdump:101:exporter@pve!mon:", want: UPID{Product: "pve", Node: "pve1", PID: 0x13D68F, PStart: 0x0A1B2C3D, StartTime: 0x65A48840, Type: "vzdump", ID: "101", User: "exporter@pve!mon"}},
		{in: "UPID:pve1:0012D687:0A1B2C3D:65A48393:vzdump::root@pam:", want: UPID{Product: "pve", Node: "pve1", PID: 0x12D687, PStart: 0x0A1B2C3D, StartTime: 0x65A48393, Type: "vzdump", User: "root@pam"}},
		{in: `UPID:pbs1:000003E8:0000A1B2:00000005:65A48395:backup:main\x3avm-101:pve-backup@pbs!pve:`, want: UPID{Product: "pbs", Node: "pbs1", PID: 1000, PStart: 0xA1B2, TaskID: 5, StartTime: 0x65A48395, Type: "backup", ID: "main:vm/101", User: "pve-backup@pbs!pve"}},
		{in: `UPID:pbs1:000003E8:0000A1B2:00000004:65A48840:verificationjob:main\x3av\x2d3f2a1b7c\x2d9d41:root@pam:`, want: UPID{Product: "pbs", Node: "pbs1", PID: 1000, PStart: 0xA1B2, TaskID: 4, StartTime: 0x65A48840, Type: "verificationjob", ID: "main:v-3f2a1b7c-9d41", User: "root@pam"}},
		{in: "UPID:pve1:0013D68F:0A1B2C3D:65A48840:vzdump:101:root@pam", wantErr: true},               // no trailing colon
		{in: "UPID:-bad:0013D68F:0A1B2C3D:65A48840:vzdump:101:root@pam:", wantErr: true},              // node
		{in: "UPID:pve1:13D68F:0A1B2C3D:65A48840:vzdump:101:root@pam:", wantErr: true},                // short pid
		{in: "UPID:pve1:0013D68F:0A1B2C3D:65A4884G:vzdump:101:root@pam:", wantErr: true},              // hex
		{in: "UPID:pve1:0013D68F:0A1B2C3D:65A48840::101:root@pam:", wantErr: true},                    // no type
		{in: `UPID:pbs1:000003E8:0000A1B2:00000005:65A48395:backup:main\x3:root@pam:`, wantErr: true}, // bad escape
		{in: "PID:pve1:0013D68F:0A1B2C3D:65A48840:vzdump:101:root@pam:", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseUPID(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestCanonicalFingerprint(t *testing.T) {
	want := "94fdace7d5360e115b230540d2a4e18ac15241010728c04dc5eedf7f7c03ab41"
	for _, in := range []string{fpPBS1, want, " 94:fd:ac:e7:d5:36:0e:11:5b:23:05:40:d2:a4:e1:8a:c1:52:41:01:07:28:c0:4d:c5:ee:df:7f:7c:03:ab:41 "} {
		if got, err := CanonicalFingerprint(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "94:FD", want + "00", "zz" + want[2:], "sha256:" + want} {
		if _, err := CanonicalFingerprint(bad); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

func TestParseMaintenance(t *testing.T) {
	tests := []struct {
		in      string
		want    Maintenance
		blocks  bool
		wantErr bool
	}{
		{in: "", want: Maintenance{}},
		{in: "type=read-only,message=disk%20swap", want: Maintenance{Type: "read-only", Message: "disk swap"}},
		{in: "type=unmount", want: Maintenance{Type: "unmount"}, blocks: true},
		{in: "offline", want: Maintenance{Type: "offline"}, blocks: true},
		{in: "message=m%2Cx,type=delete", want: Maintenance{Type: "delete", Message: "m,x"}, blocks: true},
		{in: "type=offline,future=1", want: Maintenance{Type: "offline"}, blocks: true},
		{in: "type=offline,type=read-only", wantErr: true},
		{in: "message=only", wantErr: true},
		{in: "type=read-only,message=%zz", wantErr: true},
		{in: "type=read-only,message=%2", wantErr: true},
		{in: "type=Bad Type", wantErr: true},
		{in: "type=offline,garbage", wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParseMaintenance(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && (got != tc.want || got.BlocksReads() != tc.blocks) {
			t.Errorf("%q: got %+v blocks=%v", tc.in, got, got.BlocksReads())
		}
	}
}

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

func TestParseTaskLogLine(t *testing.T) {
	tests := []struct {
		in   string
		want LogEvent
		err  error
	}{
		{"INFO: Starting Backup of VM 100 (lxc)", LogEvent{Kind: LogStart, VMID: "100", GuestType: "lxc"}, nil},
		{"INFO: Starting Backup of VM 101 (qemu)", LogEvent{Kind: LogStart, VMID: "101", GuestType: "qemu"}, nil},
		{"INFO: Finished Backup of VM 100 (00:00:03)", LogEvent{Kind: LogFinish, VMID: "100"}, nil},
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
