package collector

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
)

// verificationStates are the values of last_verification's state label;
// every group exports all three so the enum is complete. Sorted, so each
// group's three series come in client_golang's order.
var verificationStates = []string{dedup.VerificationFailed, dedup.VerificationNone, dedup.VerificationOK}

// guestOrder returns the indexes of guests in client_golang's order for
// the per-guest families: by backup_id, backup_type, cluster (the label
// names sorted), comparing values as strings.
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
func emitGuests(ch chan<- prometheus.Metric, b *seriesBuilder, res *scrapeResult, tasks bool) {
	byCluster := map[string]*clusterData{}
	for _, cd := range res.clusters {
		byCluster[cd.name] = cd
	}
	var taskKey []byte
	for _, i := range guestOrder(res.merged.Guests) {
		g := &res.merged.Guests[i]
		id, typ, cluster := b.pair(&lBackupID, g.BackupID), b.shared(&lBackupType, g.BackupType), b.shared(&lCluster, g.Cluster)
		l := b.labels(id, typ, cluster)
		b.gauge(ch, descs.guestInfo, 1, b.labels(id, typ, cluster, b.pair(&lName, g.Name), b.shared(&lNode, g.Node),
			b.pair(&lTags, strings.Join(g.Tags, ";")), b.shared(&lTemplate, boolString(g.Template))))
		if g.Known {
			b.gauge(ch, descs.guestSnapshots, float64(g.Snapshots), l)
			if g.Last > 0 {
				b.gauge(ch, descs.guestLastTimestamp, float64(g.Last), l)
				b.gauge(ch, descs.guestLastCopies, float64(g.LastCopies), l)
			}
		}
		cd := byCluster[g.Cluster]
		if cd == nil {
			continue
		}
		if cd.jobsOK {
			b.gauge(ch, descs.guestInJob, boolFloat(g.InJob), l)
			if g.InJob && g.ExpectedIntervalSeconds > 0 {
				b.gauge(ch, descs.guestExpectedInterval, float64(g.ExpectedIntervalSeconds), l)
			}
		}
		if tasks && cd.tasksRead && !cd.tasksUnknown[g.Node] {
			taskKey = append(append(append(taskKey[:0], g.BackupType...), '/'), g.BackupID...)
			if t, ok := cd.tasks[string(taskKey)]; ok {
				b.gauge(ch, descs.guestLastTaskTime, float64(t.End), l)
				b.gauge(ch, descs.guestLastTaskSuccess, boolFloat(t.Success), l)
			}
		}
	}
}

// emitGroups exports the per-group detail view of every repository.
func emitGroups(ch chan<- prometheus.Metric, b *seriesBuilder, res *scrapeResult) {
	states := make([]*dto.LabelPair, len(verificationStates))
	for i, s := range verificationStates {
		states[i] = b.shared(&lState, s)
	}
	for _, i := range groupOrder(res.merged.Groups) {
		g := &res.merged.Groups[i]
		id, typ, cluster, repo := b.pair(&lBackupID, g.BackupID), b.shared(&lBackupType, g.BackupType),
			b.shared(&lCluster, g.Cluster), b.shared(&lRepository, g.Repository)
		l := b.labels(id, typ, cluster, repo)
		b.gauge(ch, descs.groupSnapshots, float64(g.Snapshots), l)
		if g.Snapshots > 0 {
			b.gauge(ch, descs.groupLastTimestamp, float64(g.Last), l)
			b.gauge(ch, descs.groupFirstTimestamp, float64(g.First), l)
			b.gauge(ch, descs.groupLastSize, float64(g.LastSize), l)
		}
		state := g.LastVerification
		if state == "" {
			state = dedup.VerificationNone
		}
		for i, s := range verificationStates {
			b.gauge(ch, descs.groupLastVerify, boolFloat(s == state), b.labels(id, typ, cluster, repo, states[i]))
		}
		b.gauge(ch, descs.groupVerifyFailed, float64(g.VerifyFailed), l)
		b.gauge(ch, descs.groupProtected, float64(g.Protected), l)
		b.gauge(ch, descs.groupInProgress, boolFloat(g.InProgress), l)
		if g.Orphan {
			b.gauge(ch, descs.groupOrphaned, 1, l)
		}
	}
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
