package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// BenchmarkGrowth is issue 15's growth ladder: 20k, 100k, 400k and 1M PBS
// snapshots (2,000 to 10,000 guests in one namespace) on the emulator's
// cost model, 5 ms per request and 20 µs per listed snapshot:
//
//	go test -run '^$' -bench BenchmarkGrowth -benchtime 5x -v ./collector/
//
// It runs with -bench only (make bench), never in go test; the 1M rung
// takes minutes of the machine (PBE_GROWTH=20k,100k picks rungs). Per rung:
//
//   - one-listing-ms: reading each namespace once with one streamed
//     listing, through the client, before the exporter runs: the floor of
//     a cold fill; cold-ms and cold/one-listing: the cold scrape (with a
//     30 s scrape timeout, as Prometheus would send) against it; when the
//     cold scrape ends warming, warmup-ms is the time until the
//     background read is done, and cold-warming/cold-down count the
//     repositories warming and down at the end of the cold scrape;
//   - cold-cpu-ms, cold-requests, cold-snapshot-records;
//   - warm scrapes (the clock one minute on each): wall (fetch) next to
//     the slowest single request (wall/slowest), cpu-ms, requests and
//     snapshot records read per scrape (records-% of the estate),
//     cpu-µs/1k-series, refreshed-groups/scrape (groups re-read per
//     scrape: the verification refreshes due, each read as a changed
//     group is);
//   - cold-peak-heap-MiB and cold-peak-rss-MiB over the cold scrape and
//     warm-up, peak-heap-MiB and peak-rss-MiB over the warm scrapes
//     (RSS: the largest resident set since the last reset), live-heap-MiB
//     after them (what the exporter keeps between scrapes), series;
//   - then three pairs of scrapes, one unchanged and one after
//     changed-groups groups got a new backup each: cpu-µs/changed-group,
//     the second's CPU above the first's per changed group.
func BenchmarkGrowth(b *testing.B) {
	const changedPairs = 3
	lat := emulator.Latency{PerRequest: 5 * time.Millisecond, PerItem: 20 * time.Microsecond}
	// changed is how many groups get a new backup between the scrapes
	// that measure a changed group's cost: as many as stay below what
	// wholeNamespace (pbscache.go) reads with one namespace listing, so
	// each is read on its own, as after a normal backup window.
	rungs := []struct {
		name                    string
		guests, perGst, changed int
	}{
		{"20k", 2000, 10, 50},
		{"100k", 2000, 50, 200},
		{"400k", 4000, 100, 500},
		{"1M", 10000, 100, 1000},
	}
	// PBE_GROWTH_HEAPPROFILE=<file> writes a heap profile per rung
	// (writeHeapProfile). PBE_GROWTH_TIMEOUT=<seconds> changes the scrape timeout (30): a
	// shorter one shows a warm-up that outlasts the cold scrape.
	timeout := "30"
	if v := os.Getenv("PBE_GROWTH_TIMEOUT"); v != "" {
		timeout = v
	}
	pick := map[string]bool{}
	for _, r := range strings.Split(os.Getenv("PBE_GROWTH"), ",") {
		if r != "" {
			pick[r] = true
		}
	}
	for _, rung := range rungs {
		if len(pick) > 0 && !pick[rung.name] {
			continue
		}
		b.Run(rung.name, func(b *testing.B) {
			emu := startBenchEmulator(b, emulator.GenOptions{NodesPerCluster: 4, Guests: rung.guests, FilesPerGuest: 2,
				SnapshotsPerGuest: rung.perGst, Latency: lat})
			cfg := emu.config(b)
			oneListing := readEachNamespaceOnce(b, cfg.PBS[0].Name, emu)
			emu.stats(b) // drop the reference listing's counts

			var clock atomic.Int64
			clock.Store(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC).UnixNano())
			c, err := New(cfg, Options{Now: func() time.Time { return time.Unix(0, clock.Load()).UTC() }})
			if err != nil {
				b.Fatal(err)
			}
			handler := c.Handler(promhttp.HandlerOpts{}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			scrape := func() *scrapeResult {
				r := httptest.NewRequest("GET", "/metrics", nil)
				r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", timeout)
				w := &discardWriter{header: http.Header{}}
				handler.ServeHTTP(w, r)
				if w.status != 0 && w.status != http.StatusOK {
					b.Fatalf("scrape: HTTP %d", w.status)
				}
				return c.last.Load()
			}
			heap, rss := startHeapSampler(), startRSSSampler()
			defer heap.stop()
			defer rss.stop()

			cpu0, start := cpuTime(), time.Now()
			cold := scrape()
			coldWall, coldCPU := time.Since(start), cpuTime()-cpu0
			warming, down := len(cold.warming), 0
			for _, st := range cold.merged.RepositoryState {
				if st == "down" {
					down++
				}
			}
			down -= warming // dedup sees a warming repository as down
			waitFills(c.pbsCache)
			warmup := time.Since(start)
			coldHeap, coldRSS := heap.peak(), rss.peak()
			runtime.GC()
			heap.reset()
			rss.reset()
			coldStats := emu.stats(b)
			b.Logf("cold scrape: %v wall (one listing per namespace: %v), %d warming, %d down; per route:\n%s",
				coldWall.Round(time.Millisecond), oneListing.Round(time.Millisecond), warming, down, formatStats(coldStats, 1))

			var cpu, fetch, slowest time.Duration
			n := 0
			b.ResetTimer()
			for b.Loop() {
				clock.Add(int64(benchScrapeInterval))
				t := cpuTime()
				res := scrape()
				cpu += cpuTime() - t
				fetch += res.duration
				slowest += res.slowestRequest()
				n++
			}
			b.StopTimer()
			warmStats := emu.stats(b)
			b.Logf("warm scrapes (%d): per scrape and route:\n%s", n, formatStats(warmStats, n))
			peakHeap, peakRSS := heap.peak(), rss.peak()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			writeHeapProfile(b, os.Getenv("PBE_GROWTH_HEAPPROFILE"), rung.name)

			// What a changed group costs: pairs of scrapes, one with no
			// change and one after rung.changed groups each got a new
			// backup, each scrape after a collection so that both start
			// from the same heap (a warm scrape's CPU varies with where the
			// collector's cycles fall more than with a few groups).
			emu.stats(b)
			var plainCPU, changedCPU time.Duration
			for range changedPairs {
				runtime.GC()
				clock.Add(int64(benchScrapeInterval))
				t := cpuTime()
				scrape()
				plainCPU += cpuTime() - t
				emu.backup(b, rung.changed)
				runtime.GC()
				clock.Add(int64(benchScrapeInterval))
				t = cpuTime()
				scrape()
				changedCPU += cpuTime() - t
			}
			changedStats := emu.stats(b)
			b.Logf("%d pairs of scrapes, unchanged and after %d groups changed: per pair and route:\n%s", changedPairs, rung.changed, formatStats(changedStats, changedPairs))

			fn := float64(n)
			series := seriesByKind(b, c, c.last.Load()).total
			records := float64(warmStats[snapshotsRoute].Items+warmStats[snapshotsRoute+unfilteredSuffix].Items) / fn
			refreshed := float64(warmStats[snapshotsRoute].Requests) / fn
			b.ReportMetric(float64(oneListing.Milliseconds()), "one-listing-ms")
			b.ReportMetric(float64(coldWall.Milliseconds()), "cold-ms")
			b.ReportMetric(coldWall.Seconds()/oneListing.Seconds(), "cold/one-listing")
			b.ReportMetric(float64(warmup.Milliseconds()), "warmup-ms")
			b.ReportMetric(float64(warming), "cold-warming")
			b.ReportMetric(float64(down), "cold-down")
			b.ReportMetric(float64(coldCPU.Milliseconds()), "cold-cpu-ms")
			b.ReportMetric(float64(sumRequests(coldStats)), "cold-requests")
			b.ReportMetric(float64(coldStats[snapshotsRoute].Items+coldStats[snapshotsRoute+unfilteredSuffix].Items), "cold-snapshot-records")
			b.ReportMetric(fetch.Seconds()/fn*1000, "warm-ms")
			b.ReportMetric(slowest.Seconds()/fn*1000, "slowest-req-ms")
			b.ReportMetric(fetch.Seconds()/slowest.Seconds(), "wall/slowest")
			b.ReportMetric(float64(cpu.Microseconds())/1000/fn, "cpu-ms/scrape")
			b.ReportMetric(float64(sumRequests(warmStats))/fn, "requests/scrape")
			b.ReportMetric(records, "snapshot-records/scrape")
			b.ReportMetric(100*records/float64(emu.info.Snapshots), "records-%")
			b.ReportMetric(float64(series), "series")
			b.ReportMetric(float64(cpu.Microseconds())/fn/(float64(series)/1000), "cpu-µs/1k-series")
			b.ReportMetric(refreshed, "refreshed-groups/scrape")
			b.ReportMetric(float64(coldHeap)/(1<<20), "cold-peak-heap-MiB")
			b.ReportMetric(float64(coldRSS)/(1<<20), "cold-peak-rss-MiB")
			b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(peakRSS)/(1<<20), "peak-rss-MiB")
			b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-heap-MiB")
			b.ReportMetric((changedCPU-plainCPU).Seconds()/changedPairs/float64(rung.changed)*1e6, "cpu-µs/changed-group")
			b.ReportMetric(float64(rung.changed), "changed-groups")
		})
	}
}

// writeHeapProfile writes what is live between warm scrapes to
// file.rung when file is set (PBE_GROWTH_HEAPPROFILE): the exporter's
// resting memory, for go tool pprof -sample_index=inuse_space.
func writeHeapProfile(b *testing.B, file, rung string) {
	if file == "" {
		return
	}
	f, err := os.Create(file + "." + rung)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

// readEachNamespaceOnce times one streamed snapshot listing of every
// namespace of the child's first PBS, one after the other: the least a
// cold fill has to read.
func readEachNamespaceOnce(b *testing.B, name string, emu *benchEmulator) time.Duration {
	b.Helper()
	p := emu.info.PBS[0]
	client, err := proxmox.NewPBSClient(proxmox.Target{Name: name, URLs: []string{p.URL}, TokenID: p.TokenID,
		TokenSecret: p.TokenSecret, TLS: proxmox.TLSConfig{Fingerprint: p.Fingerprint}})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()
	stores, err := client.Datastores(ctx)
	if err != nil {
		b.Fatal(err)
	}
	read := time.Duration(0)
	for _, ds := range stores {
		nss, err := client.Namespaces(ctx, ds.Store)
		if err != nil {
			b.Fatal(err)
		}
		for _, ns := range nss {
			t := time.Now()
			if err := client.EachSnapshot(ctx, ds.Store, ns.NS, func(proxmox.Snapshot) {}); err != nil {
				b.Fatal(err)
			}
			read += time.Since(t)
		}
	}
	return read
}

// rssSampler records the largest resident set of the process, sampling
// /proc/self/statm every 5 ms (Linux; 0 elsewhere).
type rssSampler struct {
	max  atomic.Int64
	done chan struct{}
	wg   sync.WaitGroup
}

func startRSSSampler() *rssSampler {
	r := &rssSampler{done: make(chan struct{})}
	page := int64(os.Getpagesize())
	r.wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-r.done:
				return
			case <-t.C:
			}
			data, err := os.ReadFile("/proc/self/statm")
			if err != nil {
				return
			}
			f := strings.Fields(string(data))
			if len(f) < 2 {
				return
			}
			pages, _ := strconv.ParseInt(f[1], 10, 64)
			if v := pages * page; v > r.max.Load() {
				r.max.Store(v)
			}
		}
	})
	return r
}

func (r *rssSampler) peak() int64 { return r.max.Load() }

// reset starts a new peak from the current resident set: a peak RSS of the
// warm scrapes alone.
func (r *rssSampler) reset() { r.max.Store(0) }

func (r *rssSampler) stop() {
	close(r.done)
	r.wg.Wait()
}
