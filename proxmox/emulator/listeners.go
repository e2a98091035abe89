package emulator

// Listeners: one TLS endpoint per PVE node and per PBS, started and
// stopped as the model's topology and faults say.

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"
)

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
