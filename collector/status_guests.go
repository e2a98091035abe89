package collector

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
)

// GuestRow is one guest on /status: what an admin asks first (has it a
// backup, is it fresh, did its last task fail, is it in a job) and where
// its backups are. Unknown counts and ages are absent, never zero.
type GuestRow struct {
	Cluster    string `json:"cluster"`
	BackupType string `json:"backup_type"`
	BackupID   string `json:"backup_id"`
	Name       string `json:"name,omitempty"`
	Node       string `json:"node,omitempty"`
	// State is the worst of Problems (see dedup.JudgeGuest).
	State    dedup.GuestState   `json:"state"`
	Problems []dedup.GuestState `json:"problems,omitempty"`
	// Exempt says why the alerts leave the guest out (template, tag).
	Exempt string `json:"exempt,omitempty"`
	// NewestAgeSeconds is the age of the newest recovery point when the
	// page was built.
	NewestAgeSeconds  *int64 `json:"newest_age_seconds,omitempty"`
	StaleAfterSeconds int64  `json:"stale_after_seconds"`
	// ExpectedIntervalSeconds is the job interval staleness is judged
	// against; absent when none is known (the fixed threshold applies).
	ExpectedIntervalSeconds *int64 `json:"expected_interval_seconds,omitempty"`
	// RecoveryPoints are the guest's distinct recovery points, Copies the
	// number of repositories holding the newest one.
	RecoveryPoints *int `json:"recovery_points,omitempty"`
	Copies         *int `json:"copies,omitempty"`
	// Repositories hold at least one completed recovery point of the guest.
	Repositories []string `json:"repositories,omitempty"`
}

// guestRows judges every guest of the inventory at now and returns the
// watched ones worst first, and apart from them the templates and
// excluded guests the alerts leave out.
func guestRows(res *scrapeResult, tasks bool, now time.Time) (watched, exempt []GuestRow) {
	byCluster := map[string]*clusterData{}
	for _, cd := range res.clusters {
		byCluster[cd.name] = cd
	}
	repos := map[dedup.GuestKey][]string{}
	for _, g := range res.merged.Groups {
		if g.Snapshots == 0 || g.Cluster == "" {
			continue
		}
		k := dedup.GuestKey{Cluster: g.Cluster, BackupType: g.BackupType, BackupID: g.BackupID}
		if !slices.Contains(repos[k], g.Repository) {
			repos[k] = append(repos[k], g.Repository)
		}
	}
	var key []byte
	for i := range res.merged.Guests {
		g := &res.merged.Guests[i]
		var f dedup.GuestFacts
		if cd := byCluster[g.Cluster]; cd != nil {
			f.JobsKnown = cd.jobsOK
			if tasks {
				var t guestTask
				var ok bool
				t, key, ok = cd.lastTask(key, g)
				f.TaskFailed = ok && !t.Success
			}
		}
		v := dedup.JudgeGuest(g, f, now.Unix())
		row := GuestRow{
			Cluster: g.Cluster, BackupType: g.BackupType, BackupID: g.BackupID, Name: g.Name, Node: g.Node,
			State: v.State, Problems: v.Problems, Exempt: v.Exempt, StaleAfterSeconds: v.StaleAfterSeconds,
		}
		if f.JobsKnown && g.InJob && g.ExpectedIntervalSeconds > 0 {
			row.ExpectedIntervalSeconds = &g.ExpectedIntervalSeconds
		}
		if g.Known {
			row.RecoveryPoints = &g.Snapshots
			row.Repositories = repos[dedup.GuestKey{Cluster: g.Cluster, BackupType: g.BackupType, BackupID: g.BackupID}]
			slices.Sort(row.Repositories)
			if g.Last > 0 {
				row.NewestAgeSeconds = &v.AgeSeconds
				row.Copies = &g.LastCopies
			}
		}
		if v.Exempt != "" {
			exempt = append(exempt, row)
		} else {
			watched = append(watched, row)
		}
	}
	slices.SortFunc(watched, cmpGuestRows)
	slices.SortFunc(exempt, cmpGuestRows)
	return watched, exempt
}

// cmpGuestRows orders worst first: by state, then the oldest backup (a
// guest with none or an unknown one first), then by cluster and VMID in
// numeric order.
func cmpGuestRows(a, b GuestRow) int {
	age := func(r GuestRow) int64 {
		if r.NewestAgeSeconds == nil {
			return -1
		}
		return *r.NewestAgeSeconds
	}
	if c := cmp.Compare(a.State, b.State); c != 0 {
		return c
	}
	if x, y := age(a), age(b); x != y {
		if x < 0 || y < 0 {
			return cmp.Compare(x, y)
		}
		return cmp.Compare(y, x)
	}
	return cmp.Or(strings.Compare(a.Cluster, b.Cluster), cmp.Compare(len(a.BackupID), len(b.BackupID)),
		strings.Compare(a.BackupID, b.BackupID), strings.Compare(a.BackupType, b.BackupType))
}

// ageText writes an age for people, to the minute below two days and to
// the hour above: "45m", "29h 5m", "26h", "4d 3h", "21d".
func ageText(seconds int64) string {
	m := seconds / 60
	h, d := m/60, m/60/24
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case h < 48 && m%60 != 0:
		return fmt.Sprintf("%dh %dm", h, m%60)
	case h < 48:
		return fmt.Sprintf("%dh", h)
	case h%24 != 0:
		return fmt.Sprintf("%dd %dh", d, h%24)
	}
	return fmt.Sprintf("%dd", d)
}

// stateClass is the CSS class of a state on /status: red for what loses
// data, orange for what will, grey for what is not known.
func stateClass(s dedup.GuestState) string {
	switch s {
	case dedup.GuestNoBackup, dedup.GuestStale, dedup.GuestTaskFailed:
		return "down"
	case dedup.GuestNotInJob:
		return "warn"
	case dedup.GuestUnknown:
		return "unknown"
	}
	return "up"
}

// stateCount is one entry of the summary line above the guest table.
type stateCount struct {
	State dedup.GuestState
	N     int
}

// countStates counts rows by state, worst first, leaving out states no
// guest is in.
func countStates(rows []GuestRow) []stateCount {
	var out []stateCount
	for _, r := range rows {
		if n := len(out); n > 0 && out[n-1].State == r.State {
			out[n-1].N++
		} else {
			out = append(out, stateCount{r.State, 1})
		}
	}
	return out
}

// guestSection is the guest part of the /status page, worst first, with
// the guests the alerts leave out in a table of their own.
const guestSection = `{{define "guests"}}
<h2>Guests</h2>
{{if .GuestList}}<p>{{len .GuestList}} watched: {{range $i, $c := stateCounts .GuestList}}{{if $i}}, {{end}}<span class="{{stateClass $c.State}}">{{$c.N}} {{$c.State}}</span>{{end}}.
<small>Stale: the newest recovery point is older than the guest's job interval + {{ageText staleSlack}}, or {{ageText staleFixed}} without a known interval (the alerts' defaults).</small></p>
<table><tr><th>state</th><th>guest</th><th>name</th><th>node</th><th>cluster</th><th>newest backup</th><th>stale after</th><th>recovery points</th><th>copies of newest</th><th>repositories</th></tr>
{{range .GuestList}}{{template "guestRow" .}}{{end}}</table>
{{else}}<p>No guest in the PVE inventory.</p>{{end}}
{{if .GuestsNotWatched}}<h3>Not watched by the alerts</h3>
<table class="small"><tr><th>why</th><th>guest</th><th>name</th><th>node</th><th>cluster</th><th>newest backup</th><th>recovery points</th><th>repositories</th></tr>
{{range .GuestsNotWatched}}<tr><td>{{.Exempt}}</td><td>{{.BackupType}}/{{.BackupID}}</td><td>{{orNone .Name}}</td><td>{{orNone .Node}}</td><td>{{.Cluster}}</td><td>{{template "guestAge" .}}</td><td>{{template "guestPoints" .}}</td><td>{{template "guestRepos" .}}</td></tr>
{{end}}</table>{{end}}
{{end}}
{{define "guestRow"}}<tr><td class="{{stateClass .State}}">{{.State}}{{range $i, $p := .Problems}}{{if $i}}<br><small>also {{$p}}</small>{{end}}{{end}}</td><td>{{.BackupType}}/{{.BackupID}}</td><td>{{orNone .Name}}</td><td>{{orNone .Node}}</td><td>{{.Cluster}}</td><td>{{template "guestAge" .}}</td><td>{{ageText .StaleAfterSeconds}}{{with .ExpectedIntervalSeconds}} <small>({{ageText (deref .)}} + {{ageText staleSlack}})</small>{{else}} <small>(no schedule)</small>{{end}}</td><td>{{template "guestPoints" .}}</td><td>{{with .Copies}}{{.}}{{else}}—{{end}}</td><td>{{template "guestRepos" .}}</td></tr>
{{end}}
{{define "guestAge"}}{{if .NewestAgeSeconds}}{{ageText (deref .NewestAgeSeconds)}} ago{{else if .RecoveryPoints}}none{{else}}unknown{{end}}{{end}}
{{define "guestPoints"}}{{with .RecoveryPoints}}{{.}}{{else}}unknown{{end}}{{end}}
{{define "guestRepos"}}{{range $i, $r := .Repositories}}{{if $i}}<br>{{end}}{{$r}}{{else}}—{{end}}{{end}}
`

func init() {
	template.Must(statusPage.Funcs(template.FuncMap{
		"stateClass":  stateClass,
		"stateCounts": countStates,
		"ageText":     ageText,
		"deref":       func(p *int64) int64 { return *p },
		"staleSlack":  func() int64 { return dedup.StaleSlackSeconds },
		"staleFixed":  func() int64 { return dedup.StaleFixedSeconds },
	}).Parse(guestSection))
}
