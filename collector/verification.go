package collector

import (
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Verification coverage of PBS datastores (dedup.VerifyCovered,
// dedup.DatastoreVerification).
var verificationFamilies = struct {
	snapshots *family
	covered   *family
}{
	snapshots: newDesc("datastore_snapshots",
		"Recovery points of the PBS datastore the exporter reads, by the state of their last verification (ok, failed, none = never verified); absent when a namespace of the datastore could not be read or the token's permissions do not prove it sees every group (Datastore.Audit).",
		"target", "datastore", "state"),
	covered: newDesc("datastore_verify_covered",
		"1 if a scheduled verify job of the PBS datastore's root namespace, over every level, has run at least once, else 0; absent when the verify jobs could not be read.",
		datastoreLabels...),
}

// emitVerification exports every PBS datastore's verification coverage.
func emitVerification(e *emitter, res *scrapeResult) {
	counts := dedup.DatastoreVerification(res.plan, res.merged)
	for _, pd := range res.pbs {
		if !pd.up {
			continue
		}
		name := pd.t.name
		stores := make([]string, 0, len(pd.datastores))
		for _, ds := range pd.datastores {
			stores = append(stores, ds.Store)
			// Without Datastore.Audit PBS lists only the token's own
			// groups: counts are trusted only when the permissions
			// prove every group visible.
			c, ok := counts[dedup.DatastoreKey{Target: name, Datastore: ds.Store}]
			if !ok || !proxmox.SeesAllGroups(pd.perms, ds.Store) {
				continue
			}
			e.values(verificationFamilies.snapshots, float64(c.Failed), name, ds.Store, dedup.VerificationFailed)
			e.values(verificationFamilies.snapshots, float64(c.None), name, ds.Store, dedup.VerificationNone)
			e.values(verificationFamilies.snapshots, float64(c.OK), name, ds.Store, dedup.VerificationOK)
		}
		if !pd.jobsRead["verify"] {
			continue
		}
		var jobs []dedup.VerifyJob
		for _, j := range pd.jobs {
			if j.Type == "verify" {
				jobs = append(jobs, dedup.VerifyJob{Store: j.Datastore, Namespace: j.Namespace, MaxDepth: j.MaxDepth, Schedule: j.Schedule, LastEnd: j.LastEnd})
			}
		}
		covered := dedup.VerifyCovered(stores, jobs)
		for _, s := range stores {
			e.values(verificationFamilies.covered, boolFloat(covered[s]), name, s)
		}
	}
}
