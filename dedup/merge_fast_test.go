package dedup

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
)

// TestNormalizeSummariesFastPath: summaries that keep the GroupSummary
// contract, in any order, come out of the pass-through exactly as the
// record-by-record merge makes them; broken ones still get merged.
func TestNormalizeSummariesFastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	states := []string{VerificationOK, VerificationFailed, VerificationNone, "", "weird"}
	for i := range 2000 {
		var in []GroupSummary
		used := map[string]bool{}
		for range rng.IntN(6) {
			g := GroupSummary{BackupType: []string{"vm", "ct", "host"}[rng.IntN(3)], BackupID: strconv.Itoa(rng.IntN(8)),
				LastSize: rng.Int64N(100), LastVerification: states[rng.IntN(len(states))],
				VerifyFailed: rng.IntN(4) - 1, Protected: rng.IntN(4), InProgress: rng.IntN(4) == 0}
			if used[g.BackupType+"/"+g.BackupID] && i%2 == 0 {
				continue // even rounds: well-formed (distinct groups)
			}
			used[g.BackupType+"/"+g.BackupID] = true
			t0 := int64(rng.IntN(5))
			for range rng.IntN(4) {
				t0 += int64(1 + rng.IntN(3))
				if i%5 == 1 {
					t0 -= int64(rng.IntN(3)) // sometimes out of order or repeated
				}
				g.Times = append(g.Times, t0)
			}
			in = append(in, g)
		}
		got, want := normalizeSummaries(in), mergeSummaries(in)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: input %+v\nfast  %+v\nmerge %+v", i, in, got, want)
		}
	}
}
