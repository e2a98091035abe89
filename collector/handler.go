package collector

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MaxScrapeTimeout caps the budget a scrape request can ask for. Anyone who
// reaches /metrics sets the header: "NaN", "Inf" or 1e300 must not make a
// scrape (and the upstream fetch it holds) unbounded, nor overflow into a
// negative budget that fails every source.
const MaxScrapeTimeout = 10 * time.Minute

// ScrapeTimeout returns the deadline budget of a scrape request: Prometheus'
// X-Prometheus-Scrape-Timeout-Seconds (at most MaxScrapeTimeout) minus
// offset (so the answer is sent before Prometheus gives up), else def. An
// offset larger than the timeout is ignored rather than leaving no time at
// all.
func ScrapeTimeout(r *http.Request, offset, def time.Duration) time.Duration {
	h := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds")
	if h == "" {
		return def
	}
	secs, err := strconv.ParseFloat(h, 64)
	if err != nil || !(secs > 0) || math.IsInf(secs, 0) {
		return def
	}
	timeout := MaxScrapeTimeout
	if secs < MaxScrapeTimeout.Seconds() {
		timeout = time.Duration(secs * float64(time.Second))
	}
	if timeout <= 0 {
		// Below a nanosecond: as good as none, but never zero.
		timeout = 1
	}
	if timeout-offset > 0 {
		return timeout - offset
	}
	return timeout
}

// WithTimeoutFromRequest derives the scrape's context from the request: it
// ends when the client hangs up or the scrape deadline passes.
func WithTimeoutFromRequest(r *http.Request, offset, def time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), ScrapeTimeout(r, offset, def))
}

// Handler serves /metrics: per request, a scrape within the request's
// deadline, exported together with base (the exporter's own process, Go
// and build info collectors) through one client_golang registry and promhttp,
// which negotiate the format (text, OpenMetrics, protobuf) and the
// compression. Concurrent requests share one scrape and one gathering
// (gather.go).
//
// The promhttp handler is built per request, as the request's deadline is
// part of its Gatherer: opts.MaxRequestsInFlight therefore limits nothing,
// and opts.CoalesceGather is done by the shared gathering instead.
func (c *Collector) Handler(opts promhttp.HandlerOpts, base ...prometheus.Collector) http.Handler {
	return newMetricsHandler(c.opts, c.Bind, opts, base...)
}

// newMetricsHandler serves the collector that bind gives (one estate's, or
// none) with base, within each request's deadline as copts set it.
func newMetricsHandler(copts Options, bind func(context.Context) prometheus.Collector, opts promhttp.HandlerOpts, base ...prometheus.Collector) *metricsHandler {
	if opts.ErrorLog == nil {
		opts.ErrorLog = slogErrorLog{copts.Logger}
	}
	// One broken series must not cost every other one.
	opts.ErrorHandling = promhttp.ContinueOnError
	opts.CoalesceGather = false
	return &metricsHandler{timeoutOffset: copts.TimeoutOffset, defaultTimeout: copts.DefaultTimeout,
		g: newScrapeGatherer(bind, base...), opts: opts}
}

// metricsHandler is the /metrics handler of a Collector (and the /probe
// handler of an estate).
type metricsHandler struct {
	timeoutOffset, defaultTimeout time.Duration
	g                             *scrapeGatherer
	opts                          promhttp.HandlerOpts
}

func (h *metricsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := WithTimeoutFromRequest(r, h.timeoutOffset, h.defaultTimeout)
	defer cancel()
	promhttp.HandlerFor(h.g.forRequest(ctx), h.opts).ServeHTTP(w, r)
}

// slogErrorLog adapts promhttp's error log to slog.
type slogErrorLog struct{ logger *slog.Logger }

func (l slogErrorLog) Println(v ...any) {
	l.logger.Error("serving metrics", "err", stringify(v))
}

func stringify(v []any) string {
	s := ""
	for i, x := range v {
		if i > 0 {
			s += " "
		}
		if e, ok := x.(error); ok {
			s += e.Error()
		} else if str, ok := x.(string); ok {
			s += str
		}
	}
	return s
}
