package proxmox

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Maintenance is a PBS datastore maintenance mode.
type Maintenance struct {
	// Type: read-only, offline, delete, unmount, s3-refresh (or a newer
	// kind); "" when the datastore is not in maintenance.
	Type    string
	Message string
}

// BlocksReads reports whether the mode stops us from listing backups: only
// read-only maintenance still allows reads.
func (m Maintenance) BlocksReads() bool { return m.Type != "" && m.Type != "read-only" }

var maintenanceTypeRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// ParseMaintenance parses the maintenance property string of a datastore,
// e.g. "type=read-only,message=disk%20swap" or just "offline" (type is the
// default key). The message is percent-decoded. An empty string means no
// maintenance.
func ParseMaintenance(s string) (Maintenance, error) {
	var m Maintenance
	if s == "" {
		return m, nil
	}
	seen := map[string]bool{}
	for i, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			if i != 0 {
				return Maintenance{}, fmt.Errorf("maintenance %q: %q is not key=value", s, kv)
			}
			k, v = "type", kv
		}
		if seen[k] {
			return Maintenance{}, fmt.Errorf("maintenance %q: duplicate key %q", s, k)
		}
		seen[k] = true
		switch k {
		case "type":
			if !maintenanceTypeRe.MatchString(v) {
				return Maintenance{}, fmt.Errorf("maintenance %q: invalid type", s)
			}
			m.Type = v
		case "message":
			msg, err := url.PathUnescape(v) // PBS percent-encodes the message
			if err != nil {
				return Maintenance{}, fmt.Errorf("maintenance %q: %w", s, err)
			}
			m.Message = msg
		default:
			// Newer PBS versions may add keys; they do not change the mode.
		}
	}
	if m.Type == "" {
		return Maintenance{}, fmt.Errorf("maintenance %q: no type", s)
	}
	return m, nil
}
