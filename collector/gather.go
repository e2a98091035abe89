package collector

import (
	"fmt"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// mergedGatherer serves the exporter's own metrics (base: process, Go and
// build information) and a scrape's registry as one exposition.
// prometheus.Gatherers would check every series of both for consistency a
// second time, after the scrape's registry already did: 140,000 series and
// a tenth of a large scrape's CPU for nothing, as the two never share a
// metric name. Should they ever, their families are merged by
// prometheus.Gatherers after all, from what was gathered (nothing is
// collected twice).
type mergedGatherer struct {
	base, scrape prometheus.Gatherer
}

// Gather implements prometheus.Gatherer.
func (m mergedGatherer) Gather() ([]*dto.MetricFamily, error) {
	baseMFs, baseErr := m.base.Gather()
	scrapeMFs, scrapeErr := m.scrape.Gather()
	names := make(map[string]bool, len(baseMFs))
	for _, mf := range baseMFs {
		names[mf.GetName()] = true
	}
	for _, mf := range scrapeMFs {
		if names[mf.GetName()] {
			return prometheus.Gatherers{gathered{baseMFs, baseErr}, gathered{scrapeMFs, scrapeErr}}.Gather()
		}
	}
	out := append(baseMFs[:len(baseMFs):len(baseMFs)], scrapeMFs...)
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	var errs prometheus.MultiError
	for i, err := range []error{baseErr, scrapeErr} {
		if err == nil {
			continue
		}
		// As prometheus.Gatherers reports them.
		if multi, ok := err.(prometheus.MultiError); ok {
			for _, e := range multi {
				errs = append(errs, fmt.Errorf("[from Gatherer #%d] %w", i+1, e))
			}
		} else {
			errs = append(errs, fmt.Errorf("[from Gatherer #%d] %w", i+1, err))
		}
	}
	return out, errs.MaybeUnwrap()
}

// gathered is a Gatherer of families already gathered.
type gathered struct {
	mfs []*dto.MetricFamily
	err error
}

func (g gathered) Gather() ([]*dto.MetricFamily, error) { return g.mfs, g.err }
