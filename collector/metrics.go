package collector

import "github.com/prometheus/client_golang/prometheus"

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

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

// descs holds every descriptor of the collector. One global set: descriptors
// are immutable and identical for every Collector.
var descs = struct {
	// Per guest.
	guestInfo             *prometheus.Desc
	guestSnapshots        *prometheus.Desc
	guestLastCopies       *prometheus.Desc
	guestLastTimestamp    *prometheus.Desc
	guestInJob            *prometheus.Desc
	guestExpectedInterval *prometheus.Desc
	guestLastTaskTime     *prometheus.Desc
	guestLastTaskSuccess  *prometheus.Desc

	// Per backup group per repository.
	groupSnapshots      *prometheus.Desc
	groupLastTimestamp  *prometheus.Desc
	groupFirstTimestamp *prometheus.Desc
	groupLastSize       *prometheus.Desc
	groupLastVerify     *prometheus.Desc
	groupVerifyFailed   *prometheus.Desc
	groupProtected      *prometheus.Desc
	groupInProgress     *prometheus.Desc
	groupOrphaned       *prometheus.Desc

	// Repositories, routing, deduplication.
	repositoryInfo *prometheus.Desc
	repositoryUp   *prometheus.Desc
	storageRoute   *prometheus.Desc
	duplicates     *prometheus.Desc

	// PBS datastores and jobs.
	datastoreSize      *prometheus.Desc
	datastoreUsed      *prometheus.Desc
	datastoreAvailable *prometheus.Desc
	datastoreFull      *prometheus.Desc
	datastoreUp        *prometheus.Desc
	pbsJobLastRun      *prometheus.Desc
	pbsJobLastSuccess  *prometheus.Desc
	pbsJobNextRun      *prometheus.Desc

	// PVE backup storages and jobs.
	storageSize      *prometheus.Desc
	storageUsed      *prometheus.Desc
	storageAvailable *prometheus.Desc
	jobEnabled       *prometheus.Desc

	// Exporter and sources.
	targetUp          *prometheus.Desc
	targetDuration    *prometheus.Desc
	targetRequests    *prometheus.Desc
	targetErrors      *prometheus.Desc
	targetInfo        *prometheus.Desc
	targetLastSuccess *prometheus.Desc
	scrapeDuration    *prometheus.Desc
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
	targetErrors: newDesc("target_errors_total",
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

// allDescs lists every descriptor for Describe.
func allDescs() []*prometheus.Desc {
	d := descs
	return []*prometheus.Desc{
		d.guestInfo, d.guestSnapshots, d.guestLastCopies, d.guestLastTimestamp, d.guestInJob,
		d.guestExpectedInterval, d.guestLastTaskTime, d.guestLastTaskSuccess,
		d.groupSnapshots, d.groupLastTimestamp, d.groupFirstTimestamp, d.groupLastSize,
		d.groupLastVerify, d.groupVerifyFailed, d.groupProtected, d.groupInProgress, d.groupOrphaned,
		d.repositoryInfo, d.repositoryUp, d.storageRoute, d.duplicates,
		d.datastoreSize, d.datastoreUsed, d.datastoreAvailable, d.datastoreFull, d.datastoreUp,
		d.pbsJobLastRun, d.pbsJobLastSuccess, d.pbsJobNextRun,
		d.storageSize, d.storageUsed, d.storageAvailable, d.jobEnabled,
		d.targetUp, d.targetDuration, d.targetRequests, d.targetErrors, d.targetInfo,
		d.targetLastSuccess, d.scrapeDuration,
	}
}
