package proxmox

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Kinds of vzdump log events.
const (
	LogStart  = "start"
	LogFinish = "finish"
	LogFail   = "fail"
	// LogTransferred is qemu's summary of the bytes a backup read. The
	// line names no guest: it belongs to the guest whose backup is in
	// progress (see GuestLogEvents).
	LogTransferred = "transferred"
)

// LogEvent is what one vzdump task log line says about one guest.
type LogEvent struct {
	Kind string // LogStart, LogFinish, LogFail
	VMID string
	// GuestType is qemu, lxc or openvz on start lines, else "".
	GuestType string
	// Message is the failure reason on fail lines.
	Message string
	// Seconds is how long the guest's backup took, on finish lines whose
	// duration reads as hours:minutes:seconds (VZDump.pm format_time);
	// -1 when it does not, 0 on other lines.
	Seconds int64
	// Bytes is the amount on transferred lines (> 0), else 0.
	Bytes int64
}

// ErrNotGuestEvent is returned by ParseTaskLogLine for lines that say
// nothing about one guest's outcome.
var ErrNotGuestEvent = errors.New("not a per-guest vzdump log line")

// ParseTaskLogLine recognises the per-guest lines vzdump writes
// (pve-manager VZDump.pm), anywhere after a line start or white space (the
// archived log may carry a time stamp in front):
//
//	INFO: Starting Backup of VM <id> (<qemu|lxc|openvz>)
//	INFO: Finished Backup of VM <id> (<hh:mm:ss>)
//	ERROR: Backup of VM <id> failed - <reason>
//	INFO: transferred <size> in <n> seconds (<rate>/s)
//	INFO: transferred <size> in <1 seconds
//
// The VMID has 1 to 9 digits; start and finish lines may end in white
// space, the reason runs to the end of the line. The transferred line
// carries no VMID (see transferredBytes for its source and size format).
func ParseTaskLogLine(line string) (LogEvent, error) {
	if n, ok := transferredBytes(line); ok {
		return LogEvent{Kind: LogTransferred, Bytes: n}, nil
	}
	if vmid, guestType, ok := guestEvent(line, "INFO: Starting Backup of VM ", startTail); ok {
		return LogEvent{Kind: LogStart, VMID: vmid, GuestType: guestType}, nil
	}
	if vmid, d, ok := guestEvent(line, "INFO: Finished Backup of VM ", finishTail); ok {
		return LogEvent{Kind: LogFinish, VMID: vmid, Seconds: hmsSeconds(d)}, nil
	}
	if vmid, reason, ok := guestEvent(line, "ERROR: Backup of VM ", failTail); ok {
		return LogEvent{Kind: LogFail, VMID: vmid, Message: strings.TrimSpace(reason)}, nil
	}
	return LogEvent{}, ErrNotGuestEvent
}

// GuestLogEvents parses a vzdump task log in line order (by N) and returns
// its per-guest events, each transferred event given the VMID of the guest
// whose backup is in progress: vzdump backs up the guests of a task one
// after the other, and qemu-server prints the line between that guest's
// Starting and its Finished or ERROR line. A transferred line outside a
// guest's backup is dropped, as is a second one within the same backup
// (qemu-server prints one), so no amount is given to the wrong guest.
func GuestLogEvents(lines []TaskLogLine) []LogEvent {
	ordered := append([]TaskLogLine(nil), lines...)
	sort.SliceStable(ordered, func(a, b int) bool { return ordered[a].N < ordered[b].N })
	var out []LogEvent
	current, stated := "", false // the guest in progress; its amount seen
	for _, l := range ordered {
		ev, err := ParseTaskLogLine(l.T)
		if err != nil {
			continue
		}
		switch ev.Kind {
		case LogStart:
			current, stated = ev.VMID, false
		case LogTransferred:
			if current == "" || stated {
				continue
			}
			ev.VMID, stated = current, true
		default:
			if ev.VMID == current {
				current = ""
			}
		}
		out = append(out, ev)
	}
	return out
}

// byteUnits are the units of pve-common's PVE::Format render_bytes, each
// 1024 times the one before.
var byteUnits = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}

// transferredBytes reads the summary line qemu-server writes after a qemu
// guest's backup job ends, for PBS and vma archives alike
// (qemu-server src/PVE/VZDump/QemuServer.pm, query_backup_status_loop,
// used by archive_pbs and archive_vma; printed only when the amount is not
// zero):
//
//	INFO: transferred <size> in <n> seconds (<rate>/s)
//	INFO: transferred <size> in <1 seconds
//
// <size> is render_bytes' form "%.2f <unit>" with a unit of byteUnits,
// the value below 1024 except where rounding reaches 1024.00; <rate> is
// the same at precision 1 ("%.1f <unit>"), or "0 B". lxc backups
// print no such line (pve-container src/PVE/VZDump/LXC.pm logs rsync's
// amount only for the temporary copy of suspend mode). The amount is
// returned in bytes, rounded to the nearest byte; ok is false for other
// lines and for an amount of zero.
func transferredBytes(line string) (n int64, ok bool) {
	const marker = "INFO: transferred "
	for off := 0; ; {
		i := strings.Index(line[off:], marker)
		if i < 0 {
			return 0, false
		}
		i += off
		off = i + 1
		if i > 0 && !isLogSpace(line[i-1]) {
			continue
		}
		rest := line[i+len(marker):]
		size, tail, found := strings.Cut(rest, " in ")
		if !found || !transferredTail(tail) {
			continue
		}
		if n, good := renderedBytes(size, 2); good && n > 0 {
			return n, true
		}
	}
}

// transferredTail accepts "<n> seconds (<size>/s)" and "<1 seconds", each
// with trailing white space.
func transferredTail(tail string) bool {
	if rest, ok := strings.CutPrefix(tail, "<1 seconds"); ok {
		return onlyLogSpace(rest)
	}
	secs, rest, ok := strings.Cut(tail, " seconds (")
	if !ok || secs == "" || strings.Trim(secs, "0123456789") != "" {
		return false
	}
	rate, after, closed := strings.Cut(rest, "/s)")
	if !closed || !onlyLogSpace(after) {
		return false
	}
	// get_mbps renders a zero rate "0 B/s", any other with render_bytes'
	// precision 1.
	_, good := renderedBytes(rate, 1)
	return good || rate == "0 B"
}

// renderedBytes reads render_bytes' "%.<decimals>f <unit>" as bytes: one
// to nine integer digits, a point, the decimals, a space and a unit of
// byteUnits.
func renderedBytes(s string, decimals int) (int64, bool) {
	num, unit, ok := strings.Cut(s, " ")
	if !ok {
		return 0, false
	}
	whole, frac, ok := strings.Cut(num, ".")
	if !ok || len(whole) < 1 || len(whole) > 9 || len(frac) != decimals ||
		strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return 0, false
	}
	for exp, u := range byteUnits {
		if u != unit {
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, false
		}
		b := math.Round(v * math.Pow(1024, float64(exp)))
		if b >= math.MaxInt64 {
			return 0, false
		}
		return int64(b), true
	}
	return 0, false
}

// guestEvent finds the leftmost occurrence of marker at the start of line
// or after white space that is followed by a VMID of 1 to 9 digits and a
// rest that tail accepts. It returns the VMID and what tail extracted. The
// leftmost one, because a failure reason may quote another log line.
func guestEvent(line, marker string, tail func(rest string) (string, bool)) (vmid, extra string, ok bool) {
	for off := 0; ; {
		i := strings.Index(line[off:], marker)
		if i < 0 {
			return "", "", false
		}
		i += off
		off = i + 1
		if i > 0 && !isLogSpace(line[i-1]) {
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

// startTail accepts " (<guest type>)" and trailing white space.
func startTail(rest string) (string, bool) {
	r, ok := strings.CutPrefix(rest, " (")
	typ, after, closed := strings.Cut(r, ")")
	if !ok || !closed || BackupTypeOfGuest(typ) == "" || !onlyLogSpace(after) {
		return "", false
	}
	return typ, true
}

// finishTail accepts " (<duration>)", the duration of digits and colons,
// and trailing white space.
func finishTail(rest string) (string, bool) {
	r, ok := strings.CutPrefix(rest, " (")
	d, after, closed := strings.Cut(r, ")")
	if !ok || !closed || d == "" || strings.Trim(d, "0123456789:") != "" || !onlyLogSpace(after) {
		return "", false
	}
	return d, true
}

// hmsSeconds reads VZDump.pm's format_time, "%02d:%02d:%02d" of hours
// (which may pass 99), minutes and seconds, as seconds; -1 when d is not
// in that form.
func hmsSeconds(d string) int64 {
	parts := strings.Split(d, ":")
	if len(parts) != 3 {
		return -1
	}
	var v [3]int64
	for i, p := range parts {
		// Two digits at least (%02d); hours at most 9 digits.
		if len(p) < 2 || len(p) > 9 || (i > 0 && len(p) != 2) {
			return -1
		}
		for j := 0; j < len(p); j++ {
			v[i] = v[i]*10 + int64(p[j]-'0')
		}
	}
	if v[1] > 59 || v[2] > 59 {
		return -1
	}
	return v[0]*3600 + v[1]*60 + v[2]
}

// failTail accepts " failed -", an optional space and the reason, which
// runs to the end of a single line.
func failTail(rest string) (string, bool) {
	r, ok := strings.CutPrefix(rest, " failed -")
	if !ok || strings.IndexByte(r, '\n') >= 0 {
		return "", false
	}
	return strings.TrimPrefix(r, " "), true
}

// isLogSpace is the white space vzdump lines are split by: tab, line
// feed, form feed, carriage return and space.
func isLogSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func onlyLogSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isLogSpace(s[i]) {
			return false
		}
	}
	return true
}
