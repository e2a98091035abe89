package proxmox

import (
	"testing"
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
		if err != nil || n.Format != format || n.VMID != "100" || !n.HasTime || n.Hour != 2 {
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
		if n.HasTime && (n.Month < 1 || n.Month > 12 || n.Day < 1 || n.Day > 31 || n.Hour > 23) {
			t.Fatalf("impossible stamp in %q: %+v", name, n)
		}
	})
}
