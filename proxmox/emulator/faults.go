package emulator

import (
	"strings"
	"time"
)

// FaultKind names a real-world failure mode.
type FaultKind int

// The fault kinds. Each one mimics what the real product does; see Fault.
const (
	// Down closes the target's listeners (or one node's with Node): new
	// connections are refused, open ones reset. PVE calls proxied to that
	// node from another node answer 595.
	Down FaultKind = iota + 1
	// Status401 rejects the (otherwise valid) token: PVE 401 with the
	// reason phrase and no body, PBS 401 "authentication failed - ...".
	Status401
	// Status403: PVE JSON "Permission check failed (...)", PBS plain text
	// "permission check failed".
	Status403
	// Status500 with Message (PVE JSON envelope, PBS plain text).
	Status500
	// Status503 with Message.
	Status503
	// Status596 is pveproxy's pseudo-status for a failed proxied request: a
	// bare status line ("596 Broken pipe" or Message) and no JSON.
	Status596
	// Slow delays the answer by Delay.
	Slow
	// Hang never answers; the request ends when the client gives up (or the
	// server closes), and the connection is dropped.
	Hang
	// MalformedJSON answers 200 with a body that is not valid JSON.
	MalformedJSON
	// Truncated announces the full Content-Length of the true answer, sends
	// half of it and closes the connection.
	Truncated
	// Oversized answers 200 with Size bytes (72 MiB by default) of
	// valid-looking JSON rows.
	Oversized
	// NodeOffline takes a PVE node offline: its listener refuses, /nodes and
	// /cluster/status report it offline, proxied calls answer 595.
	NodeOffline
	// NoBackupPrivilege emulates a token without the privilege to see
	// backups: PVE content listings answer 200 with an empty list
	// (per-volume checks drop every entry), PBS lists only groups and
	// snapshots owned by the token.
	NoBackupPrivilege
	// Maintenance puts Datastore into maintenance with Message as the
	// property string ("type=offline,message=disk%20swap" by default);
	// offline and unmount make reads fail with 400.
	Maintenance
	// Unmounted makes a removable Datastore "notmounted": reads fail with
	// 400 "datastore 'x' is not mounted".
	Unmounted
	// ExpiredCert makes the listener serve an expired certificate (same key
	// and names; a different fingerprint, as any re-issued certificate).
	ExpiredCert
)

var faultNames = map[FaultKind]string{
	Down: "Down", Status401: "Status401", Status403: "Status403", Status500: "Status500",
	Status503: "Status503", Status596: "Status596", Slow: "Slow", Hang: "Hang",
	MalformedJSON: "MalformedJSON", Truncated: "Truncated", Oversized: "Oversized",
	NodeOffline: "NodeOffline", NoBackupPrivilege: "NoBackupPrivilege",
	Maintenance: "Maintenance", Unmounted: "Unmounted", ExpiredCert: "ExpiredCert",
}

// String returns the constant's name.
func (k FaultKind) String() string {
	if n, ok := faultNames[k]; ok {
		return n
	}
	return "FaultKind(?)"
}

// Fault is one injected failure, switchable at run time.
type Fault struct {
	// Target is the cluster or PBS name.
	Target string
	// Node restricts the fault to one PVE node: the node that handles the
	// request (for /nodes/{node}/... the node in the path, else the node
	// whose listener was called). Empty = every node.
	Node string
	// PathPrefix restricts request-level faults to paths (without
	// /api2/json) or route patterns starting with it, e.g.
	// "/nodes/pve1/storage/local/content" or "/admin/datastore/{store}/groups".
	PathPrefix string
	// Datastore is the PBS datastore of Maintenance and Unmounted.
	Datastore string
	Kind      FaultKind
	// Delay of Slow.
	Delay time.Duration
	// Message of Status403/500/503/596 and Maintenance.
	Message string
	// Size of Oversized in bytes.
	Size int64
	// Times limits request-level faults to the first N matching requests;
	// 0 = until cleared.
	Times int
}

type activeFault struct {
	Fault
	used int
}

// requestLevel kinds act per request (others are state: listeners, certs,
// node and datastore status).
func (k FaultKind) requestLevel() bool {
	switch k {
	case Status401, Status403, Status500, Status503, Status596, Slow, Hang,
		MalformedJSON, Truncated, Oversized, NoBackupPrivilege:
		return true
	}
	return false
}

// SetFault adds a fault; it takes effect for the next request (listeners
// close at once for Down and NodeOffline).
func (s *Server) SetFault(f Fault) {
	s.faultMu.Lock()
	s.faults = append(s.faults, &activeFault{Fault: f})
	s.faultMu.Unlock()
	s.mu.Lock()
	s.gen++
	s.mu.Unlock()
	s.reconcile()
}

// ClearFaults removes every fault; closed listeners reopen on their old
// addresses.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	s.faults = nil
	s.faultMu.Unlock()
	s.mu.Lock()
	s.gen++
	s.mu.Unlock()
	s.reconcile()
}

// ClearFaultsFor removes the faults of one target.
func (s *Server) ClearFaultsFor(target string) {
	s.faultMu.Lock()
	out := s.faults[:0]
	for _, f := range s.faults {
		if f.Target != target {
			out = append(out, f)
		}
	}
	s.faults = out
	s.faultMu.Unlock()
	s.mu.Lock()
	s.gen++
	s.mu.Unlock()
	s.reconcile()
}

// matchFaults returns the request-level faults for a request, consuming
// one use of limited ones.
func (s *Server) matchFaults(target, node, path, route string) []*Fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	var out []*Fault
	for _, f := range s.faults {
		if !f.Kind.requestLevel() || f.Target != target {
			continue
		}
		if f.Node != "" && f.Node != node {
			continue
		}
		if f.PathPrefix != "" && !strings.HasPrefix(path, f.PathPrefix) && !strings.HasPrefix(route, f.PathPrefix) {
			continue
		}
		if f.Times > 0 {
			if f.used >= f.Times {
				continue
			}
			f.used++
		}
		ff := f.Fault
		out = append(out, &ff)
	}
	return out
}

// hasFault reports a state fault for target (and node, when the fault names
// one; a fault without Node applies to every node).
func (s *Server) hasFault(target, node string, kind FaultKind) bool {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for _, f := range s.faults {
		if f.Kind == kind && f.Target == target && (f.Node == "" || f.Node == node) {
			return true
		}
	}
	return false
}

// datastoreFault returns the fault-imposed maintenance string and mount
// state of a datastore.
func (s *Server) datastoreFault(target, store string) (maintenance string, unmounted bool) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for _, f := range s.faults {
		if f.Target != target || (f.Datastore != "" && f.Datastore != store) {
			continue
		}
		switch f.Kind {
		case Maintenance:
			maintenance = orDefault(f.Message, "type=offline,message=disk%20swap")
		case Unmounted:
			unmounted = true
		}
	}
	return maintenance, unmounted
}
