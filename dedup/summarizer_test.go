package dedup

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// TestGroupSummarizerMatchesSummarizeSnapshots: fed one row at a time, in
// any order, with groups interleaved, the same time listed twice,
// snapshots in progress, every verification state and encrypted or not, the summariser
// gives exactly SummarizeSnapshots' summaries of the whole listing.
func TestGroupSummarizerMatchesSummarizeSnapshots(t *testing.T) {
	states := []string{"", "ok", "failed", "unknown"}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 15))
		var snaps []proxmox.Snapshot
		for range rng.IntN(60) {
			s := proxmox.Snapshot{
				BackupType: []string{"vm", "ct", "host"}[rng.IntN(3)],
				BackupID:   proxmox.String(strconv.Itoa(100 + rng.IntN(6))),
				BackupTime: proxmox.Int(1_700_000_000 + 86400*rng.IntN(8)),
				Protected:  proxmox.Bool(rng.IntN(5) == 0),
			}
			if rng.IntN(8) > 0 {
				size := proxmox.Int(rng.IntN(1000))
				s.Size = &size
			}
			if st := states[rng.IntN(len(states))]; st != "" {
				s.Verification = &proxmox.Verification{State: st}
			}
			if rng.IntN(2) == 0 { // encrypted: the manifest names its key
				s.Fingerprint = "8d:80:00:ab"
			}
			snaps = append(snaps, s)
		}
		var g GroupSummarizer
		for _, s := range snaps {
			g.Add(s)
		}
		if g.Records() != len(snaps) {
			t.Fatalf("seed %d: Records() = %d, want %d", seed, g.Records(), len(snaps))
		}
		got, want := g.Summaries(), SummarizeSnapshots(snaps)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d:\n got %+v\nwant %+v", seed, got, want)
		}
	}
}
