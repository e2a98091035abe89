package dedup

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The regular expressions the hand-written matchers of parse_fast.go
// implement: the specification they are checked against.
var (
	vzdumpRe      = regexp.MustCompile(`^vzdump-(qemu|lxc|openvz)-([0-9]+)-(.+)\.(tgz|(?:tar|vma)(?:\.(?:gz|lzo|zst|bz2))?)$`)
	vzdumpStampRe = regexp.MustCompile(`^([0-9]{4})_([0-9]{2})_([0-9]{2})-([0-9]{2})_([0-9]{2})_([0-9]{2})$`)
	logStartRe    = regexp.MustCompile(`(?:^|\s)INFO: Starting Backup of VM ([0-9]{1,9}) \((qemu|lxc|openvz)\)\s*$`)
	logFinishRe   = regexp.MustCompile(`(?:^|\s)INFO: Finished Backup of VM ([0-9]{1,9}) \([0-9:]+\)\s*$`)
	logFailRe     = regexp.MustCompile(`(?:^|\s)ERROR: Backup of VM ([0-9]{1,9}) failed - ?(.*)$`)
)

// sameAsRegexps fails t when a matcher disagrees with its regular
// expression on s.
func sameAsRegexps(t *testing.T, s string) {
	t.Helper()
	got := func(ok bool, parts ...string) []string {
		if !ok {
			return nil
		}
		return parts
	}
	want := func(m []string) []string {
		if m == nil {
			return nil
		}
		return m[1:]
	}
	check := func(name string, g, w []string) {
		t.Helper()
		if strings.Join(g, "\x00") != strings.Join(w, "\x00") || (g == nil) != (w == nil) {
			t.Fatalf("%s(%q) = %q, regexp says %q", name, s, g, w)
		}
	}
	typ, id, mid, ext, ok := matchVzdump(s)
	check("matchVzdump", got(ok, typ, id, mid, ext), want(vzdumpRe.FindStringSubmatch(s)))
	v, ok := matchStamp(s)
	var parts []string
	for _, n := range v {
		parts = append(parts, strconv.Itoa(n))
	}
	var wantStamp []string
	if m := vzdumpStampRe.FindStringSubmatch(s); m != nil {
		for _, p := range m[1:] {
			wantStamp = append(wantStamp, strconv.Itoa(atoiDigits(p)))
		}
	}
	check("matchStamp", got(ok, parts...), wantStamp)
	id, typ, ok = matchLogStart(s)
	check("matchLogStart", got(ok, id, typ), want(logStartRe.FindStringSubmatch(s)))
	id, ok = matchLogFinish(s)
	check("matchLogFinish", got(ok, id), want(logFinishRe.FindStringSubmatch(s)))
	id, reason, ok := matchLogFail(s)
	check("matchLogFail", got(ok, id, reason), want(logFailRe.FindStringSubmatch(s)))
	if g, w := validStorageID(s), storageIDRe.MatchString(s); g != w {
		t.Fatalf("validStorageID(%q) = %v, regexp says %v", s, g, w)
	}
}

func atoiDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// TestFastMatchersAgreeWithRegexps compares every matcher with its regular
// expression on hand-picked edge cases and on random mutations of real
// names and log lines.
func TestFastMatchersAgreeWithRegexps(t *testing.T) {
	seeds := []string{
		"vzdump-qemu-101-2024_01_14-02_00_02.vma.zst", "vzdump-lxc-105-2024_01_15-02_04_41.tar.zst",
		"vzdump-openvz-1-2010_01_01-00_00_00.tgz", "vzdump-qemu-120-before-upgrade.vma.zst",
		"vzdump-qemu-100-2024_13_40-25_61_61.vma", "vzdump-qemu-0-x.vma", "vzdump-qemu--.vma",
		"vzdump-qemu-1-x.tar.gz.vma", "vzdump-qemu-1-.tar", "vzdump-qemu-1-a.tar.", "vzdump-qemu-1-a\n.tar",
		"vzdump-qemu-1-a.tar\n", "vzdump-qemu-1-a.b.tar.lzo", "vzdump-qemu-1-a.tgz.gz", "vzdump-lxc-12-x.vma.bz2",
		"vzdump-qemu-1-2024_01_14-02_00_02.tar.zst.tar.zst", "vzdump-qemu-01x-a.vma",
		"2024_01_14-02_00_02", "2024_01_14-02_00_0", "2024_01_14-02_00_023", "2024-01-14-02_00_02",
		"INFO: Starting Backup of VM 100 (lxc)", "INFO: Finished Backup of VM 100 (00:00:03)",
		"ERROR: Backup of VM 101 failed - VM 101 qmp command 'backup' failed - got timeout",
		"INFO: Backup job finished with errors", "TASK ERROR: job errors", "",
		"xINFO: Starting Backup of VM 100 (lxc)", " INFO: Starting Backup of VM 100 (lxc)  \t",
		"INFO: Starting Backup of VM 1234567890 (qemu)", "INFO: Starting Backup of VM 123456789 (qemu)",
		"INFO: Starting Backup of VM 1 (qemu) INFO: Starting Backup of VM 2 (lxc)",
		"INFO: Starting Backup of VM 1 (qemu)x INFO: Starting Backup of VM 2 (lxc)",
		"INFO: Finished Backup of VM 7 ()", "INFO: Finished Backup of VM 7 (::)\n",
		"ERROR: Backup of VM 5 failed -", "ERROR: Backup of VM 5 failed -  two spaces ",
		"ERROR: Backup of VM 5 failed - a\nb", "ERROR: Backup of VM 5 failed - a\n ERROR: Backup of VM 6 failed - b",
		"ERROR: Backup of VM 5 failed-x", "\tERROR: Backup of VM 5 failed -x",
		"nfs-backup", "a", "ab", "a-", "A_b.C9", "9a", "a\u212a", "\u212ab", "\u017fx", "a b", "a:b",
	}
	for _, s := range seeds {
		sameAsRegexps(t, s)
	}
	// Random edits of the seeds hit the boundaries the regular
	// expressions care about (digits, separators, extensions, spaces).
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"0", "9", "_", "-", ".", ":", " ", "\t", "\n", "(", ")", "a", "x", "tar", "vma", "gz", "\u212a", "\xff"}
	for range 20000 {
		s := []byte(seeds[rng.IntN(len(seeds))])
		for range 1 + rng.IntN(3) {
			pos := 0
			if len(s) > 0 {
				pos = rng.IntN(len(s) + 1)
			}
			switch rng.IntN(3) {
			case 0: // insert
				s = append(s[:pos], append([]byte(alphabet[rng.IntN(len(alphabet))]), s[pos:]...)...)
			case 1: // delete
				if pos < len(s) {
					s = append(s[:pos], s[pos+1:]...)
				}
			case 2: // replace
				if pos < len(s) {
					s[pos] = alphabet[rng.IntN(len(alphabet))][0]
				}
			}
		}
		sameAsRegexps(t, string(s))
	}
}

// FuzzFastMatchers: the hand-written matchers agree with their regular
// expressions on any input.
func FuzzFastMatchers(f *testing.F) {
	for _, s := range []string{
		"vzdump-qemu-101-2024_01_14-02_00_02.vma.zst", "INFO: Starting Backup of VM 100 (lxc)",
		"INFO: Finished Backup of VM 100 (00:00:03)", "ERROR: Backup of VM 101 failed - x", "nfs-backup",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { sameAsRegexps(t, s) })
}
