package collector

import (
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

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
	e.gauge(descs.groupSnapshots, 7, l)
	e.gauge(descs.groupProtected, 1, l)
	e.values(descs.targetErrors, 3, "pbs1", "pbs", "timeout")
	close(ch)
	want := []prometheus.Metric{
		prometheus.MustNewConstMetric(descs.groupSnapshots.desc, prometheus.GaugeValue, 7, "r", "c", "vm", "101"),
		prometheus.MustNewConstMetric(descs.groupProtected.desc, prometheus.GaugeValue, 1, "r", "c", "vm", "101"),
		prometheus.MustNewConstMetric(descs.targetErrors.desc, prometheus.CounterValue, 3, "pbs1", "pbs", "timeout"),
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
// emitted in the order of the exposition, so the text end only checks it
// and client_golang's sort finds it sorted. A change of emit order would
// not break the output, only make scrapes slower; this test is what
// notices.
func TestEmitOrderIsExpositionOrder(t *testing.T) {
	c := newCollector(&targetSet{}, Options{})
	e := textEmitter()
	c.emit(e, manyResult())
	large := []*family{
		descs.guestInfo, descs.guestSnapshots, descs.guestLastCopies, descs.guestLastTimestamp, descs.guestInJob,
		descs.guestExpectedInterval, descs.groupSnapshots, descs.groupLastTimestamp, descs.groupFirstTimestamp,
		descs.groupLastSize, descs.groupLastVerify, descs.groupVerifyFailed, descs.groupProtected, descs.groupInProgress,
		descs.groupOrphaned,
	}
	for _, f := range large {
		series := e.text.families[f.index]
		if len(series) < 2 {
			t.Fatalf("%s: %d series, want several", f.name, len(series))
		}
		for i := 1; i < len(series); i++ {
			if compareSeries(f, &series[i-1], &series[i]) >= 0 {
				t.Fatalf("%s: series %s emitted after %s", f.name, e.text.labelsText(series[i].text), e.text.labelsText(series[i-1].text))
			}
		}
	}
	if n := len(e.text.families[descs.groupLastVerify.index]); n != 120 {
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
func fixedBase() prometheus.Gatherer {
	reg := prometheus.NewRegistry()
	for _, name := range []string{"go_goroutines", "proxmox_backup_exporter_build_info", "proxmox_backup_zz_last", "a_first"} {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "Help with \\ and\nnewline.", ConstLabels: prometheus.Labels{"v": "1"}})
		g.Set(math.Pi)
		reg.MustRegister(g)
	}
	s := prometheus.NewSummary(prometheus.SummaryOpts{Name: "go_gc_duration_seconds", Help: "A summary.", Objectives: map[float64]float64{0.5: 0.05}})
	s.Observe(0.25)
	reg.MustRegister(s)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "process_nan", Help: "NaN."}, math.NaN))
	return reg
}

// exposeBoth writes res as /metrics would through client_golang (registry
// and promhttp) and directly (exposition.go) for the same request.
func exposeBoth(t *testing.T, c *Collector, res *scrapeResult, base prometheus.Gatherer, r *http.Request) (viaPromhttp, direct *httptest.ResponseRecorder) {
	t.Helper()
	opts := promhttp.HandlerOpts{ErrorLog: slogErrorLog{c}, ErrorHandling: promhttp.ContinueOnError}
	reg := prometheus.NewRegistry()
	reg.MustRegister(resultCollector{c, res})
	var g prometheus.Gatherer = reg
	if base != nil {
		g = mergedGatherer{base: base, scrape: reg}
	}
	viaPromhttp = httptest.NewRecorder()
	promhttp.HandlerFor(g, opts).ServeHTTP(viaPromhttp, r)

	direct = httptest.NewRecorder()
	e := textEmitter()
	c.emit(e, res)
	format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...)
	if format.FormatType() != expfmt.TypeTextPlain {
		t.Fatalf("request negotiates %s, not text", format)
	}
	if !c.serveText(direct, r, e.text, base, format, opts) {
		t.Fatal("serveText declined")
	}
	return viaPromhttp, direct
}

// TestTextExpositionIsPromhttps: the direct text exposition is byte for
// byte what client_golang's registry and promhttp write, headers included,
// for every result shape: escaping, invalid UTF-8, special values,
// out-of-order and duplicate series, counters, the base's families around
// the scrape's, the name[] filter and gzip.
func TestTextExpositionIsPromhttps(t *testing.T) {
	c := newTestCollector(Options{})
	results := map[string]func() *scrapeResult{"fixed": fixedResult, "many": manyResult, "odd": oddResult}
	requests := map[string]func() *http.Request{
		"plain": func() *http.Request { return httptest.NewRequest("GET", "/metrics", nil) },
		"prometheus": func() *http.Request {
			r := httptest.NewRequest("GET", "/metrics", nil)
			r.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1")
			r.Header.Set("Accept-Encoding", "gzip")
			return r
		},
		"filtered": func() *http.Request {
			return httptest.NewRequest("GET", "/metrics?name[]=proxmox_backup_guest_info&name[]=go_goroutines&name[]=proxmox_backup_target_errors_total", nil)
		},
		"gzip refused": func() *http.Request {
			r := httptest.NewRequest("GET", "/metrics", nil)
			r.Header.Set("Accept-Encoding", "gzip;q=0.5, identity")
			return r
		},
	}
	for rname, result := range results {
		for qname, req := range requests {
			t.Run(rname+"/"+qname, func(t *testing.T) {
				want, got := exposeBoth(t, c, result(), fixedBase(), req())
				if !reflect.DeepEqual(got.Header(), want.Header()) {
					t.Fatalf("headers %v, promhttp's %v", got.Header(), want.Header())
				}
				gotBody, wantBody := decodeBody(t, got), decodeBody(t, want)
				if gotBody != wantBody {
					t.Fatalf("direct exposition differs from promhttp's:\n%s", firstDifference(gotBody, wantBody))
				}
				if len(wantBody) < 100 {
					t.Fatalf("body of %d bytes", len(wantBody))
				}
			})
		}
	}
}

func decodeBody(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if rec.Header().Get("Content-Encoding") != "gzip" {
		return rec.Body.String()
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got  %q\n want %q", i+1, gl, wl)
		}
	}
	return "(same lines)"
}

// TestTextExpositionRepairsUTF8: a label value that is not UTF-8 keeps its
// series, repaired, where client_golang alone would drop the series.
func TestTextExpositionRepairsUTF8(t *testing.T) {
	c := newTestCollector(Options{})
	_, got := exposeBoth(t, c, oddResult(), nil, httptest.NewRequest("GET", "/metrics", nil))
	if want := "name=\"bad\uFFFDutf8\uFFFD\""; !strings.Contains(got.Body.String(), want) {
		t.Fatalf("no series with %s:\n%s", want, got.Body.String())
	}
}
