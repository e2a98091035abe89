package proxmox

// A one-pass decoder for the big listings read on every scrape (storage
// content, cluster resources, PBS groups, tasks...): {"data":[{...},...]}
// with rows of flat objects. encoding/json spends most of a warm scrape's
// decoding time validating, reflecting and calling UnmarshalJSON through
// interfaces; this decoder scans the body once and fills each row through
// a per-type table of field offsets built once by reflection.
//
// It is an optimisation, never a second opinion: for every input it either
// produces exactly what json.Unmarshal into the same type produces, or it
// declines (returns false) and the encoding/json path runs and reports
// errors in its own words. It declines whatever it is not sure about:
// malformed JSON, a value of the wrong kind for its field, a lenient type
// rejecting its value, duplicate keys, keys with escapes or non-ASCII
// bytes, keys that match a field only case-insensitively, nesting deeper
// than maxSkipDepth, a missing, null or repeated "data". FuzzFastListing
// holds it to that.

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"encoding/json"
	"hash/maphash"
	"math/bits"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// decodeListingFast decodes body into out when out is a pointer to a slice
// of a model type the listing decoder handles, and reports whether it did.
// On false, out is untouched.
func decodeListingFast(body []byte, out any) bool {
	// One case per list model: a generic function needs its type
	// statically. A model missing here is only decoded more slowly;
	// TestListingTablesCoverModels lists which ones are.
	switch out := out.(type) {
	case *[]BackupVolume:
		return decodeListing(body, out)
	case *[]ClusterResource:
		return decodeListing(body, out)
	case *[]BackupGroup:
		return decodeListing(body, out)
	case *[]Task:
		return decodeListing(body, out)
	case *[]PBSTask:
		return decodeListing(body, out)
	case *[]ClusterStatusItem:
		return decodeListing(body, out)
	case *[]Node:
		return decodeListing(body, out)
	case *[]StorageConfig:
		return decodeListing(body, out)
	case *[]NodeStorage:
		return decodeListing(body, out)
	case *[]BackupJob:
		return decodeListing(body, out)
	case *[]NotBackedUpGuest:
		return decodeListing(body, out)
	case *[]TaskLogLine:
		return decodeListing(body, out)
	case *[]Datastore:
		return decodeListing(body, out)
	case *[]Namespace:
		return decodeListing(body, out)
	case *[]GCJobStatus:
		return decodeListing(body, out)
	case *[]JobStatus:
		return decodeListing(body, out)
	case *[]PBSCertificateInfo:
		return decodeListing(body, out)
	}
	return false
}

// decodeListing decodes the envelope {"data":[...]} into *out, the way
// json.Unmarshal into struct{ Data *[]T } would, or returns false without
// touching *out. Top-level members other than "data" are validated and
// ignored, as DecodeEnvelope ignores them.
func decodeListing[T any](body []byte, out *[]T) bool {
	tab := tableOf(reflect.TypeFor[T]())
	if tab == nil {
		return false
	}
	d := listDecoder{b: body, memo: make([]strMemo, tab.slots), orders: make([][]keyMemo, tab.tables)}
	d.space()
	if !d.consume('{') {
		return false
	}
	var rows []T
	seenData := false
	d.space()
	if !d.consume('}') {
		for {
			key, ok := d.key()
			if !ok || !d.colon() {
				return false
			}
			switch {
			case string(key) == "data":
				if seenData {
					// encoding/json would decode the second array into
					// the first one's rows: not worth replicating.
					return false
				}
				seenData = true
				if rows, ok = decodeRows[T](&d, tab); !ok {
					return false
				}
			case asciiEqualFold(key, "data"):
				// "Data" would be taken for "data" by encoding/json.
				return false
			default:
				if !d.skipValue(1) {
					return false
				}
			}
			if end, ok := d.next('}'); !ok {
				return false
			} else if end {
				break
			}
		}
	}
	d.space()
	if d.i != len(d.b) || !seenData {
		return false
	}
	*out = rows
	return true
}

// decodeRows decodes the array of rows at d.i. An empty array is an empty
// (not nil) slice and a null row a zero row, as with encoding/json.
func decodeRows[T any](d *listDecoder, tab *rowTable) ([]T, bool) {
	if !d.consume('[') {
		return nil, false
	}
	rows := []T{}
	d.space()
	if d.consume(']') {
		return rows, true
	}
	for {
		start := d.i
		var zero T
		rows = append(rows, zero)
		if !d.literal("null") && !d.object(tab, unsafe.Pointer(&rows[len(rows)-1]), 2) {
			return nil, false
		}
		if len(rows) == 1 {
			// Size the slice from the first row's length rather than
			// growing it (and copying every row) a dozen times; at most
			// the body's size in bytes, whatever the first row.
			est := (len(d.b) - d.i) / max(d.i-start, 1)
			rows = slices.Grow(rows, min(est, len(d.b)/max(int(unsafe.Sizeof(zero)), 1)))
		}
		if end, ok := d.next(']'); !ok {
			return nil, false
		} else if end {
			break
		}
	}
	if spare := cap(rows) - len(rows); spare > len(rows)/4 && spare > 16 {
		// The first row was short: do not keep the overestimate alive.
		rows = append([]T(nil), rows...)
	}
	return rows, true
}

// fieldKind is how a field is decoded; each kind mirrors what
// encoding/json does for that Go type.
type fieldKind uint8

const (
	kindString     fieldKind = iota // string: a JSON string; null leaves it
	kindInt                         // Int: its UnmarshalJSON on the raw value
	kindBool                        // Bool: likewise
	kindLenient                     // String: likewise
	kindIntPtr                      // *Int: nil for null, else a new Int
	kindBoolPtr                     // *Bool: likewise
	kindLenientPtr                  // *String: likewise
	kindStrings                     // []string: nil for null; null items are ""
	kindStruct                      // *S for a flat struct S: nil for null
)

// rowField is one JSON member of a row type.
type rowField struct {
	name   string // JSON name, as encoding/json derives it
	offset uintptr
	kind   fieldKind
	sub    *rowTable // kindStruct: the pointed-to struct's table
	slot   int       // index in listDecoder.memo
}

// rowTable describes a struct type the listing decoder can fill.
type rowTable struct {
	typ    reflect.Type
	fields []rowField
	id     int // index in listDecoder.orders
	// The top table's counts of memo slots and tables in its tree.
	slots, tables int
}

// tableCounts numbers the fields and tables of a tree as it is built.
type tableCounts struct{ slots, tables int }

// maxRowFields bounds a table so a uint64 can record the fields seen in a
// row (to decline duplicates).
const maxRowFields = 64

var (
	tables       sync.Map // reflect.Type -> *rowTable, or nil when unsupported
	unmarshalerT = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshT = reflect.TypeFor[encoding.TextUnmarshaler]()
	fieldKinds   = map[reflect.Type]fieldKind{
		reflect.TypeFor[string]():   kindString,
		reflect.TypeFor[Int]():      kindInt,
		reflect.TypeFor[Bool]():     kindBool,
		reflect.TypeFor[String]():   kindLenient,
		reflect.TypeFor[*Int]():     kindIntPtr,
		reflect.TypeFor[*Bool]():    kindBoolPtr,
		reflect.TypeFor[*String]():  kindLenientPtr,
		reflect.TypeFor[[]string](): kindStrings,
	}
)

// tableOf returns t's table, building it on first use, or nil when t is
// not a struct the decoder can fill exactly like encoding/json.
func tableOf(t reflect.Type) *rowTable {
	if v, ok := tables.Load(t); ok {
		return v.(*rowTable)
	}
	var n tableCounts
	tab := buildTable(t, true, &n)
	if tab != nil {
		tab.slots, tab.tables = n.slots, n.tables
	}
	tables.Store(t, tab)
	return tab
}

// buildTable maps t's JSON members to offsets and kinds. It refuses
// anything whose encoding/json semantics it does not replicate: custom
// unmarshalers, embedded fields, ",string", names that are not lower-case
// ASCII, field types without a kind, structs nested more than one level.
// n numbers fields and tables across the tree, so each has its own memo.
func buildTable(t reflect.Type, top bool, n *tableCounts) *rowTable {
	if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshalerT) || reflect.PointerTo(t).Implements(textUnmarshT) {
		return nil
	}
	tab := &rowTable{typ: t, id: n.tables}
	n.tables++
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			return nil // embedding has promotion rules we do not replicate
		}
		if !f.IsExported() {
			continue // encoding/json ignores it too
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		if !plainName(name) || strings.Contains(opts, "string") {
			return nil
		}
		for _, g := range tab.fields {
			if g.name == name {
				return nil // encoding/json's dominance rules apply
			}
		}
		rf := rowField{name: name, offset: f.Offset, slot: n.slots}
		n.slots++
		if k, ok := fieldKinds[f.Type]; ok {
			rf.kind = k
		} else if top && f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
			if rf.sub = buildTable(f.Type.Elem(), false, n); rf.sub == nil {
				return nil
			}
			rf.kind = kindStruct
		} else {
			return nil
		}
		tab.fields = append(tab.fields, rf)
	}
	if len(tab.fields) > maxRowFields {
		return nil
	}
	return tab
}

// plainName reports whether a JSON name is made of lower-case ASCII
// letters, digits, '-' and '_' only: such a name is valid for
// encoding/json, and a key folds to it only if it is ASCII too.
func plainName(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

// lookup returns the index of the field named key, -1 for an unknown key,
// or -2 when key matches a field only case-insensitively.
func (t *rowTable) lookup(key []byte) int {
	for i := range t.fields {
		if string(key) == t.fields[i].name {
			return i
		}
	}
	// Names are lower case: a key without upper case folds to one only
	// if it is that name.
	upper := false
	for _, c := range key {
		upper = upper || 'A' <= c && c <= 'Z'
	}
	if upper {
		for i := range t.fields {
			if asciiEqualFold(key, t.fields[i].name) {
				return -2
			}
		}
	}
	return -1
}

// asciiEqualFold compares an ASCII key with an ASCII name ignoring case,
// as encoding/json's folding does for ASCII.
func asciiEqualFold(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i, c := range key {
		n := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= n && n <= 'Z' {
			n += 'a' - 'A'
		}
		if c != n {
			return false
		}
	}
	return true
}

// maxSkipDepth bounds the nesting the decoder follows (encoding/json allows
// 10000); deeper bodies go to encoding/json, which also bounds recursion.
const maxSkipDepth = 100

// listDecoder is a strict scanner over a whole body: it accepts exactly the
// JSON that encoding/json accepts or reports failure.
type listDecoder struct {
	b []byte
	i int
	// memo holds, per field slot, the last string literal and its value:
	// listings repeat values row after row (type, node, owner), and a
	// repeated literal is then skipped rather than decoded.
	memo []strMemo
	// orders holds, per table, the keys of the last object in order:
	// rows list their members in the same order, so the key at position
	// k is usually the last row's, found with one comparison.
	orders [][]keyMemo
	// interned shares the strings of equal values (node names, file
	// names...): one allocation, not one per row. Strings are immutable,
	// so sharing them is invisible.
	interned [256]string
	scratch  []string // items of the list being decoded
	buf      []byte   // unquote's output
}

// strMemo is a string literal in the body and its value.
type strMemo struct {
	raw []byte
	s   string
}

// keyMemo is a key (in the body) and its lookup result.
type keyMemo struct {
	key   []byte
	field int
}

// space skips JSON whitespace.
func (d *listDecoder) space() {
	for d.i < len(d.b) {
		if c := d.b[d.i]; c > ' ' || c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return
		}
		d.i++
	}
}

// consume skips c if it is the next byte.
func (d *listDecoder) consume(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// literal skips lit (true, false, null) if it comes next. What follows is
// checked by the caller, which expects a delimiter.
func (d *listDecoder) literal(lit string) bool {
	if len(d.b)-d.i >= len(lit) && string(d.b[d.i:d.i+len(lit)]) == lit {
		d.i += len(lit)
		return true
	}
	return false
}

// next reads the separator after a value in an object or array: ',' (then
// more follows) or the closing byte (end is true).
func (d *listDecoder) next(closing byte) (end, ok bool) {
	d.space()
	if d.consume(',') {
		d.space()
		return false, true
	}
	if d.consume(closing) {
		return true, true
	}
	return false, false
}

// colon reads the ':' after a key and the whitespace around it.
func (d *listDecoder) colon() bool {
	d.space()
	if !d.consume(':') {
		return false
	}
	d.space()
	return true
}

// key reads an object key. It fails on keys with escapes or non-ASCII
// bytes: encoding/json would unescape them and fold non-ASCII letters
// (U+017F matches 's') before matching, which we do not replicate.
func (d *listDecoder) key() ([]byte, bool) {
	if !d.consume('"') {
		return nil, false
	}
	start := d.i
	d.i = plainRun(d.b, d.i)
	if d.i < len(d.b) && d.b[d.i] == '"' {
		d.i++
		return d.b[start : d.i-1], true
	}
	return nil, false
}

// object decodes an object into the struct at p described by tab.
func (d *listDecoder) object(tab *rowTable, p unsafe.Pointer, depth int) bool {
	if !d.consume('{') {
		return false
	}
	d.space()
	if d.consume('}') {
		return true
	}
	var seen uint64
	order := d.orders[tab.id]
	for pos := 0; ; pos++ {
		key, ok := d.key()
		if !ok || !d.colon() {
			return false
		}
		var i int
		if pos < len(order) && string(key) == string(order[pos].key) {
			i = order[pos].field
		} else {
			i = tab.lookup(key)
			if pos < len(order) {
				order[pos] = keyMemo{key, i}
			} else {
				order = append(order, keyMemo{key, i})
				d.orders[tab.id] = order
			}
		}
		switch {
		case i == -2:
			return false
		case i == -1:
			if !d.skipValue(depth + 1) {
				return false
			}
		default:
			if seen&(1<<i) != 0 {
				// Duplicate: encoding/json's last-wins has exceptions
				// (null keeps a string, objects merge).
				return false
			}
			seen |= 1 << i
			f := &tab.fields[i]
			if !d.field(f, unsafe.Add(p, f.offset), depth+1) {
				return false
			}
		}
		if end, ok := d.next('}'); !ok {
			return false
		} else if end {
			return true
		}
	}
}

// field decodes the value at d.i into the field f at p.
func (d *listDecoder) field(f *rowField, p unsafe.Pointer, depth int) bool {
	switch f.kind {
	case kindString:
		if d.literal("null") {
			return true // encoding/json ignores null for a string
		}
		s, ok := d.memoStr(&d.memo[f.slot])
		if ok {
			*(*string)(p) = s
		}
		return ok
	case kindLenient:
		if d.i < len(d.b) && d.b[d.i] == '"' {
			// For a string literal, String.UnmarshalJSON is
			// json.Unmarshal into a string: what str does.
			s, ok := d.memoStr(&d.memo[f.slot])
			if ok {
				*(*String)(p) = String(s)
			}
			return ok
		}
		raw, ok := d.raw(depth)
		return ok && unmarshalLenient(f.kind, p, raw)
	case kindInt, kindBool:
		// The raw value goes to the type's own UnmarshalJSON, exactly the
		// bytes encoding/json would pass.
		raw, ok := d.raw(depth)
		return ok && unmarshalLenient(f.kind, p, raw)
	case kindIntPtr, kindBoolPtr, kindLenientPtr:
		if d.literal("null") {
			*(*unsafe.Pointer)(p) = nil
			return true
		}
		raw, ok := d.raw(depth)
		if !ok {
			return false
		}
		var v unsafe.Pointer
		switch f.kind {
		case kindIntPtr:
			v = unsafe.Pointer(new(Int))
		case kindBoolPtr:
			v = unsafe.Pointer(new(Bool))
		default:
			v = unsafe.Pointer(new(String))
		}
		if !unmarshalLenient(f.kind-kindIntPtr+kindInt, v, raw) {
			return false
		}
		*(*unsafe.Pointer)(p) = v
		return true
	case kindStrings:
		if d.literal("null") {
			*(*[]string)(p) = nil
			return true
		}
		list, ok := d.strings()
		if ok {
			*(*[]string)(p) = list
		}
		return ok
	case kindStruct:
		if d.literal("null") {
			*(*unsafe.Pointer)(p) = nil
			return true
		}
		v := reflect.New(f.sub.typ).UnsafePointer()
		if !d.object(f.sub, v, depth) {
			return false
		}
		*(*unsafe.Pointer)(p) = v
		return true
	}
	return false
}

// unmarshalLenient runs the UnmarshalJSON of the lenient type of kind k
// (kindInt, kindBool or kindLenient) on raw, into the value at p.
func unmarshalLenient(k fieldKind, p unsafe.Pointer, raw []byte) bool {
	switch k {
	case kindInt:
		return (*Int)(p).UnmarshalJSON(raw) == nil
	case kindBool:
		return (*Bool)(p).UnmarshalJSON(raw) == nil
	case kindLenient:
		return (*String)(p).UnmarshalJSON(raw) == nil
	}
	return false
}

// strings decodes an array of strings; a null item is "", as encoding/json
// leaves a fresh element alone on null.
func (d *listDecoder) strings() ([]string, bool) {
	if !d.consume('[') {
		return nil, false
	}
	d.space()
	if d.consume(']') {
		return []string{}, true
	}
	d.scratch = d.scratch[:0]
	for {
		if d.literal("null") {
			d.scratch = append(d.scratch, "")
		} else if s, ok := d.str(); ok {
			d.scratch = append(d.scratch, s)
		} else {
			return nil, false
		}
		if end, ok := d.next(']'); !ok {
			return nil, false
		} else if end {
			// One allocation of the exact size.
			return append([]string(nil), d.scratch...), true
		}
	}
}

// raw skips a value and returns its bytes.
func (d *listDecoder) raw(depth int) ([]byte, bool) {
	start := d.i
	if !d.skipValue(depth) {
		return nil, false
	}
	return d.b[start:d.i], true
}

// memoStr decodes a string value like str and remembers it in m. When the
// body continues with m's literal, that literal is what comes next (a
// literal ends where its bytes say), so it is skipped, not decoded again.
func (d *listDecoder) memoStr(m *strMemo) (string, bool) {
	if len(m.raw) > 0 && bytes.HasPrefix(d.b[d.i:], m.raw) {
		d.i += len(m.raw)
		return m.s, true
	}
	start := d.i
	s, ok := d.str()
	if ok {
		m.raw, m.s = d.b[start:d.i], s
	}
	return s, ok
}

// str decodes a string value as encoding/json does.
func (d *listDecoder) str() (string, bool) {
	start := d.i
	plain, ok := d.skipString()
	if !ok {
		return "", false
	}
	v := d.b[start+1 : d.i-1]
	if !plain {
		d.buf = unquote(d.buf[:0], v)
		v = d.buf
	}
	return d.intern(v), true
}

// maxInterned is the longest value intern shares: longer ones are rarely
// repeated (volume ids, UPIDs with a time) and cost more to hash.
const maxInterned = 40

// internSeed seeds intern's hash.
var internSeed = maphash.MakeSeed()

// intern returns v as a string, sharing the string of an equal value seen
// recently (a direct-mapped cache: an equal value may still be missed).
func (d *listDecoder) intern(v []byte) string {
	if len(v) > maxInterned {
		return string(v)
	}
	slot := &d.interned[maphash.Bytes(internSeed, v)%uint64(len(d.interned))]
	if *slot != string(v) {
		*slot = string(v)
	}
	return *slot
}

// strSafe marks the bytes that need no attention inside a string literal:
// printable ASCII other than quote and backslash.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainRun returns the index of the first byte at or after i that strSafe
// does not mark (or len(b)). Eight bytes at a time: the bit tricks below
// set the top bit of each byte that is a quote, a backslash, a control
// character or non-ASCII (false positives occur only after a true one, so
// the first flagged byte is right).
func plainRun(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ ('"' * ones)
		bs := x ^ ('\\' * ones)
		special := (q-ones)&^q | (bs-ones)&^bs | (x - 0x20*ones) | x
		if special &= highs; special != 0 {
			return i + bits.TrailingZeros64(special)/8
		}
	}
	for i < len(b) && strSafe[b[i]] {
		i++
	}
	return i
}

// skipString skips a string literal, checking it as encoding/json's
// scanner does (no control characters, valid escapes; any other byte,
// valid UTF-8 or not, is allowed). plain reports that it holds only
// printable ASCII without escapes, so its bytes are its value.
func (d *listDecoder) skipString() (plain, ok bool) {
	if !d.consume('"') {
		return false, false
	}
	plain = true
	for {
		d.i = plainRun(d.b, d.i)
		if d.i >= len(d.b) {
			return false, false
		}
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return plain, true
		case c < 0x20:
			return false, false
		case c == '\\':
			plain = false
			d.i++
			if d.i >= len(d.b) {
				return false, false
			}
			switch d.b[d.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i++
			case 'u':
				if len(d.b)-d.i < 5 || hex4(d.b[d.i+1:d.i+5]) < 0 {
					return false, false
				}
				d.i += 5
			default:
				return false, false
			}
		default: // non-ASCII
			plain = false
			d.i++
		}
	}
}

// skipValue skips any JSON value, checking its syntax. Nesting deeper than
// maxSkipDepth fails.
func (d *listDecoder) skipValue(depth int) bool {
	if d.i >= len(d.b) || depth > maxSkipDepth {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '"':
		_, ok := d.skipString()
		return ok
	case c == '{':
		d.i++
		d.space()
		if d.consume('}') {
			return true
		}
		for {
			if _, ok := d.skipString(); !ok || !d.colon() || !d.skipValue(depth+1) {
				return false
			}
			if end, ok := d.next('}'); !ok {
				return false
			} else if end {
				return true
			}
		}
	case c == '[':
		d.i++
		d.space()
		if d.consume(']') {
			return true
		}
		for {
			if !d.skipValue(depth + 1) {
				return false
			}
			if end, ok := d.next(']'); !ok {
				return false
			} else if end {
				return true
			}
		}
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	default:
		return d.skipNumber()
	}
}

// skipNumber skips a number in JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *listDecoder) skipNumber() bool {
	d.consume('-')
	switch {
	case d.consume('0'):
	case d.digits() == 0:
		return false
	}
	if d.consume('.') && d.digits() == 0 {
		return false
	}
	if d.consume('e') || d.consume('E') {
		if !d.consume('+') {
			d.consume('-')
		}
		if d.digits() == 0 {
			return false
		}
	}
	return true
}

// digits skips a run of decimal digits and returns its length.
func (d *listDecoder) digits() int {
	start := d.i
	for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i - start
}

// hex4 parses four hex digits, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unquote appends to b the inside of a string literal already checked by
// skipString, replicating encoding/json's unquoteBytes: invalid UTF-8 and
// unpaired surrogates become U+FFFD, a valid \uD8xx\uDCxx pair one rune.
func unquote(b, s []byte) []byte {
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch e := s[r+1]; e {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := hex4(s[r+2:])
				r += 6
				if utf16.IsSurrogate(rr) {
					// Like encoding/json: a pair is consumed only when it
					// decodes; otherwise the next escape stays for later.
					if len(s)-r >= 6 && s[r] == '\\' && s[r+1] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(s[r+2:])); dec != unicode.ReplacementChar {
							r += 6
							b = utf8.AppendRune(b, dec)
							continue
						}
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // '"', '\\', '/'
				b = append(b, e)
			}
			r += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			b = utf8.AppendRune(b, rr)
			r += size
		}
	}
	return b
}
