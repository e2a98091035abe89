package collector

import (
	"sort"
)

// routingFamilies are the families this file emits:
// repositories, routing and deduplication.
var routingFamilies = struct {
	// Repositories, routing, deduplication.
	repositoryInfo *family
	repositoryUp   *family
	// Warm-up of a PBS repository (warmup.go).
	repositoryWarming        *family
	repositoryWarmupRecords  *family
	repositoryWarmupExpected *family
	storageRoute             *family
	duplicates               *family
}{
	repositoryInfo: newDesc("repository_info",
		"Every repository (place recovery points live) read this scrape (value 1).",
		"repository", "kind", "target", "datastore", "namespace", "cluster", "storage", "node"),
	repositoryUp: newDesc("repository_up",
		"1 if the repository's last listing succeeded, else 0.",
		"repository"),
	repositoryWarming: newDesc("repository_warming",
		"1 while the repository's first complete read since the exporter started goes on past the scrape; absent otherwise.",
		"repository"),
	repositoryWarmupRecords: newDesc("repository_warmup_records_read",
		"Snapshot records the warm-up of a warming repository has read; absent otherwise.",
		"repository"),
	repositoryWarmupExpected: newDesc("repository_warmup_records_expected",
		"Snapshot records the warm-up of a warming repository expects to read (the groups' backup counts); absent otherwise and before its groups listing answered.",
		"repository"),
	storageRoute: newDesc("storage_route_info",
		"Route of every PVE storage with backup content (value 1): pbs, pve, pve_fallback, ignored or disabled; pbs_target is the configured PBS a pbs storage matched, reason why a pve_fallback is read through PVE.",
		"cluster", "storage", "storage_type", "route", "repository", "pbs_target", "reason"),
	duplicates: newDesc("duplicates_suppressed",
		"Records seen through more than one path in the last scrape and counted once, by reason.",
		"reason"),
}

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
		e.values(routingFamilies.repositoryInfo, 1, r.Name, r.Kind, r.Target, r.Datastore, r.Namespace, r.Cluster, r.Storage, r.Node)
		if w, ok := res.warming[r.Name]; ok {
			// Neither up nor down: no repository_up, so no alert on it.
			e.values(routingFamilies.repositoryWarming, 1, r.Name)
			e.values(routingFamilies.repositoryWarmupRecords, float64(w.Records), r.Name)
			if w.Expected > 0 {
				e.values(routingFamilies.repositoryWarmupExpected, float64(w.Expected), r.Name)
			}
			continue
		}
		e.values(routingFamilies.repositoryUp, boolFloat(res.merged.RepositoryUp[r.Name]), r.Name)
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
			e.values(routingFamilies.storageRoute, 1, s.Cluster, s.Storage, s.StorageType, s.Route, repo, s.PBSTarget, s.Cause)
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
		e.values(routingFamilies.duplicates, float64(res.merged.Duplicates[r]), r)
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
