// Package config loads and validates the exporter's YAML configuration file
// (the contract is shared/design/CONFIG.md; the user documentation is the
// README's "Configuration reference").
//
// Validation is strict on purpose: a typo in a backup monitor's config must
// stop the exporter at start-up (or be rejected on reload), not silently
// monitor less than the user thinks. Every error names the file, the line and
// the key, all errors of a file are reported together, sorted by line, and no
// error or warning ever contains a token secret.
package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Defaults applied to optional keys.
const (
	// DefaultMaxConcurrency is the number of API requests the exporter keeps
	// in flight per target when max_concurrency is not set: enough to keep a
	// scrape's critical path short, few enough not to load a small cluster.
	DefaultMaxConcurrency = 4
	// MaxMaxConcurrency bounds max_concurrency: more parallelism than this
	// only moves load onto pveproxy/proxmox-backup-proxy.
	MaxMaxConcurrency = 64
	// MaxConfigBytes bounds the config file size; a real config is a few KiB.
	MaxConfigBytes = 1 << 20
	// maxSecretBytes bounds a secret file; a Proxmox token secret is a UUID.
	maxSecretBytes = 64 << 10
	// maxCABytes bounds a CA bundle file.
	maxCABytes = 4 << 20
)

// Route values of a storage route's "to" key besides a PBS target name.
const (
	ToPVE    = "pve"    // read the storage through PVE's content API
	ToIgnore = "ignore" // do not read the storage at all
)

// Config is a loaded and validated configuration file.
type Config struct {
	// PVE lists the Proxmox VE clusters (or standalone nodes) to read.
	PVE []Target `yaml:"pve,omitempty" json:"pve,omitempty"`
	// PBS lists the Proxmox Backup Servers to read directly.
	PBS []Target `yaml:"pbs,omitempty" json:"pbs,omitempty"`
	// Routes are overrides checked before automatic storage matching, and
	// cluster attributions of PBS namespaces that no storage maps.
	Routes []Route `yaml:"routes,omitempty" json:"routes,omitempty"`
	// Estates are further, independent estates, each counted on its own
	// (served by /probe?estate=NAME). The top-level PVE, PBS and Routes
	// are the estate named DefaultEstate, when they list a target.
	Estates []Estate `yaml:"estates,omitempty" json:"estates,omitempty"`
	// Source is the file the config was loaded from (or the name given to
	// Parse), for log lines and the status page.
	Source string `yaml:"-" json:"-"`
}

// DefaultEstate is the name of the estate of the top-level pve, pbs and
// routes keys: a config without an estates list is this one estate.
const DefaultEstate = "default"

// Estate is one entry of the estates list: PVE clusters and PBS servers
// counted together. Deduplication, storage routing and namespace
// attribution happen inside an estate, never across estates, so its
// routes name only its own targets, and a target (an API URL) belongs to
// one estate only.
type Estate struct {
	// Name is what /probe?estate= selects, and what Prometheus
	// relabelling makes the estate label.
	Name   string   `yaml:"name" json:"name"`
	PVE    []Target `yaml:"pve,omitempty" json:"pve,omitempty"`
	PBS    []Target `yaml:"pbs,omitempty" json:"pbs,omitempty"`
	Routes []Route  `yaml:"routes,omitempty" json:"routes,omitempty"`
	// Line is the line of the estate's entry in the config file.
	Line int `yaml:"-" json:"-"`
}

// EstateNames returns the names of every configured estate in file order:
// DefaultEstate first when the top-level keys list a target.
func (c *Config) EstateNames() []string {
	var names []string
	if c.HasDefaultEstate() {
		names = append(names, DefaultEstate)
	}
	for _, e := range c.Estates {
		names = append(names, e.Name)
	}
	return names
}

// HasDefaultEstate reports whether the top-level pve and pbs keys list a
// target, i.e. whether /metrics has an estate to serve.
func (c *Config) HasDefaultEstate() bool { return len(c.PVE)+len(c.PBS) > 0 }

// Estate returns the named estate as a single-estate Config (its targets
// and routes at the top level, no Estates), the form a collector reads.
func (c *Config) Estate(name string) (*Config, bool) {
	if name == DefaultEstate {
		if !c.HasDefaultEstate() {
			return nil, false
		}
		return &Config{PVE: c.PVE, PBS: c.PBS, Routes: c.Routes, Source: c.Source}, true
	}
	for _, e := range c.Estates {
		if e.Name == name {
			return &Config{PVE: e.PVE, PBS: e.PBS, Routes: e.Routes, Source: c.Source}, true
		}
	}
	return nil, false
}

// Target is one configured PVE or PBS API endpoint set with its credentials.
type Target struct {
	// Name is the target label. Required for PBS targets. For PVE targets
	// it may be empty: the collector then uses the cluster name PVE reports.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// URLs are API endpoints of the same cluster (or PBS), normalised to
	// "https://host[:port][/prefix]" (a path prefix only for an API behind
	// a reverse proxy), tried in order on connection failure.
	URLs []string `yaml:"urls" json:"urls"`
	// TokenID is "user@realm!tokenname".
	TokenID string `yaml:"token_id" json:"token_id"`
	// TokenSecret is the API token secret, from token_secret or read from
	// token_secret_file. It never prints (see Secret).
	TokenSecret Secret `yaml:"token_secret,omitempty" json:"token_secret,omitempty"`
	// TokenSecretFile is the resolved path the secret was read from, if any.
	// It is re-read on every (re)load, so rotating a secret needs a reload,
	// not a restart.
	TokenSecretFile string `yaml:"token_secret_file,omitempty" json:"token_secret_file,omitempty"`
	// TLS configures certificate verification for this target.
	TLS TLS `yaml:"tls,omitempty" json:"tls,omitempty"`
	// Namespaces (PBS only) is an allow-list of namespace paths; each entry
	// selects that namespace and every namespace below it ("" is the root,
	// i.e. everything). Empty means every namespace, recursively.
	Namespaces []string `yaml:"namespaces,omitempty" json:"namespaces,omitempty"`
	// MaxConcurrency bounds the API requests in flight to this target.
	// Always set after loading (DefaultMaxConcurrency when not configured).
	MaxConcurrency int `yaml:"max_concurrency,omitempty" json:"max_concurrency,omitempty"`
	// Timeout, when not zero, caps the time one scrape spends on this
	// target; the scrape deadline from Prometheus still applies, whichever
	// is shorter.
	Timeout time.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Offline (PBS only) says what to export while the PBS is unreachable.
	Offline Offline `yaml:"offline,omitempty" json:"offline,omitempty"`
	// Line is the line of the target's entry in the config file.
	Line int `yaml:"-" json:"-"`
}

// TLS is a target's certificate verification settings. With none set, the
// system's root certificates verify the server.
type TLS struct {
	// CAFile is the resolved path of a PEM bundle of trusted CAs.
	CAFile string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	// Fingerprint is the SHA-256 pin of the server's leaf certificate,
	// normalised to lower-case hex pairs joined by ":".
	Fingerprint string `yaml:"fingerprint,omitempty" json:"fingerprint,omitempty"`
	// InsecureSkipVerify disables verification (a warning is emitted).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify,omitempty" json:"insecure_skip_verify,omitempty"`
}

// Offline is the PBS "offline" block: what the exporter shows while a PBS
// cannot be reached (some PBS machines are powered on only for the backup
// window).
//
// The default (KeepLastKnown == 0) is the safe one for alerting: the PBS's
// repositories and groups disappear, repository_up and target_up are 0, and
// every guest whose backups could live there has an unknown (absent) count
// and newest time, so only the source-down alert fires. With KeepLastKnown
// set, the last successfully read groups of that PBS are still exported for
// up to that age (the up series stay 0, and the target's last-success
// timestamp shows the data's age), so dashboards and per-guest series do not
// blank out during the PBS's planned off hours.
type Offline struct {
	// KeepLastKnown is how long the last known data of an unreachable PBS
	// is still exported; 0 drops it at once.
	KeepLastKnown time.Duration `yaml:"keep_last_known,omitempty" json:"keep_last_known,omitempty"`
}

// Route is one entry of the routes list. It is either a storage route
// (Cluster, Storage, To: how to read one PVE storage) or a namespace
// attribution (PBS, Datastore, Namespace, Cluster: which cluster a PBS
// namespace that no storage maps belongs to).
type Route struct {
	// Cluster is the PVE cluster the storage belongs to (storage routes)
	// or the namespace is attributed to (attributions).
	Cluster string `yaml:"cluster" json:"cluster"`
	// Storage is a PVE storage ID (storage routes).
	Storage string `yaml:"storage,omitempty" json:"storage,omitempty"`
	// To is a configured PBS name, ToPVE or ToIgnore (storage routes).
	To string `yaml:"to,omitempty" json:"to,omitempty"`
	// SameAs ("CLUSTER:STORAGE", instead of To) declares the shared
	// storage one place with another cluster's storage: read once, its
	// files counted for the guests of both. Without it, storages of two
	// clusters are one place only when their listings show the same files.
	SameAs string `yaml:"same_as,omitempty" json:"same_as,omitempty"`
	// PBS, Datastore and Namespace name a PBS namespace (attributions).
	// Namespace "" is the datastore's root namespace; an attribution covers
	// exactly that namespace, not the ones below it.
	PBS       string `yaml:"pbs,omitempty" json:"pbs,omitempty"`
	Datastore string `yaml:"datastore,omitempty" json:"datastore,omitempty"`
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	// Line is the line of the route's entry in the config file.
	Line int `yaml:"-" json:"-"`
}

// IsAttribution reports whether the route attributes a PBS namespace to a
// cluster (as opposed to routing a PVE storage).
func (r Route) IsAttribution() bool { return r.PBS != "" }

// Load reads, expands and validates the config file at path. Relative file
// paths inside it (token_secret_file, tls.ca_file) are resolved against the
// directory of the config file. Warnings are returned even when err != nil.
// A non-nil error is of type Errors.
func Load(path string) (*Config, []Warning, error) {
	data, err := readBounded(path, MaxConfigBytes)
	if err != nil {
		return nil, nil, Errors{{Source: path, Message: "cannot read config file: " + err.Error(), Err: err}}
	}
	return parse(data, path, filepath.Dir(path), os.LookupEnv)
}

// Parse validates a config held in memory. source names it in errors
// (usually the file name). Relative file paths inside it are resolved
// against the working directory. A non-nil error is of type Errors.
func Parse(data []byte, source string) (*Config, []Warning, error) {
	return parse(data, source, "", os.LookupEnv)
}

// readBounded reads a regular file of at most limit bytes. Special files are
// refused: a FIFO or a device named by mistake would block the loader or
// feed it endless data.
func readBounded(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}
