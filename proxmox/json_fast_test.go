package proxmox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The decoders before their allocation-free fast paths: what the fast
// paths must agree with.

func refBool(data []byte) (bool, error) {
	s := strings.Trim(string(bytes.TrimSpace(data)), `"`)
	switch strings.ToLower(s) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off", "", "null":
		return false, nil
	}
	return false, fmt.Errorf("cannot decode %s as a boolean", truncate(data))
}

func refInt(data []byte) (int64, error) {
	s := strings.Trim(string(bytes.TrimSpace(data)), `"`)
	if s == "" || s == "null" {
		return 0, nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int64(f)) {
		return 0, fmt.Errorf("cannot decode %s as an integer", truncate(data))
	}
	return int64(f), nil
}

func refString(data []byte) (string, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return "", nil
	}
	if data[0] == '"' {
		var v string
		err := json.Unmarshal(data, &v)
		return v, err
	}
	if data[0] == '{' || data[0] == '[' {
		return "", fmt.Errorf("cannot decode %s as a string", truncate(data))
	}
	return string(data), nil
}

// sameAsReference fails t when a lenient type's decoder disagrees with the
// reference on data.
func sameAsReference(t *testing.T, data []byte) {
	t.Helper()
	var b Bool
	errB := b.UnmarshalJSON(data)
	wb, werrB := refBool(data)
	if (errB == nil) != (werrB == nil) || errB == nil && bool(b) != wb {
		t.Fatalf("Bool(%q) = %v, %v; reference %v, %v", data, b, errB, wb, werrB)
	}
	var i Int
	errI := i.UnmarshalJSON(data)
	wi, werrI := refInt(data)
	if (errI == nil) != (werrI == nil) || errI == nil && int64(i) != wi {
		t.Fatalf("Int(%q) = %v, %v; reference %v, %v", data, i, errI, wi, werrI)
	}
	var s String
	errS := s.UnmarshalJSON(data)
	ws, werrS := refString(data)
	if (errS == nil) != (werrS == nil) || errS == nil && string(s) != ws {
		t.Fatalf("String(%q) = %q, %v; reference %q, %v", data, s, errS, ws, werrS)
	}
}

// TestLenientFastPaths compares the decoders with the reference on edge
// cases and random JSON-ish values.
func TestLenientFastPaths(t *testing.T) {
	cases := []string{
		"0", "1", "-1", "-", "", "true", "false", "null", `"1"`, `"0"`, `"true"`, `""`, " 1", "1 ",
		"123456789012345678", "1234567890123456789", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
		"1.0", "1.5", "1e3", "01", "-0", `"a"`, `"a\"b"`, `"\u00e9"`, "\"\xff\"", "\"a\tb\"", `"é"`, `"a`, `a"`, `"`,
		"[1]", "{}", "yes", "ON", `"vm"`, `"100"`, `"backup-server"`,
	}
	for _, c := range cases {
		sameAsReference(t, []byte(c))
	}
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte(`0123456789-+."\ tfrueals{}[]eE` + "\t\x7f\xc3\xa9\x01")
	for range 50000 {
		b := make([]byte, rng.IntN(8))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		if rng.IntN(2) == 0 {
			b = append(append([]byte{'"'}, b...), '"')
		}
		sameAsReference(t, b)
	}
}

// FuzzLenientFastPaths: the decoders agree with the reference on any
// input.
func FuzzLenientFastPaths(f *testing.F) {
	for _, s := range []string{"1", `"1"`, "true", `"x"`, "-12", "1.0"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameAsReference(t, data) })
}

// TestDecodeEnvelopeFastPath: the one-pass path decodes exactly what the
// general path decodes, and declines what it must leave to it.
func TestDecodeEnvelopeFastPath(t *testing.T) {
	type row struct {
		A Int    `json:"a"`
		B String `json:"b"`
		C Bool   `json:"c"`
	}
	bodies := []string{
		`{"data":[{"a":1,"b":"x","c":1},{"a":"2","b":3,"c":"true"}],"total":2}`,
		`{"total":1,"data":[]}`, `{"Data":[{"a":5}]}`, `{"data":[{"a":1}],"data":[{"b":"y"}]}`,
		`{"data":null}`, `{}`, `[]`, `{"data":{"a":1}}`, `{"data":[{"a":1.5}]}`, `{"data":[1]}`, `{"data":[]} x`,
		`{"data":[{"a":1}]`, `{"data":[{"a":1,"z":{"n":[1,2]}}]}`,
	}
	for _, body := range bodies {
		var fast []row
		ok := decodeDataFast([]byte(body), &fast)
		var general []row
		d := &envelopeData{out: &general}
		env := struct {
			Data *envelopeData `json:"data"`
		}{Data: d}
		err := json.Unmarshal([]byte(body), &env)
		generalOK := err == nil && env.Data != nil && d.present
		if ok && !generalOK {
			t.Errorf("%s: fast path accepted what the general path rejects (%v)", body, err)
			continue
		}
		if ok && !reflect.DeepEqual(fast, general) {
			t.Errorf("%s: fast %+v, general %+v", body, fast, general)
		}
		if !ok && generalOK {
			t.Errorf("%s: fast path declined a good answer", body)
		}
		// And DecodeEnvelope as a whole gives the general path's result.
		var whole []row
		if err := DecodeEnvelope([]byte(body), &whole); (err == nil) != generalOK || err == nil && !reflect.DeepEqual(whole, general) {
			t.Errorf("%s: DecodeEnvelope %+v, %v; general %+v, ok %v", body, whole, err, general, generalOK)
		}
	}
}
