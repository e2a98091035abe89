package emulator

// Dispatch: a request's route, faults, latency and the handler's reply.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

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
