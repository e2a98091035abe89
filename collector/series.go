package collector

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The per-guest and per-group families are nearly all of a scrape's series.
// Every series is emitted once, by one piece of code, as a const metric on
// the Collector's channel; client_golang's registry checks, sorts and
// encodes them (handler.go). The registry holds every series of a scrape
// until it is encoded, so what a series costs is what the peak heap costs
// (issue 15: 1M snapshots, 340,000 series). What is cheap to share is
// shared: a label pair such as cluster="homelab" or backup_id="100" is
// built once per scrape and pointed to by every series that carries it, a
// labelSet gives its pointers once to every family with the same label
// names, and metrics and pairs are allocated in blocks rather than one by
// one.

// labelSet is the label values of one series, in a family's label order.
// Families with the same label names share it; it must not be modified once
// built.
type labelSet struct {
	values []string
	// owner is the family pairs were built for; families with the same
	// label names reuse them.
	owner *family
	pairs []*dto.LabelPair
}

// constMetric is one const gauge or counter whose label pairs are shared.
// It is what prometheus.MustNewConstMetric makes, without copying the pairs
// for every series. It holds a gauge ready for Write: counters are few.
type constMetric struct {
	desc    *prometheus.Desc
	labels  []*dto.LabelPair
	gauge   dto.Gauge
	value   float64
	counter bool
}

// Desc implements prometheus.Metric.
func (m *constMetric) Desc() *prometheus.Desc { return m.desc }

// Write implements prometheus.Metric. The label pairs are shared and must
// not be modified, which client_golang promises for what Write returns.
func (m *constMetric) Write(out *dto.Metric) error {
	out.Label = m.labels
	if m.counter {
		out.Counter = &dto.Counter{Value: &m.value}
	} else {
		out.Gauge = &m.gauge
	}
	return nil
}

const emitBlock = 4096

// labelPair is a label pair's name and value, the key it is shared by.
type labelPair struct{ name, value string }

// sharedPair is a dto.LabelPair with the strings it points to.
type sharedPair struct {
	dto.LabelPair
	labelPair
}

// emitter sends the series of one scrape to a Collect channel. It is not
// safe for concurrent use; each emission has its own.
type emitter struct {
	ch chan<- prometheus.Metric

	sets    []labelSet
	vals    []string
	metrics []constMetric
	// shared holds every label pair of the scrape, by name and value.
	shared map[labelPair]*dto.LabelPair
	pairs  []sharedPair
	ptrs   []*dto.LabelPair
}

func collectingEmitter(ch chan<- prometheus.Metric) *emitter {
	return &emitter{ch: ch, shared: map[labelPair]*dto.LabelPair{}}
}

// set returns a labelSet of the values, given in the order of the label
// names of the families it is used with. Values that are not valid UTF-8
// are repaired (U+FFFD), as client_golang would reject the series.
func (e *emitter) set(values ...string) *labelSet {
	if len(e.sets) == cap(e.sets) {
		e.sets = make([]labelSet, 0, emitBlock)
	}
	if cap(e.vals)-len(e.vals) < len(values) {
		e.vals = make([]string, 0, max(emitBlock, len(values)))
	}
	start := len(e.vals)
	for _, v := range values {
		if !utf8.ValidString(v) {
			v = strings.ToValidUTF8(v, "\uFFFD")
		}
		e.vals = append(e.vals, v)
	}
	e.sets = append(e.sets, labelSet{values: e.vals[start:len(e.vals):len(e.vals)]})
	return &e.sets[len(e.sets)-1]
}

// gauge emits one series of f with the labels of ls.
func (e *emitter) gauge(f *family, v float64, ls *labelSet) {
	if len(ls.values) != len(f.labels) {
		// A programming error; client_golang would panic on it too.
		panic("collector: " + f.name + " takes " + strings.Join(f.labels, ",") + ", got " + strings.Join(ls.values, ","))
	}
	if ls.owner != f && (ls.owner == nil || !slices.Equal(ls.owner.labels, f.labels)) {
		// First use, or used with other label names: (re)build.
		ls.owner, ls.pairs = f, nil
	}
	if ls.pairs == nil && len(f.labels) > 0 {
		ls.pairs = e.labelPairs(f, ls)
	}
	if len(e.metrics) == cap(e.metrics) {
		e.metrics = make([]constMetric, 0, emitBlock)
	}
	e.metrics = e.metrics[:len(e.metrics)+1]
	m := &e.metrics[len(e.metrics)-1]
	m.desc, m.labels, m.value = f.desc, ls.pairs, v
	m.counter = f.valueType == prometheus.CounterValue
	m.gauge.Value = &m.value
	e.ch <- m
}

// values emits one series of f with labels given as values.
func (e *emitter) values(f *family, v float64, values ...string) {
	e.gauge(f, v, e.set(values...))
}

// labelPairs builds ls's pairs for f, sorted by name as client_golang
// wants them, from the scrape's shared pairs.
func (e *emitter) labelPairs(f *family, ls *labelSet) []*dto.LabelPair {
	n := len(f.labels)
	if cap(e.ptrs)-len(e.ptrs) < n {
		e.ptrs = make([]*dto.LabelPair, 0, max(emitBlock, n))
	}
	start := len(e.ptrs)
	for i, j := range f.order {
		e.ptrs = append(e.ptrs, e.pair(f.sorted[i], ls.values[j]))
	}
	return e.ptrs[start:len(e.ptrs):len(e.ptrs)]
}

// pair returns the scrape's one label pair of name and value.
func (e *emitter) pair(name, value string) *dto.LabelPair {
	k := labelPair{name, value}
	if p, ok := e.shared[k]; ok {
		return p
	}
	if len(e.pairs) == cap(e.pairs) {
		e.pairs = make([]sharedPair, 0, emitBlock)
	}
	e.pairs = append(e.pairs, sharedPair{labelPair: k})
	sp := &e.pairs[len(e.pairs)-1]
	sp.Name, sp.Value = &sp.name, &sp.value
	e.shared[k] = &sp.LabelPair
	return &sp.LabelPair
}
