package collector

import (
	"maps"
	"slices"
)

// storageFamilies are the families this file emits:
// PVE backup storages and jobs.
var storageFamilies = struct {
	// PVE backup storages and jobs.
	storageSize      *family
	storageUsed      *family
	storageAvailable *family
	jobEnabled       *family
}{
	storageSize: newDesc("storage_size_bytes",
		"Total size of a PVE storage with backup content; node is empty for shared storages.", pveStorageLabels...),
	storageUsed: newDesc("storage_used_bytes",
		"Used bytes of a PVE storage with backup content; node is empty for shared storages.", pveStorageLabels...),
	storageAvailable: newDesc("storage_available_bytes",
		"Available bytes of a PVE storage with backup content; node is empty for shared storages.", pveStorageLabels...),
	jobEnabled: newDesc("job_enabled",
		"1 if the PVE backup job is enabled, else 0.",
		"cluster", "job", "storage", "schedule"),
}

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
				e.values(storageFamilies.storageSize, float64(s.Total), cd.name, s.Storage, n)
				e.values(storageFamilies.storageUsed, float64(s.Used), cd.name, s.Storage, n)
				e.values(storageFamilies.storageAvailable, float64(s.Avail), cd.name, s.Storage, n)
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
			e.values(storageFamilies.jobEnabled, boolFloat(j.IsEnabled()), cd.name, j.ID, j.Storage, j.Schedule)
		}
	}
}
