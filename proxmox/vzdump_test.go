package proxmox

import (
	"strings"
	"testing"
	"time"
)

func TestParseVzdumpNameFormats(t *testing.T) {
	for name, format := range map[string]string{
		"vzdump-qemu-100-2024_01_15-02_00_03.vma":     "vma",
		"vzdump-qemu-100-2024_01_15-02_00_03.vma.lzo": "vma.lzo",
		"vzdump-lxc-100-2024_01_15-02_00_03.tar.gz":   "tar.gz",
		"vzdump-lxc-100-2024_01_15-02_00_03.tar.bz2":  "tar.bz2",
		"vzdump-lxc-100-2024_01_15-02_00_03.tgz":      "tgz",
	} {
		n, err := ParseVzdumpName(name)
		if err != nil || n.Format != format || n.VMID != "100" || !n.HasTime ||
			n.Time != time.Date(2024, 1, 15, 2, 0, 3, 0, time.UTC).Unix() {
			t.Errorf("%s: %+v %v", name, n, err)
		}
	}
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
		// A time is only read from a real stamp: written back, it is
		// the name's text before the extension.
		if stamp := time.Unix(n.Time, 0).UTC().Format("2006_01_02-15_04_05"); n.HasTime && !strings.Contains(name, "-"+stamp+"."+n.Format) {
			t.Fatalf("time %s read from %q", stamp, name)
		}
	})
}

// TestParseVzdumpNameStamps: only a stamp that names a moment gives the
// archive a time; the name parses either way.
func TestParseVzdumpNameStamps(t *testing.T) {
	for stamp, want := range map[string]bool{
		"2024_02_29-23_59_59": true, // leap day
		"2023_02_29-00_00_00": false,
		"2024_04_31-00_00_00": false,
		"2024_12_31-00_00_00": true,
		"2024_13_01-00_00_00": false,
		"2024_00_10-00_00_00": false,
		"2024_01_00-00_00_00": false,
		"2024_01_01-24_00_00": false,
		"2024_01_01-00_60_00": false,
		"2024_01_01-00_00_60": false,
		"2024_1_01-00_00_000": false,
		"2024-01-01-00_00_00": false,
	} {
		n, err := ParseVzdumpName("vzdump-qemu-100-" + stamp + ".vma")
		if err != nil || n.HasTime != want {
			t.Errorf("%s: %+v %v, want time %v", stamp, n, err, want)
		}
	}
}
