package dedup

// This file resolves vzdump task results per guest. A vzdump task for a
// single guest carries the VMID in its id and its status is that guest's
// result. A job run covering several guests of a node is one task with an
// empty id whose status is "job errors" when any guest failed; the
// per-guest outcome is only in its log (REFERENCE.md §2.9).

import (
	"sort"
	"strings"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// GuestKey identifies a PVE guest: VMIDs are unique within a cluster only,
// and vm/100 and ct/100 are different groups.
type GuestKey struct {
	Cluster    string
	BackupType string // vm, ct
	BackupID   string
}

// TaskWithLog is one vzdump task and, for multi-guest tasks, its log. Log
// is nil when the log was not fetched; a finished multi-guest task without
// its log cannot be resolved and is skipped.
type TaskWithLog struct {
	Task proxmox.Task
	Log  []proxmox.TaskLogLine
}

// TaskResult is the outcome of the newest finished vzdump task that
// included a guest.
type TaskResult struct {
	UPID      string
	Node      string
	StartTime int64
	EndTime   int64
	// Success is true when the guest's backup in that task finished: the
	// task ended OK or with WARNINGS (single guest), or the log has the
	// guest's "Finished Backup" line (multi-guest).
	Success bool
	// Status is the task's status text (for multi-guest tasks the whole
	// task's, e.g. "job errors").
	Status string
	// Message is the failure reason from the log, when there is one.
	Message string
	// Seconds is how long the guest's backup in that task took, when
	// Timed: a backup that did not finish, or whose log gives no readable
	// duration, has none.
	Seconds int64
	Timed   bool
	// Bytes is what the guest's backup in that task transferred, when
	// Transferred: only a successful backup whose log states the amount
	// (qemu guests, proxmox.LogTransferred) has one; never a zero for
	// "not stated".
	Bytes       int64
	Transferred bool
}

// NeedsLog reports whether the task's result per guest can only be read
// from its log: a finished vzdump task with an empty id. The collector
// fetches (and caches: finished logs never change) exactly those logs.
func NeedsLog(t proxmox.Task) bool {
	return t.Type == "vzdump" && strings.TrimSpace(t.ID) == "" && taskFinished(t)
}

// LogsToRead reports, per task of one node's listing, whether the
// collector reads its log: every task NeedsLog names (its per-guest
// results are only there), and the newest finished single-guest task of
// each guest, whose log states what that backup transferred
// (TaskResult.Bytes). Only the newest: an hour's backups for a week are
// thousands of single-guest tasks, and only a guest's last one counts.
func LogsToRead(tasks []proxmox.Task) []bool {
	out := make([]bool, len(tasks))
	newest := map[string]int{}
	for i, t := range tasks {
		if NeedsLog(t) {
			out[i] = true
			continue
		}
		id := strings.TrimSpace(t.ID)
		if t.Type != "vzdump" || id == "" || !taskFinished(t) {
			continue
		}
		if j, ok := newest[id]; ok && t.EndTime <= tasks[j].EndTime {
			continue
		}
		newest[id] = i
	}
	for _, i := range newest {
		out[i] = true
	}
	return out
}

func taskFinished(t proxmox.Task) bool {
	if t.EndTime <= 0 {
		return false
	}
	c, _, err := proxmox.ClassifyTaskStatus(t.Status)
	return err == nil && c != proxmox.TaskRunning
}

// taskTimes returns start and end of a task, the start read from its UPID
// when the row lacks it.
func taskTimes(t proxmox.Task) (start, end int64) {
	start, end = int64(t.StartTime), int64(t.EndTime)
	if start == 0 {
		if u, err := proxmox.ParseUPID(t.UPID); err == nil {
			start = u.StartTime
		}
	}
	return start, end
}

// GuestTaskResults returns, for every guest of the cluster that a
// finished vzdump task included, the result of the newest such task (by
// end time, then start time, then UPID for a stable order). Running tasks
// are ignored. The backup type comes from the log's "(qemu|lxc)" or else
// from the inventory; a VMID found in neither is skipped (no guest to
// attach it to). Tasks listed twice (cluster and node task lists) count
// once.
func GuestTaskResults(cluster string, guests []proxmox.ClusterResource, tasks []TaskWithLog) map[GuestKey]TaskResult {
	inventory := map[string]string{} // vmid -> backup type
	for _, g := range guests {
		if bt := proxmox.BackupTypeOfGuest(g.Type); bt != "" {
			inventory[normalizeVMID(guestID(g))] = bt
		}
	}
	// Deterministic processing order: oldest first, so newer overwrite.
	sorted := make([]TaskWithLog, 0, len(tasks))
	seen := map[string]bool{}
	for _, t := range tasks {
		if t.Task.Type != "vzdump" || !taskFinished(t.Task) {
			continue
		}
		if t.Task.UPID != "" {
			if seen[t.Task.UPID] {
				continue
			}
			seen[t.Task.UPID] = true
		}
		sorted = append(sorted, t)
	}
	sort.SliceStable(sorted, func(a, b int) bool {
		sa, ea := taskTimes(sorted[a].Task)
		sb, eb := taskTimes(sorted[b].Task)
		if ea != eb {
			return ea < eb
		}
		if sa != sb {
			return sa < sb
		}
		return sorted[a].Task.UPID < sorted[b].Task.UPID
	})

	out := map[GuestKey]TaskResult{}
	for _, t := range sorted {
		start, end := taskTimes(t.Task)
		base := TaskResult{UPID: t.Task.UPID, Node: t.Task.Node, StartTime: start, EndTime: end, Status: t.Task.Status}
		if id := normalizeVMID(t.Task.ID); id != "" {
			bt := ""
			for _, l := range t.Log {
				if ev, err := proxmox.ParseTaskLogLine(l.T); err == nil && ev.Kind == proxmox.LogStart && normalizeVMID(ev.VMID) == id {
					bt = proxmox.BackupTypeOfGuest(ev.GuestType)
				}
			}
			if bt == "" {
				bt = inventory[id]
			}
			if bt == "" {
				continue
			}
			r := base
			r.Success = proxmox.TaskSucceeded(t.Task.Status)
			if r.Success && end >= start && start > 0 {
				// The task backed up this guest alone: its run time is
				// the backup's, give or take vzdump's setup.
				r.Seconds, r.Timed = end-start, true
			}
			// The log is there when it was read (LogsToRead: the newest
			// single-guest task of a guest); without it the amount is
			// unknown.
			if o := resolveLog(t.Log)[id]; r.Success && o != nil && o.bytes > 0 {
				r.Bytes, r.Transferred = o.bytes, true
			}
			out[GuestKey{Cluster: cluster, BackupType: bt, BackupID: id}] = r
			continue
		}
		if t.Log == nil {
			continue
		}
		for id, o := range resolveLog(t.Log) {
			bt := proxmox.BackupTypeOfGuest(o.guestType)
			if bt == "" {
				bt = inventory[id]
			}
			if bt == "" {
				continue
			}
			r := base
			r.Success = o.finished && !o.failed
			r.Message = o.message
			if r.Success && o.seconds >= 0 {
				r.Seconds, r.Timed = o.seconds, true
			}
			if r.Success && o.bytes > 0 {
				r.Bytes, r.Transferred = o.bytes, true
			}
			out[GuestKey{Cluster: cluster, BackupType: bt, BackupID: id}] = r
		}
	}
	return out
}

type guestOutcome struct {
	guestType string
	finished  bool
	failed    bool
	message   string
	// seconds is the duration on the Finished line, -1 when unreadable.
	seconds int64
	// bytes is the amount the log states for the guest's backup, 0 when
	// it states none.
	bytes int64
}

// resolveLog reads a finished multi-guest task log. A guest that started
// but has neither a Finished nor an ERROR line did not complete (the task
// was aborted) and counts as failed; a guest with only an ERROR line (a
// VMID that no longer exists) failed.
func resolveLog(lines []proxmox.TaskLogLine) map[string]*guestOutcome {
	out := map[string]*guestOutcome{}
	for _, ev := range proxmox.GuestLogEvents(lines) {
		id := normalizeVMID(ev.VMID)
		o := out[id]
		if o == nil {
			o = &guestOutcome{}
			out[id] = o
		}
		switch ev.Kind {
		case proxmox.LogStart:
			o.guestType = ev.GuestType
			o.finished, o.failed, o.message, o.seconds, o.bytes = false, false, "", 0, 0
		case proxmox.LogFinish:
			o.finished = true
			o.seconds = ev.Seconds
		case proxmox.LogFail:
			o.failed = true
			o.message = ev.Message
		case proxmox.LogTransferred:
			o.bytes = ev.Bytes
		}
	}
	return out
}
