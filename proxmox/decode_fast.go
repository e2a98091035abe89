package proxmox

import (
	"encoding/json"
	"reflect"
	"sync"
)

// decodeDataFast is DecodeEnvelope's path for a well-formed answer: one
// json.Unmarshal into struct{ Data *T `json:"data"` } built for out's type.
// The general path unmarshals the envelope and then, from the "data"
// member's UnmarshalJSON, the data again: the body is validated twice and
// the data scanned three times, which for a listing of 10,000 rows is a
// good part of a warm scrape. It returns false, having left out in an
// unspecified state, when the answer is not a plain success (no or null
// "data", malformed JSON, data of another shape): the general path then
// decodes again and says what is wrong in its own words.
//
// out receives freshly decoded data: fields absent from the answer are
// zero, as they are for the zero values every caller passes.
//
// Listings of flat rows first try decodeListingFast (decode_listing.go),
// which scans the body once without reflection per row; what it declines
// goes through json.Unmarshal below.
func decodeDataFast(body []byte, out any) bool {
	if decodeListingFast(body, out) {
		return true
	}
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false
	}
	w := reflect.New(envelopeType(rv.Type()))
	if err := json.Unmarshal(body, w.Interface()); err != nil {
		return false
	}
	data := w.Elem().Field(0)
	if data.IsNil() {
		return false
	}
	rv.Elem().Set(data.Elem())
	return true
}

// envelopeTypes caches struct{ Data *T } per *T.
var envelopeTypes sync.Map

func envelopeType(ptr reflect.Type) reflect.Type {
	if t, ok := envelopeTypes.Load(ptr); ok {
		return t.(reflect.Type)
	}
	t := reflect.StructOf([]reflect.StructField{{Name: "Data", Type: ptr, Tag: `json:"data"`}})
	envelopeTypes.Store(ptr, t)
	return t
}
