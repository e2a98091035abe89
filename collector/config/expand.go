package config

import (
	"fmt"
	"strings"
)

// expandError is an expansion failure. Its message never quotes the value
// being expanded (it may be a secret), only the variable name, and for
// secret values not even that when the reference itself is malformed.
type expandError struct{ msg string }

func (e *expandError) Error() string { return e.msg }

// expand replaces ${NAME} with the value of the environment variable NAME
// and $$ with a literal $. Any other $ is kept as is, so values that merely
// contain a dollar sign need no escaping. A reference to a variable that is
// not set is an error: silently expanding to "" would turn a forgotten
// secret into an empty one, or a URL into garbage.
//
// Expansion happens once, on the raw string: a variable's value is not
// expanded again.
func expand(s string, lookup func(string) (string, bool), secret bool) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", &expandError{`unterminated "${": write "${NAME}", or "$$" for a literal "$"`}
			}
			name := s[i+2 : i+2+end]
			if !validVarName(name) {
				if secret {
					return "", &expandError{`invalid "${...}" reference: want "${NAME}" with NAME made of letters, digits and "_", or "$$" for a literal "$"`}
				}
				return "", &expandError{fmt.Sprintf(`invalid variable name %q in "${...}": want letters, digits and "_", not starting with a digit, or "$$" for a literal "$"`, name)}
			}
			v, ok := lookup(name)
			if !ok {
				return "", &expandError{fmt.Sprintf("environment variable %s is not set", name)}
			}
			b.WriteString(v)
			i += 2 + end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func validVarName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
