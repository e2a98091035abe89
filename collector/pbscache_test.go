package collector

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// fakeGroups is a PBS namespace for the cache tests: snapshots per group,
// and a log of the snapshot listings asked for.
type fakeGroups struct {
	mu        sync.Mutex
	snaps     map[groupKey][]proxmox.Snapshot
	groupsErr error
	calls     []string // "type/id", or "*" for an unfiltered listing
}

func (f *fakeGroups) Groups(_ context.Context, _, _ string) ([]proxmox.BackupGroup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.groupsErr != nil {
		return nil, f.groupsErr
	}
	var out []proxmox.BackupGroup
	for k, ss := range f.snaps {
		var last int64
		for _, s := range ss {
			if s.Size != nil && int64(s.BackupTime) > last {
				last = int64(s.BackupTime)
			}
		}
		out = append(out, proxmox.BackupGroup{BackupType: k.backupType, BackupID: proxmox.String(k.backupID),
			BackupCount: proxmox.Int(len(ss)), LastBackup: proxmox.Int(last)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].BackupID < out[j].BackupID })
	return out, nil
}

func (f *fakeGroups) Snapshots(_ context.Context, _, _, typ, id string) ([]proxmox.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if typ == "" {
		f.calls = append(f.calls, "*")
		var all []proxmox.Snapshot
		for _, ss := range f.snaps {
			all = append(all, ss...)
		}
		return all, nil
	}
	f.calls = append(f.calls, typ+"/"+id)
	return append([]proxmox.Snapshot(nil), f.snaps[groupKey{typ, id}]...), nil
}

func (f *fakeGroups) EachSnapshot(ctx context.Context, store, ns string, fn func(proxmox.Snapshot)) error {
	all, err := f.Snapshots(ctx, store, ns, "", "")
	for _, s := range all {
		fn(s)
	}
	return err
}

func (f *fakeGroups) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	sort.Strings(c)
	return c
}

func snap(typ, id string, t int64, verify string) proxmox.Snapshot {
	size := proxmox.Int(1000 + t%7)
	s := proxmox.Snapshot{BackupType: typ, BackupID: proxmox.String(id), BackupTime: proxmox.Int(t), Size: &size}
	if verify != "" {
		s.Verification = &proxmox.Verification{State: verify}
	}
	return s
}

func direct(fn func() error) error { return fn() }

// TestPBSCacheIncremental walks a group through the changes issue 5 names
// and checks both what is fetched and what is returned.
func TestPBSCacheIncremental(t *testing.T) {
	const refresh = time.Hour
	f := &fakeGroups{snaps: map[groupKey][]proxmox.Snapshot{
		{"vm", "100"}: {snap("vm", "100", 1000, "ok"), snap("vm", "100", 2000, "ok")},
		{"ct", "101"}: {snap("ct", "101", 1500, "")},
	}}
	c := newPBSCache(refresh, 0)
	t0 := time.Unix(1_700_000_000, 0)
	read := func(now time.Time) map[string]dedup.GroupSummary {
		t.Helper()
		got, _, _, err := c.read(context.Background(), f, direct, "pbs1", "store1", "", now)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]dedup.GroupSummary{}
		for _, g := range got {
			out[g.BackupType+"/"+g.BackupID] = g
		}
		return out
	}
	expectCalls := func(step string, want ...string) {
		t.Helper()
		got := f.takeCalls()
		sort.Strings(want)
		if len(got) != len(want) {
			t.Fatalf("%s: snapshot listings %v, want %v", step, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: snapshot listings %v, want %v", step, got, want)
			}
		}
	}

	g := read(t0)
	expectCalls("cold", "*") // one listing of the namespace (wholeNamespace)
	if n := len(g["vm/100"].Times); n != 2 {
		t.Fatalf("cold: vm/100 has %d points, want 2", n)
	}

	g = read(t0.Add(time.Minute))
	expectCalls("warm")
	if len(g) != 2 || g["vm/100"].LastVerification != dedup.VerificationOK {
		t.Fatalf("warm: got %+v", g)
	}

	// New backup of vm/100: only that group is refetched.
	f.mu.Lock()
	f.snaps[groupKey{"vm", "100"}] = append(f.snaps[groupKey{"vm", "100"}], snap("vm", "100", 3000, ""))
	f.mu.Unlock()
	g = read(t0.Add(2 * time.Minute))
	expectCalls("new backup", "vm/100")
	if n := len(g["vm/100"].Times); n != 3 || g["vm/100"].LastVerification != dedup.VerificationNone {
		t.Fatalf("new backup: got %+v", g["vm/100"])
	}

	// Pruned backup (count changes, last stays).
	f.mu.Lock()
	f.snaps[groupKey{"vm", "100"}] = f.snaps[groupKey{"vm", "100"}][1:]
	f.mu.Unlock()
	g = read(t0.Add(3 * time.Minute))
	expectCalls("pruned", "vm/100")
	if n := len(g["vm/100"].Times); n != 2 || g["vm/100"].Times[0] != 2000 {
		t.Fatalf("pruned: got %+v", g["vm/100"])
	}

	// Verification flips without a new backup: invisible until the TTL,
	// seen after it.
	f.mu.Lock()
	ss := f.snaps[groupKey{"ct", "101"}]
	ss[0].Verification = &proxmox.Verification{State: "failed"}
	f.mu.Unlock()
	g = read(t0.Add(4 * time.Minute))
	expectCalls("verification before ttl")
	if g["ct/101"].LastVerification != dedup.VerificationNone {
		t.Fatalf("cached state changed before the TTL: %+v", g["ct/101"])
	}
	g = read(t0.Add(refresh + time.Minute))
	if g["ct/101"].LastVerification != dedup.VerificationFailed || g["ct/101"].VerifyFailed != 1 {
		t.Fatalf("after ttl: got %+v", g["ct/101"])
	}
	// Both groups fell due: one listing of the namespace reads them.
	if calls := f.takeCalls(); !contains(calls, "ct/101") && !contains(calls, "*") {
		t.Fatalf("after ttl: ct/101 not refetched (%v)", calls)
	}

	// In progress: refetched on every scrape until it finishes.
	f.mu.Lock()
	f.snaps[groupKey{"ct", "101"}] = append(f.snaps[groupKey{"ct", "101"}],
		proxmox.Snapshot{BackupType: "ct", BackupID: "101", BackupTime: 5000})
	f.mu.Unlock()
	for i := range 2 {
		g = read(t0.Add(refresh + time.Duration(2+i)*time.Minute))
		expectCalls("in progress", "ct/101")
		if !g["ct/101"].InProgress {
			t.Fatalf("in progress not reported: %+v", g["ct/101"])
		}
	}

	// Group deleted: gone from the result and from the cache.
	f.mu.Lock()
	delete(f.snaps, groupKey{"vm", "100"})
	f.mu.Unlock()
	before := c.size()
	g = read(t0.Add(refresh + 5*time.Minute))
	if _, ok := g["vm/100"]; ok || c.size() != before-1 {
		t.Fatalf("deleted group still there: %v, cache %d -> %d", g, before, c.size())
	}
	for _, call := range f.takeCalls() {
		if call == "*" {
			t.Fatal("an unfiltered snapshot listing was made")
		}
	}
}

// TestPBSCacheListingByCost: small or large, read for the first time or
// after every group changed, a namespace is read with one listing of
// every snapshot; when one group of many changed, with one listing of that
// group; and the cache holds every point of every group either way.
func TestPBSCacheListingByCost(t *testing.T) {
	many := func(id string, n int) []proxmox.Snapshot {
		out := make([]proxmox.Snapshot, n)
		for i := range out {
			out[i] = snap("vm", id, int64(1000+i), "ok")
		}
		return out
	}
	t0 := time.Unix(1_700_000_000, 0)
	for _, perGroup := range []int{1, 3, 6000} {
		f := &fakeGroups{snaps: map[groupKey][]proxmox.Snapshot{}}
		for i := range 20 {
			id := itoa(int64(i + 1))
			f.snaps[groupKey{"vm", id}] = many(id, perGroup)
		}
		// No verification refresh falls due within the test.
		c := newPBSCache(1000*time.Hour, 0)
		read := func(now time.Time, want string) {
			t.Helper()
			got, _, _, err := c.read(context.Background(), f, direct, "p", "s", "", now)
			if err != nil || len(got) != 20 {
				t.Fatalf("%d per group: %d groups, %v", perGroup, len(got), err)
			}
			for _, g := range got {
				if want := len(f.snaps[groupKey{g.BackupType, g.BackupID}]); len(g.Times) != want {
					t.Fatalf("%d per group: %s has %d points, want %d", perGroup, g.BackupID, len(g.Times), want)
				}
			}
			if calls := f.takeCalls(); strings.Join(calls, ",") != want {
				t.Fatalf("%d per group: snapshot listings %v, want %s", perGroup, calls, want)
			}
		}
		read(t0, "*")
		next := int64(999_999)
		change := func(ids ...string) {
			f.mu.Lock()
			defer f.mu.Unlock()
			next++
			for k, ss := range f.snaps {
				if len(ids) == 0 || slices.Contains(ids, k.backupID) {
					f.snaps[k] = append(ss, snap("vm", k.backupID, next, ""))
				}
			}
		}
		change("7")
		read(t0.Add(time.Minute), "vm/7")
		change()
		read(t0.Add(2*time.Minute), "*")
	}
}

// TestWholeNamespaceRule: one listing of the namespace when it costs less
// than a listing per changed group, counting a request as
// requestCostRecords records.
func TestWholeNamespaceRule(t *testing.T) {
	for _, tc := range []struct {
		todo                    int
		todoRecords, allRecords int64
		want                    bool
	}{
		{0, 0, 100_000, false},         // nothing to read
		{1, 50, 100_000, false},        // one group: its own listing
		{2000, 100_000, 100_000, true}, // cold start
		{100, 5_000, 100_000, false},   // 5 % changed: 25,000+5,000 < 250+100,000
		{400, 20_000, 100_000, true},   // 20 %: 120,000 > 100,250
		{2, 12_000, 12_000, true},      // two huge groups, nothing else
		{3, 300, 1_000_000, false},     // three changed of a million
		{2000, 1_000_000, 1_000_000, true},
	} {
		if got := wholeNamespace(tc.todo, tc.todoRecords, tc.allRecords); got != tc.want {
			t.Errorf("wholeNamespace(%d groups, %d of %d records) = %v, want %v", tc.todo, tc.todoRecords, tc.allRecords, got, tc.want)
		}
	}
}

// TestPBSCacheGroupsFailure: a namespace whose groups call fails is down,
// with no cached data passed off as fresh.
func TestPBSCacheGroupsFailure(t *testing.T) {
	f := &fakeGroups{snaps: map[groupKey][]proxmox.Snapshot{{"vm", "100"}: {snap("vm", "100", 1000, "ok")}}}
	c := newPBSCache(time.Hour, 0)
	now := time.Unix(1_700_000_000, 0)
	if _, _, _, err := c.read(context.Background(), f, direct, "p", "s", "ns", now); err != nil {
		t.Fatal(err)
	}
	f.groupsErr = errors.New("boom")
	got, _, endpoint, err := c.read(context.Background(), f, direct, "p", "s", "ns", now)
	if err == nil || got != nil || endpoint == "" {
		t.Fatalf("groups failure: got %v, endpoint %q, err %v", got, endpoint, err)
	}
}

// TestPBSCacheRefreshSpread: groups read together on a cold start are
// refreshed at an even rate from the next scrape on, each exactly once per
// refresh interval, never all on one scrape, and deterministically.
func TestPBSCacheRefreshSpread(t *testing.T) {
	const (
		refresh  = time.Hour
		interval = time.Minute
		groups   = 3000
	)
	c := newPBSCache(refresh, 0)
	ns := nsKey{"pbs1", "store1", ""}
	t0 := time.Unix(1_700_000_000, 0)
	fetched := make([]time.Time, groups)
	for i := range fetched {
		fetched[i] = t0
	}
	refreshes := make([]int, groups)
	var perScrape []int
	for now := t0.Add(interval); !now.After(t0.Add(3 * refresh)); now = now.Add(interval) {
		n := 0
		for i := range fetched {
			k := groupKey{"vm", itoa(int64(100 + i))}
			if c.refreshDue(ns, k, fetched[i], now) {
				if age := now.Sub(fetched[i]); age > refresh {
					t.Fatalf("group %d refreshed %v after its last read, more than the interval", i, age)
				}
				fetched[i] = now
				refreshes[i]++
				n++
			}
			if first, again := c.refreshDue(ns, k, fetched[i], now), c.refreshDue(ns, k, fetched[i], now); first != again {
				t.Fatal("not deterministic")
			}
		}
		perScrape = append(perScrape, n)
	}
	for i, r := range refreshes {
		if r != 3 {
			t.Fatalf("group %d refreshed %d times in 3 intervals, want 3", i, r)
		}
	}
	// groups * interval / refresh = 50 per scrape on average; a uniform
	// spread stays well within twice that on every scrape.
	for i, n := range perScrape {
		if n > 100 {
			t.Fatalf("scrape %d refreshed %d groups (average 50)", i+1, n)
		}
	}
	if perScrape[0] == 0 {
		t.Fatal("refreshes do not start on the first scrape after the cold one")
	}
}

// TestPBSCacheBound: over the bound a namespace is read but not cached.
func TestPBSCacheBound(t *testing.T) {
	f := &fakeGroups{snaps: map[groupKey][]proxmox.Snapshot{
		{"vm", "1"}: {snap("vm", "1", 1, "")}, {"vm", "2"}: {snap("vm", "2", 1, "")},
	}}
	c := newPBSCache(time.Hour, 1)
	now := time.Unix(1_700_000_000, 0)
	for range 2 {
		got, _, _, err := c.read(context.Background(), f, direct, "p", "s", "", now)
		if err != nil || len(got) != 2 {
			t.Fatalf("got %v, %v", got, err)
		}
	}
	if c.size() != 0 {
		t.Fatalf("cache holds %d groups over a bound of 1", c.size())
	}
	if calls := f.takeCalls(); strings.Join(calls, ",") != "*,*" {
		t.Fatalf("listings %v, want two of the whole namespace (uncached namespace read in full twice)", calls)
	}
}
