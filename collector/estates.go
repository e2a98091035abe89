package collector

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
)

// Estates is the exporter's estates (config.Estate): one Collector per
// estate of the configuration, by name. Each estate has its own targets,
// caches, remembered state, scrape coalescing and deadline, so that one
// estate's slow or hanging source never delays another estate's answer,
// and nothing is deduplicated, routed or attributed across estates.
//
// /metrics serves the default estate (the top-level pve, pbs and routes);
// /probe?estate=NAME serves any estate, as blackbox_exporter's
// /probe?target= does.
type Estates struct {
	opts Options

	mu     sync.RWMutex
	byName map[string]*estate
	names  []string // in config order, the default first
}

// estate is one estate's collector and its /probe handler (which holds the
// estate's gathering coalescer).
type estate struct {
	c     *Collector
	probe *metricsHandler
}

// NewEstates builds a Collector for every estate of cfg. It connects to
// nothing yet.
func NewEstates(cfg *config.Config, opts Options) (*Estates, error) {
	opts.applyDefaults()
	e := &Estates{opts: opts, byName: map[string]*estate{}}
	if err := e.ApplyConfig(cfg); err != nil {
		return nil, err
	}
	return e, nil
}

// ApplyConfig switches every estate to a new configuration, all or none:
// the clients of every estate are built first, so a config that cannot be
// used leaves the old one in place. An estate that stays keeps its
// collector, caches and counters (ApplyConfig of Collector); a new estate
// gets a new collector; a removed estate's collector is dropped, and with
// it everything it cached.
func (e *Estates) ApplyConfig(cfg *config.Config) error {
	names := cfg.EstateNames()
	sets := make(map[string]*targetSet, len(names))
	for _, name := range names {
		ecfg, _ := cfg.Estate(name)
		set, err := targetsFromConfig(ecfg, e.opts.Logger)
		if err != nil {
			if len(names) > 1 {
				return fmt.Errorf("estate %s: %w", name, err)
			}
			return err
		}
		sets[name] = set
	}

	e.mu.Lock()
	old := e.byName
	e.byName = make(map[string]*estate, len(names))
	for _, name := range names {
		if es, ok := old[name]; ok {
			es.c.install(sets[name])
			e.byName[name] = es
			continue
		}
		opts := e.opts
		if len(names) > 1 || name != config.DefaultEstate {
			opts.Logger = e.opts.Logger.With("estate", name)
		}
		c := newCollector(sets[name], opts)
		e.byName[name] = &estate{c: c, probe: newMetricsHandler(c.opts, c.Bind, promhttp.HandlerOpts{})}
	}
	e.names = names
	e.mu.Unlock()

	for name, es := range old {
		if _, stays := e.byName[name]; !stays {
			es.c.close()
			e.opts.Logger.Info("estate removed by the configuration; its caches are dropped", "estate", name)
		}
	}
	return nil
}

// Names returns the configured estates' names, the default first.
func (e *Estates) Names() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return slices.Clone(e.names)
}

// Get returns the collector of the named estate.
func (e *Estates) Get(name string) (*Collector, bool) {
	es, ok := e.get(name)
	if !ok {
		return nil, false
	}
	return es.c, true
}

func (e *Estates) get(name string) (*estate, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	es, ok := e.byName[name]
	return es, ok
}

// Handler serves /metrics: the default estate's scrape with base (the
// exporter's own process, Go, build info and reload collectors), or base
// alone when the configuration has no default estate (only an estates
// list). The default estate is looked up per gathering, so a reload that
// adds or removes it takes effect at the next scrape.
func (e *Estates) Handler(opts promhttp.HandlerOpts, base ...prometheus.Collector) http.Handler {
	return newMetricsHandler(e.opts, func(ctx context.Context) prometheus.Collector {
		if c, ok := e.Get(config.DefaultEstate); ok {
			return c.Bind(ctx)
		}
		return noCollector{}
	}, opts, base...)
}

// noCollector exports nothing: /metrics of a configuration without a
// default estate.
type noCollector struct{}

func (noCollector) Describe(chan<- *prometheus.Desc) {}
func (noCollector) Collect(chan<- prometheus.Metric) {}

// ProbeHandler serves /probe?estate=NAME: one scrape of that estate within
// the request's deadline, coalesced with the estate's scrapes in flight,
// with the estate's series only (the exporter's own metrics are on
// /metrics). A missing or unknown estate is a 400.
func (e *Estates) ProbeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("estate")
		es, ok := e.get(name)
		if !ok {
			http.Error(w, e.unknown(name), http.StatusBadRequest)
			return
		}
		es.probe.ServeHTTP(w, r)
	})
}

// StatusHandler serves /status of the estate named by ?estate= (the
// default estate without it).
func (e *Estates) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("estate")
		if name == "" {
			name = config.DefaultEstate
		}
		c, ok := e.Get(name)
		if !ok {
			http.Error(w, e.unknown(name), http.StatusBadRequest)
			return
		}
		c.StatusHandler().ServeHTTP(w, r)
	})
}

// unknown is the message of a request for an estate that is not
// configured. It does not list the configured estates: a service
// provider's estates are its customers, and anyone who can reach /probe
// would read them (blackbox_exporter does not list its modules either).
// The name asked for is quoted and cut short: it is request input.
func (e *Estates) unknown(name string) string {
	switch {
	case name == "":
		return "missing estate parameter: want /probe?estate=NAME, NAME an estate of the configuration file"
	case len(name) > 64:
		name = name[:64] + "…"
	}
	return fmt.Sprintf("unknown estate %q: not an estate of the configuration file", name)
}

// close releases a dropped collector's idle connections; the collector and
// its caches are then garbage once its last scrape in flight ends.
func (c *Collector) close() {
	for _, t := range c.currentSet().targets {
		t.closeIdle()
	}
}
