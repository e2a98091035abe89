package dedup

import (
	"strconv"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Offline PBS (config offline.keep_last_known). Some PBS machines run only
// for the backup window. By default a PBS that cannot be read is simply
// down: its repositories are down and every guest whose backups could live
// there is unknown. With keep_last_known set, the last complete read of
// that PBS stands in for it for up to that age: its repositories are
// planned and merged from that data, but their state is stale, so
// repository_up stays 0 (alerts on the source still fire) while per-guest
// counts keep the last known values. The collector keeps the memory
// between scrapes; what to substitute is decided here.

// LastKnown is the last complete read of one PBS.
type LastKnown struct {
	// At is when it was read.
	At          time.Time
	Fingerprint string
	Datastores  []Datastore
	// Groups are the groups read, by repository name.
	Groups map[string][]GroupSummary
}

// SubstituteLastKnown returns e with every PBS that is down, has
// KeepLastKnown set and a LastKnown (by target) no older than that at now
// replaced by that data: marked Up, so its namespaces are planned as
// before, and Stale, so Merge calls its repositories stale rather than up.
// e itself is not modified.
func SubstituteLastKnown(e Estate, known map[string]LastKnown, now time.Time) Estate {
	var out []PBS
	for i, p := range e.PBS {
		if p.Up || p.KeepLastKnown <= 0 {
			continue
		}
		lk, ok := known[p.Target]
		if !ok || now.Sub(lk.At) > p.KeepLastKnown {
			continue
		}
		if out == nil {
			out = append([]PBS(nil), e.PBS...)
		}
		out[i].Up, out[i].Stale, out[i].Fingerprint, out[i].Datastores = true, true, lk.Fingerprint, lk.Datastores
	}
	if out != nil {
		e.PBS = out
	}
	return e
}

// KnownGuest is what PVE last said of a guest that it leaves out of
// /cluster/resources while the guest's node is offline.
type KnownGuest struct {
	Name     string
	Template *proxmox.Bool
}

// FillKnownGuests completes the guests PVE lists without a name or a
// template flag from prev, what was last known by "type/vmid" (PVE type:
// qemu/100), in place, and returns what is known now, for the next scrape.
// PVE takes both from the status its node reports, so a guest on an
// offline node is listed without them; the last known values keep its
// guest_info series (and every join on it) from changing identity each
// time a node reboots, and a template from turning into a guest the
// alerts watch. A flag never known stays nil (unknown). Pool and tags are
// not filled: PVE reads them from the cluster configuration, which an
// offline node does not hide (a pool PVE hides for want of Pool.Audit is
// unknown, see jobs.go). Guests no longer listed are forgotten, so the
// memory is bounded by the inventory.
func FillKnownGuests(prev map[string]KnownGuest, guests []proxmox.ClusterResource) map[string]KnownGuest {
	now := make(map[string]KnownGuest, len(guests))
	for i := range guests {
		g := &guests[i]
		k := g.Type + "/" + strconv.FormatInt(int64(g.VMID), 10)
		old := prev[k]
		if g.Name == "" {
			g.Name = old.Name
		}
		if g.Template == nil {
			g.Template = old.Template
		}
		if g.Name != "" || g.Template != nil {
			now[k] = KnownGuest{Name: g.Name, Template: g.Template}
		}
	}
	return now
}
