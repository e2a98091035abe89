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

// FillGuestNames completes the guests PVE lists without a name from prev,
// the names last known by "type/vmid" (PVE type: qemu/100), in place, and
// returns the names known now, for the next scrape. PVE takes guest names
// from the status its node reports, so a guest on an offline node is
// listed without one; the last known name keeps its guest_info series
// (and every join on the name) from turning into a new series each time a
// node reboots. Guests no longer listed are forgotten.
func FillGuestNames(prev map[string]string, guests []proxmox.ClusterResource) map[string]string {
	now := make(map[string]string, len(guests))
	for i := range guests {
		k := guests[i].Type + "/" + strconv.FormatInt(int64(guests[i].VMID), 10)
		if guests[i].Name == "" {
			guests[i].Name = prev[k]
		}
		if guests[i].Name != "" {
			now[k] = guests[i].Name
		}
	}
	return now
}
