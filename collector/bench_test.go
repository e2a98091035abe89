package collector

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/proxmoxtest"
)

// BenchmarkScrape measures issue 5's cases with the emulator's generator:
//
//	go test -run '^$' -bench BenchmarkScrape -benchmem ./collector/
//
// Each iteration is one warm scrape (the cold one runs before the timer and
// is reported as cold-ms). Reported per warm scrape: API requests, snapshot
// listings and snapshot records decoded, plus the cold scrape's numbers and
// the heap after scraping.
func BenchmarkScrape(b *testing.B) {
	cases := []struct {
		name string
		opts proxmoxtest.GenOptions
	}{
		{"a_4nodes_5000guests_250k", proxmoxtest.GenOptions{NodesPerCluster: 4, Guests: 5000, FilesPerGuest: 2, SnapshotsPerGuest: 50}},
		{"b_4nodes_5000guests_1M", proxmoxtest.GenOptions{NodesPerCluster: 4, Guests: 5000, FilesPerGuest: 2, SnapshotsPerGuest: 200}},
		{"c_latency_5ms", proxmoxtest.GenOptions{NodesPerCluster: 4, Guests: 5000, FilesPerGuest: 2, SnapshotsPerGuest: 50,
			Latency: proxmoxtest.Latency{PerRequest: 5 * time.Millisecond, PerItem: time.Microsecond}}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			m := proxmoxtest.Generate(tc.opts)
			srv, err := proxmoxtest.Start(m)
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			cfg := labConfig(b, srv, m)
			c, err := New(cfg, Options{Now: func() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }})
			if err != nil {
				b.Fatal(err)
			}
			scrape := func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				reg := prometheus.NewRegistry()
				reg.MustRegister(c.Bind(ctx))
				if _, err := reg.Gather(); err != nil {
					b.Fatal(err)
				}
			}
			const snapRoute = "/admin/datastore/{store}/snapshots"
			records := func() (n int) {
				for _, r := range srv.Requests() {
					if r.Route == snapRoute {
						n += r.Items
					}
				}
				return n
			}
			start := time.Now()
			scrape()
			coldMS, coldRequests, coldRecords := time.Since(start).Milliseconds(), len(srv.Requests()), records()
			srv.ResetRequests()

			var cpu time.Duration
			b.ResetTimer()
			for b.Loop() {
				t0 := cpuTime()
				scrape()
				cpu += cpuTime() - t0
			}
			b.StopTimer()
			// ResetTimer drops metrics reported before it: report the cold
			// scrape now.
			b.ReportMetric(float64(coldMS), "cold-ms")
			b.ReportMetric(float64(coldRequests), "cold-requests")
			b.ReportMetric(float64(coldRecords), "cold-snapshot-records")
			n := float64(b.N)
			b.ReportMetric(float64(len(srv.Requests()))/n, "requests/scrape")
			b.ReportMetric(float64(srv.CountRequests(snapRoute))/n, "snapshot-listings/scrape")
			b.ReportMetric(float64(records())/n, "snapshot-records/scrape")
			b.ReportMetric(float64(cpu.Milliseconds())/n, "process-cpu-ms/scrape")
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MiB")
			b.ReportMetric(float64(c.pbsCache.size()), "cached-groups")
		})
	}
}
