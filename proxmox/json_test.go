package proxmox

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// TestLenientTypes: what Proxmox sends for booleans, integers and strings,
// through encoding/json as the clients decode it; err is a substring of
// the error, "" for success.
func TestLenientTypes(t *testing.T) {
	bools := []struct {
		in   string
		want bool
		err  string
	}{
		{"1", true, ""}, {"0", false, ""}, {"true", true, ""}, {"false", false, ""}, {"null", false, ""},
		{`"1"`, true, ""}, {`"0"`, false, ""}, {`"TRUE"`, true, ""}, {`"yes"`, true, ""}, {`"On"`, true, ""},
		{`"off"`, false, ""}, {`"no"`, false, ""}, {`""`, false, ""}, {`"null"`, false, ""},
		{`"maybe"`, false, `cannot decode "maybe" as a boolean`}, {"2", false, "cannot decode 2 as a boolean"},
		{"[1]", false, "as a boolean"}, {`"\u0031"`, false, "as a boolean"},
	}
	for _, c := range bools {
		var v struct {
			B Bool `json:"b"`
		}
		err := json.Unmarshal([]byte(`{"b":`+c.in+`}`), &v)
		if !matches(err, c.err) || err == nil && bool(v.B) != c.want {
			t.Errorf("Bool %s = %v, %v; want %v, %q", c.in, v.B, err, c.want, c.err)
		}
	}
	ints := []struct {
		in   string
		want int64
		err  string
	}{
		{"0", 0, ""}, {"-0", 0, ""}, {"42", 42, ""}, {"-7", -7, ""}, {`"100"`, 100, ""}, {`""`, 0, ""},
		{"null", 0, ""}, {`"null"`, 0, ""}, {"1e2", 100, ""}, {"12.0", 12, ""}, {`"1.0e3"`, 1000, ""},
		{"9223372036854775807", 9223372036854775807, ""}, {"-9223372036854775808", -9223372036854775808, ""},
		{"1.5", 0, "cannot decode 1.5 as an integer"}, {"1e19", 0, "as an integer"},
		{"9223372036854775808", 0, "as an integer"}, {`"abc"`, 0, `cannot decode "abc" as an integer`},
		{`" 5 "`, 0, "as an integer"}, {"{}", 0, "as an integer"}, {"true", 0, "as an integer"},
		{`"` + strings.Repeat("9", 60) + `"`, 0, "…"},
	}
	for _, c := range ints {
		var v struct {
			I Int `json:"i"`
		}
		err := json.Unmarshal([]byte(`{"i":`+c.in+`}`), &v)
		if !matches(err, c.err) || err == nil && int64(v.I) != c.want {
			t.Errorf("Int %s = %v, %v; want %v, %q", c.in, v.I, err, c.want, c.err)
		}
	}
	strs := []struct {
		in, want, err string
	}{
		{`"vm"`, "vm", ""}, {"101", "101", ""}, {"-1.5e3", "-1.5e3", ""}, {"true", "true", ""}, {"null", "", ""},
		{`"a\"b\u00e9\/"`, `a"bé/`, ""}, {`"\ud83d\ude00"`, "😀", ""}, {"[1]", "", "cannot decode [1] as a string"},
		{`{"a":1}`, "", "as a string"},
	}
	for _, c := range strs {
		var v struct {
			S String `json:"s"`
		}
		err := json.Unmarshal([]byte(`{"s":`+c.in+`}`), &v)
		if !matches(err, c.err) || err == nil && string(v.S) != c.want {
			t.Errorf("String %s = %q, %v; want %q, %q", c.in, v.S, err, c.want, c.err)
		}
	}
	if b, err := json.Marshal([]Bool{true, false}); err != nil || string(b) != "[1,0]" {
		t.Errorf("Marshal = %s, %v", b, err)
	}
}

func matches(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && strings.Contains(err.Error(), want)
}

// FuzzLenientTypes: no value makes the lenient types panic; an integer
// strconv reads is read the same, and every error names the value it
// could not decode (cut to 40 bytes).
func FuzzLenientTypes(f *testing.F) {
	for _, s := range []string{"1", `"1"`, "true", `"x"`, "-12", "1.0", `"\u0031"`, "null"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		shown := truncate(data)
		var b Bool
		if err := b.UnmarshalJSON(data); err != nil && !strings.Contains(err.Error(), shown) {
			t.Errorf("Bool error %q does not name %q", err, shown)
		}
		var i Int
		err := i.UnmarshalJSON(data)
		if err != nil && !strings.Contains(err.Error(), shown) {
			t.Errorf("Int error %q does not name %q", err, shown)
		}
		if want, perr := strconv.ParseInt(string(data), 10, 64); perr == nil && (err != nil || int64(i) != want) {
			t.Errorf("Int(%q) = %d, %v; strconv reads %d", data, i, err, want)
		}
		var s String
		_ = s.UnmarshalJSON(data)
	})
}
