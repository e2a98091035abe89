package dedup

import (
	"cmp"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// TestRecordsFromVolumes: what each kind of volume PVE may list becomes,
// written from what the volume means (the kinds the random estates of
// merge_test.go mix into listings).
func TestRecordsFromVolumes(t *testing.T) {
	const s = "nfs"
	at := t0 + 3600
	stamp := func(v proxmox.BackupVolume) proxmox.BackupVolume { v.CTime = 0; return v } // time from the name
	with := func(v proxmox.BackupVolume, f func(*proxmox.BackupVolume)) proxmox.BackupVolume { f(&v); return v }
	failed := proxmox.Verification{State: "failed"}
	odd := proxmox.Verification{State: "x"}
	tests := []struct {
		name string
		vol  proxmox.BackupVolume
		want *Record // nil: skipped
	}{
		{"vzdump archive", vzdumpVolume(s, "qemu", 100, at), &Record{BackupType: "vm", BackupID: "100", Time: at, Size: 1 << 30}},
		{"lxc archive, time from its name", stamp(vzdumpVolume(s, "lxc", 101, at)), &Record{BackupType: "ct", BackupID: "101", Time: at, Size: 1 << 30}},
		{"openvz archive is a ct", vzdumpVolume(s, "openvz", 102, at), &Record{BackupType: "ct", BackupID: "102", Time: at, Size: 1 << 30}},
		{"not backup content", with(vzdumpVolume(s, "qemu", 100, at), func(v *proxmox.BackupVolume) { v.Content = "iso" }), nil},
		{"custom name without stamp, group from the name", with(vzdumpVolume(s, "qemu", 101, at), func(v *proxmox.BackupVolume) {
			v.VolID, v.Subtype, v.VMID = s+":backup/vzdump-qemu-0101-custom.vma", "unknown", 0
		}), &Record{BackupType: "vm", BackupID: "101", Time: at, Size: 1 << 30}},
		{"custom name without stamp or ctime", with(vzdumpVolume(s, "qemu", 101, at), func(v *proxmox.BackupVolume) {
			v.VolID, v.CTime = s+":backup/vzdump-qemu-101-custom.vma", 0
		}), nil},
		{"unparsable name, group from PVE's fields", with(vzdumpVolume(s, "qemu", 103, at), func(v *proxmox.BackupVolume) {
			v.VolID = s + ":backup/something-else.txt"
		}), &Record{BackupType: "vm", BackupID: "103", Time: at, Size: 1 << 30}},
		{"vmid field wins over the name", with(vzdumpVolume(s, "qemu", 104, at), func(v *proxmox.BackupVolume) { v.VMID = 105 }),
			&Record{BackupType: "vm", BackupID: "105", Time: at, Size: 1 << 30}},
		{"protected archive", with(vzdumpVolume(s, "qemu", 100, at), func(v *proxmox.BackupVolume) { v.Protected, v.Size = true, 2<<30 }),
			&Record{BackupType: "vm", BackupID: "100", Time: at, Size: 2 << 30, Protected: true}},
		{"pbs snapshot", pbsVolume(s, "vm", 100, at, 4096), &Record{BackupType: "vm", BackupID: "100", Time: at, Size: 4096}},
		{"pbs snapshot, time from its path", stamp(pbsVolume(s, "ct", 101, at, 4096)), &Record{BackupType: "ct", BackupID: "101", Time: at, Size: 4096}},
		{"pbs snapshot being written", pbsVolume(s, "vm", 100, at, 1), &Record{BackupType: "vm", BackupID: "100", Time: at, InProgress: true}},
		{"pbs snapshot, encrypted (PVE's fingerprint or 1)", with(pbsVolume(s, "vm", 100, at, 4096), func(v *proxmox.BackupVolume) { v.Encrypted = "1" }),
			&Record{BackupType: "vm", BackupID: "100", Time: at, Size: 4096, Encrypted: true}},
		{"vzdump archive is never encrypted", with(vzdumpVolume(s, "qemu", 100, at), func(v *proxmox.BackupVolume) { v.Encrypted = "1" }),
			&Record{BackupType: "vm", BackupID: "100", Time: at, Size: 1 << 30}},
		{"pbs snapshot, verification failed", with(pbsVolume(s, "vm", 100, at, 4096), func(v *proxmox.BackupVolume) { v.Verification = &failed }),
			&Record{BackupType: "vm", BackupID: "100", Time: at, Size: 4096, Verification: VerificationFailed}},
		{"pbs snapshot, unknown verification state is none", with(pbsVolume(s, "vm", 100, at, 4096), func(v *proxmox.BackupVolume) { v.Verification = &odd }),
			&Record{BackupType: "vm", BackupID: "100", Time: at, Size: 4096}},
		{"pbs snapshot with a garbled path and no ctime", with(pbsVolume(s, "vm", 100, at, 4096), func(v *proxmox.BackupVolume) {
			v.VolID, v.CTime = s+":backup/vm/100/garbage", 0
		}), nil},
		{"pbs snapshot with a garbled path, group from PVE's fields", with(pbsVolume(s, "ct", 106, at, 4096), func(v *proxmox.BackupVolume) {
			v.VolID = s + ":backup/ct/106/garbage"
		}), &Record{BackupType: "ct", BackupID: "106", Time: at, Size: 4096}},
	}
	for _, tc := range tests {
		recs, skipped := RecordsFromVolumes("repo", []proxmox.BackupVolume{tc.vol})
		if tc.want == nil {
			if len(recs) != 0 || skipped != 1 {
				t.Errorf("%s: %+v (skipped %d), want it skipped", tc.name, recs, skipped)
			}
			continue
		}
		want := *tc.want
		want.Repository = "repo"
		if want.Verification == "" {
			want.Verification = VerificationNone
		}
		if len(recs) != 1 || skipped != 0 || recs[0] != want {
			t.Errorf("%s: %+v (skipped %d)\nwant %+v", tc.name, recs, skipped, want)
		}
	}
}

// TestSummarizeRecordsScenarios: summaries of small record sets, written
// from the rules SummarizeRecords documents.
func TestSummarizeRecordsScenarios(t *testing.T) {
	r := func(typ, id string, tm, size int64, verification string, protected, inProgress bool) Record {
		return Record{BackupType: typ, BackupID: id, Time: tm, Size: size, Verification: verification, Protected: protected, InProgress: inProgress}
	}
	enc := func(r Record) Record { r.Encrypted = true; return r }
	tests := []struct {
		name string
		recs []Record
		want []GroupSummary
	}{
		{"nothing", nil, []GroupSummary{}},
		{"groups sorted by type then id, times ascending", []Record{
			r("vm", "2", 5, 50, VerificationOK, false, false), r("ct", "9", 1, 10, "", false, false),
			r("vm", "10", 3, 30, "", true, false), r("vm", "2", 4, 40, VerificationFailed, true, false),
		}, []GroupSummary{
			{BackupType: "ct", BackupID: "9", Times: []int64{1}, LastSize: 10, LastVerification: VerificationNone, Unencrypted: 1},
			{BackupType: "vm", BackupID: "10", Times: []int64{3}, LastSize: 30, LastVerification: VerificationNone, Protected: 1, Unencrypted: 1},
			{BackupType: "vm", BackupID: "2", Times: []int64{4, 5}, LastSize: 50, LastVerification: VerificationOK, VerifyFailed: 1, Verified: 1, Protected: 1, Unencrypted: 2},
		}},
		{"copies of one point: largest size, any protection, failed over ok over none", []Record{
			r("vm", "1", 7, 10, VerificationOK, false, false), r("vm", "1", 7, 30, VerificationFailed, false, false),
			r("vm", "1", 7, 20, "weird", true, false),
		}, []GroupSummary{{BackupType: "vm", BackupID: "1", Times: []int64{7}, LastSize: 30, LastVerification: VerificationFailed, VerifyFailed: 1, Protected: 1, Unencrypted: 1}}},
		{"a point only in progress does not count, nor hide the last result", []Record{
			r("vm", "1", 7, 10, VerificationOK, false, false), r("vm", "1", 9, 0, "", false, true),
		}, []GroupSummary{{BackupType: "vm", BackupID: "1", Times: []int64{7}, LastSize: 10, LastVerification: VerificationOK, Verified: 1, Unencrypted: 1, InProgress: true}}},
		{"a point in progress on one copy, complete on another, counts", []Record{
			r("vm", "1", 7, 0, "", true, true), r("vm", "1", 7, 10, "", false, false),
		}, []GroupSummary{{BackupType: "vm", BackupID: "1", Times: []int64{7}, LastSize: 10, LastVerification: VerificationNone, Unencrypted: 1}}},
		{"encryption: a point is encrypted only if every copy is", []Record{
			enc(r("vm", "1", 5, 10, "", false, false)), enc(r("vm", "1", 7, 10, "", false, false)), r("vm", "1", 7, 10, "", false, false),
			enc(r("vm", "2", 3, 10, "", false, false)), r("vm", "2", 1, 10, "", false, false), enc(r("vm", "2", 4, 0, "", false, true)),
		}, []GroupSummary{
			{BackupType: "vm", BackupID: "1", Times: []int64{5, 7}, LastSize: 10, LastVerification: VerificationNone, Unencrypted: 1},
			{BackupType: "vm", BackupID: "2", Times: []int64{1, 3}, LastSize: 10, LastVerification: VerificationNone, LastEncrypted: true, Unencrypted: 1, InProgress: true},
		}},
		{"a group only in progress", []Record{r("ct", "5", 3, 0, "", false, true)},
			[]GroupSummary{{BackupType: "ct", BackupID: "5", LastVerification: VerificationNone, InProgress: true}}},
	}
	for _, tc := range tests {
		got := SummarizeRecords(tc.recs)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

// groupKey is a backup group in the ground truths of the tests.
type groupKey struct{ typ, id string }

// compareGroupKeys orders groups as summaries are: by type, then id.
func compareGroupKeys(a, b groupKey) int {
	return cmp.Or(cmp.Compare(a.typ, b.typ), cmp.Compare(a.id, b.id))
}

// strongestVerification merges the verification states of the copies of
// one point: a failure is never hidden, ok beats none, and anything else
// is none.
func strongestVerification(states []string) string {
	switch {
	case slices.Contains(states, VerificationFailed):
		return VerificationFailed
	case slices.Contains(states, VerificationOK):
		return VerificationOK
	}
	return VerificationNone
}

// summaryTruth is what SummarizeRecords must return, computed the plain
// way: a map from group to a map from time to the copies of that point.
func summaryTruth(recs []Record) []GroupSummary {
	points := map[groupKey]map[int64][]Record{}
	for _, r := range recs {
		g := groupKey{r.BackupType, r.BackupID}
		if points[g] == nil {
			points[g] = map[int64][]Record{}
		}
		points[g][r.Time] = append(points[g][r.Time], r)
	}
	out := []GroupSummary{}
	for _, g := range slices.SortedFunc(maps.Keys(points), compareGroupKeys) {
		s := GroupSummary{BackupType: g.typ, BackupID: g.id, LastVerification: VerificationNone}
		for _, tm := range slices.Sorted(maps.Keys(points[g])) {
			var complete []Record
			for _, c := range points[g][tm] {
				if !c.InProgress {
					complete = append(complete, c)
				}
			}
			if len(complete) == 0 {
				s.InProgress = true
				continue
			}
			s.Times = append(s.Times, tm)
			var size int64
			protected, encrypted, states := false, true, []string{}
			for _, c := range complete {
				size = max(size, c.Size)
				protected = protected || c.Protected
				encrypted = encrypted && c.Encrypted
				states = append(states, c.Verification)
			}
			if protected {
				s.Protected++
			}
			if !encrypted {
				s.Unencrypted++
			}
			s.LastSize, s.LastVerification, s.LastEncrypted = size, strongestVerification(states), encrypted
			switch s.LastVerification {
			case VerificationFailed:
				s.VerifyFailed++
			case VerificationOK:
				s.Verified++
			}
		}
		out = append(out, s)
	}
	return out
}

// TestSummarizeRecordsMatchesGroundTruth: on random records (repeated
// points that disagree, points only in progress, odd verification states)
// SummarizeRecords returns what summaryTruth computes, and leaves its
// input as it was.
func TestSummarizeRecordsMatchesGroundTruth(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	states := []string{VerificationOK, VerificationFailed, VerificationNone, "", "weird"}
	for round := range 3000 {
		var recs []Record
		for range rng.IntN(12) {
			recs = append(recs, Record{
				BackupType: []string{"vm", "ct", "host"}[rng.IntN(3)], BackupID: []string{"1", "10", "100", "2", "web"}[rng.IntN(5)],
				Time: int64(rng.IntN(6)), Size: rng.Int64N(5), Verification: states[rng.IntN(len(states))],
				Protected: rng.IntN(3) == 0, InProgress: rng.IntN(4) == 0, Encrypted: rng.IntN(2) == 0,
			})
		}
		before := slices.Clone(recs)
		got, want := SummarizeRecords(recs), summaryTruth(recs)
		if len(got) != 0 || len(want) != 0 {
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d: records %+v\n got %+v\nwant %+v", round, recs, got, want)
			}
		}
		if !reflect.DeepEqual(recs, before) {
			t.Fatalf("round %d: SummarizeRecords changed its input", round)
		}
	}
}

// TestSharedTimesAreWindows: summaries whose Times share one array (what
// Merge makes of a PVE listing) cannot write into each other's times.
func TestSharedTimesAreWindows(t *testing.T) {
	recs := []Record{
		{BackupType: "vm", BackupID: "100", Time: 1}, {BackupType: "vm", BackupID: "100", Time: 2},
		{BackupType: "vm", BackupID: "101", Time: 3},
	}
	gs := summarizeRecords(recs, true)
	if len(gs) != 2 || !slices.Equal(gs[0].Times, []int64{1, 2}) || !slices.Equal(gs[1].Times, []int64{3}) {
		t.Fatalf("summaries %+v", gs)
	}
	_ = append(gs[0].Times, 99)
	if gs[1].Times[0] != 3 {
		t.Fatalf("appending to one group's times changed the next group's: %v", gs[1].Times)
	}
}

// TestRecordsFromBackupProviderVolumes: a storage plugin of an external
// backup provider (PVE 8.4, pve-storage's backup-provider feature) lists
// its own volume ids, which need not follow vzdump naming. The listing's
// subtype, vmid and ctime say guest and time; the name is only a fallback.
func TestRecordsFromBackupProviderVolumes(t *testing.T) {
	vols := []proxmox.BackupVolume{
		// Names no vzdump or PBS pattern parses.
		{VolID: "borg:backup/homelab-guest-100-20250115T020003", Content: "backup", Format: "raw", Subtype: "qemu", VMID: 100, CTime: 1736906403, Size: 5 << 30},
		{VolID: "borg:backup/ct7_nightly", Content: "backup", Format: "tar", Subtype: "lxc", VMID: 7, CTime: 1736906500, Size: 1 << 20},
		// Nothing usable: no subtype, no vmid, and a name that says nothing.
		{VolID: "borg:backup/manifest", Content: "backup", Subtype: "unknown", CTime: 1736906600},
	}
	recs, skipped := RecordsFromVolumes("homelab:borg", vols)
	if skipped != 1 || len(recs) != 2 {
		t.Fatalf("records %+v, skipped %d; want 2 records, 1 skipped", recs, skipped)
	}
	want := []struct {
		typ, id string
		time    int64
	}{{"vm", "100", 1736906403}, {"ct", "7", 1736906500}}
	for i, w := range want {
		if r := recs[i]; r.BackupType != w.typ || r.BackupID != w.id || r.Time != w.time || r.InProgress {
			t.Errorf("record %d = %+v, want %s/%s at %d", i, r, w.typ, w.id, w.time)
		}
	}
}
