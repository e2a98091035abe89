package collector

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

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

// TestConcurrentScrapesMemory: 20 scrapes arriving together share one
// gathering as they share one fetch, so they peak at no more than twice
// the heap of one scrape. Each would otherwise build every series' metric
// objects of its own. The heap is sampled (runtime/metrics, as
// BenchmarkScrape does); bodies are counted and dropped, as a network
// connection does.
func TestConcurrentScrapesMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a 1,000-guest estate")
	}
	m := emulator.Generate(emulator.GenOptions{NodesPerCluster: 2, Guests: 1000, FilesPerGuest: 2, SnapshotsPerGuest: 5})
	l := startLab(t, m, Options{Logger: quietLogger()})
	h := l.coll.Handler(promhttp.HandlerOpts{})
	scrape := func() {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "60")
		w := &discardWriter{header: http.Header{}}
		h.ServeHTTP(w, r)
		if (w.status != 0 && w.status != http.StatusOK) || w.n < 1<<20 {
			t.Errorf("scrape: HTTP %d, %d bytes", w.status, w.n)
		}
	}
	heap := startHeapSampler()
	defer heap.stop()
	measure := func(n int) uint64 {
		runtime.GC()
		heap.reset()
		base := heap.peak()
		var wg sync.WaitGroup
		for range n {
			wg.Go(scrape)
		}
		wg.Wait()
		return heap.peak() - base
	}
	scrape() // cold: fills the caches
	one := measure(1)
	// Hold the fetch, so that every scrape arrives while it is in flight.
	l.srv.SetFault(emulator.Fault{Target: m.Clusters[0].Name, PathPrefix: "/cluster/resources", Kind: emulator.Slow, Delay: time.Second})
	twenty := measure(20)
	t.Logf("peak heap above the idle heap: one scrape %.1f MiB, 20 concurrent scrapes %.1f MiB",
		float64(one)/(1<<20), float64(twenty)/(1<<20))
	if twenty > 2*one {
		t.Errorf("20 concurrent scrapes peaked at %.1f MiB, more than twice one scrape's %.1f MiB",
			float64(twenty)/(1<<20), float64(one)/(1<<20))
	}
}
