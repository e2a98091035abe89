package proxmox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults and transport limits. The caller's context deadline is what
// bounds a request in practice (the scrape deadline); the transport
// timeouts are a backstop for callers without a deadline, and let a dead
// host fail fast enough to try the next URL.
const (
	// DefaultMaxResponseBytes caps a response body when
	// Target.MaxResponseBytes is 0. Large PBS snapshot listings reach
	// hundreds of MiB; the exporter avoids them (groups first) and this
	// cap stops one from exhausting memory.
	DefaultMaxResponseBytes int64 = 64 << 20
	// DefaultMaxConcurrency is the number of requests one client runs at
	// once when Target.MaxConcurrency is 0, so a scrape cannot hammer a
	// target (a 20-node cluster is still one pveproxy per URL).
	DefaultMaxConcurrency = 4

	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 2 * time.Minute
	idleConnTimeout       = 90 * time.Second
	// maxErrorBody is how much of an error response is read for the message.
	maxErrorBody = 64 << 10
)

// Target describes one PVE cluster or PBS server to talk to.
type Target struct {
	// Name identifies the target in errors and logs. When empty, the host
	// of the first URL is used.
	Name string
	// Kind is "pve" or "pbs"; empty is accepted and means the kind of the
	// constructor used.
	Kind string
	// URLs are the API entry points (e.g. one per cluster node), each
	// "https://host:port" (an optional path prefix for a reverse proxy is
	// kept; a trailing "/api2/json" is accepted). They are tried in order
	// on connection failures; the one that last worked is tried first.
	// No default port is added: PVE listens on 8006, PBS on 8007.
	URLs []string
	// TokenID is the API token id, USER@REALM!TOKENID.
	TokenID string
	// TokenSecret is the token's secret. It is only ever sent in the
	// Authorization header and never appears in errors or logs.
	TokenSecret string
	// TLS is the trust configuration.
	TLS TLSConfig
	// MaxResponseBytes caps a response body; 0 means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// MaxConcurrency bounds the requests in flight to this target; 0 means
	// DefaultMaxConcurrency. The bound is per client, across everything
	// that uses it (overlapping scrapes included): this is the exporter's
	// one request limiter.
	MaxConcurrency int
	// Logger receives warnings (insecure TLS, fail-over) and debug request
	// logs; nil discards them.
	Logger *slog.Logger
}

// Client is the HTTP layer shared by PVEClient and PBSClient: token
// authentication, per-target TLS, fail-over between URLs, a concurrency
// limit, a response size cap, envelope decoding and error classification.
// It is safe for concurrent use.
type Client struct {
	name, kind string
	authHeader string // never logged or put into an error
	secret     string // only to scrub messages
	endpoints  []*endpoint
	sticky     atomic.Int32
	requests   atomic.Uint64
	seen       atomic.Pointer[string]
	sem        chan struct{}
	maxBytes   int64
	logger     *slog.Logger
}

// endpoint is one URL of a target with its own transport: the TLS host
// name to verify differs per URL, and connection pools are per host anyway.
type endpoint struct {
	base    string // https://host:port[/prefix]/api2/json
	display string // https://host:port[/prefix], for messages
	client  *http.Client
}

// tokenIDPattern is USER@REALM!TOKENID. PVE allows realm names
// [A-Za-z][A-Za-z0-9._-]* and token names [A-Za-z][A-Za-z0-9._-]+; PBS token
// names start with a letter or digit. The user part may not contain
// white space, ':' or '/' (both products), nor '!' or '=' here, because a
// token id containing them is almost always a pasted "id=secret" string.
var tokenIDPattern = regexp.MustCompile(`^[^\s:/!=]+@[A-Za-z][A-Za-z0-9._-]*![A-Za-z0-9][A-Za-z0-9._-]*$`)

// newClient validates t and builds the shared HTTP layer for kind.
func newClient(t Target, kind string) (*Client, error) {
	if t.Kind != "" && t.Kind != kind {
		return nil, fmt.Errorf("proxmox: target %q: kind %q used with the %s client", t.Name, t.Kind, kind)
	}
	if len(t.URLs) == 0 {
		return nil, fmt.Errorf("proxmox: target %q: no URL", t.Name)
	}
	name := t.Name
	type parsed struct{ base, display, host string }
	urls := make([]parsed, 0, len(t.URLs))
	for i, raw := range t.URLs {
		base, display, host, err := parseBaseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("proxmox: target %q: url #%d: %w", t.Name, i+1, err)
		}
		if name == "" {
			name = host
		}
		urls = append(urls, parsed{base, display, host})
	}
	if err := checkToken(kind, t.TokenID, t.TokenSecret); err != nil {
		return nil, fmt.Errorf("proxmox: target %q: %w", name, err)
	}
	c := &Client{
		name:     name,
		kind:     kind,
		secret:   t.TokenSecret,
		maxBytes: t.MaxResponseBytes,
		logger:   t.Logger,
	}
	if kind == "pbs" {
		c.authHeader = "PBSAPIToken=" + t.TokenID + ":" + t.TokenSecret
	} else {
		c.authHeader = "PVEAPIToken=" + t.TokenID + "=" + t.TokenSecret
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxResponseBytes
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	conc := t.MaxConcurrency
	if conc <= 0 {
		conc = DefaultMaxConcurrency
	}
	c.sem = make(chan struct{}, conc)

	verifier, err := newTLSVerifier(t.TLS, func(fp string) { c.seen.Store(&fp) })
	if err != nil {
		return nil, fmt.Errorf("proxmox: target %q: %w", name, err)
	}
	switch {
	case verifier.pin != "" && (t.TLS.CAFile != "" || t.TLS.InsecureSkipVerify):
		c.logger.Info("tls.fingerprint pins the certificate; tls.ca_file and insecure_skip_verify are not used", "target", name)
	case verifier.insecure:
		c.logger.Warn("TLS certificate verification is disabled (insecure_skip_verify): anyone on the path can read the API token", "target", name)
	}

	idle := max(8, conc)
	for _, u := range urls {
		tr := &http.Transport{
			// No proxy from the environment: Proxmox sits on the LAN and
			// an inherited HTTPS_PROXY would silently reroute the token.
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       verifier.config(u.host),
			TLSHandshakeTimeout:   tlsHandshakeTimeout,
			ResponseHeaderTimeout: responseHeaderTimeout,
			IdleConnTimeout:       idleConnTimeout,
			MaxIdleConns:          idle,
			MaxIdleConnsPerHost:   idle,
		}
		c.endpoints = append(c.endpoints, &endpoint{
			base:    u.base,
			display: u.display,
			client: &http.Client{
				Transport: tr,
				// Proxmox APIs do not redirect; following one could carry
				// the token to another host.
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			},
		})
	}
	return c, nil
}

// parseBaseURL validates a target URL and returns the API base, the form
// shown in messages and the host name to verify the certificate for.
func parseBaseURL(raw string) (base, display, host string, err error) {
	u, perr := url.Parse(strings.TrimSpace(raw))
	if perr != nil {
		// url.Parse errors quote the input, which may hold a password.
		return "", "", "", errors.New("not a valid URL")
	}
	if u.User != nil {
		return "", "", "", errors.New("must not contain user or password; use token_id and token_secret")
	}
	if u.Scheme != "https" {
		return "", "", "", fmt.Errorf("scheme must be https (Proxmox APIs only speak HTTPS), got %q", u.Scheme)
	}
	if u.Hostname() == "" {
		return "", "", "", errors.New("no host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", "", "", errors.New("must not contain a query or fragment")
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	path = strings.TrimSuffix(path, "/api2/json")
	display = "https://" + u.Host + path
	return display + "/api2/json", display, u.Hostname(), nil
}

// checkToken validates the token at construction, so a malformed id is a
// start-up error instead of a 401 every scrape. Messages never contain the
// secret, and echo the id only when it cannot contain one.
func checkToken(kind, id, secret string) error {
	example := "exporter@pve!backup"
	if kind == "pbs" {
		example = "exporter@pbs!backup"
	}
	if id == "" {
		return fmt.Errorf("token_id is empty (want USER@REALM!TOKENID, e.g. %s)", example)
	}
	if !tokenIDPattern.MatchString(id) {
		if strings.ContainsAny(id, "=:") {
			return fmt.Errorf("token_id is not of the form USER@REALM!TOKENID (e.g. %s); it contains '=' or ':', put the secret into token_secret, not token_id", example)
		}
		// The check is on the text printed, not on id: quoting can make
		// the secret appear ("\x00" followed by "b9d6…" prints as
		// "\x00b9d6…", which contains a secret "0b9d6…").
		shown := strconv.Quote(shorten(id, 64))
		if secret != "" && strings.Contains(shown, secret) {
			return fmt.Errorf("token_id is not of the form USER@REALM!TOKENID (e.g. %s), and it resembles token_secret, so it is not shown", example)
		}
		return fmt.Errorf("token_id %s is not of the form USER@REALM!TOKENID (e.g. %s)", shown, example)
	}
	if secret == "" {
		return errors.New("token_secret is empty")
	}
	for _, r := range secret {
		if r <= ' ' || r == 0x7f || r == ';' {
			return errors.New("token_secret contains white space, control characters or ';' (a trailing newline from a secret file?)")
		}
	}
	return nil
}

// Name returns the target name.
func (c *Client) Name() string { return c.name }

// Kind returns "pve" or "pbs".
func (c *Client) Kind() string { return c.kind }

// Requests returns the number of HTTP requests issued so far (every
// attempt, including fail-over attempts), for target_api_requests.
func (c *Client) Requests() uint64 { return c.requests.Load() }

// URLs returns the normalised entry points ("https://host:port"), in
// configured order.
func (c *Client) URLs() []string {
	out := make([]string, len(c.endpoints))
	for i, e := range c.endpoints {
		out[i] = e.display
	}
	return out
}

// ActiveURL returns the entry point tried first by the next request: the
// one that last answered.
func (c *Client) ActiveURL() string { return c.endpoints[c.sticky.Load()].display }

// SeenFingerprint returns the SHA-256 fingerprint ("aa:bb:..", lower case)
// of the leaf certificate presented in the most recent TLS handshake,
// recorded before verification so it is known even when verification
// failed; "" before the first handshake. Connections are reused, so this
// changes only when a new connection is made.
func (c *Client) SeenFingerprint() string {
	if p := c.seen.Load(); p != nil {
		return *p
	}
	return ""
}

// Close releases idle connections. The client stays usable; call it when
// a configuration reload replaces the client.
func (c *Client) Close() {
	for _, e := range c.endpoints {
		e.client.CloseIdleConnections()
	}
}

// requestTimerKey is the context key of WithRequestTimer's function.
type requestTimerKey struct{}

// WithRequestTimer returns a context under which every Get reports how
// long it took to fn, which must be safe for concurrent use. The time runs
// from when the request got one of the target's request slots to when its
// answer was decoded (fail-over attempts included): the wait for a slot is
// the client's own queueing, not the target's latency.
func WithRequestTimer(ctx context.Context, fn func(time.Duration)) context.Context {
	return context.WithValue(ctx, requestTimerKey{}, fn)
}

// Get issues GET <url>/api2/json<path>?<query> and decodes the "data"
// member of the response envelope into out (a pointer; nil discards it).
// path must start with "/" and have its segments escaped (the typed
// methods do this). The request is bounded by ctx and waits for a free
// slot of the target's concurrency limit; on a connection failure the
// next URL is tried (see the table on ErrorClass). Every failure is an
// *Error.
func (c *Client) Get(ctx context.Context, path string, query url.Values, out any) error {
	return c.get(ctx, path, query, func(ctx context.Context, resp *http.Response) (*Error, bool) {
		return c.decodeBuffered(ctx, path, resp, out)
	})
}

// bodyReader consumes a successful answer's body.
type bodyReader func(ctx context.Context, resp *http.Response) (*Error, bool)

// get is Get with the body consumed by read.
func (c *Client) get(ctx context.Context, path string, query url.Values, read bodyReader) error {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if err := ctx.Err(); err != nil {
		return c.newError(path, ClassTimeout, 0, transportMessage(err), err)
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return c.newError(path, ClassTimeout, 0,
			fmt.Sprintf("waiting for a free request slot (at most %d concurrent requests per target): %s", cap(c.sem), transportMessage(ctx.Err())),
			ctx.Err())
	}
	defer func() { <-c.sem }()
	if timer, ok := ctx.Value(requestTimerKey{}).(func(time.Duration)); ok {
		start := time.Now()
		defer func() { timer(time.Since(start)) }()
	}

	first := int(c.sticky.Load())
	order := make([]int, 0, len(c.endpoints))
	order = append(order, first)
	for i := range c.endpoints {
		if i != first {
			order = append(order, i)
		}
	}
	var failed []string
	var last *Error
	for _, i := range order {
		err, failover := c.try(ctx, c.endpoints[i], path, query, read)
		last = err
		if err == nil {
			// Requests in flight together fail over together; only the
			// one that moves the sticky URL logs, so one outage is one
			// log line, not one per request.
			if i != first && c.sticky.CompareAndSwap(int32(first), int32(i)) {
				c.logger.Warn("failed over to another URL", "target", c.name, "url", c.endpoints[i].display,
					"failed", strings.Join(failed, "; "))
			}
			return nil
		}
		if !failover || ctx.Err() != nil || len(c.endpoints) == 1 {
			if len(failed) > 0 && ctx.Err() == nil {
				err.Message = cleanMessage(err.Message + " (tried before: " + strings.Join(failed, "; ") + ")")
			}
			return err
		}
		failed = append(failed, c.endpoints[i].display+": "+err.Message)
	}
	last.Message = cleanMessage(fmt.Sprintf("all %d URLs failed: %s", len(order), strings.Join(failed, "; ")))
	return last
}

// try issues the request against one URL. It returns nil on success, else
// the error and whether another URL should be tried.
func (c *Client) try(ctx context.Context, ep *endpoint, path string, query url.Values, read bodyReader) (*Error, bool) {
	u := ep.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return c.newError(path, ClassBadResponse, 0, "building request: invalid path", err), false
	}
	req.Header.Set("Authorization", c.authHeader)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "proxmox-backup-exporter")

	start := time.Now()
	c.requests.Add(1)
	resp, err := ep.client.Do(req)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return c.newError(path, ClassTimeout, 0, transportMessage(cerr), withContextErr(cerr, err)), false
		}
		class, failover := classifyTransport(err)
		c.logger.Debug("proxmox request failed", "target", c.name, "url", ep.display, "endpoint", path, "class", class, "err", transportMessage(err))
		return c.newError(path, class, 0, transportMessage(err), err), failover
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
	}()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
		msg := proxmoxMessage(body, reason)
		class, failover := classifyStatus(resp.StatusCode, msg)
		c.logger.Debug("proxmox request", "target", c.name, "url", ep.display, "endpoint", path,
			"status", resp.StatusCode, "duration", time.Since(start))
		return c.newError(path, class, resp.StatusCode, msg, nil), failover
	}

	c.logger.Debug("proxmox request", "target", c.name, "url", ep.display, "endpoint", path,
		"status", resp.StatusCode, "duration", time.Since(start))
	return read(ctx, resp)
}

// decodeBuffered reads a whole answer (at most the client's response size
// limit) and decodes its "data" member into out. Objects are read this way;
// lists are streamed (getList, getEach), so no answer of a large estate is held
// whole.
func (c *Client) decodeBuffered(ctx context.Context, path string, resp *http.Response, out any) (*Error, bool) {
	if resp.ContentLength > c.maxBytes {
		return c.newError(path, ClassBadResponse, resp.StatusCode, fmt.Sprintf("response larger than %d bytes", c.maxBytes), nil), false
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return c.readError(ctx, path, resp, err), false
	}
	if n > c.maxBytes {
		return c.newError(path, ClassBadResponse, resp.StatusCode, fmt.Sprintf("response larger than %d bytes", c.maxBytes), nil), false
	}
	if err := DecodeEnvelope(buf.Bytes(), out); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			// The body was cut short because the caller gave up.
			return c.newError(path, ClassTimeout, 0, transportMessage(cerr), cerr), false
		}
		return c.newError(path, ClassBadResponse, resp.StatusCode, err.Error(), err), false
	}
	return nil, false
}

// readError classifies a failure to read an answer's body: the caller gave
// up, the connection timed out, or the body was cut short.
func (c *Client) readError(ctx context.Context, path string, resp *http.Response, err error) *Error {
	if cerr := ctx.Err(); cerr != nil {
		return c.newError(path, ClassTimeout, 0, transportMessage(cerr), withContextErr(cerr, err))
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return c.newError(path, ClassTimeout, 0, "reading response: "+err.Error(), err)
	}
	return c.newError(path, ClassBadResponse, resp.StatusCode, "truncated response: "+err.Error(), err)
}

// withContextErr is err with the caller's context error cerr in its chain:
// the context is what ended the request, whatever the transport or reader
// made of it (a connection closed as the deadline passed, a streamed
// listing's decoder seeing a cut body), and callers ask errors.Is.
func withContextErr(cerr, err error) error {
	if errors.Is(err, cerr) {
		return err
	}
	return errors.Join(cerr, err)
}

// newError builds an *Error, scrubbing the secret from the message in case
// a server echoed a header back.
func (c *Client) newError(path string, class ErrorClass, status int, msg string, err error) *Error {
	if c.secret != "" {
		msg = strings.ReplaceAll(msg, c.secret, "<redacted>")
	}
	return &Error{Target: c.name, Kind: c.kind, Endpoint: path, Class: class, Status: status, Message: cleanMessage(msg), Err: err}
}
