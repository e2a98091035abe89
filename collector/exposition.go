package collector

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// textExposition collects one scrape's series for the text format, per
// family, and writes them as promhttp would: families by name, series
// sorted by label values in label-name order, the same escaping and number
// formatting. Emission already comes in that order for the large families,
// so sorting is a check.
type textExposition struct {
	families [][]textSeries // by family.index
	// chunks hold every rendered label set, in 64 KiB blocks: one
	// allocation per block instead of one per label set, addressed by
	// offsets so that a series holds one pointer, not two, for the garbage
	// collector to scan.
	chunks [][]byte
}

// textRef locates a rendered label set: chunk<<16 | offset, and length.
// A rendering longer than a chunk gets a chunk of its own, at offset 0.
type textRef struct{ at, n uint32 }

type textSeries struct {
	set   *labelSet // for sorting by value
	text  textRef   // the rendered labels, or none (n 0)
	value float64
}

const chunkSize = 64 << 10

func (x *textExposition) labelsText(r textRef) []byte {
	off := r.at & (chunkSize - 1)
	return x.chunks[r.at>>16][off : off+r.n]
}

func newTextExposition() *textExposition {
	return &textExposition{families: make([][]textSeries, len(allFamilies))}
}

// reserve makes room for n more series in each of fams, so a large
// family's slice is allocated once rather than grown a dozen times.
func (x *textExposition) reserve(n int, fams ...*family) {
	for _, f := range fams {
		x.families[f.index] = slices.Grow(x.families[f.index], n)
	}
}

func (x *textExposition) add(f *family, v float64, ls *labelSet) {
	if ls.text.n == 0 && len(f.labels) > 0 {
		ls.text = x.renderLabels(f, ls)
	}
	x.families[f.index] = append(x.families[f.index], textSeries{set: ls, text: ls.text, value: v})
}

// helpEscaper escapes HELP text as the text format (and expfmt) do.
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

// renderLabels renders ls as f's labels, `{name="value",...}` in
// label-name order, into the chunks.
func (x *textExposition) renderLabels(f *family, ls *labelSet) textRef {
	most := 2 // an upper bound: escaping at most doubles a value
	for i, j := range f.order {
		most += len(f.sorted[i]) + 2*len(ls.values[j]) + 4
	}
	last := len(x.chunks) - 1
	if last < 0 || chunkSize-len(x.chunks[last]) < most {
		x.chunks = append(x.chunks, make([]byte, 0, max(chunkSize, most)))
		last++
	}
	chunk := x.chunks[last]
	b := chunk[len(chunk):]
	for i, j := range f.order {
		if i == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = append(b, f.sorted[i]...)
		b = append(b, '=', '"')
		b = appendEscapedLabelValue(b, ls.values[j])
		b = append(b, '"')
	}
	b = append(b, '}')
	x.chunks[last] = chunk[:len(chunk)+len(b)]
	return textRef{at: uint32(last)<<16 | uint32(len(chunk)), n: uint32(len(b))}
}

// appendEscapedLabelValue escapes as the text format (and expfmt) do:
// backslash, double quote and line feed. At most doubles v's length.
func appendEscapedLabelValue(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return b
}

// compareSeries orders two series of f as client_golang does.
func compareSeries(f *family, a, b *textSeries) int {
	for _, j := range f.order {
		if c := strings.Compare(a.set.values[j], b.set.values[j]); c != 0 {
			return c
		}
	}
	return 0
}

// prepare sorts every family where needed and drops duplicate series (a
// bug, which client_golang reports as an error and drops too), returning
// one error per family that had any. It returns the families with series,
// by name.
func (x *textExposition) prepare() ([]*family, []error) {
	var (
		out  []*family
		errs []error
	)
	for _, f := range allFamilies {
		series := x.families[f.index]
		if len(series) == 0 {
			continue
		}
		sorted := true
		for i := 1; i < len(series) && sorted; i++ {
			sorted = compareSeries(f, &series[i-1], &series[i]) < 0
		}
		if !sorted {
			slices.SortStableFunc(series, func(a, b textSeries) int { return compareSeries(f, &a, &b) })
			kept := series[:1]
			for i := 1; i < len(series); i++ {
				if compareSeries(f, &series[i-1], &series[i]) == 0 {
					continue
				}
				kept = append(kept, series[i])
			}
			if len(kept) < len(series) {
				errs = append(errs, fmt.Errorf("%s: %d series collected twice with the same label values were dropped", f.name, len(series)-len(kept)))
			}
			x.families[f.index] = kept
		}
		out = append(out, f)
	}
	return out, errs
}

// writeFamily writes f's series.
func (x *textExposition) writeFamily(w *bufio.Writer, f *family) {
	w.WriteString("# HELP ")
	w.WriteString(f.name)
	w.WriteByte(' ')
	helpEscaper.WriteString(w, f.help)
	w.WriteString("\n# TYPE ")
	w.WriteString(f.name)
	if f.valueType == prometheus.CounterValue {
		w.WriteString(" counter\n")
	} else {
		w.WriteString(" gauge\n")
	}
	var num []byte
	for i := range x.families[f.index] {
		s := &x.families[f.index][i]
		w.WriteString(f.name)
		w.Write(x.labelsText(s.text))
		w.WriteByte(' ')
		num = appendSampleValue(num[:0], s.value)
		w.Write(num)
		w.WriteByte('\n')
	}
}

// appendSampleValue formats v as expfmt does.
func appendSampleValue(b []byte, v float64) []byte {
	switch {
	case v == 1:
		return append(b, '1')
	case v == 0:
		return append(b, '0')
	case v == -1:
		return append(b, "-1"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// serveText answers a /metrics request that negotiated the text format:
// base's families encoded by expfmt, the scrape's written directly, merged
// by name, with promhttp's headers and compression. It returns false,
// having written nothing, when a family name is in both (never, by the
// names we use), so the caller serves through client_golang instead.
func (c *Collector) serveText(w http.ResponseWriter, r *http.Request, x *textExposition, base prometheus.Gatherer,
	format expfmt.Format, opts promhttp.HandlerOpts) bool {
	fams, errs := x.prepare()
	var baseMFs []*dto.MetricFamily
	if base != nil {
		var err error
		baseMFs, err = base.Gather()
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, mf := range baseMFs {
		if _, found := slices.BinarySearchFunc(fams, mf.GetName(), func(f *family, name string) int {
			return strings.Compare(f.name, name)
		}); found {
			return false
		}
	}
	for _, err := range errs {
		opts.ErrorLog.Println("error gathering metrics:", err)
	}

	var filter map[string]bool
	if names := r.URL.Query()["name[]"]; len(names) > 0 {
		filter = make(map[string]bool, len(names))
		for _, n := range names {
			filter[n] = true
		}
	}
	h := w.Header()
	h.Add("Vary", "Accept")
	var body io.Writer = w
	if !opts.DisableCompression {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			gz := gzipWriters.Get().(*gzip.Writer)
			gz.Reset(w)
			defer func() {
				gz.Close()
				gzipWriters.Put(gz)
			}()
			body = gz
		}
	}
	h.Set("Content-Type", string(format))
	bw := bufio.NewWriterSize(body, 64<<10)
	enc := expfmt.NewEncoder(bw, format)
	i := 0
	for _, mf := range baseMFs {
		for ; i < len(fams) && fams[i].name < mf.GetName(); i++ {
			if filter == nil || filter[fams[i].name] {
				x.writeFamily(bw, fams[i])
			}
		}
		if filter == nil || filter[mf.GetName()] {
			if err := enc.Encode(mf); err != nil {
				opts.ErrorLog.Println("error encoding and sending metric family:", err)
			}
		}
	}
	for ; i < len(fams); i++ {
		if filter == nil || filter[fams[i].name] {
			x.writeFamily(bw, fams[i])
		}
	}
	// A write error is the client's hang-up: nothing to do about it.
	bw.Flush()
	return true
}

// gzipWriters compress at gzip.BestSpeed, not promhttp's default level: a
// large exposition (16 MiB for 5,000 guests) then costs 80 ms of CPU
// instead of 200 ms for a body 5 % larger (0.47 MiB instead of 0.44).
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: no error
	return w
}}

// acceptsGzip negotiates compression as promhttp does between identity and
// gzip: the offer with the highest q wins, identity on a tie, and an
// explicit q=0 refuses.
func acceptsGzip(r *http.Request) bool {
	best, bestQ := "identity", -1.0
	for _, offer := range []string{"identity", "gzip"} {
		for _, spec := range strings.Split(strings.Join(r.Header.Values("Accept-Encoding"), ","), ",") {
			value, params, _ := strings.Cut(spec, ";")
			value = strings.ToLower(strings.TrimSpace(value))
			if value == "" {
				continue
			}
			q := 1.0
			if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
				parsed, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					continue
				}
				q = parsed
			}
			if q > bestQ && (value == "*" || value == offer) {
				best, bestQ = offer, q
			}
		}
	}
	return best == "gzip" && bestQ > 0
}
