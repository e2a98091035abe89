package proxmox

import (
	"errors"
	"strings"
)

// Kinds of vzdump log events.
const (
	LogStart  = "start"
	LogFinish = "finish"
	LogFail   = "fail"
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
//
// The VMID has 1 to 9 digits; start and finish lines may end in white
// space, the reason runs to the end of the line.
func ParseTaskLogLine(line string) (LogEvent, error) {
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
