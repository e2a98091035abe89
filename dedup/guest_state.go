package dedup

import (
	"fmt"
	"slices"
)

// This file judges a guest's backups the way the shipped alerts do
// (mixins/alerts, mixins/rules), so that /status shows an admin the same
// verdict the alerts give: the exporter's metrics carry the facts, the
// mixin's default thresholds say what is stale. TestGuestJudgementMatchesMixin
// reads mixins/config.libsonnet and fails when the two drift apart.

// Staleness thresholds of the mixin's warning (its defaults
// staleScheduleSlackSeconds and staleWarningSeconds): a guest whose job
// interval is known is stale once its newest recovery point is older than
// that interval plus StaleSlackSeconds; a guest with no known interval
// (in no job, or a schedule that cannot be parsed) once it is older than
// StaleFixedSeconds.
const (
	StaleSlackSeconds int64 = 2 * 3600
	StaleFixedSeconds int64 = 26 * 3600
)

// ExcludeTags are the PVE tags that take a guest out of every guest alert
// (the mixin's default excludeTags).
var ExcludeTags = []string{"nobackup"}

// GuestState is one thing that can be said of a guest's backups. The
// values are ordered worst first: an admin acts on a guest with no backup
// before one whose backup is merely late.
type GuestState int

// The guest states, worst first.
const (
	// GuestNoBackup: every repository that could hold the guest's backups
	// was read, and none holds a completed recovery point.
	GuestNoBackup GuestState = iota
	// GuestStale: the newest recovery point is older than the guest's
	// schedule allows (StaleAfterSeconds).
	GuestStale
	// GuestTaskFailed: the guest's part of its newest finished vzdump task
	// failed.
	GuestTaskFailed
	// GuestNotInJob: no enabled backup job covers the guest.
	GuestNotInJob
	// GuestUnknown: a repository that could hold the guest's backups
	// failed to list, so whether it has a (fresh) backup is not known.
	GuestUnknown
	// GuestOK: none of the above.
	GuestOK
)

var guestStateNames = [...]string{"no backup", "stale", "last task failed", "not in a job", "unknown", "ok"}

// String is the state as /status shows it.
func (s GuestState) String() string {
	if s < 0 || int(s) >= len(guestStateNames) {
		return "invalid"
	}
	return guestStateNames[s]
}

// MarshalText makes the state readable in JSON.
func (s GuestState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state as MarshalText writes it, so that the
// /status JSON reads back (--check, tests).
func (s *GuestState) UnmarshalText(b []byte) error {
	i := slices.Index(guestStateNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("guest state %q: want one of %q", b, guestStateNames)
	}
	*s = GuestState(i)
	return nil
}

// GuestFacts is what the collector knows of a guest beyond its aggregate.
type GuestFacts struct {
	// JobsKnown is false when the cluster's backup jobs could not be read:
	// InJob and ExpectedIntervalSeconds then say nothing (no
	// guest_in_job series is exported). A guest's own InJobUnknown says
	// the same of that guest alone.
	JobsKnown bool
	// TaskFailed is true when the guest's part of its newest finished
	// vzdump task failed; false when it succeeded, there is none, or the
	// tasks could not be read.
	TaskFailed bool
}

// GuestVerdict is the judgement of one guest.
type GuestVerdict struct {
	// State is the worst of Problems, GuestUnknown when the guest's
	// backups are not known and nothing worse is, else GuestOK.
	State GuestState
	// Problems are every state that applies, worst first (GuestUnknown
	// included); empty for a guest that is ok.
	Problems []GuestState
	// StaleAfterSeconds is the age at which the guest's newest recovery
	// point counts as stale.
	StaleAfterSeconds int64
	// AgeSeconds is the age of the newest recovery point at now; -1 when
	// there is none or it is unknown.
	AgeSeconds int64
	// Exempt says why the alerts leave the guest out ("template",
	// "template unknown" while its offline node hides whether it is one,
	// or "tag <name>" for an excluded tag); empty for a watched guest.
	Exempt string
}

// JudgeGuest judges a guest at the time now (Unix seconds), with the
// rules of the mixin's guest alerts: GuestNoBackup, GuestBackupStale
// (warning), GuestBackupTaskFailed and GuestNotInJob. Templates and guests
// carrying an ExcludeTags tag are judged too but marked Exempt.
func JudgeGuest(g *GuestAggregate, f GuestFacts, now int64) GuestVerdict {
	v := GuestVerdict{AgeSeconds: -1, StaleAfterSeconds: StaleFixedSeconds}
	if f.JobsKnown && g.InJob && g.ExpectedIntervalSeconds > 0 {
		v.StaleAfterSeconds = g.ExpectedIntervalSeconds + StaleSlackSeconds
	}
	if g.Known && g.Last > 0 {
		v.AgeSeconds = max(now-g.Last, 0)
	}
	switch {
	case !g.Known:
	case g.Snapshots == 0:
		v.Problems = append(v.Problems, GuestNoBackup)
	case g.Last > 0 && v.AgeSeconds > v.StaleAfterSeconds:
		v.Problems = append(v.Problems, GuestStale)
	}
	if f.TaskFailed {
		v.Problems = append(v.Problems, GuestTaskFailed)
	}
	if f.JobsKnown && !g.InJob && !g.InJobUnknown {
		v.Problems = append(v.Problems, GuestNotInJob)
	}
	if !g.Known {
		v.Problems = append(v.Problems, GuestUnknown)
	}
	v.State = GuestOK
	if len(v.Problems) > 0 {
		v.State = v.Problems[0]
	}
	if g.Template {
		v.Exempt = "template"
		return v
	}
	if g.TemplateUnknown {
		v.Exempt = "template unknown"
		return v
	}
	for _, t := range ExcludeTags {
		if slices.Contains(g.Tags, t) {
			v.Exempt = "tag " + t
			return v
		}
	}
	return v
}
