package proxmox

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// UPID is a parsed Proxmox task id. PVE and PBS use different layouts:
//
//	PVE: UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:
//	PBS: UPID:<node>:<pid>:<pstart>:<task_id>:<starttime>:<type>:<id>:<auth_id>:
//
// PBS systemd-escapes the worker id; ID holds it unescaped.
type UPID struct {
	// Product is "pve" or "pbs".
	Product   string
	Node      string
	PID       int64
	PStart    int64
	TaskID    int64 // PBS only
	StartTime int64
	Type      string
	ID        string
	User      string
}

var (
	upidNodeRe  = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?$`)
	upidTokenRe = regexp.MustCompile(`^[^:\s]*$`)
)

// ParseUPID parses a PVE or a PBS UPID (told apart by their field count).
func ParseUPID(s string) (UPID, error) {
	parts := strings.Split(s, ":")
	bad := func(what string) (UPID, error) {
		return UPID{}, fmt.Errorf("invalid UPID %q: %s", s, what)
	}
	if len(parts) < 9 || parts[0] != "UPID" || parts[len(parts)-1] != "" {
		return bad("wrong layout")
	}
	var u UPID
	switch len(parts) {
	case 9:
		u.Product = "pve"
	case 10:
		u.Product = "pbs"
	default:
		return bad("wrong number of fields")
	}
	u.Node = parts[1]
	if !upidNodeRe.MatchString(u.Node) {
		return bad("node")
	}
	hex := func(f string, min, max int) (int64, bool) {
		if len(f) < min || len(f) > max {
			return 0, false
		}
		v, err := strconv.ParseUint(f, 16, 64)
		if err != nil || v > 1<<62 {
			return 0, false
		}
		return int64(v), true
	}
	var ok bool
	if u.PID, ok = hex(parts[2], 8, 8); !ok {
		return bad("pid")
	}
	if u.PStart, ok = hex(parts[3], 8, 9); !ok {
		return bad("pstart")
	}
	i := 4
	if u.Product == "pbs" {
		if u.TaskID, ok = hex(parts[4], 8, 16); !ok {
			return bad("task id")
		}
		i = 5
	}
	if u.StartTime, ok = hex(parts[i], 8, 8); !ok {
		return bad("start time")
	}
	u.Type, u.ID, u.User = parts[i+1], parts[i+2], parts[i+3]
	if u.Type == "" || u.User == "" || !upidTokenRe.MatchString(u.Type) || !upidTokenRe.MatchString(u.ID) || !upidTokenRe.MatchString(u.User) {
		return bad("type, id or user")
	}
	if u.Product == "pbs" {
		id, err := UnescapeSystemd(u.ID)
		if err != nil {
			return bad(err.Error())
		}
		u.ID = id
	}
	return u, nil
}

// UnescapeSystemd reverses systemd's path escaping as PBS applies it to
// worker ids: "-" stands for "/", and "\xNN" for the byte NN.
func UnescapeSystemd(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '-':
			b.WriteByte('/')
		case '\\':
			if len(s)-i < 4 || s[i+1] != 'x' {
				return "", errors.New("bad escape sequence")
			}
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return "", errors.New("bad escape sequence")
			}
			b.WriteByte(byte(v))
			i += 3
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
