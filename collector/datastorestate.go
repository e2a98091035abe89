package collector

import (
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// This file exports the state of PBS datastores beyond capacity: the
// maintenance mode and mount status (state sets, so an alert can say for
// how long), the backend, and the last garbage collection with the
// deduplication factor it measured.

// maintenanceModes are the states of the maintenance state set: "none"
// and the modes pbs-api-types MaintenanceType knows. A newer mode PBS
// reports is added as a state of its own for that datastore.
var maintenanceModes = []string{"none", "read-only", "offline", "delete", "unmount", "s3-refresh"}

// mountStates are pbs-api-types DataStoreMountStatus.
var mountStates = []string{"mounted", "notmounted", "nonremovable"}

// gcStates are the states proxmox.GCJobStatus.State tells.
var gcStates = []string{proxmox.GCNever, proxmox.GCRunning, proxmox.GCOK, proxmox.GCFailed}

// stateDescs are the families of this file, declared beside the code that
// emits them.
var stateDescs = struct {
	info, maintenance, mount         *family
	gcState, gcPending, gcRemoved    *family
	gcDisk, gcIndexData, dedupFactor *family
}{
	info: newDesc("datastore_info",
		"1 per PBS datastore, with its backend (filesystem, s3). For s3 the capacity figures cover only the local cache.",
		"target", "datastore", "backend"),
	maintenance: newDesc("datastore_maintenance",
		"State set of the datastore's maintenance mode: 1 for the current mode (none when not in maintenance), 0 for the others.",
		"target", "datastore", "mode"),
	mount: newDesc("datastore_mount_status",
		"State set of the datastore's mount status (mounted, notmounted, nonremovable): 1 for the current one.",
		"target", "datastore", "status"),
	gcState: newDesc("datastore_gc_state",
		"State set of the datastore's garbage collection (never, running, ok, failed): 1 for the current one.",
		"target", "datastore", "state"),
	gcPending: newDesc("datastore_gc_pending_bytes",
		"Bytes of chunks the last garbage collection found unused but kept for safety (removed by the next one).",
		datastoreLabels...),
	gcRemoved: newDesc("datastore_gc_removed_bytes",
		"Bytes of chunks the last garbage collection removed.", datastoreLabels...),
	gcDisk: newDesc("datastore_gc_disk_bytes",
		"Bytes of chunks on disk as the last garbage collection counted them.", datastoreLabels...),
	gcIndexData: newDesc("datastore_gc_index_data_bytes",
		"Bytes the datastore's backups refer to (before deduplication) as the last garbage collection counted them.",
		datastoreLabels...),
	dedupFactor: newDesc("datastore_deduplication_ratio",
		"Index data bytes per disk byte of the last garbage collection: how many times the stored chunks are used.",
		datastoreLabels...),
}

// emitDatastoreState exports maintenance, mount status, backend and the
// last GC of every datastore of every PBS that is up. A field PBS did not
// send is absent, not a state: an older PBS has no mount status or
// backend, and a GC that never ran has no figures.
func emitDatastoreState(e *emitter, res *scrapeResult) {
	for _, pd := range res.pbs {
		if !pd.up {
			continue
		}
		name := pd.t.name
		for _, ds := range pd.datastores {
			if ds.BackendType != "" {
				e.values(stateDescs.info, 1, name, ds.Store, ds.BackendType)
			}
			// An unparsable mode is no state we can name: absent.
			if m, err := proxmox.ParseMaintenance(ds.Maintenance); err == nil {
				emitStateSet(e, stateDescs.maintenance, maintenanceModes, orNone(m.Type), name, ds.Store)
			}
			if ds.MountStatus != "" {
				emitStateSet(e, stateDescs.mount, mountStates, ds.MountStatus, name, ds.Store)
			}
			gc, ok := pd.gc[ds.Store]
			if !ok {
				continue
			}
			state := gc.State()
			emitStateSet(e, stateDescs.gcState, gcStates, state, name, ds.Store)
			if state == proxmox.GCNever {
				// PBS sends zeros for a GC that never ran: no figures.
				continue
			}
			e.values(stateDescs.gcPending, float64(gc.PendingBytes), name, ds.Store)
			e.values(stateDescs.gcRemoved, float64(gc.RemovedBytes), name, ds.Store)
			e.values(stateDescs.gcDisk, float64(gc.DiskBytes), name, ds.Store)
			e.values(stateDescs.gcIndexData, float64(gc.IndexDataBytes), name, ds.Store)
			if f, ok := dedup.DeduplicationFactor(gc.GCStatus); ok {
				e.values(stateDescs.dedupFactor, f, name, ds.Store)
			}
		}
	}
}

// emitStateSet writes one series per state, 1 for current and 0 for the
// others; a current state outside states gets a series of its own.
func emitStateSet(e *emitter, f *family, states []string, current string, values ...string) {
	known := false
	for _, s := range states {
		known = known || s == current
		e.values(f, boolFloat(s == current), append(values[:len(values):len(values)], s)...)
	}
	if !known {
		e.values(f, 1, append(values[:len(values):len(values)], current)...)
	}
}

func orNone(mode string) string {
	if mode == "" {
		return "none"
	}
	return mode
}
