package collector

import (
	"sort"
)

// duplicateReasons are always exported, 0 when nothing was suppressed, so
// dashboards show a line rather than "no data".
var duplicateReasons = []string{"pbs_via_pve", "shared_storage", "same_repository"}

// emitRouting exports the routing plan: repositories, their health, the
// route of every PVE storage and the duplicates suppressed.
func emitRouting(e *emitter, res *scrapeResult) {
	seen := map[string]bool{}
	for _, r := range res.plan.Repositories {
		if seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		e.values(descs.repositoryInfo, 1, r.Name, r.Kind, r.Target, r.Datastore, r.Namespace, r.Cluster, r.Storage, r.Node)
		if w, ok := res.warming[r.Name]; ok {
			// Neither up nor down: no repository_up, so no alert on it.
			e.values(descs.repositoryWarming, 1, r.Name)
			e.values(descs.repositoryWarmupRecords, float64(w.Records), r.Name)
			if w.Expected > 0 {
				e.values(descs.repositoryWarmupExpected, float64(w.Expected), r.Name)
			}
			continue
		}
		e.values(descs.repositoryUp, boolFloat(res.merged.RepositoryUp[r.Name]), r.Name)
	}
	routes := map[[3]string]bool{}
	for _, s := range res.plan.Storages {
		repos := s.Repositories
		if len(repos) == 0 {
			repos = []string{s.Repository}
		}
		for _, repo := range repos {
			k := [3]string{s.Cluster, s.Storage, repo}
			if routes[k] {
				continue
			}
			routes[k] = true
			e.values(descs.storageRoute, 1, s.Cluster, s.Storage, s.StorageType, s.Route, repo)
		}
	}
	reasons := append([]string(nil), duplicateReasons...)
	for r := range res.merged.Duplicates {
		if !contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		e.values(descs.duplicates, float64(res.merged.Duplicates[r]), r)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
