package dedup

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Fuzz targets for the strings dedup itself reads (issue 8: every string
// parser): PVE tag strings and a backup job's VMID selection. The parsers
// of Proxmox formats are fuzzed in package proxmox, beside them.

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
