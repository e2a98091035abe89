package collector

import (
	"slices"
	"strings"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
)

// backupFamilies are the families this file emits:
// per guest and per backup group per repository.
var backupFamilies = struct {
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
}

// verificationStates are the values of last_verification's state label;
// every group exports all three so the enum is complete. Sorted, so each
// group's three series come in client_golang's order.
var verificationStates = []string{dedup.VerificationFailed, dedup.VerificationNone, dedup.VerificationOK}

// guestOrder returns the indexes of guests in client_golang's order for
// the per-guest families: by backup_id, backup_type, cluster (the label
// names sorted), comparing values as strings. The registry sorts every
// family's series; sorting the guests once here makes each of those sorts
// a linear check instead of a sort per family.
func guestOrder(gs []dedup.GuestAggregate) []int {
	return sortedIndexes(len(gs), func(a, b int) int {
		x, y := &gs[a], &gs[b]
		return cmpLabels(x.BackupID, y.BackupID, x.BackupType, y.BackupType, x.Cluster, y.Cluster)
	})
}

// groupOrder is guestOrder for the per-group families (then repository).
func groupOrder(gs []dedup.GroupAggregate) []int {
	return sortedIndexes(len(gs), func(a, b int) int {
		x, y := &gs[a], &gs[b]
		return cmpLabels(x.BackupID, y.BackupID, x.BackupType, y.BackupType, x.Cluster, y.Cluster, x.Repository, y.Repository)
	})
}

// sortedIndexes returns 0..n-1 sorted by cmp.
func sortedIndexes(n int, cmp func(a, b int) int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, cmp)
	return idx
}

// cmpLabels compares label values pairwise (x0, y0, x1, y1, ...), the first
// difference deciding.
func cmpLabels(pairs ...string) int {
	for i := 0; i+1 < len(pairs); i += 2 {
		if c := strings.Compare(pairs[i], pairs[i+1]); c != 0 {
			return c
		}
	}
	return 0
}

// emitGuests exports the per-guest alerting view. Unknown is never zero:
// counts and times of a guest dedup could not fully read are left out, as
// are job and task series whose sources failed.
func emitGuests(e *emitter, res *scrapeResult, tasks bool) {
	byCluster := map[string]*clusterData{}
	for _, cd := range res.clusters {
		byCluster[cd.name] = cd
	}
	var taskKey []byte
	for _, i := range guestOrder(res.merged.Guests) {
		g := &res.merged.Guests[i]
		l := e.set(g.Cluster, g.BackupType, g.BackupID)
		e.values(backupFamilies.guestInfo, 1, g.Cluster, g.BackupType, g.BackupID, g.Name, g.Node,
			templateLabel(g), strings.Join(g.Tags, ";"))
		if g.Known {
			e.gauge(backupFamilies.guestSnapshots, float64(g.Snapshots), l)
			if g.Last > 0 {
				e.gauge(backupFamilies.guestLastTimestamp, float64(g.Last), l)
				e.gauge(backupFamilies.guestLastCopies, float64(g.LastCopies), l)
			}
		}
		emitGuestEncryption(e, g, l)
		cd := byCluster[g.Cluster]
		if cd == nil {
			continue
		}
		if cd.jobsOK && !g.InJobUnknown {
			e.gauge(backupFamilies.guestInJob, boolFloat(g.InJob), l)
			if g.InJob && g.ExpectedIntervalSeconds > 0 {
				e.gauge(backupFamilies.guestExpectedInterval, float64(g.ExpectedIntervalSeconds), l)
			}
		}
		if tasks {
			var t guestTask
			var ok bool
			if t, taskKey, ok = cd.lastTask(taskKey, g); ok {
				e.gauge(backupFamilies.guestLastTaskTime, float64(t.End), l)
				e.gauge(backupFamilies.guestLastTaskSuccess, boolFloat(t.Success), l)
				emitGuestDuration(e, t, l)
			}
		}
	}
}

// emitGroups exports the per-group detail view of every repository.
func emitGroups(e *emitter, res *scrapeResult) {
	for _, i := range groupOrder(res.merged.Groups) {
		g := &res.merged.Groups[i]
		l := e.set(g.Repository, g.Cluster, g.BackupType, g.BackupID)
		e.gauge(backupFamilies.groupSnapshots, float64(g.Snapshots), l)
		if g.Snapshots > 0 {
			e.gauge(backupFamilies.groupLastTimestamp, float64(g.Last), l)
			e.gauge(backupFamilies.groupFirstTimestamp, float64(g.First), l)
			e.gauge(backupFamilies.groupLastSize, float64(g.LastSize), l)
		}
		state := g.LastVerification
		if state == "" {
			state = dedup.VerificationNone
		}
		for _, s := range verificationStates {
			e.values(backupFamilies.groupLastVerify, boolFloat(s == state), g.Repository, g.Cluster, g.BackupType, g.BackupID, s)
		}
		e.gauge(backupFamilies.groupVerifyFailed, float64(g.VerifyFailed), l)
		e.gauge(backupFamilies.groupProtected, float64(g.Protected), l)
		e.gauge(backupFamilies.groupInProgress, boolFloat(g.InProgress), l)
		emitGroupEncryption(e, g, l)
		if g.Orphan {
			e.gauge(backupFamilies.groupOrphaned, 1, l)
		}
	}
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// templateLabel is guest_info's template label: "1", "0", or "unknown"
// while PVE hides the flag (offline node) and it was never known. The
// mixin's guest alerts select template="0", so an unknown guest is never
// taken for a normal one.
func templateLabel(g *dedup.GuestAggregate) string {
	if g.TemplateUnknown {
		return "unknown"
	}
	return boolString(g.Template)
}
