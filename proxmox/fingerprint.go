package proxmox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// fingerprintBytes is the length of a SHA-256 certificate fingerprint.
const fingerprintBytes = sha256.Size

// NormalizeFingerprint turns a SHA-256 certificate fingerprint as users and
// Proxmox write it into the canonical form PBS prints: lower-case hex pairs
// joined by colons ("aa:bb:..."). It accepts either case, with or without
// colons (PVE's storage.cfg upper-cases, PBS lower-cases, REFERENCE.md §4),
// surrounding white space, and the "sha256 Fingerprint=" prefix that
// `openssl x509 -fingerprint -sha256` prints, so users can paste its output.
// Mixed forms ("aa:bbcc") and anything that is not exactly 32 bytes are
// errors: a pin that silently matched nothing would only fail later, as a
// confusing TLS error.
func NormalizeFingerprint(s string) (string, error) {
	t := strings.TrimSpace(s)
	if i := strings.IndexByte(t, '='); i >= 0 && strings.EqualFold(strings.TrimSpace(t[:i]), "sha256 fingerprint") {
		t = strings.TrimSpace(t[i+1:])
	}
	if t == "" {
		return "", fmt.Errorf("empty fingerprint")
	}
	var hexDigits string
	if strings.Contains(t, ":") {
		parts := strings.Split(t, ":")
		for i, p := range parts {
			if len(p) != 2 {
				return "", fmt.Errorf("fingerprint: group %d is %q, want two hex digits between colons", i+1, shorten(p, 8))
			}
		}
		hexDigits = strings.Join(parts, "")
	} else {
		hexDigits = t
	}
	raw, err := hex.DecodeString(hexDigits)
	if err != nil {
		return "", fmt.Errorf("fingerprint is not hexadecimal: %q", shorten(t, 20))
	}
	if len(raw) != fingerprintBytes {
		return "", fmt.Errorf("fingerprint has %d bytes, a SHA-256 fingerprint has %d", len(raw), fingerprintBytes)
	}
	return formatFingerprint(raw), nil
}

// CertFingerprint returns the SHA-256 fingerprint of a DER-encoded
// certificate in canonical form ("aa:bb:..."), the value PBS shows as its
// fingerprint and PVE stores in a pbs storage's configuration.
func CertFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return formatFingerprint(sum[:])
}

func formatFingerprint(raw []byte) string {
	var b strings.Builder
	b.Grow(len(raw) * 3)
	const digits = "0123456789abcdef"
	for i, c := range raw {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&0x0f])
	}
	return b.String()
}

// shorten cuts s for use in an error message, so a pasted blob (or a secret
// put into the wrong field) is not echoed whole.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
