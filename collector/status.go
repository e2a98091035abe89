package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
)

// Status is the read-only view of the last scrape served on /status and
// printed by --check: "why is this number what it is?" without reading
// logs. It holds no secret: failures carry the client's scrubbed messages.
type Status struct {
	Time            time.Time                `json:"time"`
	DurationSeconds float64                  `json:"duration_seconds"`
	Targets         []TargetStatus           `json:"targets"`
	Storages        []dedup.StorageRoute     `json:"storages"`
	Repositories    []RepositoryStatus       `json:"repositories"`
	Datastores      []DatastoreStatus        `json:"datastores,omitempty"`
	Duplicates      map[string]int           `json:"duplicates_suppressed"`
	Warnings        []dedup.Warning          `json:"warnings,omitempty"`
	Collectors      map[string]bool          `json:"collectors"`
	Cache           map[string]CacheStatus   `json:"pbs_cache,omitempty"`
	Guests          map[string]GuestCoverage `json:"guests,omitempty"`
	// GuestList is every watched guest of the inventory, worst first;
	// GuestsNotWatched the templates and excluded guests.
	GuestList        []GuestRow `json:"guest_list,omitempty"`
	GuestsNotWatched []GuestRow `json:"guests_not_watched,omitempty"`
	// Unplanned names the PVE targets whose storages could not be read:
	// their part of the routing plan is unknown, not empty.
	Unplanned []string `json:"unplanned,omitempty"`
}

// TargetStatus is the health of one source in the last scrape.
type TargetStatus struct {
	Name            string     `json:"name"`
	Kind            string     `json:"kind"`
	Up              bool       `json:"up"`
	Cluster         string     `json:"cluster,omitempty"`
	Version         string     `json:"version,omitempty"`
	DurationSeconds float64    `json:"duration_seconds"`
	Requests        uint64     `json:"requests"`
	LastSuccess     *time.Time `json:"last_success,omitempty"`
	// Fingerprint is the certificate fingerprint a PBS presented: what a
	// PVE pbs storage must carry to be matched to it.
	Fingerprint string    `json:"fingerprint,omitempty"`
	InsecureTLS bool      `json:"insecure_tls,omitempty"`
	Failures    []Failure `json:"failures,omitempty"`
	Warnings    []Failure `json:"warnings,omitempty"`
}

// RepositoryStatus is one repository of the routing plan.
type RepositoryStatus struct {
	dedup.Repository
	Up             bool `json:"up"`
	Groups         int  `json:"groups"`
	RecoveryPoints int  `json:"recovery_points"`
	// Warming is set while the repository's first complete read goes on
	// past the scrape (neither up nor down; Up is false).
	Warming *WarmupStatus `json:"warming,omitempty"`
}

// WarmupStatus is the progress of a warming repository.
type WarmupStatus struct {
	// RecordsRead of RecordsExpected snapshot records (0 expected: the
	// groups listing has not answered yet).
	RecordsRead     int64 `json:"records_read"`
	RecordsExpected int64 `json:"records_expected"`
	// GroupsDone of Groups backup groups are summarised.
	GroupsDone int64 `json:"groups_done"`
	Groups     int64 `json:"groups"`
}

// State is "up", "warming" or "down".
func (r RepositoryStatus) State() string {
	switch {
	case r.Warming != nil:
		return "warming"
	case r.Up:
		return "up"
	}
	return "down"
}

// Progress is the warm-up's progress in words, "" when not warming.
func (r RepositoryStatus) Progress() string {
	w := r.Warming
	if w == nil {
		return ""
	}
	if w.RecordsExpected == 0 {
		return "listing groups"
	}
	return fmt.Sprintf("%d of %d records, %d of %d groups", w.RecordsRead, w.RecordsExpected, w.GroupsDone, w.Groups)
}

// DatastoreStatus is one PBS datastore.
type DatastoreStatus struct {
	Target string `json:"target"`
	Name   string `json:"name"`
	Up     bool   `json:"up"`
	Reason string `json:"reason,omitempty"`
}

// CacheStatus says what the groups-first PBS read cost for a repository.
type CacheStatus struct {
	Groups           int `json:"groups"`
	SnapshotListings int `json:"snapshot_listings"`
}

// GuestCoverage counts a cluster's guests by what is known of them.
type GuestCoverage struct {
	Guests        int `json:"guests"`
	WithBackup    int `json:"with_backup"`
	WithoutBackup int `json:"without_backup"`
	Unknown       int `json:"unknown"`
	NotInJob      int `json:"not_in_job"`
}

// duplicateWhy explains the reasons of duplicates_suppressed.
var duplicateWhy = map[string]string{
	"pbs_via_pve":     "PBS snapshots also visible through a PVE pbs storage; read once from the PBS",
	"shared_storage":  "a shared storage lists the same files on every node; read once per cluster",
	"same_repository": "one repository reached through several storages or clusters; counted once",
}

// status builds the Status of a scrape result.
func (c *Collector) status(res *scrapeResult) Status {
	st := Status{
		Time:            res.start,
		DurationSeconds: res.duration.Seconds(),
		Storages:        res.plan.Storages,
		Duplicates:      map[string]int{},
		Warnings:        res.merged.Warnings,
		Collectors:      map[string]bool{},
		Cache:           map[string]CacheStatus{},
		Guests:          map[string]GuestCoverage{},
	}
	for _, g := range CollectorGroups {
		st.Collectors[g.Name] = c.enabled(g.Name)
	}
	if len(st.Warnings) == 0 {
		st.Warnings = res.plan.Warnings
	}
	for k, v := range res.merged.Duplicates {
		st.Duplicates[k] = v
	}
	clusterOf := map[string]string{}
	versionOf := map[string]string{}
	fingerprintOf := map[string]string{}
	insecure := map[string]bool{}
	for _, cd := range res.clusters {
		if !cd.planUp {
			st.Unplanned = append(st.Unplanned, cd.run.name)
		}
		clusterOf[cd.run.name], versionOf["pve/"+cd.run.name], insecure["pve/"+cd.run.name] = cd.name, cd.version, cd.t.insecure
	}
	for _, pd := range res.pbs {
		versionOf["pbs/"+pd.t.name], fingerprintOf[pd.t.name], insecure["pbs/"+pd.t.name] = pd.version, pd.fingerprint, pd.t.insecure
		for _, ds := range pd.datastores {
			why := pd.dsDown[ds.Store]
			st.Datastores = append(st.Datastores, DatastoreStatus{Target: pd.t.name, Name: ds.Store, Up: pd.up && why == "", Reason: why})
		}
	}
	for _, r := range res.runs {
		failures, warnings := r.snapshotFailures()
		ts := TargetStatus{
			Name: r.name, Kind: r.kind, Up: len(failures) == 0, Cluster: clusterOf[r.name],
			Version: versionOf[r.kind+"/"+r.name], DurationSeconds: r.duration.Seconds(), Requests: r.requests,
			InsecureTLS: insecure[r.kind+"/"+r.name], Failures: failures, Warnings: warnings,
		}
		if r.kind == dedup.KindPBS {
			ts.Fingerprint = fingerprintOf[r.name]
		}
		if t, ok := res.lastSuccess[runKey{r.name, r.kind}]; ok {
			ts.LastSuccess = &t
		}
		st.Targets = append(st.Targets, ts)
	}
	points := map[string]int{}
	groups := map[string]int{}
	for _, g := range res.merged.Groups {
		points[g.Repository] += g.Snapshots
		groups[g.Repository]++
	}
	seen := map[string]bool{}
	for _, r := range res.plan.Repositories {
		if seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		rs := RepositoryStatus{
			Repository: r, Up: res.merged.RepositoryUp[r.Name], Groups: groups[r.Name], RecoveryPoints: points[r.Name],
		}
		if w, ok := res.warming[r.Name]; ok {
			rs.Warming = &WarmupStatus{RecordsRead: w.Records, RecordsExpected: w.Expected, GroupsDone: w.GroupsDone, Groups: w.Groups}
		}
		st.Repositories = append(st.Repositories, rs)
	}
	for repo, cs := range res.cache {
		st.Cache[repo] = CacheStatus{Groups: cs.Groups, SnapshotListings: cs.Fetched}
	}
	for _, g := range res.merged.Guests {
		gc := st.Guests[g.Cluster]
		gc.Guests++
		switch {
		case !g.Known:
			gc.Unknown++
		case g.Snapshots > 0:
			gc.WithBackup++
		default:
			gc.WithoutBackup++
		}
		if !g.InJob && !g.InJobUnknown {
			gc.NotInJob++
		}
		st.Guests[g.Cluster] = gc
	}
	st.GuestList, st.GuestsNotWatched = guestRows(res, c.enabled(CollectorTasks), c.opts.Now())
	return st
}

// StatusHandler serves /status: HTML for people, JSON with ?format=json or
// an Accept header asking for application/json. It shows the last scrape;
// before the first one it runs one.
func (c *Collector) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := c.last.Load()
		if res == nil {
			ctx, cancel := context.WithTimeout(r.Context(), c.opts.DefaultTimeout)
			res = c.scrapeOnce(ctx)
			cancel()
		}
		st := c.status(res)
		if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			if err := enc.Encode(st); err != nil {
				c.logger.Debug("writing /status", "err", err)
			}
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := statusPage.Execute(w, st); err != nil {
			c.logger.Debug("writing /status", "err", err)
		}
	})
}

// sortedKeys returns a map's keys in order, for the template.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"keys":      func(m map[string]int) []string { return sortedKeys(m) },
	"grouped":   groupFailures,
	"unplanned": unplannedText,
	"why":       func(r string) string { return duplicateWhy[r] },
	"orNone":    func(s string) string { return map[bool]string{true: "—", false: s}[s == ""] },
	"rfc3339":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"ptrTime":   func(t *time.Time) string { return map[bool]string{true: "never", false: ""}[t == nil] + fmtPtr(t) },
	"upClass":   func(up bool) string { return map[bool]string{true: "up", false: "down"}[up] },
	"upText":    func(up bool) string { return map[bool]string{true: "up", false: "DOWN"}[up] },
}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Proxmox Backup Exporter status</title>
<style>
body{font-family:sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin-bottom:1.5em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eee}.up{color:#070}.down{color:#b00;font-weight:bold}.warming{color:#a60}
small{color:#666}
.warn{color:#a60;font-weight:bold}.unknown{color:#666;font-style:italic}table.small{font-size:85%}
</style></head><body>
<h1>Proxmox Backup Exporter status</h1>
<p>Last scrape {{rfc3339 .Time}}, took {{printf "%.3f" .DurationSeconds}} s. <a href="?format=json">JSON</a> · <a href="/metrics">metrics</a> · <a href="/">home</a></p>
{{template "guests" .}}

<h2>Sources</h2>
<table><tr><th>target</th><th>kind</th><th>state</th><th>cluster</th><th>version</th><th>requests</th><th>seconds</th><th>last success</th><th>notes</th></tr>
{{range .Targets}}<tr><td>{{.Name}}</td><td>{{.Kind}}</td><td class="{{upClass .Up}}">{{upText .Up}}</td><td>{{orNone .Cluster}}</td><td>{{orNone .Version}}</td><td>{{.Requests}}</td><td>{{printf "%.3f" .DurationSeconds}}</td><td>{{ptrTime .LastSuccess}}</td>
<td>{{if .InsecureTLS}}<b>TLS verification is OFF (insecure_skip_verify)</b><br>{{end}}{{if .Fingerprint}}<small>certificate fingerprint {{.Fingerprint}}</small><br>{{end}}
{{range grouped .Failures}}<div class="down">{{.Parts}}: {{.Where}}</div><div>{{.Cause}}</div><div><small>hint: {{.Hint}}</small></div>{{end}}
{{range grouped .Warnings}}<div>warning {{.Parts}}: {{.Where}}: {{.Cause}}</div><div><small>hint: {{.Hint}}</small></div>{{end}}</td></tr>
{{end}}</table>

<h2>Routing plan</h2>
<table><tr><th>cluster</th><th>storage</th><th>type</th><th>route</th><th>repository</th><th>matched by / reason</th></tr>
{{range .Storages}}<tr><td>{{.Cluster}}</td><td>{{.Storage}}</td><td>{{.StorageType}}</td><td>{{.Route}}</td><td>{{range $i, $r := .Repositories}}{{if $i}}, {{end}}{{$r}}{{else}}{{orNone .Repository}}{{end}}</td><td>{{.MatchedBy}}{{if and .MatchedBy .Reason}}; {{end}}{{.Reason}}</td></tr>
{{else}}{{if not .Unplanned}}<tr><td colspan="6">no PVE storage with backup content</td></tr>{{end}}{{end}}
{{range .Unplanned}}<tr><td colspan="6" class="down">{{unplanned .}}</td></tr>{{end}}</table>

<h2>Repositories</h2>
<table><tr><th>repository</th><th>kind</th><th>target</th><th>cluster</th><th>state</th><th>groups</th><th>recovery points</th></tr>
{{range .Repositories}}<tr><td>{{.Name}}</td><td>{{.Kind}}</td><td>{{.Target}}</td><td>{{orNone .Cluster}}</td>{{if .Warming}}<td class="warming">warming <small>({{.Progress}})</small></td>{{else}}<td class="{{upClass .Up}}">{{upText .Up}}</td>{{end}}<td>{{.Groups}}</td><td>{{.RecoveryPoints}}</td></tr>
{{end}}</table>

{{if .Datastores}}<h2>PBS datastores</h2>
<table><tr><th>target</th><th>datastore</th><th>state</th><th>reason</th></tr>
{{range .Datastores}}<tr><td>{{.Target}}</td><td>{{.Name}}</td><td class="{{upClass .Up}}">{{upText .Up}}</td><td>{{.Reason}}</td></tr>{{end}}</table>{{end}}

<h2>Duplicates suppressed</h2>
<table><tr><th>reason</th><th>records</th><th>why</th></tr>
{{range $r := keys .Duplicates}}<tr><td>{{$r}}</td><td>{{index $.Duplicates $r}}</td><td>{{why $r}}</td></tr>{{else}}<tr><td colspan="3">none</td></tr>{{end}}</table>

{{if .Warnings}}<h2>Warnings</h2><ul>{{range .Warnings}}<li>{{.Kind}}: {{.Message}}</li>{{end}}</ul>{{end}}
</body></html>
`))

func fmtPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// failureGroup is the failures of one target that share one cause and one
// hint: an unreachable PVE fails every request the same way, and the
// reader needs that said once, not once per endpoint. /status?format=json
// keeps every failure.
type failureGroup struct {
	Target, Kind, Reason string
	// Cause is the error without the target and endpoint the client put
	// in front of it ("unreachable: dial tcp …: connection refused").
	Cause     string
	Hint      string
	Endpoints []string
	parts     []string
}

// Where is the endpoint, or how many endpoints failed that way.
func (g failureGroup) Where() string {
	if len(g.Endpoints) == 1 {
		return g.Endpoints[0]
	}
	return fmt.Sprintf("%d endpoints", len(g.Endpoints))
}

// Parts are what the failures take down ("target, jobs").
func (g failureGroup) Parts() string { return strings.Join(g.parts, ", ") }

// groupFailures collapses failures with the same target, cause and hint,
// in the order of their first occurrence.
func groupFailures(fs []Failure) []failureGroup {
	var groups []failureGroup
	index := map[[5]string]int{}
	for _, f := range fs {
		cause := failureCause(f)
		k := [5]string{f.Target, f.Kind, f.Reason, cause, f.Hint}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, failureGroup{Target: f.Target, Kind: f.Kind, Reason: f.Reason, Cause: cause, Hint: f.Hint})
		}
		g := &groups[i]
		g.Endpoints = append(g.Endpoints, f.Endpoint)
		if !slices.Contains(g.parts, f.Part) {
			g.parts = append(g.parts, f.Part)
		}
	}
	return groups
}

// failureCause is a failure's message from its reason on: the client's
// errors read "<target>: GET <path>: <reason>: <detail>", and the target
// and path differ between failures of one cause. A message that does not
// name its reason (a scrape deadline) gets it in front.
func failureCause(f Failure) string {
	if i := strings.Index(f.Message, ": "+f.Reason+":"); i >= 0 {
		return f.Message[i+2:]
	}
	if f.Reason == "" || strings.HasPrefix(f.Message, f.Reason) {
		return f.Message
	}
	return f.Reason + ": " + f.Message
}

// unplannedText says that a PVE target's routing plan is unknown, not
// that it has no backup storage.
func unplannedText(target string) string {
	return "unknown: PVE " + target + " not readable"
}
