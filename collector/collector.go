// Package collector turns the Proxmox clients and the dedup engine into
// Prometheus metrics. Each scrape reads the sources (bounded, concurrent,
// coalesced across concurrent scrapes), asks dedup for the routing plan and
// the merged counts, and emits fresh const metrics (METRICS.md).
package collector

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
)

// Collector groups, switched with --collector.<name> / --no-collector.<name>.
const (
	// CollectorTasks: per-guest vzdump task results (task lists and logs).
	CollectorTasks = "tasks"
	// CollectorDatastores: PBS datastore usage and GC/verify/prune/sync jobs.
	CollectorDatastores = "datastores"
	// CollectorRepository: the per-group detail series of every repository.
	CollectorRepository = "repository"
	// CollectorStorages: PVE backup storage capacity and backup jobs.
	CollectorStorages = "storages"
)

// CollectorGroups lists every group with its help text and whether it is
// on by default, for the flags. A group is on by default when its series
// serve the mixin (alerts, rules, dashboards) or a question README answers;
// every series costs client_golang about 5 µs per scrape. storages serves
// neither (capacity is datastore_*'s job, job coverage guest_in_job's).
var CollectorGroups = []struct {
	Name, Help string
	Default    bool
}{
	{CollectorTasks, "per-guest vzdump task results (reads task lists and job logs)", true},
	{CollectorDatastores, "PBS datastore usage and GC/verify/prune/sync job state", true},
	{CollectorRepository, "per backup group series of every repository (the detail view)", true},
	{CollectorStorages, "PVE backup storage capacity and backup job state", false},
}

// Defaults of Options.
const (
	// DefaultScrapeTimeout applies when a request carries no
	// X-Prometheus-Scrape-Timeout-Seconds header (curl, a browser).
	DefaultScrapeTimeout = 30 * time.Second
	// DefaultTimeoutOffset leaves time to encode and send the answer.
	DefaultTimeoutOffset = 500 * time.Millisecond
	// DefaultVerificationRefresh: a daily verify job's result shows within
	// this time; with jitter, a warm scrape refreshes about
	// groups / (refresh / scrape interval) groups.
	DefaultVerificationRefresh = 3 * time.Hour
)

// Options tune a Collector. Zero values take the defaults above.
type Options struct {
	Logger *slog.Logger
	// TimeoutOffset is subtracted from Prometheus' scrape timeout.
	TimeoutOffset time.Duration
	// DefaultTimeout is the deadline of a scrape without a timeout header.
	DefaultTimeout time.Duration
	// VerificationRefresh is how long cached PBS group details may be
	// reused while the group's count and last backup do not change.
	VerificationRefresh time.Duration
	// Enabled switches collector groups; a missing key means the group's
	// default (CollectorGroups).
	Enabled map[string]bool
	// Now is the clock of the data (task windows, cache ages); time.Now
	// when nil. Durations are always measured on the real clock.
	Now func() time.Time
	// TaskWindow is how far back vzdump tasks are read.
	TaskWindow time.Duration
	// MaxCachedGroups bounds the PBS group cache.
	MaxCachedGroups int
	// TaskLogCacheSize bounds the cache of parsed vzdump job logs.
	TaskLogCacheSize int
}

func (o *Options) applyDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.DefaultTimeout <= 0 {
		o.DefaultTimeout = DefaultScrapeTimeout
	}
	if o.TimeoutOffset < 0 {
		o.TimeoutOffset = 0
	}
	if o.VerificationRefresh <= 0 {
		o.VerificationRefresh = DefaultVerificationRefresh
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TaskWindow <= 0 {
		o.TaskWindow = DefaultTaskWindow
	}
}

// Collector is a prometheus.Collector reading every configured source on
// each scrape. Use Bind to give a scrape the request's deadline.
type Collector struct {
	opts   Options
	logger *slog.Logger

	setMu sync.RWMutex
	set   *targetSet

	flights   coalescer[*scrapeResult]
	pbsCache  *pbsCache
	lastKnown lastKnownStore
	// knownStorages attributes a down cluster's PBS namespaces.
	knownStorages knownStorages
	taskLogs      *taskLogCache

	// knownGuests fills in the names and template flags PVE omits for
	// guests on offline nodes.
	knownGuests knownGuests

	// Persisted across scrapes: target_errors_total,
	// target_last_success_timestamp_seconds and the failures being logged.
	stateMu     sync.Mutex
	errorCounts map[errorKey]float64
	lastSuccess map[runKey]time.Time
	failing     map[string]Failure

	last atomic.Pointer[scrapeResult]
}

// targetSet is the sources of one configuration.
type targetSet struct {
	targets   []*target
	overrides []dedup.Override
}

// New builds a Collector for cfg. It connects to nothing yet: sources are
// read on each scrape.
func New(cfg *config.Config, opts Options) (*Collector, error) {
	set, err := targetsFromConfig(cfg, opts.Logger)
	if err != nil {
		return nil, err
	}
	return newCollector(set, opts), nil
}

func newCollector(set *targetSet, opts Options) *Collector {
	opts.applyDefaults()
	c := &Collector{
		opts:        opts,
		logger:      opts.Logger,
		pbsCache:    newPBSCache(opts.VerificationRefresh, opts.MaxCachedGroups),
		taskLogs:    newTaskLogCache(opts.TaskLogCacheSize),
		errorCounts: map[errorKey]float64{},
		lastSuccess: map[runKey]time.Time{},
		failing:     map[string]Failure{},
	}
	c.install(set)
	return c
}

// ApplyConfig switches to a new configuration. Clients are built first, so
// a config that cannot be used leaves the old one in place. Caches and
// error counters of targets that stay are kept.
func (c *Collector) ApplyConfig(cfg *config.Config) error {
	set, err := targetsFromConfig(cfg, c.logger)
	if err != nil {
		return err
	}
	c.install(set)
	return nil
}

func (c *Collector) install(set *targetSet) {
	c.setMu.Lock()
	old := c.set
	c.set = set
	c.setMu.Unlock()
	c.knownStorages.retain(set.targets)
	c.knownGuests.retain(set.targets)
	if old == nil {
		return
	}
	// Every target got a new client: release the old ones' connections.
	for _, t := range old.targets {
		t.closeIdle()
	}
	// A PBS whose definition changed may be another server now: its cached
	// groups are not trustworthy.
	keep := map[string]bool{}
	for _, t := range set.targets {
		if t.kind == dedup.KindPBS {
			keep[t.name+"\x00"+t.signature()] = true
		}
	}
	for _, t := range old.targets {
		if t.kind == dedup.KindPBS && !keep[t.name+"\x00"+t.signature()] {
			c.pbsCache.dropTarget(t.name)
			c.lastKnown.drop(t.name)
		}
	}
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	present := map[runKey]bool{}
	for _, t := range set.targets {
		present[runKey{t.label(), t.kind}] = true
	}
	for k := range c.errorCounts {
		if !present[runKey{k.target, k.kind}] {
			delete(c.errorCounts, k)
		}
	}
	for k := range c.lastSuccess {
		if !present[k] {
			delete(c.lastSuccess, k)
		}
	}
}

func (c *Collector) currentSet() *targetSet {
	c.setMu.RLock()
	defer c.setMu.RUnlock()
	return c.set
}

func (c *Collector) enabled(group string) bool {
	if on, ok := c.opts.Enabled[group]; ok {
		return on
	}
	for _, g := range CollectorGroups {
		if g.Name == group {
			return g.Default
		}
	}
	return true
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range allFamilies {
		ch <- f.desc
	}
}

// Collect implements prometheus.Collector with the default deadline. The
// HTTP handler uses Bind instead, to honour Prometheus' scrape timeout.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.DefaultTimeout)
	defer cancel()
	c.collect(ctx, ch)
}

// Bind returns a prometheus.Collector whose scrapes run within ctx (the
// request's deadline). promhttp's Collector interface carries no context,
// so the handler registers a bound collector per request.
func (c *Collector) Bind(ctx context.Context) prometheus.Collector {
	return boundCollector{c: c, ctx: ctx}
}

type boundCollector struct {
	c   *Collector
	ctx context.Context
}

func (b boundCollector) Describe(ch chan<- *prometheus.Desc) { b.c.Describe(ch) }
func (b boundCollector) Collect(ch chan<- prometheus.Metric) { b.c.collect(b.ctx, ch) }

func (c *Collector) collect(ctx context.Context, ch chan<- prometheus.Metric) {
	c.emit(collectingEmitter(ch), c.result(ctx))
}

// result is the scrape's result: a fetch, coalesced with any in flight.
func (c *Collector) result(ctx context.Context) *scrapeResult {
	start := time.Now()
	res, _, ok := c.flights.do(ctx, c.fetch)
	if !ok {
		// Our deadline passed while another scrape's fetch was still
		// running: answer with every target down rather than not at all.
		res = c.timedOutResult(start)
	}
	return res
}

// scrapeOnce runs a fetch coalesced with any in flight, for --check and
// /status.
func (c *Collector) scrapeOnce(ctx context.Context) *scrapeResult {
	res, _, ok := c.flights.do(ctx, c.fetch)
	if !ok {
		return c.timedOutResult(time.Now())
	}
	return res
}

// timedOutResult reports every target down for a scrape that could not
// wait for the shared fetch.
func (c *Collector) timedOutResult(start time.Time) *scrapeResult {
	set := c.currentSet()
	res := &scrapeResult{start: start, enabled: c.opts.Enabled}
	for _, t := range set.targets {
		r := &targetRun{name: t.label(), kind: t.kind, tgt: t}
		r.failures = []Failure{{Target: t.label(), Kind: t.kind, Endpoint: "scrape", Part: "target", Reason: "timeout",
			Message: "no answer before the scrape deadline (waiting for a concurrent scrape)", Hint: hintFor("timeout", nil, "")}}
		res.runs = append(res.runs, r)
	}
	c.stateMu.Lock()
	res.errorCounts = copyMap(c.errorCounts)
	res.lastSuccess = copyMap(c.lastSuccess)
	c.stateMu.Unlock()
	res.duration = time.Since(start)
	return res
}

// account updates the persisted counters after a fetch and logs each
// failure once when it starts and once when it clears.
func (c *Collector) account(res *scrapeResult) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	now := c.opts.Now()
	current := map[string]Failure{}
	for _, r := range res.runs {
		for _, reason := range errorReasons {
			k := errorKey{r.name, r.kind, reason}
			if _, ok := c.errorCounts[k]; !ok {
				c.errorCounts[k] = 0
			}
		}
		failures, warnings := r.snapshotFailures()
		for _, f := range append(failures, warnings...) {
			if _, dup := current[f.key()]; dup {
				continue
			}
			current[f.key()] = f
			if !f.State {
				c.errorCounts[errorKey{r.name, r.kind, f.Reason}]++
			}
		}
		if len(failures) == 0 {
			c.lastSuccess[runKey{r.name, r.kind}] = now
		}
	}
	keys := slices.Sorted(maps.Keys(current))
	for _, k := range keys {
		f := current[k]
		attrs := []any{"target", f.Target, "kind", f.Kind, "endpoint", f.Endpoint, "part", f.Part,
			"reason", f.Reason, "err", f.Message, "hint", f.Hint}
		msg := "source failed"
		if f.State {
			msg = "source part unavailable"
		}
		if _, seen := c.failing[k]; seen {
			c.logger.Debug(msg+" (still)", attrs...)
		} else {
			c.logger.Warn(msg, attrs...)
		}
	}
	for k, f := range c.failing {
		if _, still := current[k]; !still {
			c.logger.Info("source recovered", "target", f.Target, "kind", f.Kind, "endpoint", f.Endpoint, "reason", f.Reason)
		}
	}
	c.failing = current
	res.errorCounts = copyMap(c.errorCounts)
	res.lastSuccess = copyMap(c.lastSuccess)
	c.last.Store(res)
}

func copyMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
