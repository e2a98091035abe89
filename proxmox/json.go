package proxmox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Bool decodes Proxmox booleans leniently: PVE writes 0/1 (sometimes as
// strings), PBS writes true/false. An absent field decodes as false.
type Bool bool

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bool) UnmarshalJSON(data []byte) error {
	// What the APIs send, without allocating (listings hold thousands).
	switch string(data) {
	case "true", "1":
		*b = true
		return nil
	case "false", "0":
		*b = false
		return nil
	}
	s := strings.Trim(string(bytes.TrimSpace(data)), `"`)
	switch strings.ToLower(s) {
	case "1", "true", "yes", "on":
		*b = true
	case "0", "false", "no", "off", "", "null":
		*b = false
	default:
		return fmt.Errorf("cannot decode %s as a boolean", truncate(data))
	}
	return nil
}

// MarshalJSON encodes the boolean as PVE does (0/1).
func (b Bool) MarshalJSON() ([]byte, error) {
	if b {
		return []byte("1"), nil
	}
	return []byte("0"), nil
}

// Int decodes integers that Proxmox sometimes sends as strings ("saved": "1",
// property-string values) or as floats with no fraction.
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (i *Int) UnmarshalJSON(data []byte) error {
	// A plain JSON integer, without allocating (listings hold thousands).
	if v, ok := plainInt(data); ok {
		*i = Int(v)
		return nil
	}
	s := strings.Trim(string(bytes.TrimSpace(data)), `"`)
	if s == "" || s == "null" {
		*i = 0
		return nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*i = Int(v)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int64(f)) {
		return fmt.Errorf("cannot decode %s as an integer", truncate(data))
	}
	*i = Int(int64(f))
	return nil
}

// String decodes a value that Proxmox usually sends as a string but that is
// sometimes a number (a VMID list with one entry, a backup-id).
type String string

// UnmarshalJSON implements json.Unmarshaler.
func (s *String) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		*s = ""
		return nil
	}
	if data[0] == '"' {
		if v, ok := plainString(data); ok {
			*s = String(v)
			return nil
		}
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*s = String(v)
		return nil
	}
	if data[0] == '{' || data[0] == '[' {
		return fmt.Errorf("cannot decode %s as a string", truncate(data))
	}
	*s = String(data)
	return nil
}

func truncate(data []byte) string {
	const max = 40
	if len(data) > max {
		return string(data[:max]) + "…"
	}
	return string(data)
}

// plainInt parses an optionally negative run of at most 18 digits (no
// overflow possible) the way strconv.ParseInt would.
func plainInt(data []byte) (int64, bool) {
	neg := len(data) > 0 && data[0] == '-'
	digits := data
	if neg {
		digits = data[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// plainString decodes a JSON string without escapes whose bytes are
// printable ASCII, which json.Unmarshal would return unchanged.
func plainString(data []byte) (string, bool) {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return "", false
	}
	inner := data[1 : len(data)-1]
	for _, c := range inner {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return "", false
		}
	}
	return string(inner), true
}
