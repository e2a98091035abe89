package collector

import (
	"sync"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
)

// Offline PBS (issue 8, config "offline.keep_last_known"): the collector
// keeps the last complete read of every PBS with keep_last_known set
// between scrapes; dedup.SubstituteLastKnown decides what of it stands in
// for a PBS that is down, and dedup.Merge calls those repositories stale.

// lastKnownStore keeps dedup.LastKnown per PBS target, only for targets
// with keep_last_known set, so nothing is held for the others.
type lastKnownStore struct {
	mu sync.Mutex
	m  map[string]dedup.LastKnown
}

// snapshot returns the last known reads by target. The entries are never
// modified once stored, so the copy of the map is enough.
func (s *lastKnownStore) snapshot() map[string]dedup.LastKnown {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]dedup.LastKnown, len(s.m))
	for k, v := range s.m {
		out[k] = v
	}
	return out
}

func (s *lastKnownStore) put(target string, lk dedup.LastKnown) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]dedup.LastKnown{}
	}
	s.m[target] = lk
}

func (s *lastKnownStore) drop(target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, target)
}

// recordLastKnown stores what this scrape read of every PBS with
// keep_last_known set, when all of it was read: every request succeeded
// and no repository of it is down (a listing judged to hide backups is not
// a complete read).
func (c *Collector) recordLastKnown(res *scrapeResult, listings dedup.Listings, now time.Time) {
	for i, pd := range res.pbs {
		if pd.t.keepLastKnown <= 0 {
			c.lastKnown.drop(pd.t.name)
			continue
		}
		if !pd.up || !pd.run.up() {
			continue
		}
		lk := dedup.LastKnown{At: now, Fingerprint: pd.fingerprint, Datastores: res.estate.PBS[i].Datastores,
			Groups: map[string][]dedup.GroupSummary{}}
		complete := true
		for _, l := range res.plan.PBSListings {
			if l.PBSTarget != pd.t.name {
				continue
			}
			if res.merged.RepositoryState[l.Repository] == dedup.RepositoryStateDown {
				complete = false
				break
			}
			lk.Groups[l.Repository] = listings.PBS[l.Repository].Groups
		}
		if complete {
			c.lastKnown.put(pd.t.name, lk)
		}
	}
}
