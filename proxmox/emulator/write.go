package emulator

// Writing replies the way each product formats them, and damaged
// replies for fault tests.

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// write sends a reply the way the product formats it.
func (s *Server) write(ep *endpoint, w http.ResponseWriter, rp reply) {
	if rp.raw {
		// Bare status line with a custom reason and no JSON envelope.
		writeRaw(w, rp.status, rp.reason, "", nil)
		return
	}
	if rp.status != http.StatusOK {
		if ep.kind == "pbs" {
			// PBS: plain-text body, yet the header still claims JSON.
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
			w.Header().Set("Content-Length", strconv.Itoa(len(rp.msg)))
			w.WriteHeader(rp.status)
			_, _ = io.WriteString(w, rp.msg)
			return
		}
		// PVE: JSON envelope with message, and the message as reason phrase.
		jw := newJW(nil)
		jw.obj()
		jw.key("data")
		jw.null()
		if len(rp.errors) > 0 {
			jw.key("errors")
			jw.obj()
			for k, v := range rp.errors {
				jw.fStr(k, v)
			}
			jw.end()
		}
		jw.fStr("message", rp.msg+"\n")
		jw.end()
		writeRaw(w, rp.status, firstLine(rp.msg), "application/json;charset=UTF-8", jw.bytes())
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	jw := newJW(bw)
	rp.render(jw)
	jw.flush()
	_ = bw.Flush()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// writeRaw hijacks the connection to write a status line with a custom
// reason phrase (net/http only writes the standard ones), then closes it.
func writeRaw(w http.ResponseWriter, status int, reason, ctype string, body []byte) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	reason = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, reason)
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", status, reason)
	if ctype != "" {
		fmt.Fprintf(buf, "Content-Type: %s\r\n", ctype)
	}
	fmt.Fprintf(buf, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(body))
	_, _ = buf.Write(body)
	_ = buf.Flush()
}

// hijackClose drops the connection without an answer (a hang that ended
// because the client gave up or the server closed).
func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}

// writeDamaged sends the real answer broken the way the fault says.
func (s *Server) writeDamaged(rc *reqCtx, w http.ResponseWriter, rp reply, f Fault) {
	switch f.Kind {
	case MalformedJSON:
		body := []byte(`{"data":[{"upid":"UPID:x",status: OK}]`)
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	case Truncated:
		// Announce the full length of the true answer, send half, hang up.
		jw := newJW(nil)
		rp.render(jw)
		full := jw.bytes()
		hj, ok := w.(http.Hijacker)
		if !ok {
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: %d\r\n\r\n", len(full))
		_, _ = buf.Write(full[:len(full)/2])
		_ = buf.Flush()
	default: // Oversized: valid-looking JSON rows until Size bytes.
		size := f.Size
		if size <= 0 {
			size = 72 << 20
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		bw := bufio.NewWriterSize(w, 64<<10)
		const row = `{"volid":"pad:backup/vzdump-qemu-100-2024_01_01-00_00_00.vma.zst","content":"backup","format":"vma.zst","size":1,"vmid":100,"ctime":1704067200},`
		if _, err := bw.WriteString(`{"data":[`); err != nil {
			return
		}
		for n := int64(0); n < size; n += int64(len(row)) {
			if rc.ctx.Err() != nil {
				return
			}
			if _, err := bw.WriteString(row); err != nil {
				return
			}
		}
		_, _ = bw.WriteString(`{}]}`)
		_ = bw.Flush()
	}
}
