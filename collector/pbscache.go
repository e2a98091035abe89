package collector

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// DefaultMaxCachedGroups bounds the PBS group cache. A cached group costs
// about 230 bytes plus 8 bytes per recovery point (BenchmarkCacheMemory:
// 640 bytes with 50 points, 2 KiB with 200), so the bound is about 125 MiB
// at 50 points per group. Groups beyond the bound are still exported, they
// are just read again on every scrape.
const DefaultMaxCachedGroups = 200000

// pbsCache implements groups-first incremental PBS reads (issue 5). Per
// namespace it reads the cheap groups listing on every scrape and reads a
// group's snapshots only when (with one listing per such group, or one
// streamed listing of the whole namespace when that costs less, see
// wholeNamespace; issue 15):
//   - the group is new, or its backup-count or last-backup changed;
//   - it held an in-progress snapshot at the last read (it will finish);
//   - its refresh is due, because verification states change without a
//     new backup: each group has a phase in the refresh interval (a hash
//     of its key), and its details are refreshed once per interval, on the
//     first scrape past phase + n * interval. The phases spread evenly, so
//     every scrape refreshes about groups * scrape interval / refresh
//     interval groups (0.6 % of them at 1 minute and 3 hours), from the
//     first scrape after a cold start on, never all at once; and no cached
//     detail is older than the interval.
//
// Only dedup.GroupSummary is kept per group, never snapshot objects. Groups
// that disappear upstream are dropped on the next read of their namespace.
// A namespace whose groups call fails returns the error: its repository is
// down for that scrape and no cached data is passed off as fresh.
type pbsCache struct {
	refresh   time.Duration
	maxGroups int

	mu         sync.Mutex
	namespaces map[nsKey]map[groupKey]*cachedGroup
	groups     int // total cached groups, for the bound
	// fills are the warm-ups running (warmup.go); warmedUp the
	// namespaces whose warm-up ended (done or failed): read within the
	// scrape since, also when the bound keeps them out of namespaces.
	fills    map[nsKey]*fill
	warmedUp map[nsKey]bool
	// warmupBase and warmupPerRecord make a warm-up's allowance (see
	// warmup.go); tests shorten them.
	warmupBase, warmupPerRecord time.Duration
}

type nsKey struct{ target, datastore, namespace string }

type groupKey struct{ backupType, backupID string }

type cachedGroup struct {
	count     int64
	last      int64
	fetchedAt time.Time
	summary   dedup.GroupSummary
}

// pbsGroupAPI is what the cache needs of a PBS client.
type pbsGroupAPI interface {
	Groups(ctx context.Context, store, ns string) ([]proxmox.BackupGroup, error)
	Snapshots(ctx context.Context, store, ns, backupType, backupID string) ([]proxmox.Snapshot, error)
	EachSnapshot(ctx context.Context, store, ns string, fn func(proxmox.Snapshot)) error
}

func newPBSCache(refresh time.Duration, maxGroups int) *pbsCache {
	if maxGroups <= 0 {
		maxGroups = DefaultMaxCachedGroups
	}
	return &pbsCache{refresh: refresh, maxGroups: maxGroups, namespaces: map[nsKey]map[groupKey]*cachedGroup{},
		fills: map[nsKey]*fill{}, warmedUp: map[nsKey]bool{}, warmupBase: warmupBase, warmupPerRecord: warmupPerRecord}
}

// cacheStats reports what one namespace read cost, for tests and /status.
type cacheStats struct {
	Groups  int   // groups in the listing
	Fetched int   // snapshot listings fetched
	Records int64 // snapshot records read
	// Whole is true when the namespace was read with one listing of
	// every snapshot (see wholeNamespace).
	Whole bool
}

// snapshotWorkers bounds the goroutines reading one namespace's groups
// one listing per group; the target's client bounds the requests in
// flight.
const snapshotWorkers = 16

// requestCostRecords is what one more request costs, in snapshot records
// read: the emulator's cost model (5 ms per request, 20 µs per listed
// snapshot) makes a request worth 250 records. PBS reads each listed
// snapshot's manifest whichever way it is listed, so the records of the
// groups that changed cost the same either way; what one listing per group
// adds is its requests, and what one listing of the namespace adds is the
// records of the groups that did not change.
const requestCostRecords = 250

// wholeNamespace decides how to read a namespace of which todo groups
// (holding todoRecords snapshots) need reading, out of allRecords: with
// one listing of every snapshot when that costs less than one listing per
// group (see requestCostRecords), i.e. on a cold start or when most groups
// changed; per group when few did.
func wholeNamespace(todo int, todoRecords, allRecords int64) bool {
	return todo > 1 && requestCostRecords+allRecords < int64(todo)*requestCostRecords+todoRecords
}

// read returns the summaries of every group of one namespace. run makes
// each request (noting when the target was last busy); endpoint failures are returned with
// the endpoint that failed.
func (c *pbsCache) read(ctx context.Context, api pbsGroupAPI, run func(func() error) error,
	target, datastore, namespace string, now time.Time) ([]dedup.GroupSummary, cacheStats, string, error) {
	return c.readProgress(ctx, api, run, target, datastore, namespace, now, nil)
}

// readProgress is read, counting the work done and to do on p (nil: not
// counted).
func (c *pbsCache) readProgress(ctx context.Context, api pbsGroupAPI, run func(func() error) error,
	target, datastore, namespace string, now time.Time, p *fillProgress) ([]dedup.GroupSummary, cacheStats, string, error) {
	if p == nil {
		p = &fillProgress{}
	}
	key := nsKey{target, datastore, namespace}
	var groups []proxmox.BackupGroup
	if err := run(func() (err error) {
		groups, err = api.Groups(ctx, datastore, namespace)
		return err
	}); err != nil {
		return nil, cacheStats{}, "groups " + datastore + nsSuffix(namespace), err
	}
	stats := cacheStats{Groups: len(groups)}

	c.mu.Lock()
	old := c.namespaces[key]
	c.mu.Unlock()

	type job struct {
		idx int
		g   proxmox.BackupGroup
	}
	out := make([]dedup.GroupSummary, len(groups))
	present := make([]bool, len(groups))
	fresh := make(map[groupKey]*cachedGroup, len(groups))
	var (
		todo                    []job
		todoRecords, allRecords int64
	)
	for i, g := range groups {
		allRecords += int64(g.BackupCount)
		k := groupKey{g.BackupType, string(g.BackupID)}
		if e, ok := old[k]; ok && c.valid(e, key, k, g, now) {
			out[i] = e.summary
			present[i] = true
			fresh[k] = e
			continue
		}
		todo = append(todo, job{i, g})
		todoRecords += int64(g.BackupCount)
	}
	p.groups.Store(int64(len(groups)))
	p.groupsDone.Store(int64(len(groups) - len(todo)))
	p.expected.Store(todoRecords)

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		failedAt string
	)

	// One listing of the whole namespace, streamed: each snapshot is
	// summarised as it arrives, and every group of the groups listing
	// gets the fresh summary (the unchanged ones too: read anyway).
	if wholeNamespace(len(todo), todoRecords, allRecords) {
		p.expected.Store(allRecords)
		var sum dedup.GroupSummarizer
		err := run(func() error {
			return api.EachSnapshot(ctx, datastore, namespace, func(s proxmox.Snapshot) {
				sum.Add(s)
				p.records.Add(1)
			})
		})
		stats.Fetched, stats.Records, stats.Whole = 1, int64(sum.Records()), true
		if err != nil {
			return nil, stats, "snapshots " + datastore + nsSuffix(namespace), err
		}
		byKey := map[groupKey]dedup.GroupSummary{}
		for _, gs := range sum.Summaries() {
			byKey[groupKey{gs.BackupType, gs.BackupID}] = gs
		}
		kept := make([]dedup.GroupSummary, 0, len(groups))
		fresh = make(map[groupKey]*cachedGroup, len(groups))
		for _, g := range groups {
			k := groupKey{g.BackupType, string(g.BackupID)}
			gs, ok := byKey[k]
			if !ok {
				continue // pruned away between the two calls
			}
			kept = append(kept, gs)
			fresh[k] = &cachedGroup{count: int64(g.BackupCount), last: int64(g.LastBackup), fetchedAt: now, summary: gs}
		}
		p.groupsDone.Store(int64(len(groups)))
		c.store(key, fresh, p)
		return kept, stats, "", nil
	}

	// Fetch changed groups concurrently: the client bounds the requests,
	// a few workers bound the goroutines (a large namespace with most of
	// its groups changed is read whole, above).
	one := func(j job) {
		var snaps []proxmox.Snapshot
		err := run(func() (err error) {
			snaps, err = api.Snapshots(ctx, datastore, namespace, j.g.BackupType, string(j.g.BackupID))
			return err
		})
		p.records.Add(int64(len(snaps)))
		p.groupsDone.Add(1)
		mu.Lock()
		defer mu.Unlock()
		stats.Records += int64(len(snaps))
		if err != nil {
			if firstErr == nil {
				firstErr = err
				failedAt = "snapshots " + datastore + nsSuffix(namespace) + " " + j.g.BackupType + "/" + string(j.g.BackupID)
			}
			return
		}
		s, ok := summaryOf(snaps, j.g.BackupType, string(j.g.BackupID))
		if !ok {
			return // pruned away between the two calls
		}
		out[j.idx] = s
		present[j.idx] = true
		fresh[groupKey{j.g.BackupType, string(j.g.BackupID)}] = &cachedGroup{
			count: int64(j.g.BackupCount), last: int64(j.g.LastBackup), fetchedAt: now, summary: s,
		}
	}
	jobs := make(chan job)
	worker := func() {
		defer wg.Done()
		for j := range jobs {
			one(j)
		}
	}
	for range min(len(todo), snapshotWorkers) {
		wg.Add(1)
		go worker()
	}
	for _, j := range todo {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	stats.Fetched = len(todo)

	// Store what we read even when one group failed: the next scrape then
	// refetches only what is still missing. The failed scrape itself
	// reports the repository down.
	c.store(key, fresh, p)

	if firstErr != nil {
		return nil, stats, failedAt, firstErr
	}
	kept := out[:0]
	for i, s := range out {
		if present[i] {
			kept = append(kept, s)
		}
	}
	return kept, stats, "", nil
}

// store replaces a namespace's cached groups with fresh, unless the read
// was a warm-up given up (its target dropped, or overdue).
func (c *pbsCache) store(key nsKey, fresh map[groupKey]*cachedGroup, p *fillProgress) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.abandoned {
		return
	}
	c.groups -= len(c.namespaces[key])
	if c.groups+len(fresh) > c.maxGroups {
		// Over the bound: keep this namespace uncached rather than evict
		// others at random; a warm cache for most beats churn for all.
		delete(c.namespaces, key)
		return
	}
	c.namespaces[key] = fresh
	c.groups += len(fresh)
}

// summaryOf summarises one group's snapshots; ok is false when the listing
// holds none of the group (it was pruned after the groups call).
func summaryOf(snaps []proxmox.Snapshot, backupType, backupID string) (dedup.GroupSummary, bool) {
	for _, s := range dedup.SummarizeSnapshots(snaps) {
		if s.BackupType == backupType && s.BackupID == backupID {
			return s, true
		}
	}
	return dedup.GroupSummary{}, false
}

// valid reports whether a cached group can be reused for this scrape.
func (c *pbsCache) valid(e *cachedGroup, ns nsKey, k groupKey, g proxmox.BackupGroup, now time.Time) bool {
	if e.count != int64(g.BackupCount) || e.last != int64(g.LastBackup) || e.summary.InProgress {
		return false
	}
	return !c.refreshDue(ns, k, e.fetchedAt, now)
}

// refreshDue reports whether the group's refresh time (phase + n *
// interval) passed since its details were fetched.
func (c *pbsCache) refreshDue(ns nsKey, k groupKey, fetched, now time.Time) bool {
	if c.refresh <= 0 {
		return true
	}
	phase := c.phase(ns, k)
	slot := func(t time.Time) int64 { return (t.UnixNano() - int64(phase)) / int64(c.refresh) }
	return slot(now) > slot(fetched) || now.Sub(fetched) >= c.refresh
}

// phase is the group's offset in the refresh interval, derived from a hash
// of its key: deterministic (tests can predict it, restarts keep it) and
// spread evenly.
func (c *pbsCache) phase(ns nsKey, k groupKey) time.Duration {
	h := fnv.New64a()
	for _, s := range []string{ns.target, ns.datastore, ns.namespace, k.backupType, k.backupID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return time.Duration(h.Sum64() % uint64(c.refresh))
}

// retain drops every namespace of the given targets that is not in keep.
// Called after a scrape with the namespaces the plan named, for targets
// whose inventory was read (so an offline PBS keeps its cache for when it
// comes back, while deleted namespaces and datastores are forgotten).
func (c *pbsCache) retain(targets map[string]bool, keep map[nsKey]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, groups := range c.namespaces {
		if targets[k.target] && !keep[k] {
			c.groups -= len(groups)
			delete(c.namespaces, k)
		}
	}
	for k := range c.warmedUp {
		if targets[k.target] && !keep[k] {
			delete(c.warmedUp, k)
		}
	}
}

// dropTarget forgets a target entirely (removed or changed by a reload).
func (c *pbsCache) dropTarget(target string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopFills(target)
	for k, groups := range c.namespaces {
		if k.target == target {
			c.groups -= len(groups)
			delete(c.namespaces, k)
		}
	}
}

// size returns the number of cached groups.
func (c *pbsCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.groups
}

func nsSuffix(ns string) string {
	if ns == "" {
		return ""
	}
	return "/" + ns
}
