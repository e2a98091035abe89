package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
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
