package emulator

import (
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// jw is a small streaming JSON writer. encoding/json with reflection and
// maps is far too slow and allocation-heavy for listings of a million
// snapshots; this writer appends into one reusable buffer and flushes it to
// the connection in chunks, so a huge listing never sits in memory whole.
//
// Comma handling needs no stack: a comma is due exactly when the previous
// token was a complete value, and a key never follows an opening bracket
// with one.
type jw struct {
	out   io.Writer // nil: keep everything in buf
	buf   []byte
	comma bool
	err   error
	n     int64 // bytes flushed so far
}

const jwFlushAt = 32 << 10

func newJW(out io.Writer) *jw { return &jw{out: out, buf: make([]byte, 0, 4096)} }

func (w *jw) sep() {
	if w.comma {
		w.buf = append(w.buf, ',')
	}
}

func (w *jw) maybeFlush() {
	if w.out != nil && len(w.buf) >= jwFlushAt {
		w.flush()
	}
}

func (w *jw) flush() {
	if w.out == nil || len(w.buf) == 0 {
		return
	}
	if w.err == nil {
		var n int
		n, w.err = w.out.Write(w.buf)
		w.n += int64(n)
	}
	w.buf = w.buf[:0]
}

// failed reports whether writing to the client failed (client gone): long
// loops stop early instead of rendering for nobody.
func (w *jw) failed() bool { return w.err != nil }

func (w *jw) obj() { w.sep(); w.buf = append(w.buf, '{'); w.comma = false }
func (w *jw) end() { w.buf = append(w.buf, '}'); w.comma = true; w.maybeFlush() }
func (w *jw) arr() { w.sep(); w.buf = append(w.buf, '['); w.comma = false }
func (w *jw) endArr() {
	w.buf = append(w.buf, ']')
	w.comma = true
	w.maybeFlush()
}

func (w *jw) key(k string) {
	w.sep()
	w.buf = appendJSONString(w.buf, k)
	w.buf = append(w.buf, ':')
	w.comma = false
}

func (w *jw) str(s string) { w.sep(); w.buf = appendJSONString(w.buf, s); w.comma = true }
func (w *jw) int(i int64)  { w.sep(); w.buf = strconv.AppendInt(w.buf, i, 10); w.comma = true }
func (w *jw) null()        { w.sep(); w.buf = append(w.buf, "null"...); w.comma = true }
func (w *jw) bool(b bool) {
	w.sep()
	w.buf = strconv.AppendBool(w.buf, b)
	w.comma = true
}

func (w *jw) float(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		w.null()
		return
	}
	w.sep()
	w.buf = strconv.AppendFloat(w.buf, f, 'g', -1, 64)
	w.comma = true
}

// Field helpers: key plus value.
func (w *jw) fStr(k, v string) { w.key(k); w.str(v) }
func (w *jw) fInt(k string, v int64) {
	w.key(k)
	w.int(v)
}
func (w *jw) fBool(k string, v bool) { w.key(k); w.bool(v) }

// fBit writes a PVE-style boolean (0/1 integer).
func (w *jw) fBit(k string, v bool) {
	w.key(k)
	if v {
		w.int(1)
	} else {
		w.int(0)
	}
}

// fStrOpt writes the field only when v is not empty.
func (w *jw) fStrOpt(k, v string) {
	if v != "" {
		w.fStr(k, v)
	}
}

func (w *jw) bytes() []byte { return w.buf }

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
