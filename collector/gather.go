package collector

import (
	"context"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gathered is the families of one /metrics answer: the exporter's own
// metrics and one scrape's, checked by client_golang.
type gathered struct {
	mfs []*dto.MetricFamily
	err error
}

// scrapeGatherer gathers /metrics through client_golang: one registry
// with the Collector bound to the request's deadline and base (the
// exporter's process, Go and build info collectors). One registry, not a
// registry beside another Gatherer: prometheus.Gatherers would check every
// series a second time (a fifth of a warm scrape's gathering).
//
// Concurrent requests share one gathering, as they share one fetch
// (coalesce.go): every gathering builds a metric object per series, so 20
// scrapes arriving together would otherwise hold 20 copies of the same
// families. promhttp's own HandlerOpts.CoalesceGather cannot serve here:
// its Gather has no request, so the scrape could not get the request's
// deadline.
type scrapeGatherer struct {
	base []prometheus.Collector
	// bind gives the collector of one scrape within a deadline
	// (Collector.Bind).
	bind    func(context.Context) prometheus.Collector
	flights coalescer[gathered]
}

func newScrapeGatherer(bind func(context.Context) prometheus.Collector, base ...prometheus.Collector) *scrapeGatherer {
	g := &scrapeGatherer{bind: bind, base: base}
	// The fetch keeps its margin for encoding; gathering is part of it.
	g.flights.exact = true
	return g
}

// gather runs one scrape within ctx and gathers it with base.
func (g *scrapeGatherer) gather(ctx context.Context) gathered {
	reg := prometheus.NewRegistry()
	for _, c := range append(slices.Clip(g.base), g.bind(ctx)) {
		if err := reg.Register(c); err != nil {
			return gathered{err: err}
		}
	}
	mfs, err := reg.Gather()
	return gathered{mfs, err}
}

// forRequest returns the Gatherer of one request: the gathering in flight,
// or a new one within ctx. Each caller gets its own slice (promhttp filters
// it by name[]); the families are shared and only read.
func (g *scrapeGatherer) forRequest(ctx context.Context) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		res, _, ok := g.flights.do(ctx, g.gather)
		if !ok {
			// Our deadline passed while another request's gathering was
			// still running: answer with every target down (the fetch
			// coalescer's timed-out result) rather than not at all.
			res = g.gather(ctx)
		}
		return slices.Clone(res.mfs), res.err
	})
}
