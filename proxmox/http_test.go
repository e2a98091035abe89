package proxmox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testTokenPVE = "exporter@pve!backup"
	testTokenPBS = "exporter@pbs!backup"
	// testSecret must never show up in an error, hint or log line.
	testSecret = "0b9d6c1e-7a55-4c1f-8e2d-93f1d2e4a5b6"
)

// ---- test helpers --------------------------------------------------------

// testServer is an HTTPS test server that counts the requests its handler
// saw.
type testServer struct {
	*httptest.Server
	hits atomic.Int64
}

// newServer starts an HTTPS server with cert (nil: httptest's built-in
// certificate for 127.0.0.1, shared by every such server, so one pin fits
// them all).
func newServer(t *testing.T, cert *tls.Certificate, h http.HandlerFunc) *testServer {
	t.Helper()
	s := &testServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	if cert != nil {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// fingerprint is the server certificate's fingerprint.
func (s *testServer) fingerprint() string { return CertFingerprint(s.Certificate().Raw) }

func okHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = io.WriteString(w, body)
	}
}

func statusHandler(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// rawHandler writes a raw HTTP response, for what net/http cannot produce:
// custom reason phrases (PVE's 401 and 59x carry their message there) and
// bodies shorter than their Content-Length.
func rawHandler(resp string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		_, _ = buf.WriteString(resp)
		_ = buf.Flush()
	}
}

// syncBuffer is a log sink safe for concurrent requests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	logsMu sync.Mutex
	logs   = map[testing.TB]*syncBuffer{}
)

// logOf returns the debug log of every client built with testTarget in t.
// At the end of the test it is checked for the secret.
func logOf(t testing.TB) *syncBuffer {
	logsMu.Lock()
	defer logsMu.Unlock()
	if b, ok := logs[t]; ok {
		return b
	}
	b := &syncBuffer{}
	logs[t] = b
	t.Cleanup(func() {
		if strings.Contains(b.String(), testSecret) {
			t.Errorf("the token secret appears in the log:\n%s", b.String())
		}
		logsMu.Lock()
		delete(logs, t)
		logsMu.Unlock()
	})
	return b
}

// testTarget is a target named "homelab" with the test token, logging at
// debug level into logOf(t).
func testTarget(t testing.TB, kind string, urls ...string) Target {
	id := testTokenPVE
	if kind == "pbs" {
		id = testTokenPBS
	}
	return Target{
		Name: "homelab", Kind: kind, URLs: urls, TokenID: id, TokenSecret: testSecret,
		Logger: slog.New(slog.NewTextHandler(logOf(t), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// pinned is testTarget trusting httptest's built-in certificate.
func pinned(t *testing.T, kind string, urls ...string) Target {
	tg := testTarget(t, kind, urls...)
	tg.TLS.Fingerprint = httptestCert(t).fingerprint()
	return tg
}

var (
	builtinCertOnce sync.Once
	builtinCert     *testServer
)

// httptestCert returns httptest's built-in certificate.
func httptestCert(t *testing.T) *testServer {
	builtinCertOnce.Do(func() {
		s := &testServer{Server: httptest.NewTLSServer(http.NotFoundHandler())}
		s.Close()
		builtinCert = s
	})
	return builtinCert
}

func mustPVE(t *testing.T, tg Target) *PVEClient {
	t.Helper()
	c, err := NewPVEClient(tg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustPBS(t *testing.T, tg Target) *PBSClient {
	t.Helper()
	c, err := NewPBSClient(tg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// noSecret fails if the secret appears in any rendering of err or its hint.
func noSecret(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), Hint(err)} {
		if strings.Contains(s, testSecret) {
			t.Errorf("the token secret appears in %q", s)
		}
	}
	var e *Error
	if errors.As(err, &e) && e.Err != nil && strings.Contains(e.Err.Error(), testSecret) {
		t.Errorf("the token secret appears in the wrapped error %q", e.Err)
	}
}

// checkErr asserts err is an *Error of class and status and free of the
// secret, with the documented Error() layout.
func checkErr(t *testing.T, err error, class ErrorClass, status int) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want a %s error, got nil", class)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %T: %v", err, err)
	}
	if e.Class != class || e.Status != status {
		t.Errorf("class/status = %s/%d, want %s/%d (%v)", e.Class, e.Status, class, status, err)
	}
	if ClassOf(err) != class {
		t.Errorf("ClassOf = %s, want %s", ClassOf(err), class)
	}
	prefix := fmt.Sprintf("%s: GET %s: %s:", e.Target, e.Endpoint, e.Class)
	if status != 0 {
		prefix += fmt.Sprintf(" %d", status)
	}
	if !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("Error() = %q, want prefix %q", err.Error(), prefix)
	}
	if Hint(err) == "" {
		t.Errorf("no hint for %v", err)
	}
	noSecret(t, err)
	return e
}

// refusedURL returns an https URL on which nothing listens.
func refusedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "https://" + addr
}

// ---- headers and construction ----------------------------------------------

func TestAuthorizationHeader(t *testing.T) {
	for _, tc := range []struct {
		kind, want string
	}{
		{"pve", "PVEAPIToken=exporter@pve!backup=" + testSecret},
		{"pbs", "PBSAPIToken=exporter@pbs!backup:" + testSecret},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			var got http.Header
			srv := newServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Clone()
				okHandler(`{"data":{}}`)(w, r)
			})
			var err error
			if tc.kind == "pve" {
				_, err = mustPVE(t, pinned(t, "pve", srv.URL)).Version(context.Background())
			} else {
				_, err = mustPBS(t, pinned(t, "pbs", srv.URL)).Version(context.Background())
			}
			if err != nil {
				t.Fatal(err)
			}
			if a := got.Values("Authorization"); len(a) != 1 || a[0] != tc.want {
				t.Errorf("Authorization = %q, want exactly %q", a, tc.want)
			}
			if got.Get("Cookie") != "" || got.Get("CSRFPreventionToken") != "" {
				t.Errorf("tokens need no cookie or CSRF header, got %v", got)
			}
		})
	}
}

func TestNewClientValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kind   string
		mutate func(*Target)
		want   string // substring of the error; "" = valid
	}{
		{name: "valid pve", kind: "pve", mutate: func(*Target) {}},
		{name: "valid pbs", kind: "pbs", mutate: func(*Target) {}},
		{name: "realm with dot and dash", kind: "pve", mutate: func(tg *Target) { tg.TokenID = "mon.itor@ldap-corp!scrape_1" }},
		{name: "empty kind means the constructor's", kind: "pve", mutate: func(tg *Target) { tg.Kind = "" }},
		{name: "wrong kind", kind: "pve", mutate: func(tg *Target) { tg.Kind = "pbs" }, want: `kind "pbs"`},
		{name: "no token", kind: "pve", mutate: func(tg *Target) { tg.TokenID = "" }, want: "token_id is empty"},
		{name: "no realm", kind: "pve", mutate: func(tg *Target) { tg.TokenID = "exporter!backup" }, want: "USER@REALM!TOKENID"},
		{name: "no token name", kind: "pve", mutate: func(tg *Target) { tg.TokenID = "exporter@pve" }, want: "USER@REALM!TOKENID"},
		{name: "empty token name", kind: "pbs", mutate: func(tg *Target) { tg.TokenID = "exporter@pbs!" }, want: "USER@REALM!TOKENID"},
		{name: "no user", kind: "pve", mutate: func(tg *Target) { tg.TokenID = "@pve!backup" }, want: "USER@REALM!TOKENID"},
		{name: "space", kind: "pve", mutate: func(tg *Target) { tg.TokenID = "ex porter@pve!backup" }, want: "USER@REALM!TOKENID"},
		{name: "PVE id=secret pasted into token_id", kind: "pve",
			mutate: func(tg *Target) { tg.TokenID = "exporter@pve!backup=" + testSecret }, want: "put the secret into token_secret"},
		{name: "PBS id:secret pasted into token_id", kind: "pbs",
			mutate: func(tg *Target) { tg.TokenID = "exporter@pbs!backup:" + testSecret }, want: "put the secret into token_secret"},
		{name: "secret pasted alone into token_id", kind: "pve",
			mutate: func(tg *Target) { tg.TokenID = testSecret }, want: "resembles token_secret, so it is not shown"},
		{name: "secret appears only once the id is quoted", kind: "pbs", // found by FuzzCheckToken
			mutate: func(tg *Target) { tg.TokenID, tg.TokenSecret = "\x00b9d6c1e", "0b9d6c1e" }, want: "resembles token_secret"},
		{name: "empty secret", kind: "pve", mutate: func(tg *Target) { tg.TokenSecret = "" }, want: "token_secret is empty"},
		{name: "secret with newline", kind: "pbs", mutate: func(tg *Target) { tg.TokenSecret = testSecret + "\n" }, want: "trailing newline"},
		{name: "no URL", kind: "pve", mutate: func(tg *Target) { tg.URLs = nil }, want: "no URL"},
		{name: "http", kind: "pve", mutate: func(tg *Target) { tg.URLs = []string{"http://pve1:8006"} }, want: "scheme must be https"},
		{name: "password in URL", kind: "pve",
			mutate: func(tg *Target) { tg.URLs = []string{"https://root:" + testSecret + "@pve1:8006"} }, want: "must not contain user or password"},
		{name: "query", kind: "pve", mutate: func(tg *Target) { tg.URLs = []string{"https://pve1:8006/?x=1"} }, want: "query"},
		{name: "second URL bad", kind: "pve", mutate: func(tg *Target) { tg.URLs = []string{"https://pve1:8006", "pve2:8006"} }, want: "url #2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := testTarget(t, tc.kind, "https://pve1.example.org:8006")
			tc.mutate(&tg)
			var err error
			if tc.kind == "pve" {
				_, err = NewPVEClient(tg)
			} else {
				_, err = NewPBSClient(tg)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), `"homelab"`) {
				t.Errorf("error %q does not name the target", err)
			}
			noSecret(t, err)
		})
	}
}

func TestURLNormalisation(t *testing.T) {
	var paths []string
	srv := newServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		okHandler(`{"data":[]}`)(w, r)
	})
	for _, u := range []string{srv.URL, srv.URL + "/", srv.URL + "/api2/json", srv.URL + "/api2/json/", srv.URL + "/proxy/pve"} {
		c := mustPVE(t, pinned(t, "pve", u))
		if _, err := c.Nodes(context.Background()); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
	}
	want := []string{"/api2/json/nodes", "/api2/json/nodes", "/api2/json/nodes", "/api2/json/nodes", "/proxy/pve/api2/json/nodes"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("paths = %q, want %q", paths, want)
	}
	c := mustPVE(t, pinned(t, "pve", srv.URL+"/api2/json/"))
	if got := c.URLs(); len(got) != 1 || got[0] != srv.URL {
		t.Errorf("URLs() = %q, want [%s]", got, srv.URL)
	}
	tg := pinned(t, "pve", srv.URL)
	tg.Name = ""
	if got := mustPVE(t, tg).Name(); got != "127.0.0.1" {
		t.Errorf("Name() without a name = %q, want the first URL's host", got)
	}
}

// ---- error classes -------------------------------------------------------

func TestErrorClasses(t *testing.T) {
	pveNodes := func(ctx context.Context, pve *PVEClient, _ *PBSClient) error {
		_, err := pve.Nodes(ctx)
		return err
	}
	pbsStores := func(ctx context.Context, _ *PVEClient, pbs *PBSClient) error {
		_, err := pbs.Datastores(ctx)
		return err
	}
	for _, tc := range []struct {
		name     string
		kind     string
		handler  http.HandlerFunc
		call     func(context.Context, *PVEClient, *PBSClient) error
		maxBytes int64
		class    ErrorClass
		status   int
		endpoint string
		text     string // exact Error(), optional
		msg      string // substring of Message
		hint     string // substring of Hint
	}{
		{
			name: "PVE 401: message in the reason phrase, no body", kind: "pve",
			handler: rawHandler("HTTP/1.1 401 Authentication failed!\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
			class:   ClassAuth, status: 401, endpoint: "/nodes",
			text: "homelab: GET /nodes: auth: 401 Authentication failed!",
			hint: "USER@REALM!TOKENID",
		},
		{
			name: "PBS 401: plain-text body", kind: "pbs",
			handler: statusHandler(401, "authentication failed"),
			class:   ClassAuth, status: 401, endpoint: "/admin/datastore",
			text: "homelab: GET /admin/datastore: auth: 401 authentication failed",
			hint: "PBSAPIToken",
		},
		{
			name: "PVE 403: JSON message names path and privilege", kind: "pve",
			handler: statusHandler(403, `{"data":null,"message":"Permission check failed (/storage/pbs-main, Datastore.Audit|Datastore.AllocateSpace)\n"}`),
			call: func(ctx context.Context, pve *PVEClient, _ *PBSClient) error {
				_, err := pve.StorageContent(ctx, "pve1", "pbs-main")
				return err
			},
			class: ClassPermission, status: 403, endpoint: "/nodes/pve1/storage/pbs-main/content",
			text: "homelab: GET /nodes/pve1/storage/pbs-main/content: permission: 403 Permission check failed (/storage/pbs-main, Datastore.Audit|Datastore.AllocateSpace)",
			hint: "grant Datastore.Audit or Datastore.AllocateSpace on /storage/pbs-main",
		},
		{
			name: "PVE 403 on backup jobs: hint from the endpoint", kind: "pve",
			handler: statusHandler(403, `{"data":null,"message":"Permission check failed\n"}`),
			call: func(ctx context.Context, pve *PVEClient, _ *PBSClient) error {
				_, err := pve.BackupJobs(ctx)
				return err
			},
			class: ClassPermission, status: 403, endpoint: "/cluster/backup",
			hint: "Sys.Audit on /",
		},
		{
			name: "PBS 403: plain text, hint from the endpoint", kind: "pbs",
			handler: statusHandler(403, "permission check failed"),
			call: func(ctx context.Context, _ *PVEClient, pbs *PBSClient) error {
				_, err := pbs.Snapshots(ctx, "main", "cluster-a", "vm", "101")
				return err
			},
			class: ClassPermission, status: 403, endpoint: "/admin/datastore/main/snapshots",
			msg: "permission check failed", hint: "Datastore.Audit on /datastore/main",
		},
		{
			name: "PBS 404", kind: "pbs",
			handler: statusHandler(404, "Path '/api2/json/admin/datastore/x/groups' not found."),
			call: func(ctx context.Context, _ *PVEClient, pbs *PBSClient) error {
				_, err := pbs.Groups(ctx, "x", "")
				return err
			},
			class: ClassNotFound, status: 404, endpoint: "/admin/datastore/x/groups",
			msg: "Path '/api2/json/admin/datastore/x/groups' not found.",
		},
		{
			name: "PVE 500 does not exist", kind: "pve",
			handler: statusHandler(500, `{"data":null,"message":"storage 'nope' does not exist\n"}`),
			call: func(ctx context.Context, pve *PVEClient, _ *PBSClient) error {
				_, err := pve.StorageContent(ctx, "pve1", "nope")
				return err
			},
			class: ClassNotFound, status: 500, endpoint: "/nodes/pve1/storage/nope/content",
			msg: "storage 'nope' does not exist",
		},
		{
			name: "PVE 500 with a Proxmox message", kind: "pve",
			handler: statusHandler(500, `{"data":null,"message":"storage 'nfs-backup' is not online\n"}`),
			class:   ClassBadResponse, status: 500, endpoint: "/nodes",
			text: "homelab: GET /nodes: bad_response: 500 storage 'nfs-backup' is not online",
		},
		{
			name: "PVE 400 parameter error with errors map", kind: "pve",
			handler: statusHandler(400, `{"data":null,"errors":{"limit":"type check ('integer') failed - got 'abc'"},"message":"Parameter verification failed.\n"}`),
			class:   ClassBadResponse, status: 400, endpoint: "/nodes",
			msg: "Parameter verification failed. (limit: type check ('integer') failed - got 'abc')",
		},
		{
			name: "503", kind: "pbs",
			handler: statusHandler(503, "Service Unavailable"),
			class:   ClassUnreachable, status: 503, endpoint: "/admin/datastore",
		},
		{
			name: "504 from a proxy", kind: "pve",
			handler: statusHandler(504, "<html>gateway timeout</html>"),
			class:   ClassTimeout, status: 504, endpoint: "/nodes", msg: "Gateway Timeout",
		},
		{
			name: "PVE 595: proxied node unreachable", kind: "pve",
			handler: rawHandler("HTTP/1.1 595 Errors during connection establishment, proxy handshake: Connection refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
			call: func(ctx context.Context, pve *PVEClient, _ *PBSClient) error {
				_, err := pve.NodeTasks(ctx, "pve3", TaskQuery{TypeFilter: "vzdump"})
				return err
			},
			class: ClassUnreachable, status: 595, endpoint: "/nodes/pve3/tasks",
			msg: "Errors during connection establishment, proxy handshake: Connection refused", hint: "proxied",
		},
		{
			name: "PVE 596", kind: "pve",
			handler: rawHandler("HTTP/1.1 596 Broken pipe\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
			class:   ClassUnreachable, status: 596, endpoint: "/nodes", msg: "Broken pipe",
		},
		{
			name: "redirects are not followed", kind: "pve",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://evil.example/", http.StatusFound)
			},
			class: ClassBadResponse, status: 302, endpoint: "/nodes",
		},
		{
			name: "malformed JSON", kind: "pve", handler: okHandler(`{"data": [{"node": "pve1",}]}`),
			class: ClassBadResponse, status: 200, endpoint: "/nodes", msg: "malformed JSON",
		},
		{
			name: "HTML instead of JSON", kind: "pbs", handler: okHandler(`<!DOCTYPE html><html></html>`),
			class: ClassBadResponse, status: 200, endpoint: "/admin/datastore", msg: "malformed JSON",
		},
		{
			name: "truncated JSON", kind: "pve", handler: okHandler(`{"data":[{"node":"pve1"`),
			class: ClassBadResponse, status: 200, endpoint: "/nodes", msg: "malformed JSON",
		},
		{
			name: "body shorter than Content-Length", kind: "pve",
			handler: rawHandler("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"data\":[{\"node\":"),
			class:   ClassBadResponse, status: 200, endpoint: "/nodes", msg: "truncated response",
		},
		{
			name: "no data member", kind: "pve", handler: okHandler(`{"total":3}`),
			class: ClassBadResponse, status: 200, endpoint: "/nodes", msg: `no "data"`,
		},
		{
			name: "data null", kind: "pbs", handler: okHandler(`{"data":null}`),
			class: ClassBadResponse, status: 200, endpoint: "/admin/datastore", msg: `"data" is null`,
		},
		{
			name: "data of the wrong type", kind: "pve", handler: okHandler(`{"data":{"node":"pve1"}}`),
			class: ClassBadResponse, status: 200, endpoint: "/nodes", msg: "unexpected data",
		},
		{
			name: "field of the wrong type", kind: "pve",
			handler: okHandler(`{"data":[{"volid":"x","vmid":"abc"}]}`),
			call: func(ctx context.Context, pve *PVEClient, _ *PBSClient) error {
				_, err := pve.StorageContent(ctx, "pve1", "local")
				return err
			},
			class: ClassBadResponse, status: 200, endpoint: "/nodes/pve1/storage/local/content", msg: "integer",
		},
		{
			name: "empty body", kind: "pve", handler: okHandler(``),
			class: ClassBadResponse, status: 200, endpoint: "/nodes",
		},
		{
			name: "oversized with Content-Length", kind: "pve", maxBytes: 100,
			handler: okHandler(`{"data":[` + strings.Repeat(`{"node":"pve1"},`, 50) + `{}]}`),
			class:   ClassBadResponse, status: 200, endpoint: "/nodes", msg: "response larger than 100 bytes",
		},
		{
			name: "oversized, chunked", kind: "pbs", maxBytes: 100,
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, `{"data":[`)
				w.(http.Flusher).Flush() // no Content-Length
				for range 50 {
					_, _ = io.WriteString(w, `{"store":"main"},`)
				}
				_, _ = io.WriteString(w, `{}]}`)
			},
			class: ClassBadResponse, status: 200, endpoint: "/admin/datastore", msg: "response larger than 100 bytes",
		},
		{
			name: "server echoes the Authorization header", kind: "pve",
			handler: func(w http.ResponseWriter, r *http.Request) {
				statusHandler(500, `{"data":null,"message":"bad header `+r.Header.Get("Authorization")+`"}`)(w, r)
			},
			class: ClassBadResponse, status: 500, endpoint: "/nodes", msg: "<redacted>",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, nil, tc.handler)
			tg := pinned(t, tc.kind, srv.URL)
			tg.MaxResponseBytes = tc.maxBytes
			var pve *PVEClient
			var pbs *PBSClient
			call := tc.call
			if tc.kind == "pve" {
				pve = mustPVE(t, tg)
				if call == nil {
					call = pveNodes
				}
			} else {
				pbs = mustPBS(t, tg)
				if call == nil {
					call = pbsStores
				}
			}
			err := call(context.Background(), pve, pbs)
			e := checkErr(t, err, tc.class, tc.status)
			if e.Endpoint != tc.endpoint {
				t.Errorf("endpoint = %q, want %q", e.Endpoint, tc.endpoint)
			}
			if e.Target != "homelab" || e.Kind != tc.kind {
				t.Errorf("target/kind = %q/%q", e.Target, e.Kind)
			}
			if tc.text != "" && err.Error() != tc.text {
				t.Errorf("Error() = %q\nwant      %q", err.Error(), tc.text)
			}
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tc.msg)
			}
			if !strings.Contains(Hint(err), tc.hint) {
				t.Errorf("hint %q does not contain %q", Hint(err), tc.hint)
			}
			if srv.hits.Load() != 1 {
				t.Errorf("server saw %d requests, want 1 (no retry against a single URL)", srv.hits.Load())
			}
		})
	}
}

func TestResponseExactlyAtCap(t *testing.T) {
	body := `{"data":[{"node":"pve1"}]}`
	srv := newServer(t, nil, okHandler(body))
	tg := pinned(t, "pve", srv.URL)
	tg.MaxResponseBytes = int64(len(body))
	nodes, err := mustPVE(t, tg).Nodes(context.Background())
	if err != nil || len(nodes) != 1 || nodes[0].Node != "pve1" {
		t.Fatalf("a body of exactly MaxResponseBytes: %v, %v", nodes, err)
	}
}

func TestUnreachable(t *testing.T) {
	c := mustPBS(t, testTarget(t, "pbs", refusedURL(t)))
	_, err := c.Version(context.Background())
	e := checkErr(t, err, ClassUnreachable, 0)
	if !strings.Contains(e.Message, "refused") {
		t.Errorf("message %q should say the connection was refused", e.Message)
	}
	if !strings.Contains(Hint(err), "8007") {
		t.Errorf("PBS hint %q should name port 8007", Hint(err))
	}
	if c.Requests() != 1 {
		t.Errorf("Requests() = %d, want 1", c.Requests())
	}
}

// ---- deadlines and cancellation ---------------------------------------------

// hangHandler blocks until the client goes away or the test ends, and
// reports each arrival.
func hangHandler(t *testing.T, arrived chan<- struct{}) http.HandlerFunc {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) }) // runs before the server's Close
	return func(w http.ResponseWriter, r *http.Request) {
		if arrived != nil {
			arrived <- struct{}{}
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}
}

func TestDeadlineIsTimeout(t *testing.T) {
	expectDeadline(t, hangHandler(t, nil))
}

// expectDeadline lists nodes from handler within 100 ms: the error must be
// a timeout that errors.Is finds as the deadline.
func expectDeadline(t *testing.T, handler http.HandlerFunc) {
	t.Helper()
	srv := newServer(t, nil, handler)
	c := mustPVE(t, pinned(t, "pve", srv.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Nodes(ctx)
	checkErr(t, err, ClassTimeout, 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(err, context.DeadlineExceeded) = false for %v", err)
	}
}

func TestCancelIsTimeout(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := newServer(t, nil, hangHandler(t, arrived))
	c := mustPBS(t, pinned(t, "pbs", srv.URL))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := c.Snapshots(ctx, "main", "", "", "")
	e := checkErr(t, err, ClassTimeout, 0)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(err, context.Canceled) = false for %v", err)
	}
	if e.Message != "request canceled" {
		t.Errorf("message = %q", e.Message)
	}
}

func TestCanceledBeforeStart(t *testing.T) {
	srv := newServer(t, nil, okHandler(`{"data":[]}`))
	c := mustPVE(t, pinned(t, "pve", srv.URL))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Nodes(ctx)
	checkErr(t, err, ClassTimeout, 0)
	if c.Requests() != 0 || srv.hits.Load() != 0 {
		t.Errorf("a canceled context must not issue a request (Requests %d, hits %d)", c.Requests(), srv.hits.Load())
	}
}

// ---- fail-over -------------------------------------------------------------

func TestFailover(t *testing.T) {
	nodes := `{"data":[{"node":"pve2","status":"online"}]}`
	for _, tc := range []struct {
		name     string
		first    func(t *testing.T) string // URL of the first entry point
		failover bool
		class    ErrorClass
	}{
		{name: "connection refused", failover: true, first: refusedURL},
		{name: "PVE 595", failover: true, first: func(t *testing.T) string {
			return newServer(t, nil, rawHandler("HTTP/1.1 595 No route to host\r\nContent-Length: 0\r\n\r\n")).URL
		}},
		{name: "PVE 596", failover: true, first: func(t *testing.T) string {
			return newServer(t, nil, rawHandler("HTTP/1.1 596 Connection timed out\r\nContent-Length: 0\r\n\r\n")).URL
		}},
		{name: "503", failover: true, first: func(t *testing.T) string {
			return newServer(t, nil, statusHandler(503, "")).URL
		}},
		{name: "TLS handshake to a server that hangs up", failover: true, first: func(t *testing.T) string {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			go func() {
				for {
					conn, err := l.Accept()
					if err != nil {
						return
					}
					_, _ = bufio.NewReader(conn).ReadByte() // read the ClientHello, then hang up
					conn.Close()
				}
			}()
			return "https://" + l.Addr().String()
		}},
		{name: "401 is not a connection failure", class: ClassAuth, first: func(t *testing.T) string {
			return newServer(t, nil, statusHandler(401, "authentication failed")).URL
		}},
		{name: "403", class: ClassPermission, first: func(t *testing.T) string {
			return newServer(t, nil, statusHandler(403, "permission check failed")).URL
		}},
		{name: "404", class: ClassNotFound, first: func(t *testing.T) string {
			return newServer(t, nil, statusHandler(404, "not found")).URL
		}},
		{name: "500", class: ClassBadResponse, first: func(t *testing.T) string {
			return newServer(t, nil, statusHandler(500, `{"data":null,"message":"boom"}`)).URL
		}},
		{name: "malformed JSON", class: ClassBadResponse, first: func(t *testing.T) string {
			return newServer(t, nil, okHandler(`{"data":`)).URL
		}},
		{name: "certificate refused", class: ClassTLS, first: func(t *testing.T) string {
			return newServer(t, ptr(valid(t, nil, "127.0.0.1")), okHandler(nodes)).URL
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := tc.first(t)
			second := newServer(t, nil, okHandler(nodes))
			c := mustPVE(t, pinned(t, "pve", first, second.URL))
			got, err := c.Nodes(context.Background())
			if !tc.failover {
				checkErr(t, err, tc.class, statusOf(err))
				if second.hits.Load() != 0 {
					t.Errorf("fell over to the second URL on %s", tc.class)
				}
				if c.ActiveURL() != first {
					t.Errorf("ActiveURL = %s, want still %s", c.ActiveURL(), first)
				}
				return
			}
			if err != nil {
				t.Fatalf("want fail-over to the second URL, got %v", err)
			}
			if len(got) != 1 || got[0].Node != "pve2" {
				t.Errorf("nodes = %+v", got)
			}
			if c.Requests() != 2 || second.hits.Load() != 1 {
				t.Errorf("Requests() = %d, second hits = %d, want 2 and 1", c.Requests(), second.hits.Load())
			}
			if c.ActiveURL() != second.URL {
				t.Errorf("ActiveURL = %s, want %s", c.ActiveURL(), second.URL)
			}
			// Sticky: the next request goes straight to the URL that worked.
			if _, err := c.Nodes(context.Background()); err != nil {
				t.Fatal(err)
			}
			if c.Requests() != 3 || second.hits.Load() != 2 {
				t.Errorf("after fail-over: Requests() = %d, second hits = %d, want 3 and 2", c.Requests(), second.hits.Load())
			}
			if !strings.Contains(logOf(t).String(), "failed over") {
				t.Errorf("fail-over not logged")
			}
		})
	}
}

// statusOf returns the HTTP status of err (0 without a response).
func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// TestFailoverOrder: the sticky URL first, then the others in configured
// order; the sticky URL moves only when another one answers.
func TestFailoverOrder(t *testing.T) {
	var down [3]atomic.Bool
	var srvs [3]*testServer
	for i := range srvs {
		srvs[i] = newServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
			if down[i].Load() {
				rawHandler("HTTP/1.1 595 down\r\nContent-Length: 0\r\n\r\n")(w, r)
				return
			}
			okHandler(`{"data":[]}`)(w, r)
		})
	}
	c := mustPVE(t, pinned(t, "pve", srvs[0].URL, srvs[1].URL, srvs[2].URL))
	hits := func() [3]int64 { return [3]int64{srvs[0].hits.Load(), srvs[1].hits.Load(), srvs[2].hits.Load()} }
	step := func(name string, wantActive int, wantHits [3]int64) {
		t.Helper()
		if _, err := c.Nodes(context.Background()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := hits(); got != wantHits {
			t.Errorf("%s: hits = %v, want %v", name, got, wantHits)
		}
		if c.ActiveURL() != srvs[wantActive].URL {
			t.Errorf("%s: active URL = %s, want #%d", name, c.ActiveURL(), wantActive)
		}
	}
	step("all up", 0, [3]int64{1, 0, 0})
	down[0].Store(true)
	step("first down", 1, [3]int64{2, 1, 0})
	step("sticky on the second", 1, [3]int64{2, 2, 0})
	down[0].Store(false)
	down[1].Store(true)
	step("second down: back to the first in configured order", 0, [3]int64{3, 3, 0})

	// Everything down: unreachable, every URL named, the sticky URL kept.
	down[0].Store(true)
	down[2].Store(true)
	_, err := c.Nodes(context.Background())
	e := checkErr(t, err, ClassUnreachable, 595)
	if !strings.Contains(e.Message, "all 3 URLs failed") {
		t.Errorf("message %q", e.Message)
	}
	for _, s := range srvs {
		if !strings.Contains(e.Message, s.URL) {
			t.Errorf("message %q does not name %s", e.Message, s.URL)
		}
	}
	if c.ActiveURL() != srvs[0].URL {
		t.Errorf("active URL moved to %s although nothing answered", c.ActiveURL())
	}
}

func TestAllURLsRefused(t *testing.T) {
	a, b := refusedURL(t), refusedURL(t)
	c := mustPVE(t, testTarget(t, "pve", a, b))
	_, err := c.Version(context.Background())
	e := checkErr(t, err, ClassUnreachable, 0)
	if !strings.Contains(e.Message, "all 2 URLs failed") || !strings.Contains(e.Message, a) || !strings.Contains(e.Message, b) {
		t.Errorf("message %q should name both URLs", e.Message)
	}
	if c.Requests() != 2 {
		t.Errorf("Requests() = %d, want 2", c.Requests())
	}
}

func TestTimeoutDoesNotFailOver(t *testing.T) {
	slow := newServer(t, nil, hangHandler(t, nil))
	fast := newServer(t, nil, okHandler(`{"data":[]}`))
	c := mustPVE(t, pinned(t, "pve", slow.URL, fast.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Nodes(ctx)
	checkErr(t, err, ClassTimeout, 0)
	if fast.hits.Load() != 0 {
		t.Errorf("a timed-out request was retried on the next URL")
	}
}

// ---- limits and counters ---------------------------------------------------

func TestConcurrencyLimit(t *testing.T) {
	arrived := make(chan struct{}, 10)
	srv := newServer(t, nil, hangHandler(t, arrived))
	tg := pinned(t, "pbs", srv.URL)
	tg.MaxConcurrency = 2
	c := mustPBS(t, tg)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { _, _ = c.Datastores(ctx) })
	}
	<-arrived
	<-arrived // both slots are taken by hanging requests

	short, cancelShort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelShort()
	_, err := c.Datastores(short)
	e := checkErr(t, err, ClassTimeout, 0)
	if !strings.Contains(e.Message, "waiting for a free request slot") {
		t.Errorf("message %q", e.Message)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Errorf("server saw %d requests, want 2: the third must wait for a slot", n)
	}
	if c.Requests() != 2 {
		t.Errorf("Requests() = %d, want 2", c.Requests())
	}
	cancel()
	wg.Wait()

	// Slots are released: the client works again.
	srv2 := newServer(t, nil, okHandler(`{"data":[]}`))
	tg.URLs = []string{srv2.URL}
	c2 := mustPBS(t, tg)
	for range 5 {
		if _, err := c2.Datastores(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConcurrencyLimitPeak: however many goroutines share a client (the
// exporter's one request limiter), the target never sees more requests at
// once than MaxConcurrency, and it does see that many.
func TestConcurrencyLimitPeak(t *testing.T) {
	var inFlight, peak atomic.Int64
	reached := make(chan struct{})
	var once sync.Once
	srv := newServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		v := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if v <= p || peak.CompareAndSwap(p, v) {
				break
			}
		}
		if v >= 3 {
			once.Do(func() { close(reached) })
		}
		// Hold the slot until the bound was reached once, so the peak
		// is the bound, not an accident of timing.
		// A bound below 3 would never get there: answer after a while, and
		// the peak check fails.
		select {
		case <-reached:
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		okHandler(`{"data":[]}`)(w, r)
	})
	tg := pinned(t, "pbs", srv.URL)
	tg.MaxConcurrency = 3
	c := mustPBS(t, tg)
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if _, err := c.Datastores(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p != 3 {
		t.Errorf("peak %d requests in flight, want the bound 3", p)
	}
}

// TestRequestTimer: under WithRequestTimer every request that got a slot
// reports its duration once, failed ones included; one that never got a
// slot reports nothing; without the timer nothing is reported.
func TestRequestTimer(t *testing.T) {
	arrived := make(chan struct{}, 10)
	hang := newServer(t, nil, hangHandler(t, arrived))
	tg := pinned(t, "pbs", hang.URL)
	tg.MaxConcurrency = 1
	c := mustPBS(t, tg)

	var mu sync.Mutex
	var got []time.Duration
	timer := func(d time.Duration) { mu.Lock(); got = append(got, d); mu.Unlock() }
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }

	ctx, cancel := context.WithCancel(WithRequestTimer(context.Background(), timer))
	done := make(chan struct{})
	go func() { _, _ = c.Datastores(ctx); close(done) }()
	<-arrived // the one slot is taken
	short, cancelShort := context.WithTimeout(WithRequestTimer(context.Background(), timer), 50*time.Millisecond)
	defer cancelShort()
	if _, err := c.Datastores(short); err == nil {
		t.Fatal("a request without a slot succeeded")
	}
	if n := count(); n != 0 {
		t.Errorf("%d durations reported before any request ended", n)
	}
	cancel()
	<-done
	if n := count(); n != 1 {
		t.Fatalf("%d durations after the hanging request was cancelled, want 1", n)
	}

	ok := newServer(t, nil, okHandler(`{"data":[]}`))
	tg.URLs = []string{ok.URL}
	c2 := mustPBS(t, tg)
	for range 3 {
		if _, err := c2.Datastores(WithRequestTimer(context.Background(), timer)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c2.Datastores(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 4 {
		t.Errorf("%d durations, want 4 (1 cancelled + 3 timed; the untimed one reports nothing)", n)
	}
	for _, d := range got {
		if d <= 0 {
			t.Errorf("duration %v", d)
		}
	}
}

func TestRequestsCount(t *testing.T) {
	srv := newServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api2/json/nodes" {
			okHandler(`{"data":[]}`)(w, r)
			return
		}
		statusHandler(500, "boom")(w, r)
	})
	c := mustPVE(t, pinned(t, "pve", srv.URL))
	if c.Requests() != 0 {
		t.Fatalf("Requests() = %d before any request", c.Requests())
	}
	ctx := context.Background()
	_, _ = c.Nodes(ctx)
	_, _ = c.Nodes(ctx)
	_, _ = c.Version(ctx) // failed requests count too
	if c.Requests() != 3 {
		t.Errorf("Requests() = %d, want 3", c.Requests())
	}
}

func TestGetRawPathAndNilOut(t *testing.T) {
	var got *url.URL
	srv := newServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		got = r.URL
		okHandler(`{"data":{"anything":1}}`)(w, r)
	})
	c := mustPVE(t, pinned(t, "pve", srv.URL))
	if err := c.Get(context.Background(), "cluster/options", url.Values{"x": {"1"}}, nil); err != nil {
		t.Fatal(err)
	}
	if got.Path != "/api2/json/cluster/options" || got.RawQuery != "x=1" {
		t.Errorf("request URL = %s", got)
	}
}

// TestPooledBodiesDoNotAlias: response buffers are reused, so nothing
// decoded may point into one. Each answer overwrites the previous body's
// bytes; every earlier result must keep its own values, through the fast
// listing decoder (nodes, groups), the lenient types and the general path
// (an object), on one client and concurrently.
func TestPooledBodiesDoNotAlias(t *testing.T) {
	var n atomic.Int64
	srv := newServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		switch r.URL.Path {
		case "/api2/json/nodes":
			fmt.Fprintf(w, `{"data":[{"node":"node-%06d","status":"online","uptime":"%d"}]}`, i, i)
		default:
			fmt.Fprintf(w, `{"data":{"version":"v%06d","release":"r%06d","repoid":"x"}}`, i, i)
		}
	})
	c := mustPVE(t, pinned(t, "pve", srv.URL))
	type got struct{ node, version string }
	results := make([]got, 40)
	var wg sync.WaitGroup
	for k := range results {
		wg.Go(func() {
			nodes, err := c.Nodes(context.Background())
			if err != nil || len(nodes) != 1 {
				t.Errorf("nodes: %v %v", nodes, err)
				return
			}
			v, err := c.Version(context.Background())
			if err != nil {
				t.Errorf("version: %v", err)
				return
			}
			results[k] = got{nodes[0].Node, v.Version}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, r := range results {
		// Each value was served once; aliasing would show a later body's
		// number (or a torn one) twice.
		for _, s := range []string{r.node, r.version} {
			if seen[s] {
				t.Fatalf("%q decoded twice: a result points into a reused body", s)
			}
			seen[s] = true
		}
		if !strings.HasPrefix(r.node, "node-") || !strings.HasPrefix(r.version, "v") {
			t.Fatalf("result %+v", r)
		}
	}
}

// TestDeadlineDuringStreamIsTimeout: a listing cut by the caller's deadline
// while streaming is a timeout that errors.Is finds as the deadline,
// whatever the decoder made of the cut body.
func TestDeadlineDuringStreamIsTimeout(t *testing.T) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	expectDeadline(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"data":[{"node":"pve1","status":"online"},`)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-done:
		}
	})
}

func TestWithContextErr(t *testing.T) {
	cut := errors.New("unexpected EOF")
	if err := withContextErr(context.Canceled, cut); !errors.Is(err, context.Canceled) || !errors.Is(err, cut) {
		t.Errorf("withContextErr(Canceled, cut) = %v: both must be in the chain", err)
	}
	wrapped := fmt.Errorf("read: %w", context.DeadlineExceeded)
	if err := withContextErr(context.DeadlineExceeded, wrapped); err != wrapped {
		t.Errorf("an error that already holds the context error is kept as it is: %v", err)
	}
}
