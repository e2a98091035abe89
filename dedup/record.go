package dedup

// This file normalises what the APIs return into recovery-point records
// and summarises records per backup group. A record is identified by its
// repository key, backup type, backup id and time; the same backup read
// through two paths has the same identity and counts once.

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Record is one recovery point (or one being written) in one repository.
type Record struct {
	// Repository is the repository key (Repository.Key), not its name.
	Repository   string
	BackupType   string // vm, ct, host
	BackupID     string
	Time         int64 // epoch seconds
	Size         int64
	Verification string // VerificationOK, VerificationFailed, VerificationNone
	Protected    bool
	// Encrypted is true when the recovery point is encrypted as a whole
	// (proxmox.SnapshotEncrypted, proxmox.VolumeEncrypted); a vzdump
	// archive never is.
	Encrypted bool
	// InProgress is true for a PBS snapshot without a manifest yet (PBS
	// omits its size, PVE shows size 1). It never counts as completed.
	InProgress bool
}

// RecordKey is the identity of a recovery point.
type RecordKey struct {
	Repository string
	BackupType string
	BackupID   string
	Time       int64
}

// Key returns the record's identity.
func (r Record) Key() RecordKey {
	return RecordKey{Repository: r.Repository, BackupType: r.BackupType, BackupID: r.BackupID, Time: r.Time}
}

func verificationState(v *proxmox.Verification) string {
	if v == nil {
		return VerificationNone
	}
	switch v.State {
	case "ok":
		return VerificationOK
	case "failed":
		return VerificationFailed
	}
	// Anything else is neither proof of a good nor of a bad copy.
	return VerificationNone
}

// RecordsFromSnapshots converts PBS snapshots of one namespace. A snapshot
// without size has no readable manifest: it is still being written.
func RecordsFromSnapshots(repoKey string, snaps []proxmox.Snapshot) []Record {
	out := make([]Record, 0, len(snaps))
	for i := range snaps {
		out = append(out, recordFromSnapshot(repoKey, &snaps[i]))
	}
	return out
}

// recordFromSnapshot converts one PBS snapshot.
func recordFromSnapshot(repoKey string, s *proxmox.Snapshot) Record {
	r := Record{
		Repository:   repoKey,
		BackupType:   s.BackupType,
		BackupID:     string(s.BackupID),
		Time:         int64(s.BackupTime),
		Verification: verificationState(s.Verification),
		Protected:    bool(s.Protected),
		Encrypted:    proxmox.SnapshotEncrypted(s),
	}
	if s.Size == nil {
		r.InProgress = true
		r.Verification = VerificationNone
	} else {
		r.Size = int64(*s.Size)
	}
	return r
}

// RecordsFromVolumes converts the backup volumes of a PVE content listing.
// Both kinds of volume are understood:
//
//   - vzdump archives on file storages: the type comes from subtype
//     (qemu→vm, lxc/openvz→ct) or, when PVE says "unknown", from the file
//     name; the id from vmid or the name; the time is PVE's ctime. They
//     are never verified and never in progress (vzdump writes under a
//     temporary name that the listing does not show).
//   - PBS snapshots seen through a pbs storage: type and id from the
//     volume id, time = ctime = the PBS backup-time. PVE reports size 1
//     when PBS gives no size, i.e. the snapshot has no manifest yet: such
//     a volume is in progress (no real backup has a logical size of one
//     byte: it always holds at least its index and config blobs).
//
// Volumes that say nothing usable about their guest or time are skipped
// and counted.
func RecordsFromVolumes(repoKey string, vols []proxmox.BackupVolume) (recs []Record, skipped int) {
	recs = make([]Record, 0, len(vols))
	for i := range vols {
		r, ok := recordFromVolume(repoKey, &vols[i])
		if !ok {
			skipped++
			continue
		}
		recs = append(recs, r)
	}
	return recs, skipped
}

func recordFromVolume(repoKey string, v *proxmox.BackupVolume) (Record, bool) {
	if v.Content != "" && v.Content != "backup" {
		return Record{}, false
	}
	r := Record{Repository: repoKey, Time: int64(v.CTime), Size: int64(v.Size), Protected: bool(v.Protected), Verification: VerificationNone}
	parsed, perr := proxmox.ParseBackupVolumeID(v.VolID)
	pbsStyle := perr == nil && parsed.Style == proxmox.StylePBS
	if perr != nil && (v.Format == "pbs-vm" || v.Format == "pbs-ct") {
		pbsStyle = true
	}
	if pbsStyle {
		if perr == nil {
			r.BackupType, r.BackupID = parsed.BackupType, parsed.BackupID
			if r.Time <= 0 {
				r.Time = parsed.Time
			}
		} else {
			r.BackupType = proxmox.BackupTypeOfGuest(v.Subtype)
			if v.VMID > 0 {
				r.BackupID = strconv.FormatInt(int64(v.VMID), 10)
			}
		}
		if v.Size <= 1 {
			r.InProgress = true
			r.Size = 0
		} else {
			r.Verification = verificationState(v.Verification)
			r.Encrypted = proxmox.VolumeEncrypted(*v)
		}
	} else {
		r.BackupType = proxmox.BackupTypeOfGuest(v.Subtype)
		if v.VMID > 0 {
			r.BackupID = formatVMID(int64(v.VMID), parsed.BackupID)
		}
		if perr == nil {
			if r.BackupType == "" {
				r.BackupType = parsed.BackupType
			}
			if r.BackupID == "" {
				r.BackupID = parsed.BackupID
			}
			if r.Time <= 0 && parsed.HasTime {
				r.Time = parsed.Time
			}
		}
	}
	if r.BackupType == "" || r.BackupID == "" || r.Time <= 0 {
		return Record{}, false
	}
	return r, true
}

// formatVMID is strconv.FormatInt(id, 10), returning same instead when it
// already holds that text: the VMID in a vzdump file name almost always
// does, and formatting it anew cost an allocation per volume.
func formatVMID(id int64, same string) string {
	var buf [20]byte
	if b := strconv.AppendInt(buf[:0], id, 10); string(b) == same {
		return same
	}
	return strconv.FormatInt(id, 10)
}

// SummarizeRecords summarises records of one repository per backup group
// (type, id), sorted by type then id. Records with the same time are one
// recovery point: when they disagree, the point is protected if any copy
// says so, its size is the largest, and a failed verification wins over ok
// over none (never hide a failure).
func SummarizeRecords(recs []Record) []GroupSummary {
	return summarizeRecords(recs, false)
}

// summarizeRecords is SummarizeRecords. It sorts the records by group and
// time, so that each group and each recovery point is a run: that
// replaces a map of maps (an allocation per group and per point). With
// shareTimes, every group's Times is a window of one array: one
// allocation instead of one per group, for summaries that live no longer
// than the call's user (Merge); a summary the collector caches would keep
// the whole array alive.
func summarizeRecords(recs []Record, shareTimes bool) []GroupSummary {
	sorted := sortRecords(recs)
	groups := 0
	for i := range sorted {
		if i == 0 || !sameGroup(sorted[i-1], sorted[i]) {
			groups++
		}
	}
	out := make([]GroupSummary, 0, groups)
	var shared *[]int64
	if shareTimes {
		times := make([]int64, 0, len(recs))
		shared = &times
	}
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sameGroup(sorted[i], sorted[j]) {
			j++
		}
		out = append(out, summarizeGroup(sorted[i:j], shared))
		i = j
	}
	return out
}

// summarizeGroup summarises the records of one group, sorted by time. Its
// Times are taken from the end of shared, unless that is nil.
func summarizeGroup(recs []*Record, shared *[]int64) GroupSummary {
	s := GroupSummary{BackupType: recs[0].BackupType, BackupID: recs[0].BackupID, LastVerification: VerificationNone}
	complete := 0
	for i := range recs {
		if (i == 0 || recs[i].Time != recs[i-1].Time) && pointComplete(recs, i) {
			complete++
		}
	}
	if complete > 0 {
		if shared != nil {
			start := len(*shared)
			*shared = (*shared)[:start+complete]
			// The full slice expression keeps an append to one group's
			// Times from writing into the next group's.
			s.Times = (*shared)[start : start+complete : start+complete]
		} else {
			// Sized once: the collector caches summaries, so spare
			// capacity would stay on the heap with them.
			s.Times = make([]int64, complete)
		}
	}
	n := 0
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && recs[j].Time == recs[i].Time {
			j++
		}
		p, ok := mergePoint(recs[i:j])
		i = j
		if !ok {
			s.InProgress = true
			continue
		}
		s.Times[n] = p.Time
		n++
		switch p.Verification {
		case VerificationFailed:
			s.VerifyFailed++
		case VerificationOK:
			s.Verified++
		}
		if !p.Encrypted {
			s.Unencrypted++
		}
		if p.Protected {
			s.Protected++
		}
		// Times ascend: the last complete point is the newest.
		s.LastSize, s.LastVerification, s.LastEncrypted = p.Size, normalizeVerification(p.Verification), p.Encrypted
	}
	return s
}

// pointComplete reports whether the point starting at recs[i] has a copy
// that is not in progress.
func pointComplete(recs []*Record, i int) bool {
	for j := i; j < len(recs) && recs[j].Time == recs[i].Time; j++ {
		if !recs[j].InProgress {
			return true
		}
	}
	return false
}

// mergePoint merges the copies of one recovery point; false when every
// copy is in progress. The result does not depend on the copies' order:
// the verification kept is the highest ranked (failed over ok over the
// rest), and all of the rest read as none.
func mergePoint(copies []*Record) (Record, bool) {
	var p Record
	complete := false
	for _, r := range copies {
		if r.InProgress {
			continue
		}
		if !complete {
			p, complete = *r, true
			continue
		}
		p.Size = max(p.Size, r.Size)
		p.Protected = p.Protected || r.Protected
		// A point is encrypted only if every copy is: a plain copy
		// anywhere is readable without the key.
		p.Encrypted = p.Encrypted && r.Encrypted
		if verificationRank(r.Verification) > verificationRank(p.Verification) {
			p.Verification = r.Verification
		}
	}
	return p, complete
}

// sortRecords returns pointers to the records in compareRecords' order;
// the records stay where they are.
func sortRecords(recs []Record) []*Record {
	sorted := make([]*Record, len(recs))
	if packed, ok := packRecords(recs); ok {
		slices.SortFunc(packed, func(a, b packedRecord) int {
			if c := cmp.Compare(a.group, b.group); c != 0 {
				return c
			}
			return cmp.Compare(a.time, b.time)
		})
		for i := range packed {
			sorted[i] = &recs[packed[i].rec]
		}
		return sorted
	}
	for i := range recs {
		sorted[i] = &recs[i]
	}
	slices.SortFunc(sorted, compareRecords)
	return sorted
}

// packedRecord is a record's place in compareRecords' order as numbers,
// which sort about twice as fast as the strings (10,000 vzdump files per
// scrape): group packs the backup type and the id (see packGroup). It
// holds no pointer (rec is the record's index), so that moving it during
// the sort needs no GC write barrier.
type packedRecord struct {
	group uint64
	time  int64
	rec   int
}

// packRecords packs every record, or reports that one does not fit.
func packRecords(recs []Record) ([]packedRecord, bool) {
	packed := make([]packedRecord, len(recs))
	for i := range recs {
		g, ok := packGroup(recs[i].BackupType, recs[i].BackupID)
		if !ok {
			return nil, false
		}
		packed[i] = packedRecord{g, recs[i].Time, i}
	}
	return packed, true
}

// packGroup packs a group whose type is ct, host or vm and whose id is at
// most 15 decimal digits (every group PVE lists) into a number that
// orders as the strings do: the type's rank in 2 bits, then each digit as
// digit+1 in 4 bits, left-aligned, so that a shorter id that is a prefix
// of a longer one has 0 where the longer has a digit and sorts first.
func packGroup(backupType, id string) (uint64, bool) {
	var g uint64
	switch backupType {
	case proxmox.BackupTypeCT:
		g = 1
	case proxmox.BackupTypeHost:
		g = 2
	case proxmox.BackupTypeVM:
		g = 3
	default:
		return 0, false
	}
	const digits = 15
	if len(id) > digits {
		return 0, false
	}
	for i := range digits {
		g <<= 4
		if i < len(id) {
			if id[i] < '0' || id[i] > '9' {
				return 0, false
			}
			g |= uint64(id[i]-'0') + 1
		}
	}
	return g, true
}

func sameGroup(a, b *Record) bool {
	return a.BackupType == b.BackupType && a.BackupID == b.BackupID
}

// compareRecords orders records by group (type, then id) and time.
func compareRecords(a, b *Record) int {
	if c := strings.Compare(a.BackupType, b.BackupType); c != 0 {
		return c
	}
	if c := strings.Compare(a.BackupID, b.BackupID); c != 0 {
		return c
	}
	return cmp.Compare(a.Time, b.Time)
}

func verificationRank(v string) int {
	switch v {
	case VerificationFailed:
		return 2
	case VerificationOK:
		return 1
	}
	return 0
}

func normalizeVerification(v string) string {
	switch v {
	case VerificationOK, VerificationFailed:
		return v
	}
	return VerificationNone
}

// SummarizeSnapshots summarises the PBS snapshots of one namespace per
// group: completed times, newest size and verification state (of the
// newest completed snapshot, so a running backup does not hide the last
// result), failed-verification and protected counts over completed
// snapshots, and whether a snapshot is in progress.
func SummarizeSnapshots(snaps []proxmox.Snapshot) []GroupSummary {
	return SummarizeRecords(RecordsFromSnapshots("", snaps))
}

// SummarizeVolumes summarises a PVE content listing per group; see
// RecordsFromVolumes for how volumes are read.
func SummarizeVolumes(vols []proxmox.BackupVolume) (groups []GroupSummary, skipped int) {
	recs, skipped := RecordsFromVolumes("", vols)
	return SummarizeRecords(recs), skipped
}
