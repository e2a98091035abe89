package collector

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The per-guest and per-group families are nearly all of a scrape's series
// (140,000 for 5,000 guests with a PBS and an NFS storage). Built with
// prometheus.MustNewConstMetric, each series costs a fresh label-pair slice
// with a pair and two strings per label, and client_golang then sorts every
// family by label values. seriesBuilder makes the same const gauges
// (immutable, built fresh from each scrape's result, never reused) more
// cheaply:
//
//   - label pairs are shared: a group's ten series share one slice of its
//     four pairs, and values that repeat (cluster, repository, backup type,
//     verification state) have one pair per scrape;
//   - metrics, gauges and label slices are allocated in blocks;
//   - the caller emits in the order client_golang sorts to (label values
//     in the order of the sorted label names), so its sort finds every
//     family already sorted and only checks.
//
// Label slices must hold the pairs sorted by label name (client_golang's
// order; a pedantic registry in emit_test.go checks names and values).

// sharedGauge is one const gauge whose label pairs may be shared.
type sharedGauge struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	gauge  dto.Gauge
	value  float64
}

// Desc implements prometheus.Metric.
func (m *sharedGauge) Desc() *prometheus.Desc { return m.desc }

// Write implements prometheus.Metric. The label pairs are shared and must
// not be modified, which client_golang promises for what Write returns.
func (m *sharedGauge) Write(out *dto.Metric) error {
	out.Label = m.labels
	out.Gauge = &m.gauge
	return nil
}

// Label names, addressable for dto.LabelPair.
var (
	lBackupID   = "backup_id"
	lBackupType = "backup_type"
	lCluster    = "cluster"
	lName       = "name"
	lNode       = "node"
	lRepository = "repository"
	lState      = "state"
	lTags       = "tags"
	lTemplate   = "template"
)

const builderBlock = 4096

// seriesBuilder builds the sharedGauges of one emit. It is not safe for
// concurrent use; each emit has its own.
type seriesBuilder struct {
	metrics  []sharedGauge
	ptrs     []*dto.LabelPair
	pairs    []dto.LabelPair
	values   []string
	interned map[string]*dto.LabelPair // name + "\xff" + value
}

func newSeriesBuilder() *seriesBuilder {
	return &seriesBuilder{interned: map[string]*dto.LabelPair{}}
}

// pair returns a new label pair. name must point to one of the label
// names above.
func (b *seriesBuilder) pair(name *string, value string) *dto.LabelPair {
	if len(b.pairs) == cap(b.pairs) {
		b.pairs = make([]dto.LabelPair, 0, builderBlock)
		b.values = make([]string, 0, builderBlock)
	}
	b.values = append(b.values, value)
	b.pairs = b.pairs[:len(b.pairs)+1]
	p := &b.pairs[len(b.pairs)-1]
	p.Name, p.Value = name, &b.values[len(b.values)-1]
	return p
}

// shared returns the scrape's one pair for a value that repeats across
// many series.
func (b *seriesBuilder) shared(name *string, value string) *dto.LabelPair {
	k := *name + "\xff" + value
	if p, ok := b.interned[k]; ok {
		return p
	}
	p := b.pair(name, value)
	b.interned[k] = p
	return p
}

// labels returns a slice of the given pairs, which must be sorted by name.
func (b *seriesBuilder) labels(pairs ...*dto.LabelPair) []*dto.LabelPair {
	if cap(b.ptrs)-len(b.ptrs) < len(pairs) {
		b.ptrs = make([]*dto.LabelPair, 0, max(builderBlock, len(pairs)))
	}
	start := len(b.ptrs)
	b.ptrs = append(b.ptrs, pairs...)
	return b.ptrs[start:len(b.ptrs):len(b.ptrs)]
}

// gauge sends one const gauge.
func (b *seriesBuilder) gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels []*dto.LabelPair) {
	if len(b.metrics) == cap(b.metrics) {
		b.metrics = make([]sharedGauge, 0, builderBlock)
	}
	b.metrics = b.metrics[:len(b.metrics)+1]
	m := &b.metrics[len(b.metrics)-1]
	m.desc, m.labels, m.value = d, labels, v
	m.gauge.Value = &m.value
	ch <- m
}
