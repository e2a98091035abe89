package dedup

// This file decides which backup jobs cover a guest. It reads the job
// configuration (/cluster/backup) itself instead of PVE's
// /cluster/backup-info/not-backed-up, because that list counts disabled
// jobs as coverage (REFERENCE.md §2.8).

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// splitIDList splits a VMID list ("100,101", "100 101", "100;101") into its
// entries, leniently.
func splitIDList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' })
}

// guestID returns the guest's VMID as a string ("" when absent).
func guestID(g proxmox.ClusterResource) string {
	if g.VMID > 0 {
		return strconv.FormatInt(int64(g.VMID), 10)
	}
	// Fall back to the id column "qemu/101".
	if _, id, ok := strings.Cut(g.ID, "/"); ok {
		return id
	}
	return ""
}

// normalizeVMID strips leading zeros so "0100" and "100" compare equal.
func normalizeVMID(s string) string {
	// A canonical VMID, as guests and vzdump names have them, is returned
	// as it is: nothing to trim at either end. Merge normalises every
	// group's id twice per scrape.
	if n := len(s); n > 0 && s[0] >= '1' && s[0] <= '9' && s[n-1] >= '0' && s[n-1] <= '9' {
		return s
	}
	t := strings.TrimLeft(strings.TrimSpace(s), "0")
	if t == "" && s != "" {
		return "0"
	}
	return t
}

// JobSelects reports whether the job's selection includes the guest: all
// (minus exclude), its vmid list, or its pool, within its node
// restriction (the guest's current node). It ignores whether the job is
// enabled; see JobCovers. A pool job selects by the guest row's pool,
// which PVE leaves out when the token may not see the pool: Merge knows
// the visible pools (Cluster.Pools) and reports such guests as unknown.
func JobSelects(job proxmox.BackupJob, guest proxmox.ClusterResource) bool {
	pj := prepareJob(&job)
	return pj.selects(&guest, normalizeVMID(guestID(guest)))
}

// JobCovers reports whether an enabled job selects the guest.
func JobCovers(job proxmox.BackupJob, guest proxmox.ClusterResource) bool {
	return job.IsEnabled() && JobSelects(job, guest)
}

// CoveringJobs returns the enabled jobs that select the guest, sorted by
// job id.
func CoveringJobs(jobs []proxmox.BackupJob, guest proxmox.ClusterResource) []proxmox.BackupJob {
	var out []proxmox.BackupJob
	id := normalizeVMID(guestID(guest))
	prepared := prepareJobs(jobs, nil, false)
	for i := range prepared {
		if prepared[i].selects(&guest, id) {
			out = append(out, *prepared[i].job)
		}
	}
	return out
}

// NeedsPools reports whether an enabled vzdump job selects by pool: only
// then must the collector read the visible pools (Cluster.Pools).
func NeedsPools(jobs []proxmox.BackupJob) bool {
	for i := range jobs {
		if pj := prepareJob(&jobs[i]); jobs[i].IsEnabled() && pj.byPool() {
			return true
		}
	}
	return false
}

// clusterJobs are a cluster's enabled backup jobs, prepared once for
// matching each of its guests: splitting and normalising the id list per
// guest would cost an allocation or more per guest and job.
type clusterJobs []preparedJob

// preparedJob is a job with its id list (exclude for all, else vmid)
// normalised into a set.
type preparedJob struct {
	job *proxmox.BackupJob
	ids map[string]bool
	// hiddenPool is set for a job that selects by a pool the token may
	// not see: its members are unknown.
	hiddenPool bool
}

// prepareJob prepares one job, enabled or not.
func prepareJob(j *proxmox.BackupJob) preparedJob {
	pj := preparedJob{job: j}
	list := string(j.VMID)
	if j.All {
		list = string(j.Exclude)
	}
	for _, v := range splitIDList(list) {
		if pj.ids == nil {
			pj.ids = map[string]bool{}
		}
		pj.ids[normalizeVMID(v)] = true
	}
	return pj
}

// prepareJobs keeps the enabled jobs, sorted by id (stable). pools are the
// visible pools, poolsRead whether they were read at all.
func prepareJobs(jobs []proxmox.BackupJob, pools []string, poolsRead bool) clusterJobs {
	var out clusterJobs
	for i := range jobs {
		if !jobs[i].IsEnabled() {
			continue
		}
		pj := prepareJob(&jobs[i])
		pj.hiddenPool = pj.byPool() && !(poolsRead && slices.Contains(pools, jobs[i].Pool))
		out = append(out, pj)
	}
	slices.SortStableFunc(out, func(a, b preparedJob) int { return strings.Compare(a.job.ID, b.job.ID) })
	return out
}

// byPool reports whether the job is a vzdump job that selects by pool.
func (pj *preparedJob) byPool() bool {
	j := pj.job
	return (j.Type == "" || j.Type == "vzdump") && !bool(j.All) && string(j.VMID) == "" && j.Pool != ""
}

// inScope reports whether the job's type and node restriction let it
// select the guest, whose normalised VMID is id.
func (pj *preparedJob) inScope(g *proxmox.ClusterResource, id string) bool {
	j := pj.job
	return (j.Type == "" || j.Type == "vzdump") && (j.Node == "" || j.Node == g.Node) && id != ""
}

// selects is JobSelects for a guest whose normalised VMID is id.
func (pj *preparedJob) selects(g *proxmox.ClusterResource, id string) bool {
	j := pj.job
	if !pj.inScope(g, id) {
		return false
	}
	switch {
	case bool(j.All):
		return !pj.ids[id]
	case string(j.VMID) != "":
		return pj.ids[id]
	case j.Pool != "":
		return g.Pool == j.Pool
	}
	return false
}

// mightSelect reports whether a job of hidden pool may select the guest
// although its row does not say so: a guest row without a pool may be in
// a hidden one, while a guest shown in another pool is not in this one
// (a guest is in one pool at most).
func (pj *preparedJob) mightSelect(g *proxmox.ClusterResource, id string) bool {
	return pj.hiddenPool && g.Pool == "" && pj.inScope(g, id)
}

// cover returns whether a job covers the guest (id is its normalised
// VMID), whether that is unknown (no job is known to, but a job of hidden
// pool may), and the shortest interval over the covering jobs' schedules:
// 0 (unknown) when there are none, when one of them cannot be parsed, or
// when a job of hidden pool that may cover the guest runs more often or
// cannot be parsed, because the shortest is then not known; the first
// unparsable job, in id order, is reported. Schedules are parsed once per
// Merge (cache).
func (jobs clusterJobs) cover(g *proxmox.ClusterResource, id string, cache map[string]intervalResult, report func(*proxmox.BackupJob, error)) (inJob, unknown bool, interval int64) {
	parse := func(pj *preparedJob) (int64, bool) {
		r, ok := cache[pj.job.Schedule]
		if !ok {
			r.seconds, r.err = ShortestInterval(pj.job.Schedule)
			cache[pj.job.Schedule] = r
		}
		if r.err != nil {
			report(pj.job, r.err)
			return 0, false
		}
		return r.seconds, true
	}
	maybe := -1 // the first job of hidden pool that may select the guest
	for i := range jobs {
		pj := &jobs[i]
		if pj.mightSelect(g, id) {
			if maybe < 0 {
				maybe = i
			}
			continue
		}
		if !pj.selects(g, id) {
			continue
		}
		inJob = true
		seconds, ok := parse(pj)
		if !ok {
			return true, false, 0
		}
		if interval == 0 || seconds < interval {
			interval = seconds
		}
	}
	if maybe < 0 {
		return inJob, false, interval
	}
	if !inJob {
		return false, true, 0
	}
	for i := maybe; i < len(jobs); i++ {
		if pj := &jobs[i]; pj.mightSelect(g, id) {
			if seconds, ok := parse(pj); !ok || seconds < interval {
				return true, false, 0
			}
		}
	}
	return true, false, interval
}

// hiddenPoolWarnings names every enabled job whose pool the token may not
// see, with the privilege that shows it. Nothing when the pools were not
// read: that failure is reported where the read failed.
func (jobs clusterJobs) hiddenPoolWarnings(cluster, target string, poolsRead bool) []Warning {
	if !poolsRead {
		return nil
	}
	var out []Warning
	for i := range jobs {
		if j := jobs[i].job; jobs[i].hiddenPool {
			out = append(out, Warning{Kind: WarnPoolHidden, Cluster: cluster, Target: target, Job: j.ID, Pool: j.Pool,
				Message: fmt.Sprintf("backup job %s selects pool %s, which the token may not see: which guests it backs up is unknown (grant %s to the token, or the pool no longer exists)",
					j.ID, j.Pool, proxmox.PoolAuditPrivilege(j.Pool))})
		}
	}
	return out
}
