package collector

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Which vzdump tasks we look at (REFERENCE.md §2.9): /cluster/tasks keeps
// only the 25 newest finished tasks per node, so it is no history. Instead,
// per online node, /nodes/{node}/tasks with typefilter=vzdump (exact match),
// since=<now - window>, a generous limit and source=all. A single-guest task
// carries the VMID in its id and its result in its status; a multi-guest job
// run has an empty id and per-guest results only in its log, which we read
// once: a finished task's log never changes, so it is cached by UPID. The
// log of a guest's newest single-guest task is read too, for the amount its
// backup transferred (dedup.LogsToRead).

// DefaultTaskWindow covers a weekly job plus a day of slack.
const DefaultTaskWindow = 8 * 24 * time.Hour

// taskListLimit is the limit of one node's task listing. PVE's default is 50;
// a week of hourly single-guest backups of 100 guests would need more.
const taskListLimit = 5000

// DefaultTaskLogCacheSize bounds the cache of parsed task logs.
const DefaultTaskLogCacheSize = 4096

// guestTask is the newest finished task of a guest.
type guestTask struct {
	// Start is when the task started: a backup it made is no older.
	Start   int64
	End     int64
	Success bool
	// Node ran the task.
	Node string
	// Seconds is how long the guest's backup took, when Timed.
	Seconds int64
	Timed   bool
	// Bytes is what the guest's backup transferred, when Transferred.
	Bytes       int64
	Transferred bool
}

// taskLogCache is a bounded LRU of vzdump job logs keyed by UPID, reduced
// to the lines that say something about a guest (a job log has dozens of
// lines per guest; we keep four at most). Only finished tasks are stored:
// their logs never change.
type taskLogCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List
	items map[string]*list.Element
}

type taskLogEntry struct {
	upid  string
	lines []proxmox.TaskLogLine
}

func newTaskLogCache(max int) *taskLogCache {
	if max <= 0 {
		max = DefaultTaskLogCacheSize
	}
	return &taskLogCache{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *taskLogCache) get(upid string) ([]proxmox.TaskLogLine, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[upid]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*taskLogEntry).lines, true
	}
	return nil, false
}

func (c *taskLogCache) put(upid string, lines []proxmox.TaskLogLine) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[upid]; ok {
		c.ll.MoveToFront(e)
		e.Value.(*taskLogEntry).lines = lines
		return
	}
	c.items[upid] = c.ll.PushFront(&taskLogEntry{upid: upid, lines: lines})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*taskLogEntry).upid)
	}
}

func (c *taskLogCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// guestLines keeps the log lines dedup reads per guest, with an empty
// marker when there is none, so a cached log is never nil (nil means "not
// fetched" to dedup).
func guestLines(lines []proxmox.TaskLogLine) []proxmox.TaskLogLine {
	out := []proxmox.TaskLogLine{}
	for _, l := range lines {
		if _, err := proxmox.ParseTaskLogLine(l.T); err == nil {
			out = append(out, l)
		}
	}
	return out
}

// pveTaskAPI is what task collection needs of a PVE client.
type pveTaskAPI interface {
	NodeTasks(ctx context.Context, node string, q proxmox.TaskQuery) ([]proxmox.Task, error)
	TaskLog(ctx context.Context, node, upid string) ([]proxmox.TaskLogLine, error)
}

// nodeTasks lists one node's vzdump tasks of the window and the logs
// dedup.LogsToRead names (from the cache when read before).
func (s *scrape) nodeTasks(ctx context.Context, cd *clusterData, node string) ([]dedup.TaskWithLog, error) {
	api := cd.t.pve
	var tasks []proxmox.Task
	q := proxmox.TaskQuery{TypeFilter: "vzdump", Since: s.now.Add(-s.c.opts.TaskWindow).Unix(), Limit: taskListLimit, Source: "all"}
	if err := cd.run.call(func() (err error) {
		tasks, err = api.NodeTasks(ctx, node, q)
		return err
	}); err != nil {
		cd.run.fail(proxmox.EndpointNodeTasks(node), "node "+node, err, "")
		return nil, err
	}
	out := make([]dedup.TaskWithLog, len(tasks))
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		logErr error
	)
	read := dedup.LogsToRead(tasks)
	for i, t := range tasks {
		out[i].Task = t
		if !read[i] {
			continue
		}
		if lines, ok := s.c.taskLogs.get(t.UPID); ok {
			out[i].Log = lines
			continue
		}
		wg.Go(func() {
			var lines []proxmox.TaskLogLine
			err := cd.run.call(func() (err error) {
				lines, err = api.TaskLog(ctx, node, t.UPID)
				return err
			})
			if err != nil {
				cd.run.fail(proxmox.EndpointNodeTaskLog(node), "node "+node, err, "")
				mu.Lock()
				logErr = err
				mu.Unlock()
				return
			}
			kept := guestLines(lines)
			s.c.taskLogs.put(t.UPID, kept)
			out[i].Log = kept
		})
	}
	wg.Wait()
	// A log we could not read may hold any guest of the node: the node's
	// task results are unknown rather than possibly stale.
	return out, logErr
}

// lastTask returns the guest's newest finished vzdump task, using key as
// scratch space for the map key (returned for reuse, so the per-guest loop
// of the exposition allocates nothing). ok is false when the guest has no
// such task or when it cannot be known: the cluster's tasks were not read
// or its node's failed to read, where an older task may be taken for the
// newest.
func (cd *clusterData) lastTask(key []byte, g *dedup.GuestAggregate) (t guestTask, _ []byte, ok bool) {
	if !cd.tasksRead || cd.tasksUnknown[g.Node] {
		return guestTask{}, key, false
	}
	key = append(append(append(key[:0], g.BackupType...), '/'), g.BackupID...)
	t, ok = cd.tasks[string(key)]
	return t, key, ok
}
