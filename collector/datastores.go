package collector

import (
	"time"
)

// datastoreFamilies are the families this file emits:
// PBS datastores and jobs.
var datastoreFamilies = struct {
	// PBS datastores and jobs.
	datastoreSize      *family
	datastoreUsed      *family
	datastoreAvailable *family
	datastoreFull      *family
	datastoreUp        *family
	pbsJobLastRun      *family
	pbsJobLastSuccess  *family
	pbsJobNextRun      *family
}{
	datastoreSize: newDesc("datastore_size_bytes",
		"Total size of the PBS datastore's file system.", datastoreLabels...),
	datastoreUsed: newDesc("datastore_used_bytes",
		"Used bytes of the PBS datastore's file system.", datastoreLabels...),
	datastoreAvailable: newDesc("datastore_available_bytes",
		"Available bytes of the PBS datastore's file system.", datastoreLabels...),
	datastoreFull: newDesc("datastore_estimated_full_timestamp_seconds",
		"PBS's own estimate of when the datastore is full; absent when PBS gives none, when usage is flat or shrinking.",
		datastoreLabels...),
	datastoreUp: newDesc("datastore_up",
		"0 when the datastore is in maintenance, unmounted or errored, else 1.",
		datastoreLabels...),
	pbsJobLastRun: newDesc("pbs_job_last_run_timestamp_seconds",
		"End time of the PBS job's last run.", pbsJobLabels...),
	pbsJobLastSuccess: newDesc("pbs_job_last_run_success",
		"1 if the PBS job's last run ended OK (or with warnings), else 0.", pbsJobLabels...),
	pbsJobNextRun: newDesc("pbs_job_next_run_timestamp_seconds",
		"Next scheduled run of the PBS job.", pbsJobLabels...),
}

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
			e.values(datastoreFamilies.datastoreUp, boolFloat(!down), name, ds.Store)
			u, ok := pd.usage[ds.Store]
			if !ok || u.Total == nil {
				continue
			}
			e.values(datastoreFamilies.datastoreSize, float64(*u.Total), name, ds.Store)
			if u.Used != nil {
				e.values(datastoreFamilies.datastoreUsed, float64(*u.Used), name, ds.Store)
			}
			if u.Avail != nil {
				e.values(datastoreFamilies.datastoreAvailable, float64(*u.Avail), name, ds.Store)
			}
			// PBS says 0 for flat usage and a past date for shrinking
			// usage: neither is a date the datastore will be full.
			if u.EstimatedFullDate != nil && int64(*u.EstimatedFullDate) > now.Unix() {
				e.values(datastoreFamilies.datastoreFull, float64(*u.EstimatedFullDate), name, ds.Store)
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
				e.values(datastoreFamilies.pbsJobLastRun, float64(j.LastEnd), l...)
				emitJobResult(e, j, l)
			}
			if j.NextRun > 0 {
				e.values(datastoreFamilies.pbsJobNextRun, float64(j.NextRun), l...)
			}
		}
	}
}
