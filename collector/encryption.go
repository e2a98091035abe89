package collector

import (
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
)

// Encryption of recovery points: per group per repository (with the
// repository collector group) and per guest.
var encryptionFamilies = struct {
	groupLast   *family
	unencrypted *family
	guestLast   *family
}{
	groupLast: newDesc("last_encrypted",
		"1 if the group's newest completed recovery point in this repository is encrypted, else 0 (vzdump archives never are); absent without one.",
		groupLabels...),
	unencrypted: newDesc("unencrypted_snapshots",
		"Completed recovery points of this group in this repository that are not encrypted.",
		groupLabels...),
	guestLast: newDesc("guest_last_encrypted",
		"1 if the guest's newest recovery point is encrypted in every repository holding it, else 0; absent when unknown or there is none.",
		guestLabels...),
}

// emitGroupEncryption exports one group's encryption; l is its label set.
func emitGroupEncryption(e *emitter, g *dedup.GroupAggregate, l *labelSet) {
	if g.Snapshots > 0 {
		e.gauge(encryptionFamilies.groupLast, boolFloat(g.LastEncrypted), l)
	}
	e.gauge(encryptionFamilies.unencrypted, float64(g.Unencrypted), l)
}

// emitGuestEncryption exports one guest's encryption; l is its label set.
func emitGuestEncryption(e *emitter, g *dedup.GuestAggregate, l *labelSet) {
	if g.LastEncryption != "" {
		e.gauge(encryptionFamilies.guestLast, boolFloat(g.LastEncryption == dedup.EncryptionYes), l)
	}
}
