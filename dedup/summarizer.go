package dedup

import (
	"cmp"
	"slices"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// GroupSummarizer summarises a PBS snapshot listing per group as its rows
// arrive (a streamed namespace listing, proxmox.PBSClient.EachSnapshot),
// with the result of SummarizeSnapshots over the whole listing. Of each
// snapshot it keeps only what a summary needs (time, size, verification,
// flags: 24 bytes, where a decoded snapshot with its file list takes
// several hundred), so a namespace of a million snapshots is summarised in
// tens of MiB. Rows of one group need not be adjacent. The zero value is
// ready to use; it is not safe for concurrent use.
type GroupSummarizer struct {
	groups  map[groupID]*[]point
	records int
}

type groupID struct{ backupType, backupID string }

// point is a Record without its strings: the repository is the caller's,
// type and id are the group's, verification is its rank.
type point struct {
	time, size   int64
	verification uint8
	protected    bool
	inProgress   bool
	encrypted    bool
}

// verificationByRank inverts verificationRank for the states a record
// holds after recordFromSnapshot.
var verificationByRank = [...]string{VerificationNone, VerificationOK, VerificationFailed}

// Add takes one snapshot of the listing.
func (g *GroupSummarizer) Add(s proxmox.Snapshot) {
	r := recordFromSnapshot("", &s)
	if g.groups == nil {
		g.groups = map[groupID]*[]point{}
	}
	k := groupID{r.BackupType, r.BackupID}
	pts := g.groups[k]
	if pts == nil {
		pts = new([]point)
		g.groups[k] = pts
	}
	*pts = append(*pts, point{time: r.Time, size: r.Size, verification: uint8(verificationRank(r.Verification)),
		protected: r.Protected, inProgress: r.InProgress, encrypted: r.Encrypted})
	g.records++
}

// Records is the number of snapshots added.
func (g *GroupSummarizer) Records() int { return g.records }

// Summaries returns the summary of every group added, sorted by type then
// id, as SummarizeSnapshots does.
func (g *GroupSummarizer) Summaries() []GroupSummary {
	keys := make([]groupID, 0, len(g.groups))
	for k := range g.groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b groupID) int {
		return cmp.Or(cmp.Compare(a.backupType, b.backupType), cmp.Compare(a.backupID, b.backupID))
	})
	out := make([]GroupSummary, 0, len(keys))
	var recs []Record
	for _, k := range keys {
		// One group's records at a time, through the one summariser.
		recs = recs[:0]
		for _, p := range *g.groups[k] {
			recs = append(recs, Record{BackupType: k.backupType, BackupID: k.backupID, Time: p.time, Size: p.size,
				Verification: verificationByRank[p.verification], Protected: p.protected, InProgress: p.inProgress, Encrypted: p.encrypted})
		}
		out = append(out, summarizeRecords(recs, false)...)
	}
	return out
}
