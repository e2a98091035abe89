package collector

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// gatedSnapshots holds every namespace-wide snapshot listing until gate
// closes (or its context ends): a PBS still reading a large namespace.
type gatedSnapshots struct {
	pbsAPI
	gate chan struct{}
}

func (g *gatedSnapshots) EachSnapshot(ctx context.Context, store, ns string, fn func(proxmox.Snapshot)) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.pbsAPI.EachSnapshot(ctx, store, ns, fn)
}

// waitFills waits until no warm-up runs.
func waitFills(c *pbsCache) {
	c.mu.Lock()
	fills := make([]*fill, 0, len(c.fills))
	for _, f := range c.fills {
		fills = append(fills, f)
	}
	c.mu.Unlock()
	for _, f := range fills {
		<-f.done
	}
}

const labRepo = `repository="pbs1:store1/lab"`

// TestWarmupIsNotAnOutage: a cold namespace whose first read outlasts the
// scrape is warming, not down: no repository_up, no failure logged or
// counted, the target up, its guests' counts absent (unknown), the
// progress on /metrics and /status; the read goes on in the background,
// and the next scrape has the data without reading it again.
func TestWarmupIsNotAnOutage(t *testing.T) {
	l := startLab(t, labModel(), Options{Logger: quietLogger()})
	gate := make(chan struct{})
	l.wrap(nil, func(api pbsAPI) pbsAPI { return &gatedSnapshots{pbsAPI: api, gate: gate} })

	body := l.scrape(t, 2*time.Second)
	expectLines(t, body, "proxmox_backup_repository_warming", `proxmox_backup_repository_warming{`+labRepo+`} 1`)
	expectLines(t, body, "proxmox_backup_repository_warmup_records_read", `proxmox_backup_repository_warmup_records_read{`+labRepo+`} 0`)
	expectLines(t, body, "proxmox_backup_repository_warmup_records_expected", `proxmox_backup_repository_warmup_records_expected{`+labRepo+`} 4`)
	if got := series(body, `proxmox_backup_repository_up{`+labRepo); len(got) != 0 {
		t.Errorf("repository_up of a warming repository: %v", got)
	}
	expectLines(t, body, `proxmox_backup_target_up{kind="pbs"`, `proxmox_backup_target_up{kind="pbs",target="pbs1"} 1`)
	for _, line := range series(body, `proxmox_backup_target_errors_total{kind="pbs"`) {
		if !strings.HasSuffix(line, " 0") {
			t.Errorf("warming counted as an error: %s", line)
		}
	}
	// vm/100 has backups in the warming repository: its count is unknown.
	if got := series(body, `proxmox_backup_guest_snapshots{backup_id="100"`); len(got) != 0 {
		t.Errorf("guest count while its repository warms: %v", got)
	}
	st := l.coll.status(l.coll.last.Load())
	for _, tg := range st.Targets {
		if tg.Kind == "pbs" && (len(tg.Failures) > 0 || !tg.Up) {
			t.Errorf("PBS target while warming: up %v, failures %+v", tg.Up, tg.Failures)
		}
	}
	found := false
	for _, r := range st.Repositories {
		if r.Name == "pbs1:store1/lab" {
			found = true
			if r.State() != "warming" || r.Warming.RecordsExpected != 4 || r.Warming.Groups != 3 {
				t.Errorf("status of the warming repository: %s %+v", r.State(), r.Warming)
			}
		}
	}
	if !found {
		t.Fatal("warming repository missing from /status")
	}
	var text strings.Builder
	if err := (Report{Status: st, OK: true}).WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "warming (0 of 4 records, 0 of 3 groups)") {
		t.Errorf("--check does not show the warm-up's progress:\n%s", text.String())
	}

	close(gate)
	waitFills(l.coll.pbsCache)
	l.srv.ResetRequests()
	l.advance(time.Minute)
	body = l.scrape(t, 2*time.Second)
	expectLines(t, body, `proxmox_backup_repository_up{`+labRepo, `proxmox_backup_repository_up{`+labRepo+`} 1`)
	if got := series(body, "proxmox_backup_repository_warming"); len(got) != 0 {
		t.Errorf("still warming after the read finished: %v", got)
	}
	if got := series(body, `proxmox_backup_guest_snapshots{backup_id="100"`); len(got) != 1 {
		t.Errorf("guest vm/100 after the warm-up: %v", got)
	}
	if n := l.srv.CountRequests("/admin/datastore/{store}/snapshots"); n != 0 {
		t.Errorf("the scrape after the warm-up read %d snapshot listings, want 0 (the background read filled the cache)", n)
	}
}

// TestWarmupOverdueIsDown: a warm-up past its allowance (a PBS that never
// answers) is a timeout like any other: the repository is down and the
// failure counted, and later reads of it run within the scrape.
func TestWarmupOverdueIsDown(t *testing.T) {
	l := startLab(t, labModel(), Options{Logger: quietLogger()})
	gate := make(chan struct{})
	defer close(gate)
	l.wrap(nil, func(api pbsAPI) pbsAPI { return &gatedSnapshots{pbsAPI: api, gate: gate} })
	l.coll.pbsCache.warmupBase = time.Hour
	body := l.scrape(t, 2*time.Second)
	expectLines(t, body, "proxmox_backup_repository_warming", `proxmox_backup_repository_warming{`+labRepo+`} 1`)

	failures := func() string {
		msg := ""
		for _, tg := range l.coll.status(l.coll.last.Load()).Targets {
			for _, f := range tg.Failures {
				msg += f.Message + "\n"
			}
		}
		return msg
	}
	l.coll.pbsCache.warmupBase, l.coll.pbsCache.warmupPerRecord = 0, 0
	for i := range 2 {
		if i == 1 {
			if msg := failures(); !strings.Contains(msg, "first read not done after 0s (0 of 4 snapshot records read)") {
				t.Errorf("the overdue warm-up: failures %q", msg)
			}
		}
		body = l.scrape(t, 2*time.Second)
		expectLines(t, body, `proxmox_backup_repository_up{`+labRepo, `proxmox_backup_repository_up{`+labRepo+`} 0`)
		if got := series(body, "proxmox_backup_repository_warming"); len(got) != 0 {
			t.Errorf("scrape %d: overdue warm-up still warming: %v", i+2, got)
		}
		expectLines(t, body, `proxmox_backup_target_errors_total{kind="pbs",reason="timeout"`,
			`proxmox_backup_target_errors_total{kind="pbs",reason="timeout",target="pbs1"} `+itoa(int64(i+1)))
	}
	if msg := failures(); !strings.Contains(msg, "no answer before the scrape deadline") {
		t.Errorf("the read within the scrape after an overdue warm-up: failures %q", msg)
	}
	l.coll.pbsCache.mu.Lock()
	n := len(l.coll.pbsCache.fills)
	l.coll.pbsCache.mu.Unlock()
	if n != 0 {
		t.Errorf("%d warm-ups still running after the overdue one was given up", n)
	}
}

// TestWarmupOnlyOnce: a namespace warms up once; after that it is read
// within the scrape, also when the cache's bound keeps it uncached (else
// a namespace over the bound would be warming for ever).
func TestWarmupOnlyOnce(t *testing.T) {
	f := &fakeGroups{snaps: map[groupKey][]proxmox.Snapshot{
		{"vm", "1"}: {snap("vm", "1", 1, "")}, {"vm", "2"}: {snap("vm", "2", 1, "")},
	}}
	c := newPBSCache(time.Hour, 1)
	now := time.Unix(1_700_000_000, 0)
	r := c.readWarming(context.Background(), f, direct, "p", "s", "", now)
	if r.err != nil || r.warming != nil || len(r.groups) != 2 {
		t.Fatalf("warm-up: %+v", r)
	}
	if c.size() != 0 {
		t.Fatalf("cache holds %d groups over a bound of 1", c.size())
	}
	// A scrape already out of time: a read within it still answers (the
	// fake ignores the context), a warm-up would not.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = c.readWarming(ctx, f, direct, "p", "s", "", now)
	if r.err != nil || r.warming != nil || len(r.groups) != 2 {
		t.Fatalf("after the warm-up, over the bound: %+v", r)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.fills) != 0 {
		t.Fatalf("%d warm-ups started after the first", len(c.fills))
	}
}

// gatedGroups holds the namespace-wide listing of a fakeGroups until gate
// closes.
type gatedGroups struct {
	*fakeGroups
	gate chan struct{}
}

func (g gatedGroups) EachSnapshot(ctx context.Context, store, ns string, fn func(proxmox.Snapshot)) error {
	<-g.gate
	return g.fakeGroups.EachSnapshot(ctx, store, ns, fn)
}

// TestWarmupOfADroppedTarget: a warm-up of a target a reload dropped is
// given up, and what it still reads is not cached (nothing would ever
// forget it).
func TestWarmupOfADroppedTarget(t *testing.T) {
	f := gatedGroups{&fakeGroups{snaps: map[groupKey][]proxmox.Snapshot{
		{"vm", "1"}: {snap("vm", "1", 1, "")}, {"vm", "2"}: {snap("vm", "2", 1, "")},
	}}, make(chan struct{})}
	c := newPBSCache(time.Hour, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the scrape gives up at once
	r := c.readWarming(ctx, f, direct, "p", "s", "", time.Unix(1_700_000_000, 0))
	if r.warming == nil {
		t.Fatalf("not warming: %+v", r)
	}
	c.mu.Lock()
	var running *fill
	for _, fl := range c.fills {
		running = fl
	}
	c.mu.Unlock()
	c.dropTarget("p")
	close(f.gate)
	<-running.done
	if c.size() != 0 {
		t.Fatalf("the dropped target's warm-up cached %d groups", c.size())
	}
}
