package proxmox

import (
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
	return c.get(ctx, path, q, func(ctx context.Context, resp *http.Response) (*Error, bool) {
		r := &elementLimit{r: resp.Body, max: c.maxBytes}
		dec := json.NewDecoder(r)
		err := eachData(dec, func() error {
			r.n = 0
			var v T
			if err := dec.Decode(&v); err != nil {
				return err
			}
			fn(v)
			return nil
		})
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
		case errors.Is(err, errElementTooLarge):
			return c.newError(path, ClassBadResponse, resp.StatusCode, fmt.Sprintf("a listed item larger than %d bytes", c.maxBytes), nil), false
		case errors.As(err, &synErr), errors.As(err, &typeErr), errors.As(err, &shape), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return c.newError(path, ClassBadResponse, resp.StatusCode, envelopeError(err).Error(), err), false
		}
		return c.readError(ctx, path, resp, err), false
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

// errElementTooLarge stops a listing one of whose elements exceeds the
// response size limit.
var errElementTooLarge = errors.New("listed item too large")

// elementLimit counts what the decoder read since n was last reset (at
// each element) and fails past max: the decoder buffers one element at a
// time, so this bounds its memory.
type elementLimit struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *elementLimit) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, errElementTooLarge
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}
