package collector

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// namespace is the prefix of every metric the exporter exports
// (METRICS.md). Build info uses it too: proxmox_backup_exporter_build_info.
const namespace = "proxmox_backup"

// Label sets shared by several families. Keeping them in one place makes
// the contract of METRICS.md visible at a glance.
var (
	guestLabels      = []string{"cluster", "backup_type", "backup_id"}
	groupLabels      = []string{"repository", "cluster", "backup_type", "backup_id"}
	targetLabels     = []string{"target", "kind"}
	datastoreLabels  = []string{"target", "datastore"}
	pbsJobLabels     = []string{"target", "datastore", "job_type", "job_id"}
	pveStorageLabels = []string{"cluster", "storage", "node"}
)

// family is one metric family of the collector: its client_golang
// descriptor, for Describe and Collect, and what the emitter needs to build
// its series' label pairs once for every family sharing them (series.go).
type family struct {
	desc      *prometheus.Desc
	name      string
	valueType prometheus.ValueType
	// labels are the variable label names in the order values are given.
	labels []string
	// sorted are the label names sorted, the order client_golang keeps
	// label pairs in, and order[i] is the index in labels of sorted[i].
	sorted []string
	order  []int
}

// allFamilies lists every family, in the order they are declared, for
// Describe. newFamily adds to it, so a family cannot be left out.
var allFamilies []*family

func newFamily(valueType prometheus.ValueType, name, help string, labels ...string) *family {
	fq := prometheus.BuildFQName(namespace, "", name)
	f := &family{
		desc: prometheus.NewDesc(fq, help, labels, nil),
		name: fq, valueType: valueType, labels: labels,
		order: make([]int, len(labels)),
	}
	for i := range f.order {
		f.order[i] = i
	}
	slices.SortFunc(f.order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	for _, i := range f.order {
		f.sorted = append(f.sorted, labels[i])
	}
	allFamilies = append(allFamilies, f)
	return f
}

func newDesc(name, help string, labels ...string) *family {
	return newFamily(prometheus.GaugeValue, name, help, labels...)
}

// descs holds every family of the collector. One global set: families are
// immutable and identical for every Collector.
var descs = struct {
	// Per guest.
	guestInfo             *family
	guestSnapshots        *family
	guestLastCopies       *family
	guestLastTimestamp    *family
	guestInJob            *family
	guestExpectedInterval *family
	guestLastTaskTime     *family
	guestLastTaskSuccess  *family

	// Per backup group per repository.
	groupSnapshots      *family
	groupLastTimestamp  *family
	groupFirstTimestamp *family
	groupLastSize       *family
	groupLastVerify     *family
	groupVerifyFailed   *family
	groupProtected      *family
	groupInProgress     *family
	groupOrphaned       *family

	// Repositories, routing, deduplication.
	repositoryInfo *family
	repositoryUp   *family
	// Warm-up of a PBS repository (warmup.go).
	repositoryWarming        *family
	repositoryWarmupRecords  *family
	repositoryWarmupExpected *family
	storageRoute             *family
	duplicates               *family

	// PBS datastores and jobs.
	datastoreSize      *family
	datastoreUsed      *family
	datastoreAvailable *family
	datastoreFull      *family
	datastoreUp        *family
	pbsJobLastRun      *family
	pbsJobLastSuccess  *family
	pbsJobNextRun      *family

	// PVE backup storages and jobs.
	storageSize      *family
	storageUsed      *family
	storageAvailable *family
	jobEnabled       *family

	// Exporter and sources.
	targetUp          *family
	targetDuration    *family
	targetRequests    *family
	targetErrors      *family
	targetInfo        *family
	targetLastSuccess *family
	scrapeDuration    *family
}{
	guestInfo: newDesc("guest_info",
		"Every guest in the PVE inventory (value 1); template is 0/1, tags are sorted and ;-joined.",
		"cluster", "backup_type", "backup_id", "name", "node", "template", "tags"),
	guestSnapshots: newDesc("guest_snapshots",
		"Distinct completed recovery points of the guest over every repository, each counted once; absent when a repository that could hold them failed to list.",
		guestLabels...),
	guestLastCopies: newDesc("guest_last_copies",
		"Number of repositories holding the guest's newest recovery point.",
		guestLabels...),
	guestLastTimestamp: newDesc("guest_last_timestamp_seconds",
		"Time of the guest's newest completed recovery point anywhere; absent when none or unknown.",
		guestLabels...),
	guestInJob: newDesc("guest_in_job",
		"1 if an enabled backup job covers the guest, else 0.",
		guestLabels...),
	guestExpectedInterval: newDesc("guest_expected_interval_seconds",
		"Shortest time between two runs of the enabled backup jobs covering the guest.",
		guestLabels...),
	guestLastTaskTime: newDesc("guest_last_task_timestamp_seconds",
		"End time of the newest finished vzdump task that included the guest.",
		guestLabels...),
	guestLastTaskSuccess: newDesc("guest_last_task_success",
		"1 if the guest's part of its newest finished vzdump task succeeded, else 0.",
		guestLabels...),

	groupSnapshots: newDesc("snapshots",
		"Completed recovery points of this backup group in this repository.",
		groupLabels...),
	groupLastTimestamp: newDesc("last_timestamp_seconds",
		"Time of the group's newest completed recovery point in this repository.",
		groupLabels...),
	groupFirstTimestamp: newDesc("first_timestamp_seconds",
		"Time of the group's oldest recovery point in this repository (retention depth).",
		groupLabels...),
	groupLastSize: newDesc("last_size_bytes",
		"Size of the group's newest recovery point in this repository.",
		groupLabels...),
	groupLastVerify: newDesc("last_verification",
		"Verification state of the group's newest recovery point: 1 for the current state (ok, failed or none = never verified), 0 for the others.",
		append(append([]string{}, groupLabels...), "state")...),
	groupVerifyFailed: newDesc("verify_failed_snapshots",
		"Recovery points of this group whose last verification failed.",
		groupLabels...),
	groupProtected: newDesc("protected_snapshots",
		"Recovery points of this group marked protected.",
		groupLabels...),
	groupInProgress: newDesc("in_progress",
		"1 while a backup of this group is being written.",
		groupLabels...),
	groupOrphaned: newDesc("group_orphaned",
		"1 for a backup group whose guest is not in its cluster's inventory (guest deleted); the group is still restorable.",
		groupLabels...),

	repositoryInfo: newDesc("repository_info",
		"Every repository (place recovery points live) read this scrape (value 1).",
		"repository", "kind", "target", "datastore", "namespace", "cluster", "storage", "node"),
	repositoryUp: newDesc("repository_up",
		"1 if the repository's last listing succeeded, else 0.",
		"repository"),
	repositoryWarming: newDesc("repository_warming",
		"1 while the repository's first complete read since the exporter started goes on past the scrape; absent otherwise.",
		"repository"),
	repositoryWarmupRecords: newDesc("repository_warmup_records_read",
		"Snapshot records the warm-up of a warming repository has read; absent otherwise.",
		"repository"),
	repositoryWarmupExpected: newDesc("repository_warmup_records_expected",
		"Snapshot records the warm-up of a warming repository expects to read (the groups' backup counts); absent otherwise and before its groups listing answered.",
		"repository"),
	storageRoute: newDesc("storage_route_info",
		"Route of every PVE storage with backup content (value 1): pbs, pve, pve_fallback, ignored or disabled.",
		"cluster", "storage", "storage_type", "route", "repository"),
	duplicates: newDesc("duplicates_suppressed",
		"Records seen through more than one path in the last scrape and counted once, by reason.",
		"reason"),

	datastoreSize: newDesc("datastore_size_bytes",
		"Total size of the PBS datastore's file system.", datastoreLabels...),
	datastoreUsed: newDesc("datastore_used_bytes",
		"Used bytes of the PBS datastore's file system.", datastoreLabels...),
	datastoreAvailable: newDesc("datastore_available_bytes",
		"Available bytes of the PBS datastore's file system.", datastoreLabels...),
	datastoreFull: newDesc("datastore_estimated_full_timestamp_seconds",
		"PBS's own estimate of when the datastore is full; absent when PBS gives none, when usage is flat or shrinking.",
		datastoreLabels...),
	datastoreUp: newDesc("datastore_up",
		"0 when the datastore is in maintenance, unmounted or errored, else 1.",
		datastoreLabels...),
	pbsJobLastRun: newDesc("pbs_job_last_run_timestamp_seconds",
		"End time of the PBS job's last run.", pbsJobLabels...),
	pbsJobLastSuccess: newDesc("pbs_job_last_run_success",
		"1 if the PBS job's last run ended OK (or with warnings), else 0.", pbsJobLabels...),
	pbsJobNextRun: newDesc("pbs_job_next_run_timestamp_seconds",
		"Next scheduled run of the PBS job.", pbsJobLabels...),

	storageSize: newDesc("storage_size_bytes",
		"Total size of a PVE storage with backup content; node is empty for shared storages.", pveStorageLabels...),
	storageUsed: newDesc("storage_used_bytes",
		"Used bytes of a PVE storage with backup content; node is empty for shared storages.", pveStorageLabels...),
	storageAvailable: newDesc("storage_available_bytes",
		"Available bytes of a PVE storage with backup content; node is empty for shared storages.", pveStorageLabels...),
	jobEnabled: newDesc("job_enabled",
		"1 if the PVE backup job is enabled, else 0.",
		"cluster", "job", "storage", "schedule"),

	targetUp: newDesc("target_up",
		"1 if every request to the target in this scrape succeeded, else 0.", targetLabels...),
	targetDuration: newDesc("target_scrape_duration_seconds",
		"Wall time spent on the target in this scrape.", targetLabels...),
	targetRequests: newDesc("target_api_requests",
		"API requests issued to the target in this scrape.", targetLabels...),
	targetErrors: newFamily(prometheus.CounterValue, "target_errors_total",
		"Failed requests to the target since the exporter started, by reason.",
		"target", "kind", "reason"),
	targetInfo: newDesc("target_info",
		"Version and cluster of every target that answered (value 1).",
		"target", "kind", "version", "cluster"),
	targetLastSuccess: newDesc("target_last_success_timestamp_seconds",
		"Last time every request to the target succeeded; absent before the first success.",
		targetLabels...),
	scrapeDuration: newDesc("scrape_duration_seconds",
		"Wall time of the whole collection."),
}
