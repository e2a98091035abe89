package proxmox

import (
	"regexp"
	"strings"
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
		want    BackupVolumeID
		wantErr bool
	}{
		{volid: "pbs-main:backup/vm/101/2024-01-15T01:00:05Z", want: BackupVolumeID{Storage: "pbs-main", Style: StylePBS, BackupType: "vm", BackupID: "101", Time: 1705280405, HasTime: true}},
		{volid: "datastore:backup/vm/931/2023-12-14T04:34:34Z", want: BackupVolumeID{Storage: "datastore", Style: StylePBS, BackupType: "vm", BackupID: "931", Time: 1702528474, HasTime: true}},
		{volid: "pbs:backup/ct/105/2024-01-15T01:03:12Z", want: BackupVolumeID{Storage: "pbs", Style: StylePBS, BackupType: "ct", BackupID: "105", Time: utc("2024-01-15T01:03:12Z"), HasTime: true}},
		{volid: "nfs-backup:backup/vzdump-lxc-105-2024_01_15-02_04_41.tar.zst", want: BackupVolumeID{Storage: "nfs-backup", Style: StyleVzdump, BackupType: "ct", BackupID: "105", Time: utc("2024-01-15T02:04:41Z"), HasTime: true}},
		{volid: "local:backup/vzdump-qemu-101-2024_01_14-02_00_02.vma.zst", want: BackupVolumeID{Storage: "local", Style: StyleVzdump, BackupType: "vm", BackupID: "101", Time: utc("2024-01-14T02:00:02Z"), HasTime: true}},
		{volid: "old:backup/vzdump-openvz-104-2012_05_01-00_00_00.tgz", want: BackupVolumeID{Storage: "old", Style: StyleVzdump, BackupType: "ct", BackupID: "104", Time: utc("2012-05-01T00:00:00Z"), HasTime: true}},
		{volid: "nfs-backup:backup/vzdump-qemu-120-before-upgrade.vma.zst", want: BackupVolumeID{Storage: "nfs-backup", Style: StyleVzdump, BackupType: "vm", BackupID: "120"}},
		{volid: "xx:backup/vzdump-qemu-120-2024_02_30-00_00_00.vma", want: BackupVolumeID{Storage: "xx", Style: StyleVzdump, BackupType: "vm", BackupID: "120"}}, // not a date
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
			got.Vzdump = VzdumpName{}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

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

func FuzzParseVolumeID(f *testing.F) {
	for _, s := range []string{"local:backup/vzdump-qemu-100-2024_01_01-00_00_00.vma.zst", "nfs:iso/x.iso", "a:b", ":x", "a:", "1a:b", "a-:b", "a:b\nc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, volid string) {
		v, err := ParseVolumeID(volid)
		if err != nil {
			return
		}
		if v.Storage+":"+v.Volume != volid || v.Volume == "" || !storageIDRe.MatchString(v.Storage) {
			t.Fatalf("%q -> %+v", volid, v)
		}
	})
}

func FuzzParsePBSBackupPath(f *testing.F) {
	for _, s := range []string{"vm/100/2024-01-15T01:00:05Z", "backup/ct/101/2024-01-15T01:00:05Z", "host/pbs1/2024-02-29T23:59:59Z",
		"vm/100/2024-13-15T01:00:05Z", "vm//2024-01-15T01:00:05Z", "vm/1/2/3", "qemu/100/2024-01-15T01:00:05Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		b, err := ParsePBSBackupPath(p)
		if err != nil {
			return
		}
		if b.Style != StylePBS || !b.HasTime || !backupIDRe.MatchString(b.BackupID) ||
			(b.BackupType != BackupTypeVM && b.BackupType != BackupTypeCT && b.BackupType != BackupTypeHost) {
			t.Fatalf("%q -> %+v", p, b)
		}
		// The path names exactly what was parsed.
		if !strings.HasSuffix(p, b.BackupType+"/"+b.BackupID+"/"+strings.Split(p, "/")[len(strings.Split(p, "/"))-1]) {
			t.Fatalf("%q -> %+v", p, b)
		}
	})
}

// PVE's and PBS's own patterns for storage and backup ids
// (pve-storage parse_storage_id, PBS BACKUP_ID_REGEX): what the parsers
// accept must match them.
var (
	storageIDRe = regexp.MustCompile(`^(?i)[a-z][a-z0-9\-_.]*[a-z0-9]$`)
	backupIDRe  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._\-]*$`)
)
