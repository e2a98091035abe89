package dedup

// Hand-written matchers for the patterns that run once per volume and once
// per task log line on every scrape (10,000 vzdump files and 20,000 log
// lines in issue 5's benchmark estate). Each one answers exactly what the
// regular expression in its comment answers: those regular expressions are
// the specification, and parse_fast_test.go compares both on generated and
// fuzzed input. Regular expressions took most of Merge's time.

import "strings"

// isSpace is RE2's \s: [\t\n\f\r ].
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// validStorageID is storageIDRe.MatchString. Under (?i) the class [a-z]
// also matches the Kelvin sign and the long s, so non-ASCII input is left
// to the regular expression.
func validStorageID(s string) bool {
	if !isASCII(s) {
		return storageIDRe.MatchString(s)
	}
	if len(s) < 2 {
		return false
	}
	lower := func(c byte) byte { return c | 0x20 }
	if c := lower(s[0]); c < 'a' || c > 'z' {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		if l := lower(c); l >= 'a' && l <= 'z' || isDigit(c) || c == '-' || c == '_' || c == '.' {
			continue
		}
		return false
	}
	c := s[len(s)-1]
	l := lower(c)
	return l >= 'a' && l <= 'z' || isDigit(c)
}

// isVzdumpExtension reports whether s is one of vzdumpRe's extensions (a
// switch: cheaper than hashing into a map, twice per volume).
func isVzdumpExtension(s string) bool {
	switch s {
	case "tgz", "tar", "vma",
		"tar.gz", "tar.lzo", "tar.zst", "tar.bz2",
		"vma.gz", "vma.lzo", "vma.zst", "vma.bz2":
		return true
	}
	return false
}

// matchVzdump is vzdumpRe.FindStringSubmatch, where vzdumpRe (pve-storage
// archive_info) is
//
//	^vzdump-(qemu|lxc|openvz)-([0-9]+)-(.+)\.(tgz|(?:tar|vma)(?:\.(?:gz|lzo|zst|bz2))?)$
//
// It returns guest type, VMID digits, the text between VMID and extension,
// and the extension.
func matchVzdump(name string) (guestType, vmid, middle, ext string, ok bool) {
	rest, found := strings.CutPrefix(name, "vzdump-")
	if !found {
		return "", "", "", "", false
	}
	switch {
	case strings.HasPrefix(rest, "qemu-"):
		guestType, rest = "qemu", rest[len("qemu-"):]
	case strings.HasPrefix(rest, "lxc-"):
		guestType, rest = "lxc", rest[len("lxc-"):]
	case strings.HasPrefix(rest, "openvz-"):
		guestType, rest = "openvz", rest[len("openvz-"):]
	default:
		return "", "", "", "", false
	}
	i := 0
	for i < len(rest) && isDigit(rest[i]) {
		i++
	}
	if i == 0 || i == len(rest) || rest[i] != '-' {
		return "", "", "", "", false
	}
	vmid, rest = rest[:i], rest[i+1:]
	// (.+) is greedy: the longest middle whose remainder is an extension.
	// "." matches anything but a newline.
	for p := strings.LastIndexByte(rest, '.'); p > 0; p = strings.LastIndexByte(rest[:p], '.') {
		if isVzdumpExtension(rest[p+1:]) && strings.IndexByte(rest[:p], '\n') < 0 {
			return guestType, vmid, rest[:p], rest[p+1:], true
		}
	}
	return "", "", "", "", false
}

// matchStamp is vzdumpStampRe,
//
//	^([0-9]{4})_([0-9]{2})_([0-9]{2})-([0-9]{2})_([0-9]{2})_([0-9]{2})$
//
// with the six numbers.
func matchStamp(s string) (v [6]int, ok bool) {
	const layout = "dddd_dd_dd-dd_dd_dd"
	if len(s) != len(layout) {
		return v, false
	}
	field := 0
	for i := 0; i < len(layout); i++ {
		if layout[i] != 'd' {
			if s[i] != layout[i] {
				return v, false
			}
			field++
			continue
		}
		if !isDigit(s[i]) {
			return v, false
		}
		v[field] = v[field]*10 + int(s[i]-'0')
	}
	return v, true
}

// guestEventAt finds, from the left, an occurrence of marker at the start
// of line or after a whitespace, followed by 1 to 9 digits that tail
// accepts (given the text after the digits). It returns the digits and what
// tail extracted: leftmost-first, as the regular expressions do.
func guestEventAt(line, marker string, tail func(rest string) (string, bool)) (vmid, extra string, ok bool) {
	for off := 0; ; {
		i := strings.Index(line[off:], marker)
		if i < 0 {
			return "", "", false
		}
		i += off
		off = i + 1
		if i > 0 && !isSpace(line[i-1]) {
			continue
		}
		rest := line[i+len(marker):]
		n := 0
		for n < len(rest) && isDigit(rest[n]) {
			n++
		}
		if n < 1 || n > 9 {
			continue
		}
		if x, good := tail(rest[n:]); good {
			return rest[:n], x, true
		}
	}
}

func onlySpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isSpace(s[i]) {
			return false
		}
	}
	return true
}

// matchLogStart is logStartRe,
//
//	(?:^|\s)INFO: Starting Backup of VM ([0-9]{1,9}) \((qemu|lxc|openvz)\)\s*$
//
// with VMID and guest type.
func matchLogStart(line string) (vmid, guestType string, ok bool) {
	return guestEventAt(line, "INFO: Starting Backup of VM ", func(rest string) (string, bool) {
		r, found := strings.CutPrefix(rest, " (")
		if !found {
			return "", false
		}
		for _, t := range []string{"qemu", "lxc", "openvz"} {
			if after, found := strings.CutPrefix(r, t+")"); found && onlySpace(after) {
				return t, true
			}
		}
		return "", false
	})
}

// matchLogFinish is logFinishRe,
//
//	(?:^|\s)INFO: Finished Backup of VM ([0-9]{1,9}) \([0-9:]+\)\s*$
//
// with the VMID.
func matchLogFinish(line string) (vmid string, ok bool) {
	vmid, _, ok = guestEventAt(line, "INFO: Finished Backup of VM ", func(rest string) (string, bool) {
		r, found := strings.CutPrefix(rest, " (")
		if !found {
			return "", false
		}
		n := 0
		for n < len(r) && (isDigit(r[n]) || r[n] == ':') {
			n++
		}
		if n == 0 || n == len(r) || r[n] != ')' {
			return "", false
		}
		return "", onlySpace(r[n+1:])
	})
	return vmid, ok
}

// matchLogFail is logFailRe,
//
//	(?:^|\s)ERROR: Backup of VM ([0-9]{1,9}) failed - ?(.*)$
//
// with VMID and the untrimmed reason.
func matchLogFail(line string) (vmid, reason string, ok bool) {
	return guestEventAt(line, "ERROR: Backup of VM ", func(rest string) (string, bool) {
		r, found := strings.CutPrefix(rest, " failed -")
		if !found {
			return "", false
		}
		// " ?" is greedy: a space right after the dash is not part of
		// the reason; (.*)$ takes the rest, which may hold no newline.
		r = strings.TrimPrefix(r, " ")
		if strings.IndexByte(r, '\n') >= 0 {
			return "", false
		}
		return r, true
	})
}
