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
	// YYYY_MM_DD-HH_MM_SS stamp (node local time). Time is that stamp read
	// as UTC, in epoch seconds, because the node's time zone is unknown.
	HasTime bool
	Time    int64
	// Format is the archive extension as PVE reports it: "vma.zst",
	// "tar.gz", "tgz", ...
	Format string
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
	n.Time, n.HasTime = parseVzdumpStamp(middle)
	return n, nil
}

// parseVzdumpStamp reads vzdump's "YYYY_MM_DD-HH_MM_SS" stamp as UTC. A
// stamp that names no time (month 13, 30 February, 25 o'clock) is not one.
// The fields are checked before time.Date, which would normalise them:
// Merge reads the stamp of every vzdump file on every scrape.
func parseVzdumpStamp(s string) (unix int64, ok bool) {
	const layout = "dddd_dd_dd-dd_dd_dd"
	if len(s) != len(layout) {
		return 0, false
	}
	var v [6]int
	field := 0
	for i := 0; i < len(layout); i++ {
		switch {
		case layout[i] != 'd':
			if s[i] != layout[i] {
				return 0, false
			}
			field++
		case isDigit(s[i]):
			v[field] = v[field]*10 + int(s[i]-'0')
		default:
			return 0, false
		}
	}
	year, month, day := v[0], time.Month(v[1]), v[2]
	if month < time.January || month > time.December || day < 1 || day > daysIn(year, month) || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return 0, false
	}
	return time.Date(year, month, day, v[3], v[4], v[5], 0, time.UTC).Unix(), true
}

// daysIn returns the number of days of a month (Gregorian calendar).
func daysIn(year int, month time.Month) int {
	// Day 0 of the next month is the last day of this one.
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
