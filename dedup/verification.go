package dedup

// Verification coverage of PBS datastores: whether a verify job keeps
// checking a datastore, and how its recovery points stand.

// VerifyJob is what coverage needs of one PBS verify job (GET
// /admin/verify).
type VerifyJob struct {
	Store string
	// Namespace is the job's anchor namespace, "" for the root.
	Namespace string
	// MaxDepth limits the levels below Namespace; nil means all.
	MaxDepth *int
	// Schedule is empty for a job that only runs by hand: PBS verify jobs
	// have no disable flag (pbs-api-types VerificationJobConfig), removing
	// the schedule is how one is switched off.
	Schedule string
	// LastEnd is the end of its last run, 0 when it never ran.
	LastEnd int64
}

// maxNamespaceDepth is PBS's deepest namespace level (pbs-api-types
// MAX_NAMESPACE_DEPTH): a job descending that far covers every level.
const maxNamespaceDepth = 7

// VerifyCovered reports, for every datastore named in stores, whether a
// verify job covers it: a scheduled job anchored at the root namespace,
// descending every level, that has run at least once. A job that exists
// but never ran has checked nothing, one without a schedule will not run
// again, and one limited to a namespace or depth leaves the rest
// unchecked: none of them is coverage.
func VerifyCovered(stores []string, jobs []VerifyJob) map[string]bool {
	out := make(map[string]bool, len(stores))
	for _, s := range stores {
		out[s] = false
	}
	for _, j := range jobs {
		if _, ok := out[j.Store]; !ok {
			continue
		}
		if j.Schedule == "" || j.LastEnd <= 0 || j.Namespace != "" || j.MaxDepth != nil && *j.MaxDepth < maxNamespaceDepth {
			continue
		}
		out[j.Store] = true
	}
	return out
}

// VerificationCounts are the recovery points of a datastore by the state
// of their last verification.
type VerificationCounts struct {
	OK, Failed, None int
}

// DatastoreKey names a PBS datastore: the configured PBS target and the
// datastore.
type DatastoreKey struct {
	Target, Datastore string
}

// DatastoreVerification counts the recovery points of every PBS datastore
// read directly (the plan's PBS repositories, all namespaces the exporter
// reads) by last verification state. A datastore with a repository that
// is not up (down or stale) has no entry: its counts are unknown, not 0.
func DatastoreVerification(p Plan, r Result) map[DatastoreKey]VerificationCounts {
	keyOf := map[string]DatastoreKey{}
	out := map[DatastoreKey]VerificationCounts{}
	unknown := map[DatastoreKey]bool{}
	for _, repo := range p.Repositories {
		if repo.Kind != KindPBS {
			continue
		}
		k := DatastoreKey{repo.Target, repo.Datastore}
		keyOf[repo.Name] = k
		if r.RepositoryState[repo.Name] != RepositoryStateUp {
			unknown[k] = true
			continue
		}
		if _, ok := out[k]; !ok {
			out[k] = VerificationCounts{} // a datastore without groups counts zeros
		}
	}
	for i := range r.Groups {
		g := &r.Groups[i]
		k, ok := keyOf[g.Repository]
		if !ok || unknown[k] {
			continue
		}
		c := out[k]
		c.OK += g.Verified
		c.Failed += g.VerifyFailed
		c.None += g.Snapshots - g.Verified - g.VerifyFailed
		out[k] = c
	}
	for k := range unknown {
		delete(out, k)
	}
	return out
}
