package dedup

import (
	"testing"
	"time"
)

// TestSubstituteLastKnown: only a PBS that is down, keeps last known data
// and has a read no older than that is substituted; the input estate is
// left as it was.
func TestSubstituteLastKnown(t *testing.T) {
	now := time.Unix(t0, 0)
	read := LastKnown{At: now.Add(-time.Hour), Fingerprint: "ab:cd", Datastores: []Datastore{ds("store1", "ns")}}
	cases := []struct {
		name  string
		pbs   PBS
		known map[string]LastKnown
		want  bool
	}{
		{"down, recent read", PBS{Target: "p", KeepLastKnown: 2 * time.Hour}, map[string]LastKnown{"p": read}, true},
		{"down, read exactly that old", PBS{Target: "p", KeepLastKnown: time.Hour}, map[string]LastKnown{"p": read}, true},
		{"down, read too old", PBS{Target: "p", KeepLastKnown: time.Hour - time.Second}, map[string]LastKnown{"p": read}, false},
		{"down, keep_last_known off", PBS{Target: "p"}, map[string]LastKnown{"p": read}, false},
		{"down, nothing known", PBS{Target: "p", KeepLastKnown: 2 * time.Hour}, nil, false},
		{"down, another target's read", PBS{Target: "q", KeepLastKnown: 2 * time.Hour}, map[string]LastKnown{"p": read}, false},
		{"up", PBS{Target: "p", Up: true, KeepLastKnown: 2 * time.Hour}, map[string]LastKnown{"p": read}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Estate{PBS: []PBS{tc.pbs}}
			out := SubstituteLastKnown(in, tc.known, now)
			got := out.PBS[0]
			if got.Stale != tc.want {
				t.Fatalf("Stale = %v, want %v", got.Stale, tc.want)
			}
			if tc.want && (!got.Up || got.Fingerprint != read.Fingerprint || len(got.Datastores) != 1 || got.Datastores[0].Name != "store1") {
				t.Errorf("substituted entry %+v, want the last known read marked up", got)
			}
			if !tc.want && (got.Up != tc.pbs.Up || got.Fingerprint != tc.pbs.Fingerprint) {
				t.Errorf("entry changed: %+v", got)
			}
			if in.PBS[0].Stale || in.PBS[0].Up != tc.pbs.Up {
				t.Errorf("the input estate was modified: %+v", in.PBS[0])
			}
		})
	}
}
