package collector

import (
	"strings"
	"sync"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Parts that are down by a source's own account rather than because a
// request failed (Failure.State): logged once and shown on /status and by
// --check, with their up series at 0, but not counted as errors.

// datastoreDownFailure describes a PBS datastore the exporter does not read
// this scrape: in maintenance, not mounted, or reported with an error by
// PBS's usage listing (why is datastoreDownReason's text).
func datastoreDownFailure(store, why string) Failure {
	f := Failure{Endpoint: proxmox.EndpointDatastores, Part: "datastore " + store, Message: "datastore " + store + ": " + why, State: true}
	switch {
	case strings.HasPrefix(why, "maintenance"):
		f.Reason = "maintenance"
		f.Hint = "the datastore is in maintenance mode (offline or unmount): its backup groups are unknown until an admin ends maintenance; read-only maintenance is still read"
	case strings.HasPrefix(why, "not mounted"):
		f.Reason = "not_mounted"
		f.Hint = "the removable datastore's device is not mounted: its backup groups are unknown until it is mounted again"
	default:
		f.Reason = "unavailable"
		f.Hint = "PBS reports an error for this datastore (see the message): its backup groups are unknown until PBS can read it"
	}
	return f
}

// nodeOfflineFailure describes a PVE node its cluster reports offline.
func nodeOfflineFailure(node string) Failure {
	return Failure{
		Endpoint: proxmox.EndpointNodes, Part: "node " + node, Reason: "offline", State: true,
		Message: "the cluster reports node " + node + " offline",
		Hint:    "node-local storages and tasks of this node are unknown (repository_up 0) until it is back; shared storages are read through another node",
	}
}

// closeIdle closes the kept-alive connections of the target's client, so
// a client replaced by a reload does not hold connections (and their
// goroutines) until the idle timeout.
func (t *target) closeIdle() {
	for _, c := range []any{t.pve, t.pbs} {
		if cl, ok := c.(interface{ Close() }); ok && c != nil {
			cl.Close()
		}
	}
}

// knownGuests keeps, per cluster target, the guest names and template
// flags last known between scrapes; dedup.FillKnownGuests decides what
// they fill in.
type knownGuests struct {
	mu sync.Mutex
	m  map[string]map[string]dedup.KnownGuest // target -> "type/vmid" -> facts
}

// fill completes what PVE leaves out from the last scrapes and remembers
// what is known now.
func (n *knownGuests) fill(target string, guests []proxmox.ClusterResource) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		n.m = map[string]map[string]dedup.KnownGuest{}
	}
	n.m[target] = dedup.FillKnownGuests(n.m[target], guests)
}

// retain forgets the targets no longer configured.
func (n *knownGuests) retain(targets []*target) {
	keep := map[string]bool{}
	for _, t := range targets {
		keep[t.name] = true
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for k := range n.m {
		if !keep[k] {
			delete(n.m, k)
		}
	}
}
