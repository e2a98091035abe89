package collector

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
)

// guestCase is one guest of the synthetic estate of TestGuestRows and what
// the status page must say of it.
type guestCase struct {
	g       dedup.GuestAggregate
	task    *guestTask // newest finished vzdump task, nil for none
	repos   []string   // repositories holding recovery points of it
	state   dedup.GuestState
	also    []dedup.GuestState
	exempt  string
	ageText string // "" when no age may be shown
}

// TestGuestRows classifies a guest of each kind and orders them worst
// first: by state, then the oldest backup first, then by VMID as a number.
func TestGuestRows(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) int64 { return now.Add(-ago).Unix() }
	const day = 24 * time.Hour
	daily := int64(day / time.Second)
	guest := func(id, node string, snapshots int, ago time.Duration) dedup.GuestAggregate {
		g := dedup.GuestAggregate{Cluster: "lab", BackupType: "vm", BackupID: id, Name: "g" + id, Node: node,
			Known: true, Snapshots: snapshots, InJob: true, ExpectedIntervalSeconds: daily}
		if snapshots > 0 {
			g.Last, g.LastCopies = at(ago), 1
		}
		return g
	}
	unknown := func(g dedup.GuestAggregate) dedup.GuestAggregate {
		g.Known, g.Snapshots, g.Last, g.LastCopies = false, 0, 0, 0
		return g
	}
	notInJob := func(g dedup.GuestAggregate) dedup.GuestAggregate {
		g.InJob, g.ExpectedIntervalSeconds = false, 0
		return g
	}
	failed := &guestTask{End: at(time.Hour), Success: false}
	okTask := &guestTask{End: at(time.Hour), Success: true}
	tmpl := guest("900", "n1", 0, 0)
	tmpl.Template = true
	tagged := guest("901", "n1", 1, 3*day)
	tagged.Tags = []string{"nobackup", "test"}

	// Listed in an order unlike the expected one; want is by position in
	// the expected order.
	cases := []guestCase{
		{g: guest("10", "n1", 5, 2*time.Hour), task: okTask, repos: []string{"pbs:a"}, state: dedup.GuestOK, ageText: "2h ago"},
		{g: unknown(guest("11", "n1", 0, 0)), state: dedup.GuestUnknown},
		{g: notInJob(guest("12", "n1", 2, time.Hour)), repos: []string{"lab:nfs"}, state: dedup.GuestNotInJob, ageText: "1h ago"},
		{g: guest("13", "n1", 5, 3*time.Hour), task: failed, repos: []string{"pbs:a"}, state: dedup.GuestTaskFailed, ageText: "3h ago"},
		{g: guest("9", "n1", 4, 27*time.Hour), repos: []string{"pbs:a", "lab:nfs"}, state: dedup.GuestStale, ageText: "27h ago"},
		{g: guest("100", "n1", 4, 3*day), repos: []string{"pbs:a"}, task: failed, state: dedup.GuestStale,
			also: []dedup.GuestState{dedup.GuestTaskFailed}, ageText: "3d ago"},
		{g: notInJob(guest("14", "n1", 0, 0)), state: dedup.GuestNoBackup, also: []dedup.GuestState{dedup.GuestNotInJob}},
		// A daily job allows 26h: 25h is fresh, where the fixed threshold of
		// a guest in no job would be the same 26h.
		{g: guest("15", "n1", 3, 25*time.Hour), repos: []string{"pbs:a"}, state: dedup.GuestOK, ageText: "25h ago"},
		// Its node's tasks could not be read: a failed task there is not
		// claimed (an older task may be taken for the newest).
		{g: guest("16", "down", 3, time.Hour), task: failed, repos: []string{"pbs:a"}, state: dedup.GuestOK, ageText: "1h ago"},
		{g: tmpl, exempt: "template", state: dedup.GuestNoBackup},
		{g: tagged, exempt: "tag nobackup", repos: []string{"pbs:a"}, state: dedup.GuestStale, ageText: "3d ago"},
	}
	wantWatched := []string{"14", "100", "9", "13", "12", "11", "15", "10", "16"}
	wantExempt := []string{"900", "901"}

	cd := &clusterData{name: "lab", jobsOK: true, tasksRead: true, tasks: map[string]guestTask{},
		tasksUnknown: map[string]bool{"down": true}}
	res := &scrapeResult{clusters: []*clusterData{cd}}
	byID := map[string]guestCase{}
	for _, c := range cases {
		res.merged.Guests = append(res.merged.Guests, c.g)
		byID[c.g.BackupID] = c
		if c.task != nil {
			cd.tasks["vm/"+c.g.BackupID] = *c.task
		}
		for _, r := range c.repos {
			res.merged.Groups = append(res.merged.Groups, dedup.GroupAggregate{Repository: r, Cluster: "lab",
				BackupType: "vm", BackupID: c.g.BackupID, Snapshots: 1, Last: c.g.Last})
		}
	}
	// A group without a completed point and one no cluster claims are
	// not where the guest's backups are.
	res.merged.Groups = append(res.merged.Groups,
		dedup.GroupAggregate{Repository: "pbs:b", Cluster: "lab", BackupType: "vm", BackupID: "10", InProgress: true},
		dedup.GroupAggregate{Repository: "pbs:unmapped", BackupType: "vm", BackupID: "10", Snapshots: 3})

	watched, exempt := guestRows(res, true, now)
	ids := func(rows []GuestRow) (out []string) {
		for _, r := range rows {
			out = append(out, r.BackupID)
		}
		return out
	}
	if got := ids(watched); !slices.Equal(got, wantWatched) {
		t.Errorf("watched order %v, want %v", got, wantWatched)
	}
	if got := ids(exempt); !slices.Equal(got, wantExempt) {
		t.Errorf("not watched %v, want %v", got, wantExempt)
	}
	for _, r := range append(watched, exempt...) {
		c := byID[r.BackupID]
		wantProblems := append([]dedup.GuestState{c.state}, c.also...)
		if c.state == dedup.GuestOK {
			wantProblems = nil
		}
		if r.State != c.state || !slices.Equal(r.Problems, wantProblems) || r.Exempt != c.exempt {
			t.Errorf("vm/%s: state %v %v exempt %q; want %v %v %q", r.BackupID, r.State, r.Problems, r.Exempt, c.state, wantProblems, c.exempt)
		}
		wantRepos := slices.Sorted(slices.Values(c.repos))
		if !slices.Equal(r.Repositories, wantRepos) {
			t.Errorf("vm/%s: repositories %v, want %v", r.BackupID, r.Repositories, wantRepos)
		}
		if c.g.Known != (r.RecoveryPoints != nil) || (r.RecoveryPoints != nil && *r.RecoveryPoints != c.g.Snapshots) {
			t.Errorf("vm/%s: recovery points %v, want %d known=%v", r.BackupID, r.RecoveryPoints, c.g.Snapshots, c.g.Known)
		}
		gotAge := ""
		if r.NewestAgeSeconds != nil {
			gotAge = ageText(*r.NewestAgeSeconds) + " ago"
		}
		if gotAge != c.ageText {
			t.Errorf("vm/%s: newest backup %q, want %q", r.BackupID, gotAge, c.ageText)
		}
	}

	// The page shows the rows in that order, each state in its cell, and
	// unknown counts as "unknown", never 0.
	var page bytes.Buffer
	st := Status{Time: now, GuestList: watched, GuestsNotWatched: exempt}
	if err := statusPage.Execute(&page, st); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	rowRE := regexp.MustCompile(`<tr><td class="(\w+)">([a-z ]+)(?:<br>.*?)?</td><td>vm/(\d+)</td>.*?</tr>`)
	var shown []string
	for _, m := range rowRE.FindAllStringSubmatch(html, -1) {
		shown = append(shown, m[3])
		if c := byID[m[3]]; m[2] != c.state.String() || m[1] != stateClass(c.state) {
			t.Errorf("row vm/%s shows %q (class %s), want %q", m[3], m[2], m[1], c.state)
		}
	}
	if !slices.Equal(shown, wantWatched) {
		t.Errorf("page rows %v, want %v", shown, wantWatched)
	}
	for _, want := range []string{"1 no backup", "2 stale", "1 last task failed", "1 not in a job", "1 unknown", "3 ok",
		"<td>template</td><td>vm/900</td>", "<td>tag nobackup</td><td>vm/901</td>"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if i := strings.Index(html, "<td>vm/11</td>"); i < 0 || !strings.Contains(html[i:i+strings.Index(html[i:], "</tr>")], "unknown") {
		t.Errorf("the unknown guest's row does not say unknown")
	}

	// The JSON names the states and leaves unknown counts out.
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		GuestList []map[string]any `json:"guest_list"`
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	for _, g := range back.GuestList {
		if g["backup_id"] == "11" {
			if g["state"] != "unknown" || g["recovery_points"] != nil || g["newest_age_seconds"] != nil {
				t.Errorf("unknown guest in JSON: %v", g)
			}
		}
		if g["backup_id"] == "14" && (g["state"] != "no backup" || g["recovery_points"] != float64(0)) {
			t.Errorf("guest without backup in JSON: %v", g)
		}
	}
}

// TestGuestRowsWithoutJobsOrTasks: with the cluster's jobs unreadable and
// the tasks collector off, neither "not in a job" nor "last task failed"
// is claimed, and staleness falls back to the fixed threshold.
func TestGuestRowsWithoutJobsOrTasks(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	g := dedup.GuestAggregate{Cluster: "lab", BackupType: "ct", BackupID: "7", Known: true, Snapshots: 1,
		Last: now.Add(-25 * time.Hour).Unix(), LastCopies: 1}
	cd := &clusterData{name: "lab", tasksRead: true, tasks: map[string]guestTask{"ct/7": {End: now.Unix()}}}
	res := &scrapeResult{clusters: []*clusterData{cd}}
	res.merged.Guests = []dedup.GuestAggregate{g}
	watched, _ := guestRows(res, false, now)
	if len(watched) != 1 || watched[0].State != dedup.GuestOK || watched[0].StaleAfterSeconds != dedup.StaleFixedSeconds ||
		watched[0].ExpectedIntervalSeconds != nil {
		t.Fatalf("got %+v", watched)
	}
	watched, _ = guestRows(res, true, now)
	if watched[0].State != dedup.GuestTaskFailed {
		t.Errorf("with tasks on, the failed task is shown: %+v", watched[0])
	}
}

func TestAgeText(t *testing.T) {
	for s, want := range map[int64]string{0: "0m", 59: "0m", 45 * 60: "45m", 3600: "1h", 29*3600 + 300: "29h 5m",
		26 * 3600: "26h", 48 * 3600: "2d", 4*86400 + 3*3600 + 59*60: "4d 3h", 21 * 86400: "21d"} {
		if got := ageText(s); got != want {
			t.Errorf("ageText(%d) = %q, want %q", s, got, want)
		}
	}
}
