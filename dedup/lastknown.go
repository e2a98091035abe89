package dedup

import "time"

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
