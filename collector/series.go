package collector

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The per-guest and per-group families are nearly all of a scrape's series
// (140,000 for 5,000 guests with a PBS and an NFS storage). Every series is
// emitted once, by one piece of code, into an emitter with one of two ends:
//
//   - collecting (Collect, and /metrics when the scraper asks for another
//     format than text): fresh const metrics for client_golang. A labelSet
//     gives its label pairs once to every family sharing it (a group's ten
//     series share one slice of four pairs), and metrics and pairs are
//     allocated in blocks.
//   - text (exposition.go): /metrics in the text format, written without
//     client_golang's registry and encoder, which spend most of a large
//     scrape's CPU checking and re-encoding series built correct by
//     construction. A labelSet is rendered once for every family sharing
//     it. The output is byte for byte what promhttp writes (tested).

// labelSet is the label values of one series, in a family's label order.
// Families with the same label names share it; it must not be modified once
// built.
type labelSet struct {
	values []string
	// The collecting end's pairs, and where the text end rendered
	// `{name="value",...}` (length 0: not yet), for the label names of
	// owner.
	owner *family
	pairs []*dto.LabelPair
	text  textRef
}

// constMetric is one const gauge or counter whose label pairs may be
// shared.
type constMetric struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	gauge  dto.Gauge
	count  dto.Counter
	value  float64
}

// Desc implements prometheus.Metric.
func (m *constMetric) Desc() *prometheus.Desc { return m.desc }

// Write implements prometheus.Metric. The label pairs are shared and must
// not be modified, which client_golang promises for what Write returns.
func (m *constMetric) Write(out *dto.Metric) error {
	out.Label = m.labels
	if m.count.Value != nil {
		out.Counter = &m.count
	} else {
		out.Gauge = &m.gauge
	}
	return nil
}

const emitBlock = 4096

// emitter receives the series of one scrape (see above). It is not safe for
// concurrent use; each emission has its own.
type emitter struct {
	ch   chan<- prometheus.Metric // collecting end
	text *textExposition          // text end

	sets    []labelSet
	vals    []string
	metrics []constMetric
	pairs   []dto.LabelPair
	ptrs    []*dto.LabelPair
}

func collectingEmitter(ch chan<- prometheus.Metric) *emitter { return &emitter{ch: ch} }

func textEmitter() *emitter { return &emitter{text: newTextExposition()} }

// reserve says n series of each of fams follow, so the text end sizes its
// families once.
func (e *emitter) reserve(n int, fams ...*family) {
	if e.text != nil {
		e.text.reserve(n, fams...)
	}
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
		ls.owner, ls.pairs, ls.text = f, nil, textRef{}
	}
	if e.text != nil {
		e.text.add(f, v, ls)
		return
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
	if f.valueType == prometheus.CounterValue {
		m.count.Value = &m.value
	} else {
		m.gauge.Value = &m.value
	}
	e.ch <- m
}

// values emits one series of f with labels given as values.
func (e *emitter) values(f *family, v float64, values ...string) {
	e.gauge(f, v, e.set(values...))
}

// labelPairs builds ls's pairs for f, sorted by name as client_golang
// wants them. Names point into f, values into ls: both are immutable.
func (e *emitter) labelPairs(f *family, ls *labelSet) []*dto.LabelPair {
	n := len(f.labels)
	if cap(e.pairs)-len(e.pairs) < n {
		e.pairs = make([]dto.LabelPair, 0, max(emitBlock, n))
	}
	if cap(e.ptrs)-len(e.ptrs) < n {
		e.ptrs = make([]*dto.LabelPair, 0, max(emitBlock, n))
	}
	start := len(e.ptrs)
	for i, j := range f.order {
		e.pairs = append(e.pairs, dto.LabelPair{Name: &f.sorted[i], Value: &ls.values[j]})
		e.ptrs = append(e.ptrs, &e.pairs[len(e.pairs)-1])
	}
	return e.ptrs[start:len(e.ptrs):len(e.ptrs)]
}
