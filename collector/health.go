package collector

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Error reasons of target_errors_total. They are the client's error classes;
// listed here so the counter's label values are known before any failure.
var errorReasons = []string{"auth", "permission", "tls", "timeout", "unreachable", "bad_response", "not_found"}

// Failure is one failed part of a scrape: a request (or a tell-tale result,
// such as an empty listing hidden by missing privileges) to one target.
// Message comes from the client's error, which never holds a secret.
type Failure struct {
	Target   string `json:"target"`
	Kind     string `json:"kind"`
	Endpoint string `json:"endpoint"`
	// Part is what the failure takes down: "target", "node pve2",
	// "datastore store1", "storage nfs", "repository x".
	Part    string `json:"part"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Hint    string `json:"hint"`
	// State marks a part that is down by a source's own account (a
	// datastore in maintenance or not mounted, a node its cluster reports
	// offline) or because another source is down (a pbs storage read
	// through PVE while its PBS is down), not because a request to this
	// target failed. It is logged once and shown like any failure, and its
	// up series say it, but target_errors_total does not count it: a PBS
	// outage must not raise the PVE cluster's error rate.
	State bool `json:"state,omitempty"`
}

// key identifies a failure across scrapes, so it is logged once when it
// starts and once when it clears instead of on every scrape.
func (f Failure) key() string {
	if f.Reason == "timeout" {
		// A target records one timeout per scrape, at whichever request
		// the deadline caught first: the same outage, whatever endpoint.
		return f.Target + "\x00" + f.Kind + "\x00timeout"
	}
	return f.Target + "\x00" + f.Kind + "\x00" + f.Endpoint + "\x00" + f.Reason
}

// targetRun records what happened to one target during one scrape.
type targetRun struct {
	name string
	kind string
	// requests counts the client's requests at the start, to report the
	// difference.
	requestsBefore uint64
	start          time.Time
	tgt            *target
	// lastEnd is when the target's last request ended (Unix nanoseconds).
	lastEnd atomic.Int64
	// slowest is the longest single request (nanoseconds, not counting
	// the wait for a request slot of the client): the floor of the scrape's duration,
	// against which the benchmarks judge the parallel critical path.
	slowest atomic.Int64

	mu       sync.Mutex
	failures []Failure
	// warnings are failures that do not take the target down (a suspected
	// permission problem: every request succeeded, the data is doubtful).
	warnings []Failure

	// Set once the scrape of the target is over.
	duration time.Duration
	requests uint64
}

// noteRequest records one request's duration (proxmox.WithRequestTimer).
func (t *targetRun) noteRequest(d time.Duration) {
	for {
		old := t.slowest.Load()
		if int64(d) <= old || t.slowest.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// slowestRequest is the longest single request of the scrape, any target.
func (res *scrapeResult) slowestRequest() time.Duration {
	var d int64
	for _, r := range res.runs {
		d = max(d, r.slowest.Load())
	}
	return time.Duration(d)
}

// up reports whether every request to the target succeeded.
func (t *targetRun) up() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.failures) == 0
}

// fail records a failed request. fingerprint is the certificate fingerprint
// the client saw, used in the TLS hint; "" when unknown.
func (t *targetRun) fail(endpoint, part string, err error, fingerprint string) Failure {
	reason := reasonOf(err)
	f := Failure{
		Kind:     t.kind,
		Endpoint: endpoint,
		Part:     part,
		Reason:   reason,
		Message:  errorMessage(err),
		Hint:     hintFor(reason, err, fingerprint),
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	// Under the lock: rename may run while requests are in flight.
	f.Target = t.name
	// Once the deadline has passed every further call fails the same way:
	// one timeout per target says it all.
	if reason == "timeout" {
		for _, old := range t.failures {
			if old.Reason == "timeout" {
				return f
			}
		}
	}
	t.failures = append(t.failures, f)
	return f
}

// rename changes the target label of the run and its failures recorded so
// far (a PVE target without a configured name is known by its cluster name
// once PVE reported it). Failures recorded later get the new name.
func (t *targetRun) rename(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.name = name
	for i := range t.failures {
		t.failures[i].Target = name
	}
	for i := range t.warnings {
		t.warnings[i].Target = name
	}
}

// warn records a problem found in a successful answer.
func (t *targetRun) warn(f Failure) {
	t.mu.Lock()
	f.Target, f.Kind = t.name, t.kind
	t.warnings = append(t.warnings, f)
	t.mu.Unlock()
}

func (t *targetRun) snapshotFailures() (failures, warnings []Failure) {
	t.mu.Lock()
	defer t.mu.Unlock()
	failures = append([]Failure(nil), t.failures...)
	warnings = append([]Failure(nil), t.warnings...)
	sortFailures(failures)
	sortFailures(warnings)
	return failures, warnings
}

func sortFailures(fs []Failure) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Endpoint != fs[j].Endpoint {
			return fs[i].Endpoint < fs[j].Endpoint
		}
		return fs[i].Reason < fs[j].Reason
	})
}

// reasonOf maps an error to a target_errors_total reason. A deadline that
// passed while waiting for a free request slot is a timeout too.
func reasonOf(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return "timeout"
	}
	if c := string(proxmox.ClassOf(err)); c != "" {
		return c
	}
	return "bad_response"
}

// errorMessage is the error's text without anything that could carry a
// secret: the client's errors never do, and we add nothing else.
func errorMessage(err error) string {
	if err == nil {
		return ""
	}
	var overdue warmupOverdue
	if errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &overdue) {
		return "no answer before the scrape deadline"
	}
	return err.Error()
}

// hintFor tells the user what to do about a failure. A client error
// carries its own hint: proxmox.Hint knows the API (the privilege an
// endpoint needs, the fingerprint a server presented). The collector adds
// only what the client cannot know: the scrape deadline, and the
// fingerprint it saw when the handshake failed before a certificate check.
func hintFor(reason string, err error, fingerprint string) string {
	var certErr *proxmox.CertificateError
	switch {
	case reason == "timeout":
		return "no answer before the scrape deadline: raise scrape_timeout in Prometheus, check the source's load, or switch off expensive collector groups"
	case reason == "tls" && fingerprint != "" && !errors.As(err, &certErr):
		return fmt.Sprintf("TLS verification failed; the server presented a certificate with SHA-256 fingerprint %s: pin it with tls.fingerprint if that is your server, or set tls.ca_file", fingerprint)
	}
	return proxmox.Hint(err)
}
