package proxmox

import (
	"fmt"
	"strings"
	"time"
)

// VzdumpName is a parsed vzdump archive file name.
type VzdumpName struct {
	GuestType  string // qemu, lxc, openvz
	BackupType string // vm, ct
	VMID       string
	// HasTime is true when the name carries the standard
	// YYYY_MM_DD-HH_MM_SS stamp (node local time).
	HasTime                                bool
	Year, Month, Day, Hour, Minute, Second int
	// Format is the archive extension as PVE reports it: "vma.zst",
	// "tar.gz", "tgz", ...
	Format string
}

// WallClock returns the name's timestamp read as UTC (0 without one).
func (n VzdumpName) WallClock() int64 {
	if !n.HasTime {
		return 0
	}
	return time.Date(n.Year, time.Month(n.Month), n.Day, n.Hour, n.Minute, n.Second, 0, time.UTC).Unix()
}

// vzdumpExtensions are the archive extensions pve-storage's archive_info
// accepts, tgz|(tar|vma)(.(gz|lzo|zst|bz2))?, with their dot. No two of them
// can end one name, so the order of the list does not matter.
var vzdumpExtensions = []string{
	".tgz", ".tar", ".vma",
	".tar.gz", ".tar.lzo", ".tar.zst", ".tar.bz2",
	".vma.gz", ".vma.lzo", ".vma.zst", ".vma.bz2",
}

// ParseVzdumpName parses a vzdump archive file name (without directory),
// e.g. "vzdump-qemu-101-2024_01_15-02_00_03.vma.zst". As in pve-storage's
// archive_info, "vzdump-<type>-<vmid>-<anything>.<extension>": any text
// (but a line break) may stand between the VMID and the extension; only the
// standard stamp yields a time.
func ParseVzdumpName(name string) (VzdumpName, error) {
	bad := func(why string) (VzdumpName, error) {
		return VzdumpName{}, fmt.Errorf("%q %s", name, why)
	}
	rest, ok := strings.CutPrefix(name, "vzdump-")
	if !ok {
		return bad("is not a vzdump archive name")
	}
	guestType, rest, _ := strings.Cut(rest, "-")
	vmid, rest, _ := strings.Cut(rest, "-")
	if BackupTypeOfGuest(guestType) == "" || !allDigits(vmid) {
		return bad("is not a vzdump archive name")
	}
	var middle, ext string
	for _, e := range vzdumpExtensions {
		if len(rest) > len(e) && strings.HasSuffix(rest, e) {
			middle, ext = rest[:len(rest)-len(e)], e[1:]
			break
		}
	}
	if ext == "" || strings.IndexByte(middle, '\n') >= 0 {
		return bad("is not a vzdump archive name")
	}
	n := VzdumpName{GuestType: guestType, BackupType: BackupTypeOfGuest(guestType), VMID: strings.TrimLeft(vmid, "0"), Format: ext}
	if len(vmid) > 9 || n.VMID == "" {
		return bad("VMID out of range")
	}
	if v, ok := parseVzdumpStamp(middle); ok {
		n.HasTime = true
		n.Year, n.Month, n.Day, n.Hour, n.Minute, n.Second = v[0], v[1], v[2], v[3], v[4], v[5]
	}
	return n, nil
}

// parseVzdumpStamp reads vzdump's "YYYY_MM_DD-HH_MM_SS" stamp. A stamp that
// names no time (month 13, 30 February, 25 o'clock) is not one.
func parseVzdumpStamp(s string) (v [6]int, ok bool) {
	const layout = "dddd_dd_dd-dd_dd_dd"
	if len(s) != len(layout) {
		return v, false
	}
	field := 0
	for i := 0; i < len(layout); i++ {
		switch {
		case layout[i] != 'd':
			if s[i] != layout[i] {
				return v, false
			}
			field++
		case isDigit(s[i]):
			v[field] = v[field]*10 + int(s[i]-'0')
		default:
			return v, false
		}
	}
	t := time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], 0, time.UTC)
	return v, t.Year() == v[0] && int(t.Month()) == v[1] && t.Day() == v[2] &&
		t.Hour() == v[3] && t.Minute() == v[4] && t.Second() == v[5]
}
