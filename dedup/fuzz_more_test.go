package dedup

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Fuzz targets for the Proxmox strings parse_fuzz_test.go does not reach
// directly (issue 8: every Proxmox string parser): plain volume ids, PBS
// snapshot paths, PVE tag strings, and a backup job's VMID selection.

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

func FuzzSplitTags(f *testing.F) {
	for _, s := range []string{"prod;db", "b,a a;;", " ", "", "nobackup", "x\ty"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tags := SplitTags(s)
		if !slices.IsSorted(tags) || len(slices.Compact(slices.Clone(tags))) != len(tags) {
			t.Fatalf("%q -> %q: not sorted and distinct", s, tags)
		}
		for _, tag := range tags {
			if tag == "" || strings.ContainsAny(tag, ";, \t") || !strings.Contains(s, tag) {
				t.Fatalf("%q -> tag %q", s, tag)
			}
		}
	})
}

// FuzzJobSelects: whatever a job's vmid and exclude lists hold, selection
// never panics, a list naming the guest selects it (leading zeros and any
// separator allowed), and "all" minus a list naming it does not.
func FuzzJobSelects(f *testing.F) {
	f.Add("100,101", "", 100)
	f.Add("0100;7", "100", 100)
	f.Add(" 1 2\t3\n", "2", 2)
	f.Add("", "", 0)
	f.Fuzz(func(t *testing.T, list, exclude string, vmid int) {
		if !utf8.ValidString(list) || !utf8.ValidString(exclude) {
			return
		}
		guest := proxmox.ClusterResource{ID: "qemu/" + strconv.Itoa(vmid), Type: "qemu", VMID: proxmox.Int(vmid), Node: "n1"}
		JobSelects(proxmox.BackupJob{VMID: proxmox.String(list)}, guest)
		JobSelects(proxmox.BackupJob{All: true, Exclude: proxmox.String(exclude)}, guest)
		if vmid <= 0 {
			return
		}
		id := strconv.Itoa(vmid)
		if !JobSelects(proxmox.BackupJob{VMID: proxmox.String(list + ",00" + id + ";")}, guest) {
			t.Fatalf("vmid list %q with %s does not select guest %d", list, id, vmid)
		}
		if JobSelects(proxmox.BackupJob{All: true, Exclude: proxmox.String(exclude + " " + id)}, guest) {
			t.Fatalf("all minus %q with %s selects guest %d", exclude, id, vmid)
		}
	})
}
