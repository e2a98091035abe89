package collector

import (
	"slices"
	"strings"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
)

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
		e.values(descs.guestInfo, 1, g.Cluster, g.BackupType, g.BackupID, g.Name, g.Node,
			templateLabel(g), strings.Join(g.Tags, ";"))
		if g.Known {
			e.gauge(descs.guestSnapshots, float64(g.Snapshots), l)
			if g.Last > 0 {
				e.gauge(descs.guestLastTimestamp, float64(g.Last), l)
				e.gauge(descs.guestLastCopies, float64(g.LastCopies), l)
			}
		}
		emitGuestEncryption(e, g, l)
		cd := byCluster[g.Cluster]
		if cd == nil {
			continue
		}
		if cd.jobsOK && !g.InJobUnknown {
			e.gauge(descs.guestInJob, boolFloat(g.InJob), l)
			if g.InJob && g.ExpectedIntervalSeconds > 0 {
				e.gauge(descs.guestExpectedInterval, float64(g.ExpectedIntervalSeconds), l)
			}
		}
		if tasks {
			var t guestTask
			var ok bool
			if t, taskKey, ok = cd.lastTask(taskKey, g); ok {
				e.gauge(descs.guestLastTaskTime, float64(t.End), l)
				e.gauge(descs.guestLastTaskSuccess, boolFloat(t.Success), l)
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
		e.gauge(descs.groupSnapshots, float64(g.Snapshots), l)
		if g.Snapshots > 0 {
			e.gauge(descs.groupLastTimestamp, float64(g.Last), l)
			e.gauge(descs.groupFirstTimestamp, float64(g.First), l)
			e.gauge(descs.groupLastSize, float64(g.LastSize), l)
		}
		state := g.LastVerification
		if state == "" {
			state = dedup.VerificationNone
		}
		for _, s := range verificationStates {
			e.values(descs.groupLastVerify, boolFloat(s == state), g.Repository, g.Cluster, g.BackupType, g.BackupID, s)
		}
		e.gauge(descs.groupVerifyFailed, float64(g.VerifyFailed), l)
		e.gauge(descs.groupProtected, float64(g.Protected), l)
		e.gauge(descs.groupInProgress, boolFloat(g.InProgress), l)
		emitGroupEncryption(e, g, l)
		if g.Orphan {
			e.gauge(descs.groupOrphaned, 1, l)
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
