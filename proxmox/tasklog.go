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
	if vmid, _, ok := guestEvent(line, "INFO: Finished Backup of VM ", finishTail); ok {
		return LogEvent{Kind: LogFinish, VMID: vmid}, nil
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
	return "", true
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
