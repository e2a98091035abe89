// Command proxmox_backup_exporter is a Prometheus exporter for the backups
// of Proxmox VE guests, read from Proxmox VE and Proxmox Backup Server and
// counted once however many paths lead to them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
)

const (
	programName = "proxmox_backup_exporter"
	// defaultListenAddress is the exporter's port.
	defaultListenAddress = ":10074"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// flags are the command line (CONFIG.md).
type flags struct {
	configFile          string
	telemetryPath       string
	demo                bool
	enablePprof         bool
	demoNow             int64
	check               bool
	timeoutOffset       time.Duration
	defaultTimeout      time.Duration
	verificationRefresh time.Duration
	taskWindow          time.Duration
	collectors          map[string]*bool
	web                 *web.FlagConfig
	log                 *promslog.Config
}

func parseFlags(args []string) (*flags, error) {
	app := kingpin.New(programName, "Prometheus exporter for Proxmox VE and Proxmox Backup Server backups: every guest's recovery points, counted once.")
	f := &flags{collectors: map[string]*bool{}, log: &promslog.Config{}}
	app.Flag("config.file", "Path to the configuration file (YAML).").
		Default("/etc/proxmox-backup-exporter/config.yml").StringVar(&f.configFile)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&f.telemetryPath)
	app.Flag("web.enable-pprof", "Serve Go's pprof profiles under /debug/pprof/ (and link them on the landing page).").
		BoolVar(&f.enablePprof)
	app.Flag("demo", "Run against a built-in emulated homelab (no Proxmox needed); ignores --config.file.").BoolVar(&f.demo)
	app.Flag("demo.now", "Unix time the demo homelab is built around (for reproducible output); 0 = now.").
		Hidden().Int64Var(&f.demoNow)
	app.Flag("check", "Connect to every source once, print the routing plan, recovery points per repository, duplicates and errors with hints; exit 1 if any source failed.").
		BoolVar(&f.check)
	app.Flag("scrape.timeout-offset", "Subtracted from Prometheus' X-Prometheus-Scrape-Timeout-Seconds so the answer is sent before Prometheus gives up.").
		Default(collector.DefaultTimeoutOffset.String()).DurationVar(&f.timeoutOffset)
	app.Flag("scrape.default-timeout", "Scrape deadline when the request carries no X-Prometheus-Scrape-Timeout-Seconds header (curl, browsers), and for --check.").
		Default(collector.DefaultScrapeTimeout.String()).DurationVar(&f.defaultTimeout)
	app.Flag("pbs.verification-refresh", "How long cached PBS snapshot details (verification state) are reused for a backup group whose count and last backup did not change.").
		Default(collector.DefaultVerificationRefresh.String()).DurationVar(&f.verificationRefresh)
	app.Flag("tasks.window", "How far back vzdump tasks are read for per-guest task results (cover your least frequent backup job).").
		Default(collector.DefaultTaskWindow.String()).DurationVar(&f.taskWindow)
	for _, g := range collector.CollectorGroups {
		f.collectors[g.Name] = app.Flag("collector."+g.Name, "Enable the "+g.Name+" collector: "+g.Help+" (--no-collector."+g.Name+" to disable).").
			Default(strconv.FormatBool(g.Default)).Bool()
	}
	f.web = kingpinflag.AddFlags(app, defaultListenAddress)
	promslogflag.AddFlags(app, f.log)
	app.Version(version.Print(programName))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(args); err != nil {
		return nil, err
	}
	return f, nil
}

func run(args []string) int {
	fillVersion()
	f, err := parseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	logger := promslog.New(f.log)

	opts := collector.Options{
		Logger:              logger,
		TimeoutOffset:       f.timeoutOffset,
		DefaultTimeout:      f.defaultTimeout,
		VerificationRefresh: f.verificationRefresh,
		TaskWindow:          f.taskWindow,
		Enabled:             map[string]bool{},
	}
	for name, on := range f.collectors {
		opts.Enabled[name] = *on
	}

	var (
		cfg     *config.Config
		cleanup = func() {}
	)
	if f.demo {
		now := time.Now()
		if f.demoNow != 0 {
			now = time.Unix(f.demoNow, 0)
			opts.Now = func() time.Time { return now }
		}
		d, err := startDemo(now)
		if err != nil {
			logger.Error("cannot start the demo homelab", "err", err)
			return 1
		}
		cfg, cleanup = d.config, d.close
	} else {
		var warnings []config.Warning
		cfg, warnings, err = config.Load(f.configFile)
		for _, w := range warnings {
			logger.Warn("config", "warning", w.String())
		}
		if err != nil {
			printConfigErrors(os.Stderr, f.configFile, err)
			logger.Error("cannot load config", "file", f.configFile, "err", err)
			return 1
		}
	}
	defer cleanup()

	estates, err := collector.NewEstates(cfg, opts)
	if err != nil {
		logger.Error("cannot set up the sources", "err", err)
		return 1
	}

	if f.check {
		return runCheck(os.Stdout, estates, f.defaultTimeout, logger)
	}

	logger.Info("starting "+programName, "version", version.Info(), "build_context", version.BuildContext())

	rl := newReloader(f.configFile, estates, logger, !f.demo)
	mux := http.NewServeMux()
	// /metrics: the default estate (if the config has one) and the
	// exporter's own metrics; /probe?estate=NAME: one estate.
	mux.Handle(f.telemetryPath, estates.Handler(promhttp.HandlerOpts{},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("proxmox_backup_exporter"),
		rl,
	))
	mux.Handle("/probe", estates.ProbeHandler())
	mux.Handle("/status", estates.StatusHandler())
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "use POST to reload the configuration", http.StatusMethodNotAllowed)
			return
		}
		if err := rl.reload(); err != nil {
			http.Error(w, "reload failed, the previous configuration stays in use: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "configuration reloaded")
	})
	if f.enablePprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	if f.telemetryPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "Proxmox Backup Exporter",
			Description: "Backups of Proxmox VE guests, from Proxmox VE and Proxmox Backup Server, counted once.",
			Version:     version.Info(),
			// exporter-toolkit links pprof unless told not to; the
			// profiles are served only with --web.enable-pprof.
			Profiling: strconv.FormatBool(f.enablePprof),
			Links: []web.LandingLinks{
				{Address: f.telemetryPath, Text: "Metrics"},
				{Address: "/status", Text: "Status", Description: "routing plan, source health and errors"},
				{Address: "/status?format=json", Text: "Status (JSON)"},
				{Address: "/probe?estate=" + firstEstate(cfg), Text: "Probe", Description: "one estate's metrics: /probe?estate=NAME"},
				{Address: "/-/healthy", Text: "Health"},
			},
		})
		if err != nil {
			logger.Error("cannot build the landing page", "err", err)
			return 1
		}
		mux.Handle("/", landing)
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if err := rl.reload(); err != nil {
				logger.Error("reload on SIGHUP failed, the previous configuration stays in use", "err", err)
			}
		}
	}()

	if f.demo {
		printDemoHelp(f)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-stop
		// One line, so that a stop is told apart from a crash in the log.
		logger.Info("shutting down", "signal", sig.String())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	if err := web.ListenAndServe(srv, f.web, logger); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("serving", "err", err)
		return 1
	}
	return 0
}

// runCheck runs --check on every estate, one after the other (each within
// timeout), and returns the exit code: 1 if any source of any estate
// failed. With several estates each report is headed by its estate's name.
func runCheck(w io.Writer, estates *collector.Estates, timeout time.Duration, logger *slog.Logger) int {
	names := estates.Names()
	code := 0
	for i, name := range names {
		coll, _ := estates.Get(name)
		if len(names) > 1 {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "=== estate %s ===\n", name)
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		report, err := coll.Check(ctx)
		cancel()
		if err != nil {
			logger.Error("check failed", "estate", name, "err", err)
			return 1
		}
		if err := report.WriteText(w); err != nil {
			return 1
		}
		if !report.OK {
			code = 1
		}
	}
	return code
}

// firstEstate names the estate the landing page's probe link shows.
func firstEstate(cfg *config.Config) string {
	if names := cfg.EstateNames(); len(names) > 0 {
		return names[0]
	}
	return config.DefaultEstate
}

// printConfigErrors writes a config's errors for people, one per line as
// "file:line: key: message" (the log line has them in one quoted value,
// for journald), and says how to give a config when there is none.
func printConfigErrors(w io.Writer, path string, err error) {
	fmt.Fprintln(w, err)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(w, "No config file at %s: pass yours with --config.file=PATH (examples/config-single.yml is a start),\nor see the exporter at work on an emulated homelab, no Proxmox needed: %s --demo\n", path, programName)
	}
}

// reloader re-reads the config file on SIGHUP and POST /-/reload. A new
// config is applied only when it loads and its clients can be built; else
// the old one stays and the failure shows in
// proxmox_backup_config_last_reload_successful.
type reloader struct {
	path    string
	estates *collector.Estates
	logger  *slog.Logger
	enabled bool

	mu          sync.Mutex
	successful  bool
	lastSuccess time.Time

	okDesc, tsDesc *prometheus.Desc
}

func newReloader(path string, estates *collector.Estates, logger *slog.Logger, enabled bool) *reloader {
	return &reloader{
		path: path, estates: estates, logger: logger, enabled: enabled,
		successful: true, lastSuccess: time.Now(),
		okDesc: prometheus.NewDesc("proxmox_backup_config_last_reload_successful",
			"1 if the last configuration reload succeeded (or none was attempted), 0 if it failed and the previous configuration is still in use.", nil, nil),
		tsDesc: prometheus.NewDesc("proxmox_backup_config_last_reload_success_timestamp_seconds",
			"Time of the last successful configuration load.", nil, nil),
	}
}

func (r *reloader) reload() error {
	if !r.enabled {
		// Nothing to reload: not a failed reload either.
		return errors.New("the demo has no config file to reload")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.load()
	if err != nil {
		r.successful = false
		r.logger.Error("config reload failed, keeping the previous configuration", "file", r.path, "err", err)
		return err
	}
	r.successful = true
	r.lastSuccess = time.Now()
	r.logger.Info("config reloaded", "file", r.path)
	return nil
}

func (r *reloader) load() error {
	cfg, warnings, err := config.Load(r.path)
	for _, w := range warnings {
		r.logger.Warn("config", "warning", w.String())
	}
	if err != nil {
		return err
	}
	return r.estates.ApplyConfig(cfg)
}

// Describe implements prometheus.Collector.
func (r *reloader) Describe(ch chan<- *prometheus.Desc) {
	ch <- r.okDesc
	ch <- r.tsDesc
}

// Collect implements prometheus.Collector.
func (r *reloader) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ok := 0.0
	if r.successful {
		ok = 1
	}
	ch <- prometheus.MustNewConstMetric(r.okDesc, prometheus.GaugeValue, ok)
	ch <- prometheus.MustNewConstMetric(r.tsDesc, prometheus.GaugeValue, float64(r.lastSuccess.Unix()))
}
