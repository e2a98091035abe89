package dedup

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestGuestJudgementMatchesMixin keeps JudgeGuest's thresholds and excluded
// tags equal to the mixin's defaults, so /status and the alerts agree.
func TestGuestJudgementMatchesMixin(t *testing.T) {
	src, err := os.ReadFile("../mixins/config.libsonnet")
	if err != nil {
		t.Fatal(err)
	}
	hours := func(key string) int64 {
		m := regexp.MustCompile(`(?m)^\s*` + key + `:\s*(\d+)\s*\*\s*3600\s*,`).FindSubmatch(src)
		if m == nil {
			t.Fatalf("mixins/config.libsonnet: no %q as <hours> * 3600", key)
		}
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return n * 3600
	}
	if got := hours("staleWarningSeconds"); got != StaleFixedSeconds {
		t.Errorf("mixin staleWarningSeconds = %d, StaleFixedSeconds = %d", got, StaleFixedSeconds)
	}
	if got := hours("staleScheduleSlackSeconds"); got != StaleSlackSeconds {
		t.Errorf("mixin staleScheduleSlackSeconds = %d, StaleSlackSeconds = %d", got, StaleSlackSeconds)
	}
	m := regexp.MustCompile(`(?m)^\s*excludeTags:\s*\[([^\]]*)\]`).FindSubmatch(src)
	if m == nil {
		t.Fatal("mixins/config.libsonnet: no excludeTags: [...]")
	}
	var tags []string
	for _, f := range strings.Split(string(m[1]), ",") {
		if f = strings.Trim(strings.TrimSpace(f), `'"`); f != "" {
			tags = append(tags, f)
		}
	}
	if !slices.Equal(tags, ExcludeTags) {
		t.Errorf("mixin excludeTags = %q, ExcludeTags = %q", tags, ExcludeTags)
	}
}

// TestJudgeGuest checks each rule at its boundary, as the alert
// expressions compare: strictly older than the threshold is stale.
func TestJudgeGuest(t *testing.T) {
	const now = 1_000_000_000
	const day = 86400
	known := func(snapshots int, last int64) GuestAggregate {
		return GuestAggregate{Known: true, Snapshots: snapshots, Last: last, InJob: true, ExpectedIntervalSeconds: day}
	}
	jobs := GuestFacts{JobsKnown: true}
	cases := []struct {
		name      string
		g         GuestAggregate
		f         GuestFacts
		want      []GuestState
		staleAt   int64
		age       int64
		exemptTag string
	}{
		{name: "fresh", g: known(3, now-day), f: jobs, staleAt: day + StaleSlackSeconds, age: day},
		{name: "at the threshold is not stale", g: known(3, now-day-StaleSlackSeconds), f: jobs,
			staleAt: day + StaleSlackSeconds, age: day + StaleSlackSeconds},
		{name: "one second past it is", g: known(3, now-day-StaleSlackSeconds-1), f: jobs, want: []GuestState{GuestStale},
			staleAt: day + StaleSlackSeconds, age: day + StaleSlackSeconds + 1},
		{name: "no backup", g: known(0, 0), f: jobs, want: []GuestState{GuestNoBackup}, staleAt: day + StaleSlackSeconds, age: -1},
		{name: "in no job: fixed threshold", g: GuestAggregate{Known: true, Snapshots: 2, Last: now - StaleFixedSeconds - 1},
			f: jobs, want: []GuestState{GuestStale, GuestNotInJob}, staleAt: StaleFixedSeconds, age: StaleFixedSeconds + 1},
		{name: "jobs unknown: fixed threshold, not 'not in a job'", g: known(2, now-StaleFixedSeconds+1),
			staleAt: StaleFixedSeconds, age: StaleFixedSeconds - 1},
		{name: "job membership unknown (hidden pool): fixed threshold, not 'not in a job'",
			g: GuestAggregate{Known: true, Snapshots: 2, Last: now - StaleFixedSeconds + 1, InJobUnknown: true},
			f: jobs, staleAt: StaleFixedSeconds, age: StaleFixedSeconds - 1},
		{name: "task failed on a fresh guest", g: known(5, now-3600), f: GuestFacts{JobsKnown: true, TaskFailed: true},
			want: []GuestState{GuestTaskFailed}, staleAt: day + StaleSlackSeconds, age: 3600},
		{name: "unknown says nothing of age or count", g: GuestAggregate{Snapshots: 0, Last: now - 100*day, InJob: true},
			f: jobs, want: []GuestState{GuestUnknown}, staleAt: StaleFixedSeconds, age: -1},
		{name: "unknown and in no job", g: GuestAggregate{}, f: jobs, want: []GuestState{GuestNotInJob, GuestUnknown},
			staleAt: StaleFixedSeconds, age: -1},
		{name: "template", g: GuestAggregate{Known: true, Template: true}, f: jobs,
			want: []GuestState{GuestNoBackup, GuestNotInJob}, staleAt: StaleFixedSeconds, age: -1, exemptTag: "template"},
		{name: "excluded tag", g: GuestAggregate{Known: true, Tags: []string{"nobackup", "test"}}, f: jobs,
			want: []GuestState{GuestNoBackup, GuestNotInJob}, staleAt: StaleFixedSeconds, age: -1, exemptTag: "tag nobackup"},
		{name: "a longer tag does not exclude", g: known(1, now), f: jobs, staleAt: day + StaleSlackSeconds, age: 0},
	}
	cases[len(cases)-1].g.Tags = []string{"nobackups"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := JudgeGuest(&c.g, c.f, now)
			wantState := GuestOK
			if len(c.want) > 0 {
				wantState = c.want[0]
			}
			if v.State != wantState || !slices.Equal(v.Problems, c.want) {
				t.Errorf("state %v, problems %v; want %v, %v", v.State, v.Problems, wantState, c.want)
			}
			if v.StaleAfterSeconds != c.staleAt || v.AgeSeconds != c.age || v.Exempt != c.exemptTag {
				t.Errorf("stale after %d, age %d, exempt %q; want %d, %d, %q",
					v.StaleAfterSeconds, v.AgeSeconds, v.Exempt, c.staleAt, c.age, c.exemptTag)
			}
		})
	}
}

func TestGuestStateText(t *testing.T) {
	seen := map[string]bool{}
	for s := GuestNoBackup; s <= GuestOK; s++ {
		b, err := s.MarshalText()
		if err != nil || string(b) != s.String() || s.String() == "invalid" || seen[s.String()] {
			t.Errorf("state %d: text %q, err %v", s, b, err)
		}
		seen[s.String()] = true
		var back GuestState
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("state %d reads back as %d, err %v", s, back, err)
		}
	}
	var bad GuestState
	if err := bad.UnmarshalText([]byte("fine")); err == nil || !strings.Contains(err.Error(), `"fine"`) {
		t.Errorf("reading an unknown state: err %v", err)
	}
	if GuestState(-1).String() != "invalid" || (GuestOK+1).String() != "invalid" {
		t.Error("an out-of-range state must read invalid")
	}
}
