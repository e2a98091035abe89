package collector

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// resultCollector exports a fixed scrape result, to test emission alone.
type resultCollector struct {
	c   *Collector
	res *scrapeResult
}

func (r resultCollector) Describe(ch chan<- *prometheus.Desc) { r.c.Describe(ch) }
func (r resultCollector) Collect(ch chan<- prometheus.Metric) {
	r.c.emit(collectingEmitter(ch), r.res)
}

func ip(v int64) *proxmox.Int { i := proxmox.Int(v); return &i }

// fixedResult is a small hand-made scrape: one cluster, one PBS, a guest
// whose repositories all answered, one whose did not, and a template.
func fixedResult() *scrapeResult {
	now := time.Unix(1_700_000_000, 0)
	cd := &clusterData{
		t: &target{name: "homelab", kind: "pve"}, name: "homelab", up: true, version: "9.1.3",
		nodeStorages: map[string][]proxmox.NodeStorage{
			"pve1": {{Storage: "nfs", Type: "nfs", Enabled: true, Active: true, Shared: true, Total: 100, Used: 40, Avail: 60},
				{Storage: "local", Type: "dir", Enabled: true, Active: true, Total: 50, Used: 10, Avail: 40}},
			"pve2": {{Storage: "nfs", Type: "nfs", Enabled: true, Active: true, Shared: true, Total: 101, Used: 41, Avail: 60},
				{Storage: "local", Type: "dir", Enabled: true, Active: false}},
		},
		jobs:   []proxmox.BackupJob{{ID: "backup-1", Type: "vzdump", Schedule: "02:00", Storage: "nfs"}},
		jobsOK: true, tasksRead: true,
		tasks:        map[string]guestTask{"vm/100": {End: 1_699_990_000, Success: true}, "ct/101": {End: 1_699_990_100, Success: false}},
		tasksUnknown: map[string]bool{"pve3": true},
	}
	pd := &pbsData{
		t: &target{name: "pbs1", kind: "pbs"}, up: true, version: "3.2.4",
		datastores: []proxmox.Datastore{{Store: "store1"}, {Store: "old", Maintenance: "type=offline"}},
		dsDown:     map[string]string{"old": "maintenance"},
		usage: map[string]proxmox.DatastoreUsage{
			"store1": {Store: "store1", Total: ip(1000), Used: ip(900), Avail: ip(100), EstimatedFullDate: ip(now.Unix() + 86400)},
		},
		jobs: []pbsJob{
			{Datastore: "store1", Type: "gc", ID: "store1", LastEnd: 1_699_000_000, LastState: "OK", NextRun: 1_700_100_000},
			{Datastore: "store1", Type: "verify", ID: "v1", LastEnd: 1_699_000_100, LastState: "verification failed"},
			{Datastore: "store1", Type: "sync", ID: "s1", NextRun: 1_700_200_000},
		},
	}
	r1 := &targetRun{name: "homelab", kind: "pve", requests: 12, duration: 250 * time.Millisecond}
	r2 := &targetRun{name: "pbs1", kind: "pbs", requests: 7, duration: 100 * time.Millisecond}
	r2.failures = []Failure{{Reason: "timeout"}}
	cd.run, pd.run = r1, r2
	return &scrapeResult{
		start: now, duration: time.Second,
		runs: []*targetRun{r1, r2}, clusters: []*clusterData{cd}, pbs: []*pbsData{pd},
		plan: dedup.Plan{
			Storages: []dedup.StorageRoute{
				{Cluster: "homelab", Storage: "nfs", StorageType: "nfs", Route: "pve", Repository: "homelab:nfs"},
				{Cluster: "homelab", Storage: "local", StorageType: "dir", Route: "pve", Repository: "homelab/pve1:local",
					Repositories: []string{"homelab/pve1:local", "homelab/pve2:local"}},
			},
			Repositories: []dedup.Repository{
				{Name: "homelab:nfs", Kind: "pve", Target: "homelab", Cluster: "homelab", Storage: "nfs"},
				{Name: "pbs1:store1/homelab", Kind: "pbs", Target: "pbs1", Cluster: "homelab", Datastore: "store1", Namespace: "homelab"},
			},
		},
		merged: dedup.Result{
			RepositoryUp: map[string]bool{"homelab:nfs": true, "pbs1:store1/homelab": false},
			Duplicates:   map[string]int{"shared_storage": 4},
			Groups: []dedup.GroupAggregate{
				{Repository: "homelab:nfs", Cluster: "homelab", BackupType: "vm", BackupID: "100", Snapshots: 2, First: 1000, Last: 2000,
					LastSize: 512, LastVerification: "none"},
				{Repository: "homelab:nfs", Cluster: "homelab", BackupType: "vm", BackupID: "999", Snapshots: 1, First: 900, Last: 900,
					LastSize: 5, LastVerification: "none", Orphan: true},
			},
			Guests: []dedup.GuestAggregate{
				{Cluster: "homelab", BackupType: "vm", BackupID: "100", Name: "web", Node: "pve1", Tags: []string{"a", "b"},
					Known: true, Snapshots: 2, Last: 2000, LastCopies: 1, InJob: true, ExpectedIntervalSeconds: 86400},
				{Cluster: "homelab", BackupType: "ct", BackupID: "101", Name: "db", Node: "pve2", Known: false, InJob: true},
				{Cluster: "homelab", BackupType: "vm", BackupID: "102", Name: "tpl", Node: "pve3", Template: true, Known: true},
			},
		},
		errorCounts: map[errorKey]float64{{"pbs1", "pbs", "timeout"}: 3, {"homelab", "pve", "timeout"}: 0},
		lastSuccess: map[runKey]time.Time{{"homelab", "pve"}: now},
	}
}

func newTestCollector(opts Options) *Collector {
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Unix(1_700_000_000, 0) }
	}
	return newCollector(&targetSet{}, opts)
}

// TestEmitFamilies checks each metric family of a fixed result against its
// expected exposition (METRICS.md names, labels and meanings).
func TestEmitFamilies(t *testing.T) {
	// Every group on, storages' off by default included.
	c := newTestCollector(Options{Enabled: map[string]bool{CollectorStorages: true}})
	rc := resultCollector{c: c, res: fixedResult()}
	cases := []struct {
		name string
		want string
	}{
		{"proxmox_backup_guest_snapshots", `
# HELP proxmox_backup_guest_snapshots Distinct completed recovery points of the guest over every repository, each counted once; absent when a repository that could hold them failed to list.
# TYPE proxmox_backup_guest_snapshots gauge
proxmox_backup_guest_snapshots{backup_id="100",backup_type="vm",cluster="homelab"} 2
proxmox_backup_guest_snapshots{backup_id="102",backup_type="vm",cluster="homelab"} 0
`},
		{"proxmox_backup_guest_last_timestamp_seconds", `
# HELP proxmox_backup_guest_last_timestamp_seconds Time of the guest's newest completed recovery point anywhere; absent when none or unknown.
# TYPE proxmox_backup_guest_last_timestamp_seconds gauge
proxmox_backup_guest_last_timestamp_seconds{backup_id="100",backup_type="vm",cluster="homelab"} 2000
`},
		{"proxmox_backup_guest_info", `
# HELP proxmox_backup_guest_info Every guest in the PVE inventory (value 1); template is 0/1, tags are sorted and ;-joined.
# TYPE proxmox_backup_guest_info gauge
proxmox_backup_guest_info{backup_id="100",backup_type="vm",cluster="homelab",name="web",node="pve1",tags="a;b",template="0"} 1
proxmox_backup_guest_info{backup_id="101",backup_type="ct",cluster="homelab",name="db",node="pve2",tags="",template="0"} 1
proxmox_backup_guest_info{backup_id="102",backup_type="vm",cluster="homelab",name="tpl",node="pve3",tags="",template="1"} 1
`},
		{"proxmox_backup_guest_in_job", `
# HELP proxmox_backup_guest_in_job 1 if an enabled backup job covers the guest, else 0.
# TYPE proxmox_backup_guest_in_job gauge
proxmox_backup_guest_in_job{backup_id="100",backup_type="vm",cluster="homelab"} 1
proxmox_backup_guest_in_job{backup_id="101",backup_type="ct",cluster="homelab"} 1
proxmox_backup_guest_in_job{backup_id="102",backup_type="vm",cluster="homelab"} 0
`},
		{"proxmox_backup_guest_last_task_success", `
# HELP proxmox_backup_guest_last_task_success 1 if the guest's part of its newest finished vzdump task succeeded, else 0.
# TYPE proxmox_backup_guest_last_task_success gauge
proxmox_backup_guest_last_task_success{backup_id="100",backup_type="vm",cluster="homelab"} 1
proxmox_backup_guest_last_task_success{backup_id="101",backup_type="ct",cluster="homelab"} 0
`},
		{"proxmox_backup_last_verification", `
# HELP proxmox_backup_last_verification Verification state of the group's newest recovery point: 1 for the current state (ok, failed or none = never verified), 0 for the others.
# TYPE proxmox_backup_last_verification gauge
proxmox_backup_last_verification{backup_id="100",backup_type="vm",cluster="homelab",repository="homelab:nfs",state="failed"} 0
proxmox_backup_last_verification{backup_id="100",backup_type="vm",cluster="homelab",repository="homelab:nfs",state="none"} 1
proxmox_backup_last_verification{backup_id="100",backup_type="vm",cluster="homelab",repository="homelab:nfs",state="ok"} 0
proxmox_backup_last_verification{backup_id="999",backup_type="vm",cluster="homelab",repository="homelab:nfs",state="failed"} 0
proxmox_backup_last_verification{backup_id="999",backup_type="vm",cluster="homelab",repository="homelab:nfs",state="none"} 1
proxmox_backup_last_verification{backup_id="999",backup_type="vm",cluster="homelab",repository="homelab:nfs",state="ok"} 0
`},
		{"proxmox_backup_group_orphaned", `
# HELP proxmox_backup_group_orphaned 1 for a backup group whose guest is not in its cluster's inventory (guest deleted); the group is still restorable.
# TYPE proxmox_backup_group_orphaned gauge
proxmox_backup_group_orphaned{backup_id="999",backup_type="vm",cluster="homelab",repository="homelab:nfs"} 1
`},
		{"proxmox_backup_repository_up", `
# HELP proxmox_backup_repository_up 1 if the repository's last listing succeeded, else 0.
# TYPE proxmox_backup_repository_up gauge
proxmox_backup_repository_up{repository="homelab:nfs"} 1
proxmox_backup_repository_up{repository="pbs1:store1/homelab"} 0
`},
		{"proxmox_backup_storage_route_info", `
# HELP proxmox_backup_storage_route_info Route of every PVE storage with backup content (value 1): pbs, pve, pve_fallback, ignored or disabled; pbs_target is the configured PBS a pbs storage matched, reason why a pve_fallback is read through PVE.
# TYPE proxmox_backup_storage_route_info gauge
proxmox_backup_storage_route_info{cluster="homelab",pbs_target="",reason="",repository="homelab/pve1:local",route="pve",storage="local",storage_type="dir"} 1
proxmox_backup_storage_route_info{cluster="homelab",pbs_target="",reason="",repository="homelab/pve2:local",route="pve",storage="local",storage_type="dir"} 1
proxmox_backup_storage_route_info{cluster="homelab",pbs_target="",reason="",repository="homelab:nfs",route="pve",storage="nfs",storage_type="nfs"} 1
`},
		{"proxmox_backup_duplicates_suppressed", `
# HELP proxmox_backup_duplicates_suppressed Records seen through more than one path in the last scrape and counted once, by reason.
# TYPE proxmox_backup_duplicates_suppressed gauge
proxmox_backup_duplicates_suppressed{reason="pbs_via_pve"} 0
proxmox_backup_duplicates_suppressed{reason="same_repository"} 0
proxmox_backup_duplicates_suppressed{reason="shared_storage"} 4
`},
		{"proxmox_backup_datastore_up", `
# HELP proxmox_backup_datastore_up 0 when the datastore is in maintenance, unmounted or errored, else 1.
# TYPE proxmox_backup_datastore_up gauge
proxmox_backup_datastore_up{datastore="old",target="pbs1"} 0
proxmox_backup_datastore_up{datastore="store1",target="pbs1"} 1
`},
		{"proxmox_backup_datastore_estimated_full_timestamp_seconds", `
# HELP proxmox_backup_datastore_estimated_full_timestamp_seconds PBS's own estimate of when the datastore is full; absent when PBS gives none, when usage is flat or shrinking.
# TYPE proxmox_backup_datastore_estimated_full_timestamp_seconds gauge
proxmox_backup_datastore_estimated_full_timestamp_seconds{datastore="store1",target="pbs1"} 1.7000864e+09
`},
		{"proxmox_backup_pbs_job_last_run_success", `
# HELP proxmox_backup_pbs_job_last_run_success 1 if the PBS job's last run ended OK (or with warnings), else 0.
# TYPE proxmox_backup_pbs_job_last_run_success gauge
proxmox_backup_pbs_job_last_run_success{datastore="store1",job_id="store1",job_type="gc",target="pbs1"} 1
proxmox_backup_pbs_job_last_run_success{datastore="store1",job_id="v1",job_type="verify",target="pbs1"} 0
`},
		{"proxmox_backup_pbs_job_next_run_timestamp_seconds", `
# HELP proxmox_backup_pbs_job_next_run_timestamp_seconds Next scheduled run of the PBS job.
# TYPE proxmox_backup_pbs_job_next_run_timestamp_seconds gauge
proxmox_backup_pbs_job_next_run_timestamp_seconds{datastore="store1",job_id="s1",job_type="sync",target="pbs1"} 1.7002e+09
proxmox_backup_pbs_job_next_run_timestamp_seconds{datastore="store1",job_id="store1",job_type="gc",target="pbs1"} 1.7001e+09
`},
		{"proxmox_backup_storage_size_bytes", `
# HELP proxmox_backup_storage_size_bytes Total size of a PVE storage with backup content; node is empty for shared storages.
# TYPE proxmox_backup_storage_size_bytes gauge
proxmox_backup_storage_size_bytes{cluster="homelab",node="",storage="nfs"} 100
proxmox_backup_storage_size_bytes{cluster="homelab",node="pve1",storage="local"} 50
`},
		{"proxmox_backup_job_enabled", `
# HELP proxmox_backup_job_enabled 1 if the PVE backup job is enabled, else 0.
# TYPE proxmox_backup_job_enabled gauge
proxmox_backup_job_enabled{cluster="homelab",job="backup-1",schedule="02:00",storage="nfs"} 1
`},
		{"proxmox_backup_target_up", `
# HELP proxmox_backup_target_up 1 if every request to the target in this scrape succeeded, else 0.
# TYPE proxmox_backup_target_up gauge
proxmox_backup_target_up{kind="pbs",target="pbs1"} 0
proxmox_backup_target_up{kind="pve",target="homelab"} 1
`},
		{"proxmox_backup_target_errors_total", `
# HELP proxmox_backup_target_errors_total Failed requests to the target since the exporter started, by reason.
# TYPE proxmox_backup_target_errors_total counter
proxmox_backup_target_errors_total{kind="pbs",reason="timeout",target="pbs1"} 3
proxmox_backup_target_errors_total{kind="pve",reason="timeout",target="homelab"} 0
`},
		{"proxmox_backup_target_info", `
# HELP proxmox_backup_target_info Version and cluster of every target that answered (value 1).
# TYPE proxmox_backup_target_info gauge
proxmox_backup_target_info{cluster="",kind="pbs",target="pbs1",version="3.2.4"} 1
proxmox_backup_target_info{cluster="homelab",kind="pve",target="homelab",version="9.1.3"} 1
`},
		{"proxmox_backup_target_last_success_timestamp_seconds", `
# HELP proxmox_backup_target_last_success_timestamp_seconds Last time every request to the target succeeded; absent before the first success.
# TYPE proxmox_backup_target_last_success_timestamp_seconds gauge
proxmox_backup_target_last_success_timestamp_seconds{kind="pve",target="homelab"} 1.7e+09
`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := testutil.CollectAndCompare(rc, strings.NewReader(tc.want), tc.name); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestEmitCollectorGroups: switched-off groups export nothing of theirs.
func TestEmitCollectorGroups(t *testing.T) {
	c := newTestCollector(Options{Enabled: map[string]bool{
		CollectorTasks: false, CollectorDatastores: false, CollectorRepository: false, CollectorStorages: false,
	}})
	rc := resultCollector{c: c, res: fixedResult()}
	for _, name := range []string{
		"proxmox_backup_guest_last_task_success", "proxmox_backup_datastore_up", "proxmox_backup_pbs_job_last_run_success",
		"proxmox_backup_snapshots", "proxmox_backup_storage_size_bytes", "proxmox_backup_job_enabled",
	} {
		if n := testutil.CollectAndCount(rc, name); n != 0 {
			t.Errorf("%s: %d series with its group off", name, n)
		}
	}
	if n := testutil.CollectAndCount(rc, "proxmox_backup_guest_snapshots"); n != 2 {
		t.Errorf("guest_snapshots: %d series, want 2", n)
	}

	// By default, only storages is off (its series serve neither the
	// mixin nor a README question).
	def := resultCollector{c: newTestCollector(Options{}), res: fixedResult()}
	for name, want := range map[string]bool{
		"proxmox_backup_guest_last_task_success": true, "proxmox_backup_datastore_up": true, "proxmox_backup_snapshots": true,
		"proxmox_backup_storage_size_bytes": false, "proxmox_backup_job_enabled": false,
	} {
		if n := testutil.CollectAndCount(def, name); (n > 0) != want {
			t.Errorf("%s: %d series by default, want them: %v", name, n, want)
		}
	}
}

// TestEmitLint: the exposition is promlint clean.
func TestEmitLint(t *testing.T) {
	c := newTestCollector(Options{})
	problems, err := testutil.CollectAndLint(resultCollector{c: c, res: fixedResult()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// fmtFloat formats a value as the text exposition does.
func fmtFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
