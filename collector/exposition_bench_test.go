package collector

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
)

// largeResult is case a's shape for emission alone: 5,000 guests, each
// with a group in an NFS and a PBS repository.
func largeResult() *scrapeResult {
	res := fixedResult()
	res.merged.Guests, res.merged.Groups = nil, nil
	for i := range 5000 {
		id := strconv.Itoa(100 + i)
		res.merged.Guests = append(res.merged.Guests, dedup.GuestAggregate{Cluster: "homelab", BackupType: "vm", BackupID: id,
			Name: "guest-" + id, Node: "pve" + strconv.Itoa(1+i%4), Tags: []string{"prod"}, Known: true, Snapshots: 52,
			Last: 1_700_000_000 + int64(i), LastCopies: 2, InJob: true, ExpectedIntervalSeconds: 86400})
		for _, repo := range []string{"homelab:nfs", "pbs1:store1/homelab"} {
			res.merged.Groups = append(res.merged.Groups, dedup.GroupAggregate{Repository: repo, Cluster: "homelab", BackupType: "vm",
				BackupID: id, Snapshots: 50, First: 1_690_000_000, Last: 1_700_000_000 + int64(i), LastSize: 1 << 33,
				LastVerification: dedup.VerificationOK})
		}
	}
	return res
}

// BenchmarkExposition is the exposition of a 5,000-guest scrape alone
// (about 110,000 series), from a fixed result: the direct text path /metrics
// uses, and client_golang's registry with promhttp for comparison.
//
//	go test -run '^$' -bench BenchmarkExposition -benchmem ./collector/
func BenchmarkExposition(b *testing.B) {
	c := newTestCollector(Options{})
	res := largeResult()
	opts := promhttp.HandlerOpts{ErrorLog: slogErrorLog{c}, ErrorHandling: promhttp.ContinueOnError}
	r := httptest.NewRequest("GET", "/metrics", nil)
	format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...)
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			e := textEmitter()
			c.emit(e, res)
			c.serveText(discardResponse{}, r, e.text, nil, format, opts)
		}
	})
	b.Run("client_golang", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(resultCollector{c, res})
		h := promhttp.HandlerFor(reg, opts)
		for b.Loop() {
			h.ServeHTTP(discardResponse{}, r)
		}
	})
}

// discardResponse is an http.ResponseWriter that drops the body.
type discardResponse struct{}

func (discardResponse) Header() http.Header         { return http.Header{} }
func (discardResponse) Write(p []byte) (int, error) { return io.Discard.Write(p) }
func (discardResponse) WriteHeader(int)             {}
