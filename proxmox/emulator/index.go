package emulator

import (
	"sort"
	"strings"
	"sync"
	"time"
)

// indexCache holds derived per-namespace indexes, rebuilt lazily after the
// model changes (Server.gen). With them a group's snapshot listing costs
// O(group size) and a groups listing O(groups), whatever the datastore's
// total size.
type indexCache struct {
	mu  sync.Mutex
	gen uint64
	ns  map[nsKey]*nsIndex
}

type nsKey struct{ pbs, store, ns string }

// nsIndex is the derived view of one namespace.
type nsIndex struct {
	ns      *Namespace
	groups  []groupSummary
	byGroup map[string]int // "vm/101" -> index into groups
	// pveOrder is what a PVE pbs storage on this namespace lists: vm/ct
	// groups with numeric ids, sorted by lower-cased volid.
	pveOrder   []snapRef
	defaultUPI string
}

type groupSummary struct {
	g *Group
	// last is the snapshot PBS reports as last-backup (see lastBackup).
	last  int
	count int
}

type snapRef struct {
	g *Group
	i int32
}

// nsIndexFor returns the index of a namespace, nil if it does not exist.
// Callers hold the model read lock.
func (s *Server) nsIndexFor(p *PBSServer, ds *Datastore, ns string) *nsIndex {
	c := &s.idx
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ns == nil || c.gen != s.gen {
		c.ns = map[nsKey]*nsIndex{}
		c.gen = s.gen
	}
	k := nsKey{p.Name, ds.Name, ns}
	if ix, ok := c.ns[k]; ok {
		return ix
	}
	var n *Namespace
	for _, x := range ds.Namespaces {
		if x.Path == ns {
			n = x
			break
		}
	}
	if n == nil {
		if ns != "" {
			return nil
		}
		n = &Namespace{}
	}
	ix := buildNSIndex(n)
	ix.defaultUPI = defaultVerifyUPID(p, ds)
	c.ns[k] = ix
	return ix
}

func buildNSIndex(n *Namespace) *nsIndex {
	ix := &nsIndex{ns: n, byGroup: make(map[string]int, len(n.Groups))}
	total := 0
	for _, g := range n.Groups {
		if len(g.Snapshots) == 0 {
			continue // PBS omits groups without snapshots
		}
		ix.byGroup[g.Type+"/"+g.ID] = len(ix.groups)
		ix.groups = append(ix.groups, groupSummary{g: g, last: lastBackup(g), count: len(g.Snapshots)})
		if (g.Type == "vm" || g.Type == "ct") && isDigits(g.ID) {
			total += len(g.Snapshots)
		}
	}
	// PVE's order: lower-cased volid "STORE:backup/<type>/<id>/<time>".
	// The store prefix is common, the time part sorts chronologically, so
	// sort groups by "type/id" as strings, then snapshots by time.
	gs := make([]*Group, 0, len(ix.groups))
	for _, sum := range ix.groups {
		if (sum.g.Type == "vm" || sum.g.Type == "ct") && isDigits(sum.g.ID) {
			gs = append(gs, sum.g)
		}
	}
	sort.Slice(gs, func(i, j int) bool {
		a, b := gs[i].Type+"/"+gs[i].ID+"/", gs[j].Type+"/"+gs[j].ID+"/"
		return strings.ToLower(a) < strings.ToLower(b)
	})
	ix.pveOrder = make([]snapRef, 0, total)
	for _, g := range gs {
		start := len(ix.pveOrder)
		for i := range g.Snapshots {
			ix.pveOrder = append(ix.pveOrder, snapRef{g: g, i: int32(i)})
		}
		part := ix.pveOrder[start:]
		sort.Slice(part, func(a, b int) bool {
			return g.Snapshots[part[a].i].Time.Before(g.Snapshots[part[b].i].Time)
		})
	}
	return ix
}

// lastBackup reproduces PBS's list_groups fold over the snapshots in
// directory order: it keeps the accumulator only while it is finished and
// newer than the next one. This is what real PBS reports as last-backup
// and files, even though it can pick an in-progress snapshot when that one
// comes later in directory order (REFERENCE §3.6 simplifies this to "the
// newest finished snapshot").
func lastBackup(g *Group) int {
	acc := 0
	for i := range g.Snapshots {
		a, b := &g.Snapshots[acc], &g.Snapshots[i]
		if !a.InProgress && a.Time.After(b.Time) {
			continue
		}
		acc = i
	}
	return acc
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// verifyUPID is the verification task of a snapshot.
func (ix *nsIndex) verifyUPID(sn *Snapshot) string {
	if sn.VerifyUPID != "" {
		return sn.VerifyUPID
	}
	return ix.defaultUPI
}

// defaultVerifyUPID is the UPID of the datastore's verification job run
// (or a plausible manual verify task when there is none).
func defaultVerifyUPID(p *PBSServer, ds *Datastore) string {
	for _, j := range p.VerifyJobs {
		if j.Store == ds.Name && !j.LastRunStart.IsZero() {
			return jobUPID(p, "verify", j)
		}
	}
	return pbsUPID(p.Name, 1000, time.Unix(1705281600, 0), "verify", ds.Name, "root@pam")
}

// snapSize is the logical size PBS reports: Size, or the sum of the file
// sizes when Size is zero.
func snapSize(g *Group, sn *Snapshot) int64 {
	if sn.Size > 0 || sn.Files == nil {
		return sn.Size
	}
	var n int64
	for _, f := range sn.Files {
		if f.Size > 0 {
			n += f.Size
		}
	}
	return n
}
