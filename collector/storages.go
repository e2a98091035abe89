package collector

import (
	"maps"
	"slices"
)

// emitStorages exports the capacity of PVE storages with backup content and
// the state of vzdump jobs. A shared storage is the same on every node, so
// it is exported once with node="" (summing per-node rows over-counts,
// REFERENCE.md §5); a node-local storage once per node.
func emitStorages(e *emitter, res *scrapeResult) {
	for _, cd := range res.clusters {
		nodes := slices.Sorted(maps.Keys(cd.nodeStorages))
		shared := map[string]bool{}
		for _, node := range nodes {
			for _, s := range cd.nodeStorages[node] {
				if !bool(s.Enabled) || !bool(s.Active) || s.Total <= 0 {
					continue // no capacity known: absent, not 0
				}
				n := node
				if s.Shared {
					if shared[s.Storage] {
						continue
					}
					shared[s.Storage] = true
					n = ""
				}
				e.values(descs.storageSize, float64(s.Total), cd.name, s.Storage, n)
				e.values(descs.storageUsed, float64(s.Used), cd.name, s.Storage, n)
				e.values(descs.storageAvailable, float64(s.Avail), cd.name, s.Storage, n)
			}
		}
		if !cd.jobsOK {
			continue
		}
		seen := map[string]bool{}
		for _, j := range cd.jobs {
			if j.Type != "" && j.Type != "vzdump" || seen[j.ID] {
				continue
			}
			seen[j.ID] = true
			e.values(descs.jobEnabled, boolFloat(j.IsEnabled()), cd.name, j.ID, j.Storage, j.Schedule)
		}
	}
}
