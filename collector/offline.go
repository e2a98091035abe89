package collector

import (
	"sync"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
)

// Offline PBS (issue 8, config "offline.keep_last_known"). Some PBS
// machines run only for the backup window. By default a PBS that cannot be
// read is simply down: its repositories are down and every guest whose
// backups could live there is unknown, so only the source-down alert fires.
// With keep_last_known set, the last successfully read inventory and groups
// of that PBS are still exported for up to that age: target_up and
// repository_up stay 0 (so alerts on the source still fire), while
// per-guest counts and dashboards keep the last known values, whose age
// target_last_success_timestamp_seconds shows.

// lastKnownPBS is the last complete read of one PBS.
type lastKnownPBS struct {
	at          time.Time
	fingerprint string
	datastores  []dedup.Datastore
	// groups by repository name.
	groups map[string][]dedup.GroupSummary
}

// lastKnownStore keeps lastKnownPBS per PBS target, only for targets with
// keep_last_known set, so nothing is held for the others.
type lastKnownStore struct {
	mu sync.Mutex
	m  map[string]*lastKnownPBS
}

func (s *lastKnownStore) get(target string, maxAge time.Duration, now time.Time) *lastKnownPBS {
	s.mu.Lock()
	defer s.mu.Unlock()
	lk := s.m[target]
	if lk == nil || maxAge <= 0 || now.Sub(lk.at) > maxAge {
		return nil
	}
	return lk
}

func (s *lastKnownStore) put(target string, lk *lastKnownPBS) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*lastKnownPBS{}
	}
	s.m[target] = lk
}

func (s *lastKnownStore) drop(target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, target)
}

// applyLastKnown replaces the estate entry of every PBS that is down and
// has recent last-known data with that data, marked up so dedup plans its
// namespaces as before. It returns those targets.
func (c *Collector) applyLastKnown(res *scrapeResult, now time.Time) map[string]*lastKnownPBS {
	stale := map[string]*lastKnownPBS{}
	for i, pd := range res.pbs {
		if pd.up || pd.t.keepLastKnown <= 0 {
			continue
		}
		lk := c.lastKnown.get(pd.t.name, pd.t.keepLastKnown, now)
		if lk == nil {
			continue
		}
		stale[pd.t.name] = lk
		p := &res.estate.PBS[i]
		p.Up, p.Fingerprint, p.Datastores = true, lk.fingerprint, lk.datastores
	}
	return stale
}

// recordLastKnown stores what this scrape read of every PBS with
// keep_last_known set, when all of it was read.
func (c *Collector) recordLastKnown(res *scrapeResult, listings dedup.Listings, now time.Time) {
	for i, pd := range res.pbs {
		if pd.t.keepLastKnown <= 0 {
			c.lastKnown.drop(pd.t.name)
			continue
		}
		if !pd.up || !pd.run.up() || listingFailed(res, listings, pd.t.name) {
			continue
		}
		lk := &lastKnownPBS{at: now, fingerprint: pd.fingerprint, datastores: res.estate.PBS[i].Datastores,
			groups: map[string][]dedup.GroupSummary{}}
		for _, l := range res.plan.PBSListings {
			if l.PBSTarget == pd.t.name {
				lk.groups[l.Repository] = listings.PBS[l.Repository].Groups
			}
		}
		c.lastKnown.put(pd.t.name, lk)
	}
}
