package collector

import (
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
)

// verificationStates are the values of last_verification's state label;
// every group exports all three so the enum is complete.
var verificationStates = []string{dedup.VerificationOK, dedup.VerificationFailed, dedup.VerificationNone}

// emitGuests exports the per-guest alerting view. Unknown is never zero:
// counts and times of a guest dedup could not fully read are left out, as
// are job and task series whose sources failed.
func emitGuests(ch chan<- prometheus.Metric, res *scrapeResult, tasks bool) {
	byCluster := map[string]*clusterData{}
	for _, cd := range res.clusters {
		byCluster[cd.name] = cd
	}
	for _, g := range res.merged.Guests {
		l := []string{g.Cluster, g.BackupType, g.BackupID}
		gauge(ch, descs.guestInfo, 1, g.Cluster, g.BackupType, g.BackupID, g.Name, g.Node,
			boolString(g.Template), strings.Join(g.Tags, ";"))
		if g.Known {
			gauge(ch, descs.guestSnapshots, float64(g.Snapshots), l...)
			if g.Last > 0 {
				gauge(ch, descs.guestLastTimestamp, float64(g.Last), l...)
				gauge(ch, descs.guestLastCopies, float64(g.LastCopies), l...)
			}
		}
		cd := byCluster[g.Cluster]
		if cd == nil {
			continue
		}
		if cd.jobsOK {
			gauge(ch, descs.guestInJob, boolFloat(g.InJob), l...)
			if g.InJob && g.ExpectedIntervalSeconds > 0 {
				gauge(ch, descs.guestExpectedInterval, float64(g.ExpectedIntervalSeconds), l...)
			}
		}
		if tasks && cd.tasksRead && !cd.tasksUnknown[g.Node] {
			if t, ok := cd.tasks[g.BackupType+"/"+g.BackupID]; ok {
				gauge(ch, descs.guestLastTaskTime, float64(t.End), l...)
				gauge(ch, descs.guestLastTaskSuccess, boolFloat(t.Success), l...)
			}
		}
	}
}

// emitGroups exports the per-group detail view of every repository.
func emitGroups(ch chan<- prometheus.Metric, res *scrapeResult) {
	for _, g := range res.merged.Groups {
		l := []string{g.Repository, g.Cluster, g.BackupType, g.BackupID}
		gauge(ch, descs.groupSnapshots, float64(g.Snapshots), l...)
		if g.Snapshots > 0 {
			gauge(ch, descs.groupLastTimestamp, float64(g.Last), l...)
			gauge(ch, descs.groupFirstTimestamp, float64(g.First), l...)
			gauge(ch, descs.groupLastSize, float64(g.LastSize), l...)
		}
		state := g.LastVerification
		if state == "" {
			state = dedup.VerificationNone
		}
		for _, s := range verificationStates {
			gauge(ch, descs.groupLastVerify, boolFloat(s == state), append(l, s)...)
		}
		gauge(ch, descs.groupVerifyFailed, float64(g.VerifyFailed), l...)
		gauge(ch, descs.groupProtected, float64(g.Protected), l...)
		gauge(ch, descs.groupInProgress, boolFloat(g.InProgress), l...)
		if g.Orphan {
			gauge(ch, descs.groupOrphaned, 1, l...)
		}
	}
}

func boolString(b bool) string {
	return strconv.Itoa(int(boolFloat(b)))
}
