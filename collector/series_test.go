package collector

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
)

// manyResult is fixedResult with guests and groups whose ids sort
// differently as numbers and as strings, in two repositories and clusters.
func manyResult() *scrapeResult {
	res := fixedResult()
	res.merged.Guests, res.merged.Groups = nil, nil
	for _, cluster := range []string{"homelab", "lab2"} {
		for _, id := range []string{"100", "99", "1000", "101", "9"} {
			for _, typ := range []string{"vm", "ct"} {
				res.merged.Guests = append(res.merged.Guests, dedup.GuestAggregate{Cluster: cluster, BackupType: typ, BackupID: id,
					Name: "g" + id, Node: "pve1", Known: true, Snapshots: 2, Last: 1000, LastCopies: 1, InJob: true, ExpectedIntervalSeconds: 86400})
				for _, repo := range []string{"homelab:nfs", "pbs1:store1/homelab"} {
					res.merged.Groups = append(res.merged.Groups, dedup.GroupAggregate{Repository: repo, Cluster: cluster, BackupType: typ,
						BackupID: id, Snapshots: 2, First: 900, Last: 1000, LastVerification: dedup.VerificationFailed, Orphan: id == "9"})
				}
			}
		}
	}
	return res
}

// TestConstMetricsValid: the collecting end's metrics pass a pedantic
// registry (label names as the descriptors say, sorted, no duplicates) and
// are what MustNewConstMetric makes.
func TestConstMetricsValid(t *testing.T) {
	c := newCollector(&targetSet{}, Options{})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(resultCollector{c, manyResult()})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := 0
	for _, mf := range mfs {
		series += len(mf.Metric)
	}
	// 20 guests × 8 per-guest families (no tasks for lab2's cluster data)
	// and 40 groups × 10 per-group families plus orphans.
	if series < 400 {
		t.Fatalf("only %d series", series)
	}

	// A label set shared by two families, a gauge and a counter.
	ch := make(chan prometheus.Metric, 3)
	e := collectingEmitter(ch)
	l := e.set("r", "c", "vm", "101")
	e.gauge(backupFamilies.groupSnapshots, 7, l)
	e.gauge(backupFamilies.groupProtected, 1, l)
	e.values(sourceFamilies.targetErrors, 3, "pbs1", "pbs", "timeout")
	close(ch)
	want := []prometheus.Metric{
		prometheus.MustNewConstMetric(backupFamilies.groupSnapshots.desc, prometheus.GaugeValue, 7, "r", "c", "vm", "101"),
		prometheus.MustNewConstMetric(backupFamilies.groupProtected.desc, prometheus.GaugeValue, 1, "r", "c", "vm", "101"),
		prometheus.MustNewConstMetric(sourceFamilies.targetErrors.desc, prometheus.CounterValue, 3, "pbs1", "pbs", "timeout"),
	}
	i := 0
	for m := range ch {
		var got, exp dto.Metric
		if err := m.Write(&got); err != nil {
			t.Fatal(err)
		}
		if err := want[i].Write(&exp); err != nil {
			t.Fatal(err)
		}
		if m.Desc() != want[i].Desc() || got.String() != exp.String() {
			t.Fatalf("metric %d: %s %s, want %s %s", i, m.Desc(), &got, want[i].Desc(), &exp)
		}
		i++
	}
}

// TestEmitOrderIsExpositionOrder: every per-guest and per-group family is
// emitted in the order of the exposition, so the registry's sort of each
// family finds it sorted. A change of emit order would not break the
// output, only make scrapes slower; this test is what notices.
func TestEmitOrderIsExpositionOrder(t *testing.T) {
	c := newCollector(&targetSet{}, Options{})
	ch := make(chan prometheus.Metric, 4096)
	go func() {
		c.emit(collectingEmitter(ch), manyResult())
		close(ch)
	}()
	byDesc := map[*prometheus.Desc][]string{}
	for m := range ch {
		var out dto.Metric
		if err := m.Write(&out); err != nil {
			t.Fatal(err)
		}
		// Label pairs come sorted by name: their values joined are the
		// exposition's sort key.
		var key []string
		for _, p := range out.Label {
			key = append(key, p.GetValue())
		}
		byDesc[m.Desc()] = append(byDesc[m.Desc()], strings.Join(key, "\x00"))
	}
	large := []*family{
		backupFamilies.guestInfo, backupFamilies.guestSnapshots, backupFamilies.guestLastCopies, backupFamilies.guestLastTimestamp, backupFamilies.guestInJob,
		backupFamilies.guestExpectedInterval, backupFamilies.groupSnapshots, backupFamilies.groupLastTimestamp, backupFamilies.groupFirstTimestamp,
		backupFamilies.groupLastSize, backupFamilies.groupLastVerify, backupFamilies.groupVerifyFailed, backupFamilies.groupProtected, backupFamilies.groupInProgress,
		backupFamilies.groupOrphaned,
	}
	for _, f := range large {
		series := byDesc[f.desc]
		if len(series) < 2 {
			t.Fatalf("%s: %d series, want several", f.name, len(series))
		}
		for i := 1; i < len(series); i++ {
			if series[i-1] >= series[i] {
				t.Fatalf("%s: series %q emitted after %q", f.name, series[i], series[i-1])
			}
		}
	}
	if n := len(byDesc[backupFamilies.groupLastVerify.desc]); n != 120 {
		t.Fatalf("%d last_verification series, want 120", n)
	}
}

// oddResult is manyResult with label values the text format must escape,
// invalid UTF-8, values of every special kind, series emitted out of order
// and a guest exported twice (a bug both ends must survive alike).
func oddResult() *scrapeResult {
	res := manyResult()
	res.merged.Guests = append(res.merged.Guests,
		dedup.GuestAggregate{Cluster: "homelab", BackupType: "vm", BackupID: "7", Name: "quote\"back\\slash\nnewline", Node: "pve1",
			Tags: []string{"a\"b", "c\\d"}, Known: true, Snapshots: 1, Last: 1.7e9, LastCopies: 1},
		dedup.GuestAggregate{Cluster: "homelab", BackupType: "vm", BackupID: "8", Name: "bad\xffutf8\xc3", Node: "pve1", Known: true,
			Snapshots: -1, Last: 1 << 62, LastCopies: 0},
		// Out of order and a duplicate of the first guest.
		res.merged.Guests[0],
	)
	res.merged.Groups = append(res.merged.Groups, dedup.GroupAggregate{Repository: "x", Cluster: "homelab", BackupType: "vm",
		BackupID: "0", Snapshots: 3, First: 1, Last: 2, LastSize: 1<<53 + 1, LastVerification: "weird"})
	res.duration = 1234567 * time.Microsecond
	for _, r := range res.runs {
		r.duration = time.Duration(math.MaxInt64)
	}
	return res
}

// fixedBase stands for the exporter's own metrics (Go, process, build
// info): families that sort before, between and after the scrape's, a
// summary and an untyped one.
func fixedBase() []prometheus.Collector {
	var cs []prometheus.Collector
	for _, name := range []string{"go_goroutines", "proxmox_backup_exporter_build_info", "proxmox_backup_zz_last", "a_first"} {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "Help with \\ and\nnewline.", ConstLabels: prometheus.Labels{"v": "1"}})
		g.Set(math.Pi)
		cs = append(cs, g)
	}
	s := prometheus.NewSummary(prometheus.SummaryOpts{Name: "go_gc_duration_seconds", Help: "A summary.", Objectives: map[float64]float64{0.5: 0.05}})
	s.Observe(0.25)
	cs = append(cs, s)
	cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "process_nan", Help: "NaN."}, math.NaN))
	return cs
}
