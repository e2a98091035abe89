package collector

import (
	"fmt"
	"strings"
	"testing"

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

// TestSharedGaugesValid: the builder's gauges pass a pedantic registry
// (label names as the descriptors say, sorted, no duplicates) and hold the
// values MustNewConstMetric would.
func TestSharedGaugesValid(t *testing.T) {
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
	// and 40 groups × 10 per-group families plus orphans: the builder
	// really was used.
	if series < 400 {
		t.Fatalf("only %d series", series)
	}

	// Compare with MustNewConstMetric on one series of each kind.
	b := newSeriesBuilder()
	ch := make(chan prometheus.Metric, 1)
	id := b.pair(&lBackupID, "101")
	b.gauge(ch, descs.groupLastVerify, 1, b.labels(id, b.shared(&lBackupType, "vm"), b.shared(&lCluster, "c"),
		b.shared(&lRepository, "r"), b.shared(&lState, "ok")))
	got := &dto.Metric{}
	if err := (<-ch).Write(got); err != nil {
		t.Fatal(err)
	}
	want := &dto.Metric{}
	if err := prometheus.MustNewConstMetric(descs.groupLastVerify, prometheus.GaugeValue, 1, "r", "c", "vm", "101", "ok").Write(want); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("shared gauge %s, const metric %s", got, want)
	}
}

// TestEmitOrderIsGatherOrder: every per-guest and per-group family is
// emitted in the order
// client_golang sorts it to, so Gather's sort only has to check. A change
// of emit order would not break the output, only make scrapes slower; this
// test is what notices.
func TestEmitOrderIsGatherOrder(t *testing.T) {
	c := newCollector(&targetSet{}, Options{})
	ch := make(chan prometheus.Metric, 100000)
	c.emit(ch, manyResult())
	close(ch)
	last := map[string]string{}
	counts := map[string]int{}
	for m := range ch {
		if _, ok := m.(*sharedGauge); !ok {
			continue // small families, order does not matter
		}
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		var vals []string
		for _, lp := range d.Label {
			vals = append(vals, lp.GetValue())
		}
		key := strings.Join(vals, "\x00")
		fam := m.Desc().String()
		counts[fam]++
		if prev, ok := last[fam]; ok && !labelValuesLess(prev, key) {
			t.Fatalf("%s: series {%s} emitted after {%s}", familyName(fam), strings.ReplaceAll(key, "\x00", ","), strings.ReplaceAll(prev, "\x00", ","))
		}
		last[fam] = key
	}
	if n := counts[descs.groupLastVerify.String()]; n != 120 {
		t.Fatalf("%d last_verification series, want 120", n)
	}
}

// labelValuesLess is client_golang's MetricSorter order for label values
// joined in label-name order (no value here contains a NUL).
func labelValuesLess(a, b string) bool {
	as, bs := strings.Split(a, "\x00"), strings.Split(b, "\x00")
	for i := range min(len(as), len(bs)) {
		if as[i] != bs[i] {
			return as[i] < bs[i]
		}
	}
	return len(as) < len(bs)
}

func familyName(desc string) string {
	var name string
	fmt.Sscanf(strings.TrimPrefix(desc, "Desc{fqName: "), "%q", &name)
	return name
}
