package proxmox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// getEach issues GET like Get and decodes the "data" list of the answer one
// element at a time, calling fn with each in the order of the answer. fn
// gets a value it may keep. Memory stays that of one element whatever the
// listing's length (a PBS namespace of a million snapshots is hundreds of
// MiB of JSON), so the client's response size limit bounds each element
// instead of the whole answer. fn is called for the elements decoded
// before a failure too; the caller discards them on an error.
func getEach[T any](ctx context.Context, c *Client, path string, q url.Values, fn func(T)) error {
	var v T
	return streamList(ctx, c, path, q, true, elements[T]{
		// One value, zeroed for each element: fn gets a copy, and the
		// decoder allocates afresh what the copy shares (slices, maps).
		into: func() *T { v = *new(T); return &v },
		got:  func(v *T) { fn(*v) },
	})
}

// getList is a list endpoint's answer collected into a slice; it returns
// nil on error so callers never see a partial decode. It is streamed like
// getEach, so the answer's JSON is never held whole (a listing of a large
// estate is megabytes of JSON for a fraction of that in records), but the
// response size limit bounds the whole answer, as the slice holds it all.
func getList[T any](ctx context.Context, c *Client, path string, q url.Values) ([]T, error) {
	out := []T{}
	// Each element is decoded in place, in the slice, as json.Unmarshal
	// would decode the whole list.
	into := func() *T { out = append(out, *new(T)); return &out[len(out)-1] }
	if err := streamList(ctx, c, path, q, false, elements[T]{into: into}); err != nil {
		return nil, err
	}
	return out, nil
}

// streamList decodes a list answer element by element (decodeEach); perItem
// applies the size limit to each element rather than to the answer.
func streamList[T any](ctx context.Context, c *Client, path string, q url.Values, perItem bool, el elements[T]) error {
	return c.get(ctx, path, q, func(ctx context.Context, resp *http.Response) (*Error, bool) {
		tooLarge := fmt.Sprintf("response larger than %d bytes", c.maxBytes)
		if perItem {
			tooLarge = fmt.Sprintf("a listed item larger than %d bytes", c.maxBytes)
		} else if resp.ContentLength > c.maxBytes {
			return c.newError(path, ClassBadResponse, resp.StatusCode, tooLarge, nil), false
		}
		// The decoder refills in small reads; a TLS body answers each
		// with a record's worth, so reading through a larger buffer
		// saves most of the calls.
		r := &sizeLimit{r: bufio.NewReaderSize(resp.Body, 64<<10), max: c.maxBytes}
		dec := json.NewDecoder(r)
		into := el.into
		if perItem {
			into = func() *T { r.n = 0; return el.into() }
		}
		err := decodeEach(dec, elements[T]{into: into, got: el.got})
		if err == nil {
			return nil, false
		}
		var (
			synErr  *json.SyntaxError
			typeErr *json.UnmarshalTypeError
			shape   envelopeShapeError
		)
		switch {
		case ctx.Err() != nil:
			return c.readError(ctx, path, resp, err), false
		case errors.Is(err, errTooLarge):
			return c.newError(path, ClassBadResponse, resp.StatusCode, tooLarge, nil), false
		case r.err != nil:
			// The body itself failed (cut short, timed out), whatever
			// the decoder made of it.
			return c.readError(ctx, path, resp, r.err), false
		case errors.As(err, &synErr), errors.As(err, &typeErr), errors.As(err, &shape), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return c.newError(path, ClassBadResponse, resp.StatusCode, envelopeError(err).Error(), err), false
		}
		return c.readError(ctx, path, resp, err), false
	})
}

// elements says where decodeEach puts each element of a list: into gives
// the place to decode the next one into, got (optional) takes it once
// decoded.
type elements[T any] struct {
	into func() *T
	got  func(*T)
}

// decodeEach decodes the envelope read by dec, each element of its "data"
// list into the place el gives.
func decodeEach[T any](dec *json.Decoder, el elements[T]) error {
	return eachData(dec, func() error {
		v := el.into()
		if err := dec.Decode(v); err != nil {
			return err
		}
		if el.got != nil {
			el.got(v)
		}
		return nil
	})
}

// envelopeShapeError is an answer that is valid JSON but no envelope with
// a "data" list.
type envelopeShapeError string

func (e envelopeShapeError) Error() string { return string(e) }

// eachData walks the envelope token by token and calls each with the
// decoder at every element of its "data" list; other members are skipped.
func eachData(dec *json.Decoder, each func() error) error {
	if err := expectDelim(dec, '{', "response is not a JSON object"); err != nil {
		return err
	}
	seen := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if key, _ := tok.(string); key != "data" || seen {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		seen = true
		tok, err = dec.Token()
		if err != nil {
			return err
		}
		if tok == nil {
			return envelopeShapeError(`response "data" is null`)
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return envelopeShapeError(`response "data" is not a list`)
		}
		for dec.More() {
			if err := each(); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ]
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return err
	}
	if !seen {
		return envelopeShapeError(`response has no "data" member`)
	}
	return nil
}

func expectDelim(dec *json.Decoder, want json.Delim, msg string) error {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return envelopeShapeError("empty response body")
		}
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return envelopeShapeError(msg)
	}
	return nil
}

// errTooLarge stops a listing past the response size limit.
var errTooLarge = errors.New("response too large")

// sizeLimit counts what the decoder read since n was last reset (at each
// element, when the limit is per element) and fails past max: the decoder
// buffers one element at a time, so this bounds its memory. err keeps the
// body's own failure, which the decoder reports as broken JSON.
type sizeLimit struct {
	r   io.Reader
	n   int64
	max int64
	err error
}

func (l *sizeLimit) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, errTooLarge
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if err != nil && err != io.EOF {
		l.err = err
	}
	return n, err
}
