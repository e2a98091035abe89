package proxmox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Bool decodes Proxmox booleans leniently: PVE writes 0/1 (sometimes as
// strings), PBS writes true/false. An absent field decodes as false.
type Bool bool

// boolWords are the spellings Bool accepts, compared without case.
var (
	trueWords  = [][]byte{[]byte("1"), []byte("true"), []byte("yes"), []byte("on")}
	falseWords = [][]byte{[]byte("0"), []byte("false"), []byte("no"), []byte("off"), []byte(""), []byte("null")}
)

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bool) UnmarshalJSON(data []byte) error {
	s := unquoted(data)
	for _, w := range trueWords {
		if bytes.EqualFold(s, w) {
			*b = true
			return nil
		}
	}
	for _, w := range falseWords {
		if bytes.EqualFold(s, w) {
			*b = false
			return nil
		}
	}
	return fmt.Errorf("cannot decode %s as a boolean", truncate(data))
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
	s := unquoted(data)
	if len(s) == 0 || string(s) == "null" {
		*i = 0
		return nil
	}
	// string(s) does not escape (strconv copies what its errors keep), so
	// listings of thousands of integers decode without allocating.
	if v, err := strconv.ParseInt(string(s), 10, 64); err == nil {
		*i = Int(v)
		return nil
	}
	f, err := strconv.ParseFloat(string(s), 64)
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
	switch data[0] {
	case '"':
		// encoding/json undoes the escapes and copies the bytes.
		return json.Unmarshal(data, (*string)(s))
	case '{', '[':
		return fmt.Errorf("cannot decode %s as a string", truncate(data))
	}
	*s = String(data)
	return nil
}

// unquoted is data without surrounding white space and one pair of
// quotes: Bool and Int read "1" as 1. A value with escapes stays escaped,
// and so fails to parse, as no number or boolean word needs one.
func unquoted(data []byte) []byte {
	s := bytes.TrimSpace(data)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	return s
}

func truncate(data []byte) string {
	const max = 40
	if len(data) > max {
		return string(data[:max]) + "…"
	}
	return string(data)
}
