package collector

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Warm-up (issue 15): the first complete read of a PBS namespace (after a
// start, a reload that changed the target, or for a new namespace) can
// take longer than a scrape: a million snapshots are minutes of PBS work.
// It runs in the background past the scrape's deadline (at most
// maxWarmup), and every scrape until it is done reports the repository as
// warming: neither up nor down (no repository_up, no failure logged or
// counted, its guests' counts absent because unknown), with the progress
// in proxmox_backup_repository_warmup_*, on /status and in --check. A
// scrape that finds the read running waits for it (up to its own deadline)
// instead of starting another. A warm-up that fails, or that outlasts its
// allowance (a hung PBS), is a failure like any other: the repository is
// down, and the next read of the namespace runs within the scrape again.
// Reads of a namespace read completely before run within the scrape, as
// always.
//
// A scrape waits for a warm-up until a fifth of its time is left
// (warmupReserve), for the merge and the exposition.
//
// The allowance cannot come from progress: PBS builds a snapshot listing
// whole before it sends the first byte, so a listing that takes minutes
// shows no progress until it is done. It comes from the work announced:
// warmupBase plus warmupPerRecord per snapshot of the groups listing (a
// public report measured 300 µs per snapshot on a real PBS: a third of
// the allowance), at most maxWarmup.
const (
	warmupReserve   = 0.2
	warmupBase      = time.Minute
	warmupPerRecord = time.Millisecond
	maxWarmup       = 30 * time.Minute
)

// fillProgress counts what a namespace read did and has to do.
type fillProgress struct {
	groups, groupsDone atomic.Int64
	records, expected  atomic.Int64
	// abandoned is set, under pbsCache.mu, when the warm-up is given up:
	// what it still reads is not stored.
	abandoned bool
}

// warmup is a warming repository's progress at the end of a scrape.
type warmup struct {
	// Records are the snapshot records read so far, of Expected (the
	// backup counts of the groups listing; 0 before it answered).
	Records, Expected int64
	// GroupsDone of Groups are summarised.
	GroupsDone, Groups int64
}

// fill is a warm-up read, which outlives the scrape that started it.
type fill struct {
	done     chan struct{}
	cancel   context.CancelFunc
	progress fillProgress
	val      pbsRead
	started  time.Time
}

// allowance is how long the warm-up may run, from the records its groups
// listing announced (0 before it answered).
func (c *pbsCache) allowance(expected int64) time.Duration {
	return min(c.warmupBase+time.Duration(expected)*c.warmupPerRecord, maxWarmup)
}

// readWarming reads a namespace for a scrape; see the comment at the top
// of this file.
func (c *pbsCache) readWarming(ctx context.Context, api pbsGroupAPI, run func(func() error) error,
	target, datastore, namespace string, now time.Time) pbsRead {
	key := nsKey{target, datastore, namespace}
	c.mu.Lock()
	f := c.fills[key]
	if f == nil {
		if _, warm := c.namespaces[key]; warm || c.warmedUp[key] {
			c.mu.Unlock()
			var r pbsRead
			r.groups, r.stats, r.endpoint, r.err = c.read(ctx, api, run, target, datastore, namespace, now)
			return r
		}
		// The request timer of the starting scrape stays in the context:
		// what it records after that scrape is no one's.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), maxWarmup)
		f = &fill{done: make(chan struct{}), cancel: cancel, started: time.Now()}
		c.fills[key] = f
		go func() {
			defer cancel()
			var r pbsRead
			r.groups, r.stats, r.endpoint, r.err = c.readProgress(fctx, api, run, target, datastore, namespace, now, &f.progress)
			f.val = r
			c.mu.Lock()
			if c.fills[key] == f {
				delete(c.fills, key)
				c.warmedUp[key] = true
			}
			c.mu.Unlock()
			close(f.done)
		}()
	}
	c.mu.Unlock()
	// The scrape waits for the warm-up until warmupReserve of its time is
	// left: merging and exposing the estate take time too (0.7 s for the
	// 280,000 series of a million snapshots, 2 s on a busy machine while
	// the warm-up decodes beside them), and a scrape past its deadline is
	// a failed scrape.
	var until <-chan time.Time
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		t := time.NewTimer(left - time.Duration(float64(left)*warmupReserve))
		defer t.Stop()
		until = t.C
	}
	select {
	case <-f.done:
		return f.val
	case <-ctx.Done():
	case <-until:
	}
	// The scrape is over; the read goes on, unless it outlasted its
	// allowance.
	p := &f.progress
	w := &warmup{Records: p.records.Load(), Expected: p.expected.Load(), GroupsDone: p.groupsDone.Load(), Groups: p.groups.Load()}
	allowed := c.allowance(w.Expected)
	if time.Since(f.started) <= allowed {
		return pbsRead{warming: w}
	}
	c.mu.Lock()
	if c.fills[key] == f {
		delete(c.fills, key)
		c.warmedUp[key] = true
		f.progress.abandoned = true
		f.cancel()
	}
	c.mu.Unlock()
	return pbsRead{endpoint: "snapshots " + datastore + nsSuffix(namespace),
		err: warmupOverdue(fmt.Sprintf("first read not done after %v (%d of %d snapshot records read)",
			allowed.Round(time.Second), w.Records, w.Expected))}
}

// warmupOverdue is the failure of a warm-up past its allowance: a timeout
// (errors.Is context.DeadlineExceeded), told in its own words.
type warmupOverdue string

func (e warmupOverdue) Error() string { return string(e) }

// Is makes the failure a timeout for reasonOf.
func (e warmupOverdue) Is(target error) bool { return target == context.DeadlineExceeded }

// stopFills cancels the warm-ups of a target (dropped by a reload).
func (c *pbsCache) stopFills(target string) {
	for k, f := range c.fills {
		if k.target == target {
			f.progress.abandoned = true
			f.cancel()
			delete(c.fills, k)
		}
	}
	for k := range c.warmedUp {
		if k.target == target {
			delete(c.warmedUp, k)
		}
	}
}
