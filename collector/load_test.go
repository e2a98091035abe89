package collector

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// Load (issue 8): concurrent scrapes share one upstream fetch, and no
// target ever has more requests in flight than its bound.

// TestTwentyConcurrentScrapes: 20 scrapes arriving together (Prometheus
// replicas, dashboards, a curl) all get the full answer, and the upstream
// sees exactly the requests of one warm scrape. Run with -race.
func TestTwentyConcurrentScrapes(t *testing.T) {
	e := startEnv(t, envSpec{opts: Options{Logger: quietLogger()}})
	e.mustScrape(5 * time.Second) // cold: fills the PBS and task-log caches
	e.srv.ResetRequests()
	single := e.mustScrape(5 * time.Second)
	want := e.srv.RequestCounts()
	if len(want) == 0 {
		t.Fatal("a warm scrape made no request")
	}

	// Hold the fetch on one slow inventory call, so that every scrape
	// arrives while it is in flight (with a wide margin for a loaded CI
	// machine: the scrapes start together, within milliseconds).
	e.srv.ResetRequests()
	e.srv.SetFault(emulator.Fault{Target: pveTarget, PathPrefix: "/cluster/resources", Kind: emulator.Slow, Delay: 2 * time.Second})
	// A scrape joins the gathering in flight (gather.go) or, failing
	// that, the fetch in flight.
	joins := func() int64 {
		return e.coll.flights.joined.Load() + e.handler.(*metricsHandler).g.flights.joined.Load()
	}
	joinedBefore := joins()
	const n = 20
	answers := make([]scrapeAnswer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			answers[i] = e.scrape(10 * time.Second)
		})
	}
	close(start)
	wg.Wait()

	if joined := joins() - joinedBefore; joined != n-1 {
		t.Errorf("%d of %d scrapes joined the gathering or fetch in flight, want %d", joined, n, n-1)
	}
	if got := e.srv.RequestCounts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%d concurrent scrapes made these requests:\n%v\nwant those of one scrape:\n%v", n, got, want)
	}
	base := parseExposition(single.body)
	for i, a := range answers {
		if a.code != 200 {
			t.Fatalf("scrape %d: HTTP %d", i, a.code)
		}
		if d := diffExpositions(base, parseExposition(a.body)); len(d) > 0 {
			t.Errorf("scrape %d differs from a lone scrape: %v", i, d)
		}
		if a.body != answers[0].body {
			t.Errorf("scrape %d differs from scrape 0: coalesced scrapes must export the same result", i)
		}
	}
}

// TestRequestsPerTargetBounded: however many listings a scrape needs (a
// cold scrape reads every PBS group's snapshots and every job log), the
// requests in flight to one target never exceed its max_concurrency; a
// --check run at the same time shares the scrape's fetch rather than
// adding its own requests.
func TestRequestsPerTargetBounded(t *testing.T) {
	for _, bound := range []int{1, 4} {
		t.Run(fmt.Sprint("max_concurrency=", bound), func(t *testing.T) {
			e := startEnv(t, envSpec{
				opts: Options{Logger: quietLogger()},
				tweak: func(_ *env, cfg *config.Config) {
					for i := range cfg.PVE {
						cfg.PVE[i].MaxConcurrency = bound
					}
					for i := range cfg.PBS {
						cfg.PBS[i].MaxConcurrency = bound
					}
				},
			})
			// Every request is slow, so requests pile up on the bound.
			for _, target := range []string{pveTarget, pbsTarget} {
				e.srv.SetFault(emulator.Fault{Target: target, Kind: emulator.Slow, Delay: 50 * time.Millisecond})
			}
			var wg sync.WaitGroup
			wg.Go(func() { e.mustScrape(30 * time.Second) })
			wg.Go(func() { e.check(30 * time.Second) })
			wg.Wait()
			for _, target := range []string{pveTarget, pbsTarget} {
				got := e.srv.MaxInFlight(target)
				if got > bound {
					t.Errorf("%s: %d requests in flight at once, bound %d", target, got, bound)
				}
				if got < bound {
					// The scrape has far more independent requests than the
					// bound: fewer in flight means the bound is not what
					// limits (and the test would prove nothing).
					t.Errorf("%s: at most %d requests in flight, want the bound %d reached", target, got, bound)
				}
			}
		})
	}
}
