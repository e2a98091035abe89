package dedup

import "github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"

// DeduplicationFactor is how many bytes the backups of a datastore refer
// to per byte of chunks stored, as its last garbage collection counted
// them: index data bytes / disk bytes. ok is false when the GC counted no
// chunk on disk (it never ran, or the datastore is empty): a factor of 0
// or infinity would be a made-up figure, so it is unknown.
func DeduplicationFactor(gc proxmox.GCStatus) (factor float64, ok bool) {
	if gc.DiskBytes <= 0 || gc.IndexDataBytes < 0 {
		return 0, false
	}
	return float64(gc.IndexDataBytes) / float64(gc.DiskBytes), true
}
