package proxmox

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

const fpLower = "94:fd:ac:e7:d5:36:0e:11:5b:23:05:40:d2:a4:e1:8a:c1:52:41:01:07:28:c0:4d:c5:ee:df:7f:7c:03:ab:41"

func TestNormalizeFingerprint(t *testing.T) {
	bare := strings.ReplaceAll(fpLower, ":", "")
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: fpLower, want: fpLower},
		{in: strings.ToUpper(fpLower), want: fpLower},
		{in: bare, want: fpLower},
		{in: strings.ToUpper(bare), want: fpLower},
		{in: "  " + fpLower + "\n", want: fpLower},
		{in: "sha256 Fingerprint=" + strings.ToUpper(fpLower), want: fpLower},
		{in: "SHA256 Fingerprint=" + fpLower, want: fpLower},
		{in: "", err: "empty"},
		{in: "   ", err: "empty"},
		{in: fpLower[:len(fpLower)-3], err: "31 bytes"},
		{in: fpLower + ":00", err: "33 bytes"},
		{in: bare + "00", err: "33 bytes"},
		{in: bare[:63], err: "not hexadecimal"},
		{in: strings.Replace(fpLower, "94:fd", "94fd", 1), err: "two hex digits"},
		{in: fpLower + ":", err: "two hex digits"},
		{in: strings.Replace(fpLower, "94", "zz", 1), err: "not hexadecimal"},
		{in: strings.ReplaceAll(fpLower, ":", "-"), err: "not hexadecimal"},
		{in: "md5 Fingerprint=" + fpLower, err: "two hex digits"},
		{in: "sha256:" + bare, err: "two hex digits"},
	} {
		got, err := NormalizeFingerprint(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("NormalizeFingerprint(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeFingerprint(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCertFingerprint(t *testing.T) {
	der := []byte("certificate bytes")
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	want := strings.Join(parts, ":")
	if got := CertFingerprint(der); got != want {
		t.Errorf("CertFingerprint = %q, want %q", got, want)
	}
}

var canonicalFP = regexp.MustCompile(`^([0-9a-f]{2}:){31}[0-9a-f]{2}$`)

// FuzzNormalizeFingerprint: whatever is accepted comes out canonical, is a
// fixed point, and every spelling of it (case, colons) normalises to it.
func FuzzNormalizeFingerprint(f *testing.F) {
	f.Add(fpLower)
	f.Add(strings.ToUpper(fpLower))
	f.Add(strings.ReplaceAll(fpLower, ":", ""))
	f.Add("sha256 Fingerprint=" + fpLower)
	f.Add("aa:bb")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeFingerprint(s)
		if err != nil {
			if got != "" {
				t.Errorf("error %v with result %q", err, got)
			}
			return
		}
		if !canonicalFP.MatchString(got) {
			t.Fatalf("NormalizeFingerprint(%q) = %q, not canonical", s, got)
		}
		for _, v := range []string{got, strings.ToUpper(got), strings.ReplaceAll(got, ":", ""), strings.ToUpper(strings.ReplaceAll(got, ":", ""))} {
			if again, err := NormalizeFingerprint(v); err != nil || again != got {
				t.Errorf("NormalizeFingerprint(%q) = %q, %v; want %q", v, again, err, got)
			}
		}
	})
}
