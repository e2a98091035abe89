package emulator

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves a Model over real HTTPS: one TLS listener per PVE node and
// one per PBS, each with its own certificate. Create it with Start and stop
// it with Close.
type Server struct {
	// mu guards the model. Handlers hold the read lock while they render,
	// Update holds the write lock.
	mu  sync.RWMutex
	m   *Model
	gen uint64 // bumped by every Update; invalidates derived indexes

	clusters map[string]*clusterRT
	pbs      map[string]*pbsRT
	eps      []*endpoint

	faultMu sync.Mutex
	faults  []*activeFault

	reqMu   sync.Mutex
	reqs    []Request
	counts  map[string]int
	total   int
	noLog   bool
	closing chan struct{}

	hmu      sync.Mutex
	closed   bool
	inflight sync.WaitGroup
	active   atomic.Int64 // handlers running, for tests

	// In-flight requests per target (cluster or PBS name) and the highest
	// number seen, for tests of the exporter's per-target bound.
	flightMu  sync.Mutex
	inFlight  map[string]int
	maxFlight map[string]int

	idx indexCache
}

type clusterRT struct {
	ca    *identity
	nodes map[string]*endpoint
	order []*endpoint
}

type pbsRT struct {
	ep *endpoint
}

// endpoint is one HTTPS listener: a PVE node or a PBS.
type endpoint struct {
	s      *Server
	kind   string // "pve" | "pbs"
	target string
	node   string // PVE node name
	certMu sync.Mutex
	certs  *certSet

	mu      sync.Mutex
	addr    string
	srv     *http.Server
	up      bool
	stopped chan struct{}
	served  chan struct{} // closed when the current Serve returned
	wg      sync.WaitGroup
}

// Request is one API request the emulator answered.
type Request struct {
	// Target is the cluster or PBS name.
	Target string
	// Node is the PVE node whose listener received the request ("" for PBS).
	Node   string
	Method string
	// Path without the /api2/json prefix.
	Path string
	// Route is the matched pattern, e.g.
	// "/nodes/{node}/storage/{storage}/content" ("" when no route matched).
	Route string
	Query url.Values
	// Items is the number of rows returned (1 for an object, 0 for errors).
	Items int
	// Status is the HTTP status sent; 0 when the request got no answer (a
	// hang or delay ended by the client giving up or by Close).
	Status int
}

// Start serves m. Topology (clusters, nodes, PBS servers) is fixed at
// Start; everything else may change through Update.
func Start(m *Model) (*Server, error) {
	s := &Server{
		m:        m,
		clusters: map[string]*clusterRT{},
		pbs:      map[string]*pbsRT{},
		counts:   map[string]int{},
		closing:  make(chan struct{}),
	}
	applyDefaults(m)
	for _, c := range m.Clusters {
		if _, dup := s.clusters[c.Name]; dup {
			return nil, fmt.Errorf("emulator: duplicate cluster %q", c.Name)
		}
		ca, err := newCA("Proxmox Virtual Environment", "PVE Cluster Manager CA")
		if err != nil {
			return nil, err
		}
		rt := &clusterRT{ca: ca, nodes: map[string]*endpoint{}}
		for _, n := range c.Nodes {
			cs, err := newCertSet(n.Name+"."+c.Name+".lan", "PVE Cluster Node", []string{n.Name, "localhost"}, ca)
			if err != nil {
				return nil, err
			}
			ep := &endpoint{s: s, kind: "pve", target: c.Name, node: n.Name, certs: cs, addr: "127.0.0.1:0"}
			rt.nodes[n.Name] = ep
			rt.order = append(rt.order, ep)
			s.eps = append(s.eps, ep)
		}
		s.clusters[c.Name] = rt
	}
	for _, p := range m.PBS {
		if _, dup := s.pbs[p.Name]; dup {
			return nil, fmt.Errorf("emulator: duplicate PBS %q", p.Name)
		}
		cs, err := newCertSet(p.Name, "", []string{p.Name, "localhost"}, nil)
		if err != nil {
			return nil, err
		}
		ep := &endpoint{s: s, kind: "pbs", target: p.Name, certs: cs, addr: "127.0.0.1:0"}
		s.pbs[p.Name] = &pbsRT{ep: ep}
		s.eps = append(s.eps, ep)
	}
	// Every listener binds once, even offline ones, so its port (and URL)
	// is stable for the server's lifetime.
	for _, ep := range s.eps {
		if err := ep.start(); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.reconcile()
	return s, nil
}

// applyDefaults fills fields whose zero value means "the usual".
func applyDefaults(m *Model) {
	for _, c := range m.Clusters {
		if c.TokenID == "" {
			c.TokenID = "exporter@pve!monitor"
		}
		if c.TokenSecret == "" {
			c.TokenSecret = deriveSecret("pve", c.Name)
		}
		for i, n := range c.Nodes {
			if n.IP == "" {
				n.IP = fmt.Sprintf("10.0.0.%d", i+1)
			}
		}
	}
	for _, p := range m.PBS {
		if p.TokenID == "" {
			p.TokenID = "exporter@pbs!monitor"
		}
		if p.TokenSecret == "" {
			p.TokenSecret = deriveSecret("pbs", p.Name)
		}
	}
}

// deriveSecret makes a distinctive UUID-shaped secret, stable per name, so
// tests can grep outputs for it.
func deriveSecret(kind, name string) string {
	sum := sha256.Sum256([]byte("emulator-secret/" + kind + "/" + name))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Close stops every listener and waits for handlers (hanging ones are
// released at once).
func (s *Server) Close() {
	s.hmu.Lock()
	if s.closed {
		s.hmu.Unlock()
		return
	}
	s.closed = true
	close(s.closing)
	s.hmu.Unlock()
	for _, ep := range s.eps {
		ep.stop()
	}
	s.inflight.Wait()
	for _, ep := range s.eps {
		ep.wg.Wait()
	}
}

// PVEURLs returns one base URL (https://127.0.0.1:port) per node of the
// cluster, in node order.
func (s *Server) PVEURLs(cluster string) []string {
	rt := s.clusters[cluster]
	if rt == nil {
		return nil
	}
	out := make([]string, 0, len(rt.order))
	for _, ep := range rt.order {
		out = append(out, "https://"+ep.address())
	}
	return out
}

// PVEURL returns the base URL of one node.
func (s *Server) PVEURL(cluster, node string) string {
	if ep := s.pveEP(cluster, node); ep != nil {
		return "https://" + ep.address()
	}
	return ""
}

// PBSURL returns the base URL of a PBS.
func (s *Server) PBSURL(pbs string) string {
	if rt := s.pbs[pbs]; rt != nil {
		return "https://" + rt.ep.address()
	}
	return ""
}

// PBSPort returns the TCP port of a PBS listener.
func (s *Server) PBSPort(pbs string) int {
	if rt := s.pbs[pbs]; rt != nil {
		_, p, _ := net.SplitHostPort(rt.ep.address())
		n, _ := strconv.Atoi(p)
		return n
	}
	return 0
}

// PBSFingerprint is the SHA-256 fingerprint ("aa:bb:..", lower case) of the
// certificate the PBS currently serves.
func (s *Server) PBSFingerprint(pbs string) string {
	if rt := s.pbs[pbs]; rt != nil {
		return rt.ep.identity().fp
	}
	return ""
}

// PVEFingerprint is the fingerprint of a node's current certificate.
func (s *Server) PVEFingerprint(cluster, node string) string {
	if ep := s.pveEP(cluster, node); ep != nil {
		return ep.identity().fp
	}
	return ""
}

// PBSCertPEM is the PEM of the PBS's current (self-signed) certificate:
// usable as a CA file, since a self-signed certificate is its own root.
func (s *Server) PBSCertPEM(pbs string) []byte {
	if rt := s.pbs[pbs]; rt != nil {
		return rt.ep.identity().pem
	}
	return nil
}

// PVECAPEM is the PEM of the cluster CA that signs every node certificate
// (pve-root-ca.pem on a real cluster).
func (s *Server) PVECAPEM(cluster string) []byte {
	if rt := s.clusters[cluster]; rt != nil {
		return rt.ca.pem
	}
	return nil
}

// PVECertPEM is the PEM of a node's current leaf certificate.
func (s *Server) PVECertPEM(cluster, node string) []byte {
	if ep := s.pveEP(cluster, node); ep != nil {
		return ep.identity().pem
	}
	return nil
}

// PVEToken returns the API token the cluster accepts.
func (s *Server) PVEToken(cluster string) (id, secret string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c := s.m.Cluster(cluster); c != nil {
		return c.TokenID, c.TokenSecret
	}
	return "", ""
}

// PBSToken returns the API token the PBS accepts.
func (s *Server) PBSToken(pbs string) (id, secret string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p := s.m.PBSServer(pbs); p != nil {
		return p.TokenID, p.TokenSecret
	}
	return "", ""
}

// RotateCert gives a PBS (node "") or a PVE node a new key and certificate,
// as a renewal does: the fingerprint changes, pinned clients must fail.
func (s *Server) RotateCert(target, node string) error {
	ep := s.findEP(target, node)
	if ep == nil {
		return fmt.Errorf("emulator: no listener %q/%q", target, node)
	}
	ep.certMu.Lock()
	defer ep.certMu.Unlock()
	return ep.certs.rotate()
}

// Update mutates the model under the lock, then applies topology-level
// changes (nodes going offline or online).
func (s *Server) Update(fn func(m *Model)) {
	s.mu.Lock()
	fn(s.m)
	applyDefaults(s.m)
	s.gen++
	s.mu.Unlock()
	s.reconcile()
}

// Model returns the served model. Read it only inside Update or when no
// request can be in flight.
func (s *Server) Model() *Model { return s.m }

// SetLatency changes the emulated latency at run time.
func (s *Server) SetLatency(l Latency) {
	s.mu.Lock()
	s.m.Latency = l
	s.mu.Unlock()
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// ResetRequests clears the request log and the counters.
func (s *Server) ResetRequests() {
	s.reqMu.Lock()
	s.reqs = nil
	s.counts = map[string]int{}
	s.total = 0
	s.reqMu.Unlock()
}

// CountRequests returns how many requests matched route (a pattern such as
// "/admin/datastore/{store}/snapshots") since the last reset; "" counts
// all. Counting is always on and cheap.
func (s *Server) CountRequests(route string) int {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	if route == "" {
		return s.total
	}
	return s.counts[route]
}

// RequestCounts returns the per-route counters.
func (s *Server) RequestCounts() map[string]int {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// SetRequestLog switches the detailed request log on (default) or off;
// benchmarks switch it off and use CountRequests.
func (s *Server) SetRequestLog(on bool) {
	s.reqMu.Lock()
	s.noLog = !on
	s.reqMu.Unlock()
}

func (s *Server) record(rq Request) {
	s.reqMu.Lock()
	s.total++
	s.counts[rq.Route]++
	if !s.noLog {
		s.reqs = append(s.reqs, rq)
	}
	s.reqMu.Unlock()
}

func (s *Server) pveEP(cluster, node string) *endpoint {
	if rt := s.clusters[cluster]; rt != nil {
		return rt.nodes[node]
	}
	return nil
}

func (s *Server) findEP(target, node string) *endpoint {
	if node != "" {
		return s.pveEP(target, node)
	}
	if rt := s.pbs[target]; rt != nil {
		return rt.ep
	}
	return nil
}

// reconcile opens or closes listeners to match node state and Down faults.
func (s *Server) reconcile() {
	s.hmu.Lock()
	closed := s.closed
	s.hmu.Unlock()
	if closed {
		return
	}
	for _, ep := range s.eps {
		want := s.listenerWanted(ep)
		ep.mu.Lock()
		up := ep.up
		ep.mu.Unlock()
		switch {
		case want && !up:
			_ = ep.start()
		case !want && up:
			ep.stop()
		}
	}
}

func (s *Server) listenerWanted(ep *endpoint) bool {
	if s.hasFault(ep.target, ep.node, Down) {
		return false
	}
	if ep.kind == "pve" {
		if s.hasFault(ep.target, ep.node, NodeOffline) {
			return false
		}
		s.mu.RLock()
		defer s.mu.RUnlock()
		if c := s.m.Cluster(ep.target); c != nil {
			if n := c.Node(ep.node); n != nil && n.Offline {
				return false
			}
		}
	}
	return true
}

func (ep *endpoint) address() string {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return ep.addr
}

func (ep *endpoint) identity() *identity {
	ep.certMu.Lock()
	defer ep.certMu.Unlock()
	if ep.s.hasFault(ep.target, ep.node, ExpiredCert) {
		if id, err := ep.certs.expiredIdentity(); err == nil {
			return id
		}
	}
	return ep.certs.valid
}

var discardLog = log.New(io.Discard, "", 0)

// start (re)binds the listener on its fixed address.
func (ep *endpoint) start() error {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.up {
		return nil
	}
	var ln net.Listener
	var err error
	// The port may still be in TIME_WAIT churn right after a close; retry
	// briefly rather than give the listener a new URL.
	for i := 0; i < 50; i++ {
		ln, err = net.Listen("tcp", ep.addr)
		if err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("emulator: listen %s: %w", ep.addr, err)
	}
	ep.addr = ln.Addr().String()
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			id := ep.identity()
			return &id.tls, nil
		},
	}
	srv := &http.Server{
		Handler:           ep,
		ErrorLog:          discardLog,
		ReadHeaderTimeout: 10 * time.Second,
		// pveproxy and the PBS REST server speak HTTP/1.1 to API clients;
		// custom reason phrases (PVE errors, 59x) need it as well.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	ep.srv = srv
	ep.up = true
	ep.stopped = make(chan struct{})
	tl := tls.NewListener(ln, cfg)
	served := make(chan struct{})
	ep.served = served
	ep.wg.Add(1)
	go func() {
		defer ep.wg.Done()
		defer close(served)
		_ = srv.Serve(tl)
	}()
	return nil
}

// stop closes the listener and every open connection: clients see
// connection refused / reset, like a host that went away.
func (ep *endpoint) stop() {
	ep.mu.Lock()
	if !ep.up {
		ep.mu.Unlock()
		return
	}
	ep.up = false
	srv, served := ep.srv, ep.served
	close(ep.stopped)
	ep.mu.Unlock()
	_ = srv.Close()
	// The socket is only really closed once Serve's pending Accept has
	// released it; wait, so that the next dial is refused, not reset.
	<-served
}

func (ep *endpoint) stoppedCh() <-chan struct{} {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return ep.stopped
}

// enter registers an in-flight handler; false once the server is closing.
func (s *Server) enter() bool {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	if s.closed {
		return false
	}
	s.inflight.Add(1)
	s.active.Add(1)
	return true
}

// reply is a handler's answer before it is written.
type reply struct {
	status int
	// msg is the error message (PVE: JSON message and reason phrase; PBS:
	// the plain-text body).
	msg string
	// errors are PVE parameter errors.
	errors map[string]string
	// raw writes a bare status line with reason and an empty body (PVE's
	// proxy pseudo-statuses 595/596).
	raw    bool
	reason string
	items  int
	render func(w *jw)
}

func okReply(items int, render func(w *jw)) reply {
	return reply{status: http.StatusOK, items: items, render: render}
}

func errReply(status int, msg string) reply { return reply{status: status, msg: msg} }

// reqCtx is what a route handler sees.
type reqCtx struct {
	s       *Server
	ep      *endpoint
	ctx     context.Context
	path    string
	route   string
	params  map[string]string
	q       url.Values
	cluster *Cluster
	pbs     *PBSServer
	// node is the PVE node handling the request (after proxying).
	node string
	// noPriv: the token lacks the privilege to see backup volumes/groups.
	noPriv bool
}

func (rc *reqCtx) param(k string) string { return rc.params[k] }

const apiPrefix = "/api2/json"

// ServeHTTP is the entry point of every listener.
func (ep *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := ep.s
	if !s.enter() {
		hijackClose(w)
		return
	}
	defer s.inflight.Done()
	defer s.active.Add(-1)
	s.flightBegin(ep.target)
	defer s.flightEnd(ep.target)
	rec := Request{Target: ep.target, Node: ep.node, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()}
	rp := s.handle(ep, w, r, &rec)
	rec.Status = rp.status
	if rp.status == http.StatusOK {
		rec.Items = rp.items
	}
	s.record(rec)
}

// dropped is the status recorded when no answer was sent (a hang or delay
// that ended because the client gave up or the server went away).
const dropped = 0

// handle routes, authenticates, applies faults, runs the handler and writes
// the answer. The model read lock is held from the handler through the
// write, because listings render straight from the model.
func (s *Server) handle(ep *endpoint, w http.ResponseWriter, r *http.Request, rec *Request) reply {
	ctx := r.Context()
	path := r.URL.Path
	if !strings.HasPrefix(path, apiPrefix+"/") {
		rp := s.notFound(ep, r.Method, path)
		s.write(ep, w, rp)
		return rp
	}
	path = strings.TrimSuffix(strings.TrimPrefix(path, apiPrefix), "/")
	if path == "" {
		path = "/"
	}
	rec.Path = path
	rc := &reqCtx{s: s, ep: ep, ctx: ctx, path: path, q: r.URL.Query(), node: ep.node}

	// Authentication comes first on both products (unknown paths included).
	if rp, ok := s.authenticate(rc, r); !ok {
		s.write(ep, w, rp)
		return rp
	}
	var rt *route
	if ep.kind == "pve" {
		rt, rc.params = pveRoutes.match(path)
	} else {
		rt, rc.params = pbsRoutes.match(path)
	}
	if rt == nil || r.Method != http.MethodGet {
		rp := s.notFound(ep, r.Method, path)
		s.write(ep, w, rp)
		return rp
	}
	rc.route = rt.pattern
	rec.Route = rt.pattern
	if ep.kind == "pve" && rc.params["node"] != "" {
		rc.node = rc.params["node"]
	}

	// Request-level faults.
	var bodyFault *Fault
	for _, f := range s.matchFaults(ep.target, rc.node, path, rt.pattern) {
		var rp reply
		switch f.Kind {
		case Status401:
			rp = s.authFailure(rc)
		case Status403:
			rp = s.permissionDenied(rc, f.Message)
		case Status500:
			rp = errReply(http.StatusInternalServerError, orDefault(f.Message, "internal error"))
		case Status503:
			rp = errReply(http.StatusServiceUnavailable, orDefault(f.Message, "service unavailable"))
		case Status596:
			rp = reply{status: 596, raw: true, reason: orDefault(f.Message, "Broken pipe")}
		case Slow:
			if !s.sleep(rc, f.Delay) {
				hijackClose(w)
				return reply{status: dropped}
			}
			continue
		case Hang:
			select {
			case <-ctx.Done():
			case <-s.closing:
			case <-ep.stoppedCh():
			}
			hijackClose(w)
			return reply{status: dropped}
		case NoBackupPrivilege:
			rc.noPriv = true
			continue
		case MalformedJSON, Truncated, Oversized:
			if bodyFault == nil {
				bodyFault = f
			}
			continue
		default:
			continue
		}
		s.write(ep, w, rp)
		return rp
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	var rp reply
	if ep.kind == "pve" {
		rc.cluster = s.m.Cluster(ep.target)
		rp = s.servePVE(rc, rt)
	} else {
		rc.pbs = s.m.PBSServer(ep.target)
		rp = rt.h(rc)
	}
	if rp.status == http.StatusOK && bodyFault != nil {
		s.writeDamaged(rc, w, rp, *bodyFault)
		return rp
	}
	lat := s.m.Latency
	if d := lat.PerRequest + time.Duration(rp.items)*lat.PerItem; d > 0 {
		if !s.sleep(rc, d) {
			hijackClose(w)
			return reply{status: dropped}
		}
	}
	s.write(ep, w, rp)
	return rp
}

// servePVE applies pveproxy's node proxying before running the handler:
// /nodes/{node}/... is answered by that node, or fails with 595 when it
// cannot be reached.
func (s *Server) servePVE(rc *reqCtx, rt *route) reply {
	c := rc.cluster
	if c == nil {
		return errReply(http.StatusInternalServerError, "cluster not configured")
	}
	if rc.node != rc.ep.node {
		n := c.Node(rc.node)
		if n == nil {
			return errReply(http.StatusInternalServerError,
				fmt.Sprintf("hostname lookup '%s' failed - failed to get address info for: %s: Name or service not known", rc.node, rc.node))
		}
		if !s.nodeReachable(c, n) {
			return reply{status: 595, raw: true, reason: "Errors during connection establishment, proxy handshake: Connection refused"}
		}
	}
	return rt.h(rc)
}

// nodeReachable reports whether pveproxy on another node could reach it.
func (s *Server) nodeReachable(c *Cluster, n *Node) bool {
	if n.Offline {
		return false
	}
	return !s.hasFault(c.Name, n.Name, NodeOffline) && !s.hasFault(c.Name, n.Name, Down)
}

// nodeOnline is the cluster's view (corosync): a node whose pveproxy is down
// is still online.
func (s *Server) nodeOnline(c *Cluster, n *Node) bool {
	return !n.Offline && !s.hasFault(c.Name, n.Name, NodeOffline)
}

func (s *Server) sleep(rc *reqCtx, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-rc.ctx.Done():
	case <-s.closing:
	case <-rc.ep.stoppedCh():
	}
	return false
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// notFound is the answer for an unknown path: PVE says 501 "Method ... not
// implemented" (its router has no 404), PBS 404 "Path '...' not found.".
func (s *Server) notFound(ep *endpoint, method, path string) reply {
	if ep.kind == "pve" {
		return errReply(http.StatusNotImplemented, fmt.Sprintf("Method '%s %s' not implemented", method, path))
	}
	return errReply(http.StatusNotFound, fmt.Sprintf("Path '%s%s' not found.", apiPrefix, path))
}

func (s *Server) permissionDenied(rc *reqCtx, msg string) reply {
	if rc.ep.kind == "pbs" {
		return errReply(http.StatusForbidden, "permission check failed")
	}
	if msg == "" {
		msg = "Permission check failed (" + pvePermPath(rc) + ")"
	}
	return errReply(http.StatusForbidden, msg)
}

// pvePermPath guesses the ACL path and privileges PVE would name.
func pvePermPath(rc *reqCtx) string {
	switch {
	case rc.params["storage"] != "":
		return "/storage/" + rc.params["storage"] + ", Datastore.Audit|Datastore.AllocateSpace"
	case strings.HasPrefix(rc.path, "/nodes/"):
		return "/nodes/" + rc.node + ", Sys.Audit"
	default:
		return "/, Sys.Audit"
	}
}

// authenticate checks the API token exactly as the products parse it.
func (s *Server) authenticate(rc *reqCtx, r *http.Request) (reply, bool) {
	h := r.Header.Get("Authorization")
	s.mu.RLock()
	var wantID, wantSecret string
	if rc.ep.kind == "pve" {
		if c := s.m.Cluster(rc.ep.target); c != nil {
			wantID, wantSecret = c.TokenID, c.TokenSecret
		}
	} else if p := s.m.PBSServer(rc.ep.target); p != nil {
		wantID, wantSecret = p.TokenID, p.TokenSecret
	}
	delay := s.m.AuthFailureDelay
	s.mu.RUnlock()

	var ok bool
	var why string
	if rc.ep.kind == "pve" {
		ok, why = checkPVEToken(h, wantID, wantSecret)
	} else {
		ok, why = checkPBSToken(h, wantID, wantSecret)
	}
	if ok {
		return reply{}, true
	}
	s.sleep(rc, delay)
	if rc.ep.kind == "pve" {
		return reply{status: http.StatusUnauthorized, raw: true, reason: why}, false
	}
	return errReply(http.StatusUnauthorized, "authentication failed - "+why), false
}

// authFailure is a 401 for a valid token (Status401 fault: a revoked or
// expired token).
func (s *Server) authFailure(rc *reqCtx) reply {
	if rc.ep.kind == "pve" {
		return reply{status: http.StatusUnauthorized, raw: true, reason: pveAuthFailed}
	}
	return errReply(http.StatusUnauthorized, "authentication failed - user account or token disabled or expired.")
}

// pveAuthFailed is the reason phrase of a rejected token (REFERENCE §1.6).
const pveAuthFailed = "Authentication failed!"

// checkPVEToken parses "PVEAPIToken=USER@REALM!TOKENID=SECRET" (or with a
// space after the prefix): the value ends at ';', is URI-unescaped and is
// split at the LAST '='.
func checkPVEToken(h, wantID, wantSecret string) (bool, string) {
	const p = "PVEAPIToken"
	h = strings.TrimSpace(h)
	if len(h) <= len(p) || !strings.HasPrefix(h, p) || (h[len(p)] != '=' && h[len(p)] != ' ') {
		return false, "No ticket"
	}
	v := h[len(p)+1:]
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	if u, err := url.PathUnescape(v); err == nil {
		v = u
	}
	i := strings.LastIndexByte(v, '=')
	if i < 0 {
		return false, pveAuthFailed
	}
	if v[:i] != wantID || v[i+1:] != wantSecret || wantID == "" {
		return false, pveAuthFailed
	}
	return true, ""
}

// checkPBSToken parses "PBSAPIToken=USER@REALM!TOKENID:SECRET" (or with a
// space): split at the FIRST ':', the secret percent-decoded.
func checkPBSToken(h, wantID, wantSecret string) (bool, string) {
	const p = "PBSAPIToken"
	if len(h) <= len(p) || !strings.HasPrefix(h, p) || (h[len(p)] != '=' && h[len(p)] != ' ') {
		return false, "no authentication credentials provided."
	}
	v := h[len(p)+1:]
	i := strings.IndexByte(v, ':')
	if i < 0 {
		return false, "failed to split API token header"
	}
	id := v[:i]
	secret, err := url.PathUnescape(v[i+1:])
	if err != nil {
		return false, "failed to decode API token header"
	}
	if id != wantID || wantID == "" {
		return false, "user account or token disabled or expired."
	}
	if secret != wantSecret {
		return false, "invalid API token"
	}
	return true, ""
}

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
