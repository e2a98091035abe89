package config

import (
	"fmt"
	"log/slog"
)

// redacted is what a Secret prints as, in every format.
const redacted = "<secret>"

// Secret holds a token secret. Every way of printing or serialising it
// (fmt verbs, %#v, JSON, YAML, text, slog) yields "<secret>", so a Config
// or Target can be logged, dumped on a status page or put in an error
// without leaking it. Use Reveal where the real value is needed (the HTTP
// Authorization header).
type Secret string

// Reveal returns the secret itself. Call it only to authenticate.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer (%#v).
func (s Secret) GoString() string { return `"` + redacted + `"` }

// Format implements fmt.Formatter so that no verb (%s, %v, %q, %x, %d…)
// reaches the underlying string.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, redacted)
}

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalYAML implements yaml.Marshaler.
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
