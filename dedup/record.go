package dedup

// This file normalises what the APIs return into recovery-point records
// and summarises records per backup group. A record is identified by its
// repository key, backup type, backup id and time; the same backup read
// through two paths has the same identity and counts once.

import (
	"slices"
	"sort"
	"strconv"

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
	for _, s := range snaps {
		r := Record{
			Repository:   repoKey,
			BackupType:   s.BackupType,
			BackupID:     string(s.BackupID),
			Time:         int64(s.BackupTime),
			Verification: verificationState(s.Verification),
			Protected:    bool(s.Protected),
		}
		if s.Size == nil {
			r.InProgress = true
			r.Verification = VerificationNone
		} else {
			r.Size = int64(*s.Size)
		}
		out = append(out, r)
	}
	return out
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
	parsed, perr := ParseBackupVolumeID(v.VolID)
	pbsStyle := perr == nil && parsed.Style == StylePBS
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
			r.BackupType = BackupTypeOfGuest(v.Subtype)
			if v.VMID > 0 {
				r.BackupID = strconv.FormatInt(int64(v.VMID), 10)
			}
		}
		if v.Size <= 1 {
			r.InProgress = true
			r.Size = 0
		} else {
			r.Verification = verificationState(v.Verification)
		}
	} else {
		r.BackupType = BackupTypeOfGuest(v.Subtype)
		if v.VMID > 0 {
			r.BackupID = strconv.FormatInt(int64(v.VMID), 10)
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

type groupID struct{ typ, id string }

// SummarizeRecords summarises records of one repository per backup group
// (type, id), sorted by type then id. Records with the same time are one
// recovery point: when they disagree, the point is protected if any copy
// says so, its size is the largest, and a failed verification wins over ok
// over none (never hide a failure).
func SummarizeRecords(recs []Record) []GroupSummary {
	type point struct {
		size     int64
		verif    string
		protect  bool
		complete bool
	}
	groups := map[groupID]map[int64]*point{}
	for _, r := range recs {
		g := groupID{r.BackupType, r.BackupID}
		pts := groups[g]
		if pts == nil {
			pts = map[int64]*point{}
			groups[g] = pts
		}
		p := pts[r.Time]
		if p == nil {
			p = &point{verif: VerificationNone}
			pts[r.Time] = p
		}
		if r.InProgress {
			continue
		}
		if !p.complete {
			*p = point{size: r.Size, verif: r.Verification, protect: r.Protected, complete: true}
			continue
		}
		p.size = max(p.size, r.Size)
		p.protect = p.protect || r.Protected
		if verificationRank(r.Verification) > verificationRank(p.verif) {
			p.verif = r.Verification
		}
	}
	keys := make([]groupID, 0, len(groups))
	for g := range groups {
		keys = append(keys, g)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].typ != keys[b].typ {
			return keys[a].typ < keys[b].typ
		}
		return keys[a].id < keys[b].id
	})
	out := make([]GroupSummary, 0, len(keys))
	for _, g := range keys {
		s := GroupSummary{BackupType: g.typ, BackupID: g.id, LastVerification: VerificationNone}
		pts := groups[g]
		// Sized once: the collector caches summaries, so spare capacity
		// would stay on the heap with them.
		s.Times = make([]int64, 0, len(pts))
		for t, p := range pts {
			if !p.complete {
				s.InProgress = true
				continue
			}
			s.Times = append(s.Times, t)
		}
		if len(s.Times) == 0 {
			s.Times = nil
		}
		slices.Sort(s.Times)
		for _, t := range s.Times {
			p := pts[t]
			if p.verif == VerificationFailed {
				s.VerifyFailed++
			}
			if p.protect {
				s.Protected++
			}
		}
		if n := len(s.Times); n > 0 {
			last := pts[s.Times[n-1]]
			s.LastSize, s.LastVerification = last.size, normalizeVerification(last.verif)
		}
		out = append(out, s)
	}
	return out
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
