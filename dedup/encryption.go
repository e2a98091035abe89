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

// newestEncryption judges whether a guest's newest recovery point (last,
// from unionTimes) is encrypted, from the groups its cluster reaches: the
// Times of each (lists) and whether each group's newest point is encrypted
// (encs, parallel). The groups whose newest point is last hold its copies
// (those guest_last_copies counts); every one must be encrypted. "" when
// the guest has no recovery point.
func newestEncryption(lists [][]int64, encs []bool, last int64) string {
	if last == 0 {
		return ""
	}
	state := ""
	for i, l := range lists {
		if n := len(l); n == 0 || l[n-1] != last {
			continue
		}
		if !encs[i] {
			return EncryptionNo
		}
		state = EncryptionYes
	}
	return state
}
