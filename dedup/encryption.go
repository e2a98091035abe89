package dedup

// Whether a guest's newest recovery point is encrypted. Encryption is a
// property of each copy (RecordsFromSnapshots, RecordsFromVolumes); a
// point with a plain copy anywhere is not encrypted, since that copy reads
// without the key.

// Values of GuestAggregate.LastEncryption.
const (
	EncryptionYes = "yes"
	EncryptionNo  = "no"
)

// GuestEncryption judges whether a guest's newest recovery point is
// encrypted from the groups holding it: the groups of the guest's cluster,
// type and id whose newest point is the guest's newest (one per
// repository holding a copy). Every copy must be encrypted. It returns ""
// (unknown) when the guest's count is unknown, it has no recovery point,
// or no group of its cluster holds the point (a repository attributed to
// no single cluster).
func GuestEncryption(g GuestAggregate, groups []GroupAggregate) string {
	if !g.Known || g.Last == 0 {
		return ""
	}
	state := ""
	for i := range groups {
		x := &groups[i]
		if x.Cluster != g.Cluster || x.BackupType != g.BackupType || x.BackupID != g.BackupID ||
			x.Snapshots == 0 || x.Last != g.Last {
			continue
		}
		if !x.LastEncrypted {
			return EncryptionNo
		}
		state = EncryptionYes
	}
	return state
}

// markGuestEncryption sets LastEncryption of every guest, looking at the
// groups of its own identity only (indexed once, not scanned per guest).
func markGuestEncryption(guests []GuestAggregate, groups []GroupAggregate) {
	byGuest := make(map[GuestKey][]GroupAggregate)
	for i := range groups {
		x := &groups[i]
		if x.Cluster == "" || x.Snapshots == 0 {
			continue
		}
		k := GuestKey{Cluster: x.Cluster, BackupType: x.BackupType, BackupID: x.BackupID}
		byGuest[k] = append(byGuest[k], *x)
	}
	for i := range guests {
		g := &guests[i]
		g.LastEncryption = GuestEncryption(*g, byGuest[GuestKey{Cluster: g.Cluster, BackupType: g.BackupType, BackupID: g.BackupID}])
	}
}
