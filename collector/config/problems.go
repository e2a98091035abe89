package config

import (
	"sort"
	"strconv"
	"strings"
)

// Error is one validation error, located by file, line and key.
type Error struct {
	// Source is the file name given to Load or Parse.
	Source string
	// Line is 1-based; 0 when the error concerns the whole file.
	Line int
	// Key is the path of the offending key, e.g. "pve[0].tls.fingerprint";
	// empty when the error concerns the whole file.
	Key string
	// Message says what is wrong and, where it can, how to fix it. It never
	// contains a secret.
	Message string
	// Err is the underlying error, when there is one (the file could not
	// be read), so that callers can tell a missing file apart with
	// errors.Is(err, fs.ErrNotExist).
	Err error
}

// Error formats the error as "source:line: key: message".
func (e *Error) Error() string { return format(e.Source, e.Line, e.Key, e.Message) }

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Warning is a finding that does not stop the config from loading (for
// example insecure_skip_verify, or a secret file readable by others). The
// caller logs it; it never contains a secret.
type Warning struct {
	// Source, Line and Key locate the warning as they locate an Error.
	Source string
	Line   int
	Key    string
	// Message says what is risky and how to avoid it.
	Message string
}

// String formats the warning as "source:line: key: message".
func (w Warning) String() string { return format(w.Source, w.Line, w.Key, w.Message) }

// Errors is every error found in one config file, sorted by line. Load and
// Parse return it as their error so that all problems are reported at once.
type Errors []*Error

// Error joins the errors, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the errors, so errors.Is and errors.As look into each.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func format(source string, line int, key, msg string) string {
	var b strings.Builder
	b.WriteString(source)
	if line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(line))
	}
	b.WriteString(": ")
	if key != "" {
		b.WriteString(key)
		b.WriteString(": ")
	}
	b.WriteString(msg)
	return b.String()
}

// sortErrors orders errors by line, then key, keeping the discovery order
// for ties so output is deterministic.
func sortErrors(es Errors) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Key < es[j].Key
	})
}

func sortWarnings(ws []Warning) {
	sort.SliceStable(ws, func(i, j int) bool {
		if ws[i].Line != ws[j].Line {
			return ws[i].Line < ws[j].Line
		}
		return ws[i].Key < ws[j].Key
	})
}

// suggest returns the candidate closest to s when it is close enough to be
// a plausible typo, else "".
func suggest(s string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := levenshtein(strings.ToLower(s), c)
		limit := 2
		if len(c) >= 9 {
			limit = 3
		}
		ok := d <= limit ||
			(len(s) >= 3 && (strings.HasPrefix(c, strings.ToLower(s)) || strings.HasPrefix(strings.ToLower(s), c)))
		if ok && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
