package dedup

// This file decides which backup jobs cover a guest. It reads the job
// configuration (/cluster/backup) itself instead of PVE's
// /cluster/backup-info/not-backed-up, because that list counts disabled
// jobs as coverage (REFERENCE.md §2.8).

import (
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
// enabled; see JobCovers. Merge uses its twin preparedJob.selects, which
// splits the id list once for all guests: change both together.
func JobSelects(job proxmox.BackupJob, guest proxmox.ClusterResource) bool {
	if job.Type != "" && job.Type != "vzdump" {
		return false
	}
	if job.Node != "" && job.Node != guest.Node {
		return false
	}
	id := normalizeVMID(guestID(guest))
	if id == "" {
		return false
	}
	contains := func(list string) bool {
		for _, v := range splitIDList(list) {
			if normalizeVMID(v) == id {
				return true
			}
		}
		return false
	}
	switch {
	case bool(job.All):
		return !contains(string(job.Exclude))
	case string(job.VMID) != "":
		return contains(string(job.VMID))
	case job.Pool != "":
		return guest.Pool == job.Pool
	}
	return false
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
	prepared := prepareJobs(jobs)
	for i := range prepared {
		if prepared[i].selects(&guest, id) {
			out = append(out, *prepared[i].job)
		}
	}
	return out
}
