package collector

import (
	"context"
	"strings"
	"sync"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
)

// Listings start before the scrape's plan is final (see fetch): PBS
// namespaces as soon as every PBS inventory is in (dedup.PlanPBS), PVE
// content listings as soon as the plan is built from every target's
// planning inventory. Once the inventories are done, the plan (built again
// only if a cluster's guest listing failed, which takes it down) takes the
// listings it names from here and starts any it names that are not.
// Failures are recorded on their target only when the plan uses the
// listing, so a listing it drops neither counts nor shows.

// listing is one listing in flight or done.
type listing[T any] struct {
	done   chan struct{}
	cancel context.CancelFunc
	val    T
	// record notes the listing's failures on its target.
	record func()
	used   bool
}

func (l *listing[T]) wait() T {
	<-l.done
	return l.val
}

// pbsRead is the outcome of one namespace read through the group cache.
type pbsRead struct {
	groups   []dedup.GroupSummary
	stats    cacheStats
	endpoint string
	err      error
	// warming is set, and the rest empty, while the namespace's first
	// complete read goes on past the scrape (warmup.go).
	warming *warmup
}

type pveKey struct {
	cluster, storage, nodes string
	fallback                bool
}

// listingSet holds the listings of one scrape.
type listingSet struct {
	mu  sync.Mutex
	wg  sync.WaitGroup
	pve map[pveKey]*listing[dedup.PVEResult]
	pbs map[nsKey]*listing[pbsRead]
}

func newListingSet() *listingSet {
	return &listingSet{pve: map[pveKey]*listing[dedup.PVEResult]{}, pbs: map[nsKey]*listing[pbsRead]{}}
}

func pveKeyOf(cluster string, l dedup.PVEListing, fallback bool) pveKey {
	return pveKey{cluster, l.Storage, strings.Join(l.Nodes, "\x00"), fallback}
}

// startPVE starts a content listing unless it runs already, and returns it.
// cluster is the listing's cluster target as the final plan will name it.
func (ls *listingSet) startPVE(s *scrape, cd *clusterData, cluster string, l dedup.PVEListing, fallback bool) *listing[dedup.PVEResult] {
	k := pveKeyOf(cluster, l, fallback)
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if f := ls.pve[k]; f != nil {
		return f
	}
	ctx, cancel := context.WithCancel(cd.ctx)
	f := &listing[dedup.PVEResult]{done: make(chan struct{}), cancel: cancel}
	ls.pve[k] = f
	ls.wg.Go(func() {
		defer close(f.done)
		f.val, f.record = s.listPVE(ctx, cd, l, fallback)
	})
	return f
}

// startPBS starts a namespace read unless it runs already, and returns it.
func (ls *listingSet) startPBS(s *scrape, pd *pbsData, datastore, namespace string) *listing[pbsRead] {
	k := nsKey{pd.t.name, datastore, namespace}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if f := ls.pbs[k]; f != nil {
		return f
	}
	ctx, cancel := context.WithCancel(pd.ctx)
	f := &listing[pbsRead]{done: make(chan struct{}), cancel: cancel, record: func() {}}
	ls.pbs[k] = f
	ls.wg.Go(func() {
		defer close(f.done)
		f.val = s.c.pbsCache.readWarming(ctx, pd.t.pbs,
			func(fn func() error) error { return pd.run.call(fn) }, pd.t.name, datastore, namespace, s.now)
	})
	return f
}

// use marks a listing as taken by the final plan.
func (ls *listingSet) usePVE(f *listing[dedup.PVEResult]) {
	ls.mu.Lock()
	f.used = true
	ls.mu.Unlock()
}

func (ls *listingSet) usePBS(f *listing[pbsRead]) {
	ls.mu.Lock()
	f.used = true
	ls.mu.Unlock()
}

// finish cancels the listings the final plan did not take and waits for
// every listing to end, so none outlives the scrape.
func (ls *listingSet) finish() {
	ls.mu.Lock()
	for _, f := range ls.pve {
		if !f.used {
			f.cancel()
		}
	}
	for _, f := range ls.pbs {
		if !f.used {
			f.cancel()
		}
	}
	ls.mu.Unlock()
	ls.wg.Wait()
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for _, f := range ls.pve {
		f.cancel()
	}
	for _, f := range ls.pbs {
		f.cancel()
	}
}
