package collector

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// benchScrapeInterval is how far the data clock moves between warm scrapes:
// Prometheus' default scrape interval. With it, the warm scrapes refresh the
// share of cached groups whose verification refresh falls due, as in
// production, instead of an idealised zero.
const benchScrapeInterval = time.Minute

// BenchmarkScrape measures issue 5's cases against the emulator's generator:
//
//	go test -run '^$' -bench BenchmarkScrape -benchmem ./collector/
//
// The emulator runs in a child process (bench_harness_test.go), so CPU time
// (getrusage RUSAGE_SELF), allocations (-benchmem) and heap are the
// exporter's own. One iteration is one warm scrape through the exporter's
// /metrics handler as main wires it (with the Go and process collectors):
// fetch, merge, emit and the text exposition, uncompressed. The cold scrape runs once before the timer and is reported
// with the cold- prefix. Per scrape it reports:
//
//   - requests, snapshot-listings, unfiltered-listings and
//     snapshot-records: counted by the emulator (records = rows of snapshot
//     listings served, i.e. decoded by the exporter); records-% is the
//     share of all snapshots of the estate;
//   - cpu-ms: the exporter's user+system CPU time; gzip-cpu-ms: the same
//     for 3 more warm scrapes asking for gzip, as Prometheus does (and
//     gzip-exposition-MiB the compressed size);
//   - B/op (-benchmem): bytes allocated;
//   - peak-heap-MiB: the largest heap (live and not yet collected objects,
//     runtime/metrics /memory/classes/heap/objects:bytes, = HeapAlloc)
//     sampled every millisecond during the scrapes; retained-MiB: HeapAlloc
//     after the last scrape and a forced GC (mostly the group cache);
//   - slowest-req-ms: the slowest single API request of the scrape, timed
//     by the client; wall/slowest: the scrape's fetch time over it (the
//     critical-path ratio of case c).
//
// The per-route breakdown is logged (-v or on failure). With
// PBE_BENCH_PROFILE=<dir>, a CPU profile of each case's warm scrapes is
// written to <dir>/<case>.cpu.pprof, and allocation profiles before and
// after them (compare with go tool pprof -base).
func BenchmarkScrape(b *testing.B) {
	// Case c's latency: 5 ms per request plus 50 µs per row returned, in
	// the emulator. Real listings cost more per row (a public report: a
	// PBS listing of 600,000 snapshots took three minutes, 300 µs each);
	// 50 µs keeps the cold scrape short while every listing's latency,
	// not the exporter's CPU, sets the scrape's critical path.
	lat := emulator.Latency{PerRequest: 5 * time.Millisecond, PerItem: 50 * time.Microsecond}
	cases := []struct {
		name string
		opts emulator.GenOptions
	}{
		{"a_4nodes_5000guests_250k", emulator.GenOptions{NodesPerCluster: 4, Guests: 5000, FilesPerGuest: 2, SnapshotsPerGuest: 50}},
		{"b_4nodes_5000guests_1M", emulator.GenOptions{NodesPerCluster: 4, Guests: 5000, FilesPerGuest: 2, SnapshotsPerGuest: 200}},
		{"c_latency_5ms", emulator.GenOptions{NodesPerCluster: 4, Guests: 5000, FilesPerGuest: 2, SnapshotsPerGuest: 50, Latency: lat}},
		// Issue 13's budget: at most 300 ms CPU per warm scrape with the
		// default collectors.
		{"d_4nodes_2000guests_100k", emulator.GenOptions{NodesPerCluster: 4, Guests: 2000, FilesPerGuest: 2, SnapshotsPerGuest: 50}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			emu := startBenchEmulator(b, tc.opts)
			var clock atomic.Int64
			t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
			clock.Store(t0.UnixNano())
			c, err := New(emu.config(b), Options{Now: func() time.Time { return time.Unix(0, clock.Load()).UTC() }})
			if err != nil {
				b.Fatal(err)
			}
			// The production path: main's handler with the exporter's own
			// metrics, serving the text format (Prometheus' default asks
			// for OpenMetrics or text; no compression but in the gzip
			// scrapes).
			handler := c.Handler(promhttp.HandlerOpts{}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			var exposed int64
			scrape := func(headers ...string) *scrapeResult {
				r := httptest.NewRequest("GET", "/metrics", nil)
				r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "300")
				for i := 0; i+1 < len(headers); i += 2 {
					r.Header.Set(headers[i], headers[i+1])
				}
				w := &discardWriter{header: http.Header{}}
				handler.ServeHTTP(w, r)
				if w.status != 0 && w.status != http.StatusOK {
					b.Fatalf("scrape: HTTP %d", w.status)
				}
				exposed = w.n
				return c.last.Load()
			}
			total := float64(emu.info.Snapshots)
			heap := startHeapSampler()
			defer heap.stop()

			// Cold.
			runtime.GC()
			heap.reset()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0, start := cpuTime(), time.Now()
			cold := scrape()
			coldWall, coldCPU := time.Since(start), cpuTime()-cpu0
			runtime.ReadMemStats(&ms1)
			coldPeak := heap.peak()
			coldStats := emu.stats(b)
			b.Logf("cold scrape: %v wall, slowest request %v; per route:\n%s", coldWall.Round(time.Millisecond),
				cold.slowestRequest().Round(time.Millisecond), formatStats(coldStats, 1))

			// Warm.
			runtime.GC()
			heap.reset()
			var (
				cpu, fetch, slowest time.Duration
				worstRatio          float64
				n                   int
			)
			if dir := os.Getenv("PBE_BENCH_PROFILE"); dir != "" {
				// Warm scrapes only: -cpuprofile would mix in the cold one.
				f, err := os.Create(filepath.Join(dir, tc.name+".cpu.pprof"))
				if err != nil {
					b.Fatal(err)
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				defer pprof.StopCPUProfile()
				// Allocations of the warm scrapes: go tool pprof -base
				// <case>.allocs-before.pprof <case>.allocs-after.pprof
				writeAllocs := func(suffix string) {
					f, err := os.Create(filepath.Join(dir, tc.name+".allocs-"+suffix+".pprof"))
					if err != nil {
						b.Fatal(err)
					}
					defer f.Close()
					runtime.GC()
					if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
						b.Fatal(err)
					}
				}
				writeAllocs("before")
				defer writeAllocs("after")
			}
			b.ResetTimer()
			for b.Loop() {
				clock.Add(int64(benchScrapeInterval))
				t := cpuTime()
				res := scrape()
				cpu += cpuTime() - t
				n++
				fetch += res.duration
				s := res.slowestRequest()
				slowest += s
				if s > 0 {
					worstRatio = max(worstRatio, res.duration.Seconds()/s.Seconds())
				}
			}
			b.StopTimer()
			warmPeak := heap.peak()
			warmStats := emu.stats(b)
			// The same warm scrape as Prometheus asks for it: gzip.
			plain := exposed
			var gzipCPU time.Duration
			const gzipScrapes = 3
			for range gzipScrapes {
				clock.Add(int64(benchScrapeInterval))
				t := cpuTime()
				scrape("Accept-Encoding", "gzip")
				gzipCPU += cpuTime() - t
			}
			gzipped := exposed
			b.Logf("warm scrapes (%d): per scrape and route:\n%s", n, formatStats(warmStats, n))
			runtime.GC()
			var msEnd runtime.MemStats
			runtime.ReadMemStats(&msEnd)

			// ResetTimer drops metrics reported before it: report the
			// cold scrape now.
			mib := func(v uint64) float64 { return float64(v) / (1 << 20) }
			b.ReportMetric(float64(coldWall.Milliseconds()), "cold-ms")
			b.ReportMetric(float64(coldCPU.Milliseconds()), "cold-cpu-ms")
			b.ReportMetric(mib(ms1.TotalAlloc-ms0.TotalAlloc), "cold-alloc-MiB")
			b.ReportMetric(mib(coldPeak), "cold-peak-heap-MiB")
			b.ReportMetric(float64(sumRequests(coldStats)), "cold-requests")
			b.ReportMetric(float64(coldStats[snapshotsRoute].Items+coldStats[snapshotsRoute+unfilteredSuffix].Items), "cold-snapshot-records")

			fn := float64(n)
			b.ReportMetric(float64(sumRequests(warmStats))/fn, "requests/scrape")
			b.ReportMetric(float64(warmStats[snapshotsRoute].Requests)/fn, "snapshot-listings/scrape")
			b.ReportMetric(float64(warmStats[snapshotsRoute+unfilteredSuffix].Requests)/fn, "unfiltered-listings/scrape")
			records := float64(warmStats[snapshotsRoute].Items+warmStats[snapshotsRoute+unfilteredSuffix].Items) / fn
			b.ReportMetric(records, "snapshot-records/scrape")
			b.ReportMetric(100*records/total, "records-%")
			b.ReportMetric(float64(cpu.Microseconds())/1000/fn, "cpu-ms/scrape")
			b.ReportMetric(float64(plain)/(1<<20), "exposition-MiB")
			b.ReportMetric(float64(gzipCPU.Microseconds())/1000/gzipScrapes, "gzip-cpu-ms/scrape")
			b.ReportMetric(float64(gzipped)/(1<<20), "gzip-exposition-MiB")
			b.ReportMetric(mib(warmPeak), "peak-heap-MiB")
			b.ReportMetric(mib(msEnd.HeapAlloc), "retained-MiB")
			b.ReportMetric(float64(slowest.Microseconds())/1000/fn, "slowest-req-ms")
			b.ReportMetric(fetch.Seconds()/slowest.Seconds(), "wall/slowest")
			b.ReportMetric(worstRatio, "worst-wall/slowest")
			b.ReportMetric(float64(c.pbsCache.size()), "cached-groups")
			// The series budget (issue 13): per guest and per backup group
			// per repository, with the default collectors and with all.
			for _, all := range []bool{false, true} {
				opts := Options{}
				prefix := ""
				if all {
					prefix = "all-"
					opts.Enabled = map[string]bool{}
					for _, g := range CollectorGroups {
						opts.Enabled[g.Name] = true
					}
				}
				n := seriesByKind(b, newCollector(&targetSet{}, opts), c.last.Load())
				b.ReportMetric(float64(n.total), prefix+"series")
				b.ReportMetric(float64(n.guest)/float64(n.guests), prefix+"series/guest")
				b.ReportMetric(float64(n.group)/float64(n.groups), prefix+"series/group")
			}
		})
	}
}

// seriesCount is the series of one scrape by what they describe.
type seriesCount struct {
	total, guest, group int
	guests, groups      int // guest_info's and snapshots' series
}

// seriesByKind emits res through c (its collector groups) into a registry.
// A family with backup_id and repository labels is per group per
// repository, one with backup_id alone per guest.
func seriesByKind(b *testing.B, c *Collector, res *scrapeResult) seriesCount {
	reg := prometheus.NewRegistry()
	reg.MustRegister(resultCollector{c, res})
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	var n seriesCount
	for _, mf := range mfs {
		n.total += len(mf.Metric)
		labels := map[string]bool{}
		for _, l := range mf.Metric[0].Label {
			labels[l.GetName()] = true
		}
		switch {
		case labels["backup_id"] && labels["repository"]:
			n.group += len(mf.Metric)
		case labels["backup_id"]:
			n.guest += len(mf.Metric)
		}
		switch mf.GetName() {
		case backupFamilies.guestInfo.name:
			n.guests = len(mf.Metric)
		case backupFamilies.groupSnapshots.name:
			n.groups = len(mf.Metric)
		}
	}
	return n
}

func sumRequests(s map[string]routeStat) (n int) {
	for _, v := range s {
		n += v.Requests
	}
	return n
}

// heapSampler records the largest heap seen, sampling runtime/metrics
// (which does not stop the world, unlike ReadMemStats) every millisecond.
type heapSampler struct {
	max  atomic.Uint64
	done chan struct{}
	wg   sync.WaitGroup
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{done: make(chan struct{})}
	h.wg.Go(func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.done:
				return
			case <-t.C:
			}
			metrics.Read(s)
			v := s[0].Value.Uint64()
			for {
				old := h.max.Load()
				if v <= old || h.max.CompareAndSwap(old, v) {
					break
				}
			}
		}
	})
	return h
}

func (h *heapSampler) reset() {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	h.max.Store(s[0].Value.Uint64())
}

func (h *heapSampler) peak() uint64 { return h.max.Load() }

func (h *heapSampler) stop() {
	close(h.done)
	h.wg.Wait()
}

// discardWriter is an http.ResponseWriter that counts and drops the body.
type discardWriter struct {
	header http.Header
	status int
	n      int64
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(status int) { w.status = status }

func (w *discardWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}
