package collector

import (
	"time"
)

// emitDatastores exports PBS datastore capacity, health and job state.
// One bad datastore never hides the others; a PBS that is down exports
// none of this (its target_up says why).
func emitDatastores(e *emitter, res *scrapeResult, now time.Time) {
	for _, pd := range res.pbs {
		if !pd.up {
			continue
		}
		name := pd.t.name
		for _, ds := range pd.datastores {
			_, down := pd.dsDown[ds.Store]
			e.values(descs.datastoreUp, boolFloat(!down), name, ds.Store)
			u, ok := pd.usage[ds.Store]
			if !ok || u.Total == nil {
				continue
			}
			e.values(descs.datastoreSize, float64(*u.Total), name, ds.Store)
			if u.Used != nil {
				e.values(descs.datastoreUsed, float64(*u.Used), name, ds.Store)
			}
			if u.Avail != nil {
				e.values(descs.datastoreAvailable, float64(*u.Avail), name, ds.Store)
			}
			// PBS says 0 for flat usage and a past date for shrinking
			// usage: neither is a date the datastore will be full.
			if u.EstimatedFullDate != nil && int64(*u.EstimatedFullDate) > now.Unix() {
				e.values(descs.datastoreFull, float64(*u.EstimatedFullDate), name, ds.Store)
			}
		}
		seen := map[[3]string]bool{}
		for _, j := range pd.jobs {
			k := [3]string{j.Datastore, j.Type, j.ID}
			if seen[k] {
				continue
			}
			seen[k] = true
			l := []string{name, j.Datastore, j.Type, j.ID}
			if j.LastEnd > 0 {
				e.values(descs.pbsJobLastRun, float64(j.LastEnd), l...)
				emitJobResult(e, j, l)
			}
			if j.NextRun > 0 {
				e.values(descs.pbsJobNextRun, float64(j.NextRun), l...)
			}
		}
	}
}
