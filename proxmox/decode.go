package proxmox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
)

// DecodeEnvelope decodes a Proxmox response body {"data": ...} and stores
// the data into out (a pointer to a zero value; nil only validates the
// envelope). Other top-level members (total, digest, success) are ignored.
// A body that is not a JSON object, has no "data", has "data": null, or
// whose data does not fit out's type is an error: we rely on it.
//
// The body is decoded once, by encoding/json, straight into out. Every
// string is copied out of body, so the caller may reuse body afterwards.
func DecodeEnvelope(body []byte, out any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("empty response body")
	}
	if out == nil {
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			return envelopeError(err)
		}
		return dataPresence(env.Data)
	}
	// encoding/json decodes into the pointer an interface field holds, and
	// sets the field to nil for a JSON null: that is how null is told from
	// data, without a second pass over the body.
	env := struct {
		Data any `json:"data"`
	}{Data: out}
	if err := json.Unmarshal(body, &env); err != nil {
		return envelopeError(err)
	}
	if env.Data == nil {
		return errors.New(`response "data" is null`)
	}
	if reflect.ValueOf(out).Elem().IsZero() {
		// An absent "data" leaves out as it was; so does an empty object
		// for a struct. Only then is the envelope looked at again.
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			return envelopeError(err)
		}
		return dataPresence(env.Data)
	}
	return nil
}

// dataPresence checks the raw "data" member of a valid envelope.
func dataPresence(data json.RawMessage) error {
	switch {
	case data == nil:
		return errors.New(`response has no "data" member`)
	case string(data) == "null":
		return errors.New(`response "data" is null`)
	}
	return nil
}

// envelopeError words a decoding error: broken JSON, a body that is not an
// envelope, or data that does not fit the model.
func envelopeError(err error) error {
	var synErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &synErr), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("malformed JSON: %v", err)
	case errors.As(err, &typeErr) && typeErr.Field == "":
		// The top level itself is of the wrong kind.
		return fmt.Errorf("response is not a JSON object: %v", err)
	}
	return fmt.Errorf("unexpected data: %v", err)
}
