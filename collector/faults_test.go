package collector

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// The fault matrix (issue 8): every real-world failure mode of the
// emulator, applied to the PVE cluster "homelab" (every node's URL listed,
// trusted through the cluster CA) and to the PBS "pbs1" (fingerprint
// pinned) of the demo homelab, where it makes sense. For each case:
//
//   - the exporter keeps serving (/metrics and /status answer 200);
//   - the failed part's up series is 0 and target_errors_total grows for
//     the expected reason and no other (no reason at all for parts that
//     are down by the source's own account: maintenance, node offline);
//   - every series of the other source is exactly what it is without the
//     fault, and of the faulted source each series is either unchanged or
//     absent (up series may drop to 0): nothing is reported as a different
//     number, in particular no guest count or newest time (unknown is
//     never zero);
//   - the scrape answers before Prometheus' timeout;
//   - the failure is logged once (target, endpoint, hint), not once per
//     guest and not again on the next scrape;
//   - no output holds a token secret;
//   - cleared, the next scrape equals the baseline (no restart), and no
//     goroutine is left behind.
//
// docs/failure-behaviour.md renders these cases as a table.

// faultCase is one row of the matrix.
type faultCase struct {
	name string
	// target is the faulted source.
	target string
	spec   envSpec
	// capResponses, when > 0, is the clients' MaxResponseBytes.
	capResponses int64
	inject       func(e *env)
	// clear undoes the fault; nil = ClearFaults.
	clear func(e *env)
	// timeout is Prometheus' scrape timeout for the faulted scrapes.
	timeout time.Duration

	// targetUp is the faulted target's target_up while faulted.
	targetUp bool
	// reason must grow in target_errors_total of the faulted target;
	// "" = no error may be counted anywhere.
	reason string
	// zero lists series that must be present with value 0, as
	// "name{label=value,...}" (a subset of the labels).
	zero []string
	// logEndpoint and logHint are substrings of the failure's log line;
	// "" with noLog set means nothing may be logged at WARN.
	logEndpoint, logHint string
	// logMessage is a substring of the logged error text.
	logMessage string
	noLog      bool
	// check runs extra assertions on the faulted exposition.
	check func(t *testing.T, e *env, faulted exposition)
}

const (
	pveTarget = "homelab"
	pbsTarget = "pbs1"
)

// nfsContent matches the listing of the shared NFS storage on any node.
func nfsContent(kind emulator.FaultKind, msg string, size int64) func(e *env) {
	return func(e *env) {
		for _, n := range []string{"pve1", "pve2", "pve3"} {
			e.srv.SetFault(emulator.Fault{Target: pveTarget, PathPrefix: "/nodes/" + n + "/storage/nfs-backup/content", Kind: kind, Message: msg, Size: size})
		}
	}
}

// store1Groups matches the groups listings of every namespace of store1.
func store1Groups(kind emulator.FaultKind, msg string, size int64) func(e *env) {
	return func(e *env) {
		e.srv.SetFault(emulator.Fault{Target: pbsTarget, PathPrefix: "/admin/datastore/store1/groups", Kind: kind, Message: msg, Size: size})
	}
}

func whole(target string, kind emulator.FaultKind) func(e *env) {
	return func(e *env) { e.srv.SetFault(emulator.Fault{Target: target, Kind: kind}) }
}

// the repositories of store1's namespaces and the PVE node-local ones.
var (
	store1Repos = []string{
		`proxmox_backup_repository_up{repository="pbs1:store1"}`,
		`proxmox_backup_repository_up{repository="pbs1:store1/homelab"}`,
		`proxmox_backup_repository_up{repository="pbs1:store1/homelab/archive"}`,
		`proxmox_backup_repository_up{repository="pbs1:store1/lab2"}`,
	}
	nfsRepo = `proxmox_backup_repository_up{repository="homelab:nfs-backup"}`
)

func faultCases() []faultCase {
	pveUp0 := `proxmox_backup_target_up{target="homelab"}`
	pbsUp0 := `proxmox_backup_target_up{target="pbs1"}`
	const (
		pveMsg500 = "unable to activate storage 'nfs-backup' - directory '/mnt/pve/nfs-backup' does not exist or is unreachable"
		pbsMsg500 = `unable to open chunk store 'store1' at "/mnt/datastore/store1/.chunks" - No such file or directory (os error 2)`
	)
	return []faultCase{
		// Whole target down.
		{name: "down/pve", target: pveTarget, inject: whole(pveTarget, emulator.Down),
			reason: "unreachable", zero: []string{pveUp0}, logEndpoint: "GET /nodes", logHint: "cannot connect",
			check: func(t *testing.T, e *env, x exposition) {
				// The PBS groups the cluster's pbs storage maps keep their
				// cluster label while the cluster is unreachable.
				if _, ok := x.get("proxmox_backup_snapshots", "repository", "pbs1:store1/homelab", "cluster", "homelab", "backup_id", "102"); !ok {
					t.Error("pbs1:store1/homelab groups lost their cluster label while homelab is down")
				}
			}},
		{name: "down/pbs", target: pbsTarget, inject: whole(pbsTarget, emulator.Down),
			reason: "unreachable", zero: []string{pbsUp0, `proxmox_backup_repository_up{repository="homelab:backup-server"}`},
			logEndpoint: "GET /admin/datastore", logHint: "8007"},
		// One of several URLs down: the client fails over to pve2 for the
		// cluster-wide calls, but pve1's own calls are proxied to its dead
		// pveproxy and answer 595.
		{name: "first-url-down/pve", target: pveTarget,
			inject: func(e *env) {
				e.srv.SetFault(emulator.Fault{Target: pveTarget, Node: "pve1", Kind: emulator.Down})
			},
			reason: "unreachable", zero: []string{pveUp0, `proxmox_backup_repository_up{repository="homelab/pve1:local"}`},
			logEndpoint: "/nodes/pve1/", logHint: "59x",
			check: func(t *testing.T, e *env, x exposition) {
				if n := countSeries(x, "proxmox_backup_guest_info"); n != 11 {
					t.Errorf("%d guests after fail-over, want 11: the inventory must come through pve2", n)
				}
				if n := countLog(e, "failed over to another URL"); n != 1 {
					t.Errorf("fail-over logged %d times, want once", n)
				}
			}},
		{name: "node-offline/pve", target: pveTarget, targetUp: true,
			inject: func(e *env) {
				e.srv.SetFault(emulator.Fault{Target: pveTarget, Node: "pve3", Kind: emulator.NodeOffline})
			},
			zero:        []string{`proxmox_backup_repository_up{repository="homelab/pve3:local"}`, `proxmox_backup_repository_up{repository="homelab/pve3:usb"}`},
			logEndpoint: "GET /nodes", logHint: "node-local"},
		// One datastore unusable.
		{name: "maintenance/pbs", target: pbsTarget, targetUp: true,
			inject: func(e *env) {
				e.srv.SetFault(emulator.Fault{Target: pbsTarget, Datastore: "archive", Kind: emulator.Maintenance, Message: "type=offline,message=disk%20swap"})
			},
			zero:        []string{`proxmox_backup_datastore_up{datastore="archive"}`},
			logEndpoint: "GET /admin/datastore", logHint: "maintenance"},
		{name: "maintenance-read-only/pbs", target: pbsTarget, targetUp: true, noLog: true,
			inject: func(e *env) {
				e.srv.SetFault(emulator.Fault{Target: pbsTarget, Datastore: "store1", Kind: emulator.Maintenance, Message: "type=read-only,message=upgrade"})
			},
			check: func(t *testing.T, e *env, x exposition) {
				if v, _ := x.get("proxmox_backup_datastore_up", "datastore", "store1"); v != "1" {
					t.Errorf("read-only maintenance still serves reads: datastore_up = %q, want 1", v)
				}
			}},
		{name: "unmounted/pbs", target: pbsTarget, targetUp: true,
			inject: func(e *env) {
				e.srv.SetFault(emulator.Fault{Target: pbsTarget, Datastore: "store1", Kind: emulator.Unmounted})
			},
			zero:        []string{`proxmox_backup_datastore_up{datastore="store1"}`, `proxmox_backup_repository_up{repository="homelab:backup-server"}`},
			logEndpoint: "GET /admin/datastore", logHint: "not mounted"},
		{name: "storage-offline/pve", target: pveTarget,
			inject: func(e *env) {
				e.srv.Update(func(m *emulator.Model) { storageOf(m, "nfs-backup").Offline = true })
			},
			clear: func(e *env) {
				e.srv.Update(func(m *emulator.Model) { storageOf(m, "nfs-backup").Offline = false })
			},
			reason: "bad_response", zero: []string{pveUp0, nfsRepo}, logEndpoint: "nfs-backup", logMessage: "not online"},
		// Authentication and authorisation.
		{name: "401/pve", target: pveTarget, inject: whole(pveTarget, emulator.Status401),
			reason: "auth", zero: []string{pveUp0}, logEndpoint: "GET /nodes", logHint: "token_id"},
		{name: "401/pbs", target: pbsTarget, inject: whole(pbsTarget, emulator.Status401),
			reason: "auth", zero: []string{pbsUp0}, logEndpoint: "GET /admin/datastore", logHint: "token_id"},
		{name: "403/pve", target: pveTarget, inject: whole(pveTarget, emulator.Status403),
			reason: "permission", zero: []string{pveUp0}, logEndpoint: "GET /cluster/status", logHint: "Sys.Audit"},
		{name: "403/pbs", target: pbsTarget, inject: whole(pbsTarget, emulator.Status403),
			reason: "permission", zero: []string{pbsUp0}, logEndpoint: "GET /admin/datastore", logHint: "Datastore.Audit"},
		// PVE's proxy could not reach the node serving the call.
		{name: "596/pve", target: pveTarget,
			inject: func(e *env) {
				e.srv.SetFault(emulator.Fault{Target: pveTarget, Node: "pve2", Kind: emulator.Status596})
			},
			reason: "unreachable", zero: []string{pveUp0, `proxmox_backup_repository_up{repository="homelab/pve2:local"}`},
			logEndpoint: "/nodes/pve2/", logHint: "59x"},
		// Server errors.
		{name: "500/pve", target: pveTarget, inject: nfsContent(emulator.Status500, pveMsg500, 0),
			reason: "bad_response", zero: []string{pveUp0, nfsRepo}, logEndpoint: "/storage/nfs-backup/content", logMessage: pveMsg500},
		{name: "500/pbs", target: pbsTarget, inject: store1Groups(emulator.Status500, pbsMsg500, 0),
			reason: "bad_response", zero: append([]string{pbsUp0}, store1Repos...), logEndpoint: "store1", logMessage: "unable to open chunk store"},
		{name: "503/pve", target: pveTarget, inject: whole(pveTarget, emulator.Status503),
			reason: "unreachable", zero: []string{pveUp0}, logEndpoint: "GET /nodes", logHint: "503"},
		{name: "503/pbs", target: pbsTarget, inject: whole(pbsTarget, emulator.Status503),
			reason: "unreachable", zero: []string{pbsUp0}, logEndpoint: "GET /admin/datastore", logHint: "503"},
		// A listing that hangs past the scrape deadline.
		{name: "hang/pve", target: pveTarget, inject: nfsContent(emulator.Hang, "", 0), timeout: 4 * time.Second,
			reason: "timeout", zero: []string{pveUp0, nfsRepo}, logEndpoint: "nfs-backup", logHint: "scrape_timeout"},
		{name: "hang/pbs", target: pbsTarget, inject: store1Groups(emulator.Hang, "", 0), timeout: 4 * time.Second,
			reason: "timeout", zero: append([]string{pbsUp0}, store1Repos...), logEndpoint: "store1", logHint: "scrape_timeout"},
		// Broken bodies.
		{name: "malformed-json/pve", target: pveTarget, inject: nfsContent(emulator.MalformedJSON, "", 0),
			reason: "bad_response", zero: []string{pveUp0, nfsRepo}, logEndpoint: "nfs-backup", logMessage: "malformed JSON"},
		{name: "malformed-json/pbs", target: pbsTarget, inject: store1Groups(emulator.MalformedJSON, "", 0),
			reason: "bad_response", zero: append([]string{pbsUp0}, store1Repos...), logEndpoint: "store1", logMessage: "malformed JSON"},
		{name: "truncated/pve", target: pveTarget, inject: nfsContent(emulator.Truncated, "", 0),
			reason: "bad_response", zero: []string{pveUp0, nfsRepo}, logEndpoint: "nfs-backup", logMessage: "truncated"},
		{name: "truncated/pbs", target: pbsTarget, inject: store1Groups(emulator.Truncated, "", 0),
			reason: "bad_response", zero: append([]string{pbsUp0}, store1Repos...), logEndpoint: "store1", logMessage: "truncated"},
		{name: "oversized/pve", target: pveTarget, capResponses: 256 << 10, inject: nfsContent(emulator.Oversized, "", 1<<20),
			reason: "bad_response", zero: []string{pveUp0, nfsRepo}, logEndpoint: "nfs-backup", logMessage: "larger than 262144 bytes"},
		{name: "oversized/pbs", target: pbsTarget, capResponses: 256 << 10, inject: store1Groups(emulator.Oversized, "", 1<<20),
			reason: "bad_response", zero: append([]string{pbsUp0}, store1Repos...), logEndpoint: "store1", logMessage: "larger than 262144 bytes"},
		// Certificates: a renewed certificate against a stale pin, and an
		// expired one against a trusted CA. A certificate change comes with
		// a restart of the API proxy, which drops kept-alive connections.
		{name: "fingerprint-mismatch/pve", target: pveTarget, spec: envSpec{pveTLS: trustPin},
			inject: func(e *env) {
				if err := e.srv.RotateCert(pveTarget, "pve1"); err != nil {
					e.t.Fatal(err)
				}
				e.restartListener(pveTarget, "pve1")
			},
			clear: func(e *env) {
				e.cfg.PVE[0].TLS.Fingerprint = e.srv.PVEFingerprint(pveTarget, "pve1")
				e.reload()
			},
			reason: "tls", zero: []string{pveUp0}, logEndpoint: "GET /nodes", logHint: "tls.fingerprint"},
		{name: "fingerprint-mismatch/pbs", target: pbsTarget,
			inject: func(e *env) {
				if err := e.srv.RotateCert(pbsTarget, ""); err != nil {
					e.t.Fatal(err)
				}
				e.restartListener(pbsTarget, "")
			},
			clear: func(e *env) {
				e.cfg.PBS[0].TLS.Fingerprint = e.srv.PBSFingerprint(pbsTarget)
				e.reload()
			},
			reason: "tls", zero: []string{pbsUp0}, logEndpoint: "GET /admin/datastore", logHint: "fingerprint",
			check: func(t *testing.T, e *env, x exposition) {
				// The hint names the fingerprint actually seen, so the pin
				// can be fixed from the log alone.
				if !strings.Contains(e.logs.String(), e.srv.PBSFingerprint(pbsTarget)) {
					t.Error("the log does not name the certificate fingerprint the PBS presented")
				}
			}},
		{name: "expired-cert/pve", target: pveTarget,
			inject: func(e *env) {
				e.restartListener(pveTarget, "")
				e.srv.SetFault(emulator.Fault{Target: pveTarget, Kind: emulator.ExpiredCert})
			},
			reason: "tls", zero: []string{pveUp0}, logEndpoint: "GET /nodes", logMessage: "expired"},
		{name: "expired-cert/pbs", target: pbsTarget, spec: envSpec{pbsTLS: trustCA},
			inject: func(e *env) {
				e.restartListener(pbsTarget, "")
				e.srv.SetFault(emulator.Fault{Target: pbsTarget, Kind: emulator.ExpiredCert})
			},
			reason: "tls", zero: []string{pbsUp0}, logEndpoint: "GET /admin/datastore", logMessage: "expired"},
		// A token without the privilege to see backups: HTTP 200 with an
		// empty (PVE) or owner-filtered (PBS) listing. Detectable where
		// PVE reports used space on a backup-only storage, and wherever a
		// backup task newer than the newest visible backup succeeded; the
		// repositories are then unknown, never an empty "0 backups".
		{name: "no-backup-privilege/pve", target: pveTarget, targetUp: true, inject: whole(pveTarget, emulator.NoBackupPrivilege),
			reason: "permission", zero: []string{nfsRepo, `proxmox_backup_repository_up{repository="homelab/pve3:usb"}`},
			logEndpoint: "nfs-backup", logHint: "Datastore.Allocate"},
		{name: "no-backup-privilege/pbs", target: pbsTarget, targetUp: true, inject: whole(pbsTarget, emulator.NoBackupPrivilege),
			reason: "permission", zero: []string{`proxmox_backup_repository_up{repository="pbs1:store1/homelab"}`},
			logEndpoint: "store1", logHint: "Datastore.Audit"},
	}
}

func storageOf(m *emulator.Model, id string) *emulator.Storage {
	for _, s := range m.Clusters[0].Storages {
		if s.ID == id {
			return s
		}
	}
	panic("no storage " + id)
}

// reload applies e.cfg as a configuration reload would.
func (e *env) reload() {
	e.t.Helper()
	if err := e.coll.ApplyConfig(e.cfg); err != nil {
		e.t.Fatal(err)
	}
}

// capClients rebuilds the clients with a response size cap.
func (e *env) capClients(maxBytes int64) {
	e.t.Helper()
	byName := map[string]config.Target{}
	for _, tc := range append(append([]config.Target(nil), e.cfg.PVE...), e.cfg.PBS...) {
		byName[tc.Name] = tc
	}
	for _, t := range e.coll.currentSet().targets {
		pt := byName[t.name].ToProxmox(t.kind, e.opts.Logger)
		pt.MaxResponseBytes = maxBytes
		var err error
		if t.kind == dedup.KindPBS {
			t.pbs, err = proxmox.NewPBSClient(pt)
		} else {
			t.pve, err = proxmox.NewPVEClient(pt)
		}
		if err != nil {
			e.t.Fatal(err)
		}
	}
}

func countSeries(x exposition, name string) int {
	n := 0
	for k := range x {
		if got, _ := splitSeries(k); got == name {
			n++
		}
	}
	return n
}

func countLog(e *env, msg string) int {
	n := 0
	for _, r := range e.logs.records(e.t) {
		if r["msg"] == msg {
			n++
		}
	}
	return n
}

// seriesOwners says whose data a series is: target names, "guest" for
// the per-guest counts that combine every source, nothing for global
// series. A series derived from two sources has both: the route of a pbs
// storage and its capacity (PVE reports the PBS's), the orphan flag of a
// PBS group (the cluster's inventory says the guest is gone).
func seriesOwners(key string, repoTarget, storageTarget map[string]string) []string {
	name, l := splitSeries(key)
	switch name {
	case "proxmox_backup_guest_snapshots", "proxmox_backup_guest_last_timestamp_seconds", "proxmox_backup_guest_last_copies",
		"proxmox_backup_guest_last_encrypted":
		return []string{"guest"}
	case "proxmox_backup_group_orphaned", "proxmox_backup_storage_route_info":
		return []string{l["cluster"], repoTarget[l["repository"]]}
	case "proxmox_backup_storage_size_bytes", "proxmox_backup_storage_used_bytes", "proxmox_backup_storage_available_bytes":
		return []string{l["cluster"], storageTarget[l["cluster"]+"/"+l["storage"]]}
	}
	switch {
	case l["target"] != "":
		return []string{l["target"]}
	case l["repository"] != "":
		if t, ok := repoTarget[l["repository"]]; ok {
			return []string{t}
		}
		return []string{"unknown repository " + l["repository"]}
	case l["cluster"] != "":
		// Cluster-labelled series come from the PVE target of the same
		// name in this scenario.
		return []string{l["cluster"]}
	}
	return nil
}

func ownedBy(owners []string, target string) bool {
	for _, o := range owners {
		if o == target {
			return true
		}
	}
	return false
}

// upFamilies may drop from 1 to 0 under a fault; every other series of a
// faulted source must keep its value or be absent.
var upFamilies = map[string]bool{
	"proxmox_backup_target_up":     true,
	"proxmox_backup_repository_up": true,
	"proxmox_backup_datastore_up":  true,
}

// stateSets are state sets whose current state a fault may be: a datastore
// put in maintenance or unmounted switches its 1 to that state (each of
// its series may change, and no state appears or goes away).
var stateSets = map[string]bool{
	"proxmox_backup_datastore_maintenance":  true,
	"proxmox_backup_datastore_mount_status": true,
}

// compareUnderFault checks the faulted exposition against the baseline:
// series of targets other than faulted are unchanged (new ones allowed
// only for a pbs storage read through PVE instead, route pve_fallback);
// the faulted target's and the per-guest series are unchanged or absent,
// up series may be 0.
func compareUnderFault(base, got exposition, faulted string) []string {
	repoTarget := map[string]string{}
	storageTarget := map[string]string{} // "cluster/storage" -> target of its repository
	fallback := map[string]bool{}
	for _, x := range []exposition{base, got} {
		for k := range x {
			name, l := splitSeries(k)
			if name == "proxmox_backup_repository_info" {
				repoTarget[l["repository"]] = l["target"]
			}
			if name == "proxmox_backup_storage_route_info" && l["route"] == dedup.RoutePVEFallback {
				fallback[l["repository"]] = true
			}
		}
	}
	for k := range base {
		if name, l := splitSeries(k); name == "proxmox_backup_storage_route_info" {
			storageTarget[l["cluster"]+"/"+l["storage"]] = repoTarget[l["repository"]]
		}
	}
	var bad []string
	for _, k := range slices.Sorted(maps.Keys(base)) {
		name, _ := splitSeries(k)
		if volatile[name] || name == "proxmox_backup_target_errors_total" || name == "proxmox_backup_duplicates_suppressed" {
			continue
		}
		v, present := got[k]
		switch owners := seriesOwners(k, repoTarget, storageTarget); {
		case ownedBy(owners, faulted) || ownedBy(owners, "guest"):
			if present && v != base[k] && !(upFamilies[name] && v == "0") && !stateSets[name] {
				bad = append(bad, fmt.Sprintf("%s: %s -> %s (a faulted source's series changed value instead of going absent)", k, base[k], v))
			}
		default:
			if !present {
				bad = append(bad, fmt.Sprintf("%s (owner %q) disappeared", k, owners))
			} else if v != base[k] {
				bad = append(bad, fmt.Sprintf("%s (owner %q): %s -> %s", k, owners, base[k], v))
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		name, l := splitSeries(k)
		if _, ok := base[k]; ok || volatile[name] || name == "proxmox_backup_target_errors_total" || name == "proxmox_backup_duplicates_suppressed" {
			continue
		}
		switch {
		case fallback[l["repository"]]:
			// A pbs storage read through PVE while its PBS is unusable.
		case upFamilies[name] && got[k] == "0" && ownedBy(seriesOwners(k, repoTarget, storageTarget), faulted):
		default:
			bad = append(bad, fmt.Sprintf("%s %s appeared", k, got[k]))
		}
	}
	return bad
}

// selectorValue finds the value of a series given as name{k=v,...} (a
// subset of its labels).
func selectorValue(x exposition, sel string) (string, bool) {
	name, l := splitSeries(sel)
	var kv []string
	for k, v := range l {
		kv = append(kv, k, v)
	}
	return x.get(name, kv...)
}

// errorDeltas returns the target_errors_total series that grew.
func errorDeltas(base, got exposition) map[string]bool {
	out := map[string]bool{}
	for k, v := range got {
		name, l := splitSeries(k)
		if name == "proxmox_backup_target_errors_total" && v != base[k] && v != "0" {
			out[l["target"]+"/"+l["reason"]] = true
		}
	}
	return out
}

func TestFaultMatrix(t *testing.T) {
	for _, tc := range faultCases() {
		t.Run(tc.name, func(t *testing.T) { runFaultCase(t, tc) })
	}
}

func runFaultCase(t *testing.T, tc faultCase) {
	spec := tc.spec
	// The offset is what --scrape.timeout-offset leaves for the answer to
	// reach Prometheus; generous here, so a CPU-starved CI machine does not
	// turn a scrape that respected its deadline into a failure.
	spec.opts.TimeoutOffset = time.Second
	e := startEnv(t, spec)
	if tc.capResponses > 0 {
		e.capClients(tc.capResponses)
	}
	// Scrapes that do not wait for a hang finish in a fraction of a
	// second; their generous timeout only keeps a loaded CI machine from
	// failing them. The hang cases set a short one and are checked tightly.
	timeout := tc.timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}

	base := e.mustScrape(10 * time.Second)
	baseX := parseExposition(base.body)
	if v, _ := baseX.get("proxmox_backup_target_up", "target", tc.target); v != "1" {
		t.Fatalf("baseline: %s is not up:\n%s", tc.target, base.body)
	}
	e.closeIdle()
	before := settledGoroutines()
	logStart := len(e.logs.records(t))

	tc.inject(e)
	a := e.scrape(timeout)
	if a.code != 200 {
		t.Fatalf("faulted scrape: HTTP %d: %s", a.code, a.body)
	}
	if !a.done.Before(a.deadline) {
		t.Errorf("faulted scrape took %v, past Prometheus' timeout of %v", a.took, timeout)
	}
	x := parseExposition(a.body)

	// The failed part is down, and the right error is counted.
	wantUp := "0"
	if tc.targetUp {
		wantUp = "1"
	}
	if v, _ := x.get("proxmox_backup_target_up", "target", tc.target); v != wantUp {
		t.Errorf("target_up{%s} = %q, want %s", tc.target, v, wantUp)
	}
	for _, sel := range tc.zero {
		if v, ok := selectorValue(x, sel); !ok || v != "0" {
			t.Errorf("%s = %q (present %v), want 0", sel, v, ok)
		}
	}
	deltas := errorDeltas(baseX, x)
	want := map[string]bool{}
	if tc.reason != "" {
		want[tc.target+"/"+tc.reason] = true
	}
	if fmt.Sprint(deltas) != fmt.Sprint(want) {
		t.Errorf("target_errors_total grew for %v, want exactly %v", deltas, want)
	}
	for _, d := range compareUnderFault(baseX, x, tc.target) {
		t.Error(d)
	}
	if tc.check != nil {
		tc.check(t, e, x)
	}

	// Logged once per failure, naming target, endpoint and hint.
	checkFaultLog(t, tc, e.logs.records(t)[logStart:])

	// The exporter keeps serving: the next scrape, still faulted, together
	// with a --check run (they share one fetch), and /status. Nothing new
	// is logged at WARN: a failure is logged when it starts, not on every
	// scrape.
	mark := len(e.logs.records(t))
	var (
		again     scrapeAnswer
		checkText string
		rep       Report
		wg        sync.WaitGroup
	)
	wg.Go(func() { again = e.scrape(timeout) })
	wg.Go(func() { checkText, rep = e.check(timeout) })
	wg.Wait()
	if again.code != 200 || !again.done.Before(again.deadline) {
		t.Errorf("second faulted scrape: HTTP %d in %v", again.code, again.took)
	}
	if rep.OK == !tc.noLog {
		t.Errorf("--check OK = %v with the fault:\n%s", rep.OK, checkText)
	}
	html, js := e.status()
	for _, r := range e.logs.records(t)[mark:] {
		if r["level"] == "WARN" || r["level"] == "ERROR" {
			t.Errorf("logged again on the next scrape: %v", r)
		}
	}

	// Cleared: the next scrape equals the baseline, without a restart.
	if tc.clear != nil {
		tc.clear(e)
	} else {
		e.srv.ClearFaults()
	}
	rec := e.mustScrape(10 * time.Second)
	if d := diffExpositions(baseX, parseExposition(rec.body), "proxmox_backup_target_errors_total"); len(d) > 0 {
		_, js := e.status()
		t.Errorf("not recovered after clearing the fault:\n%s\n/status:\n%s", strings.Join(d, "\n"), js)
	}

	// No secret anywhere.
	for _, out := range []string{a.body, again.body, rec.body, html, js, checkText, e.logs.String()} {
		for _, s := range e.secrets() {
			if strings.Contains(out, s) {
				t.Fatalf("a token secret leaked into an output:\n%s", out)
			}
		}
	}

	// Nothing left behind.
	e.closeIdle()
	settleStart := time.Now()
	n := goroutines(before, 5*time.Second)
	if d := time.Since(settleStart); d > time.Second {
		t.Logf("goroutines took %v to settle", d)
	}
	if n > before {
		t.Errorf("%d goroutines after the fault, %d before", n, before)
	}
}

// checkFaultLog checks the WARN records of a faulted scrape.
func checkFaultLog(t *testing.T, tc faultCase, recs []map[string]any) {
	t.Helper()
	seen := map[string]bool{}
	var mine []map[string]any
	for _, r := range recs {
		if r["level"] != "WARN" && r["level"] != "ERROR" {
			continue
		}
		msg, _ := r["msg"].(string)
		if msg == "failed over to another URL" {
			continue // the client's, checked by the fail-over case
		}
		if msg != "source failed" && msg != "source part unavailable" {
			t.Errorf("unexpected log record: %v", r)
			continue
		}
		target, _ := r["target"].(string)
		if target != tc.target {
			// Only a consequence on another target may be logged (a pbs
			// storage read through PVE while its PBS is down), never as
			// that target's failure.
			if msg != "source part unavailable" {
				t.Errorf("failure logged for %s, which the fault does not hit: %v", target, r)
			}
			continue
		}
		endpoint, _ := r["endpoint"].(string)
		hint, _ := r["hint"].(string)
		key := fmt.Sprint(target, endpoint, r["reason"])
		if seen[key] {
			t.Errorf("failure logged twice: %v", r)
		}
		seen[key] = true
		if endpoint == "" || hint == "" {
			t.Errorf("log record without endpoint or hint: %v", r)
		}
		mine = append(mine, r)
	}
	if tc.noLog {
		if len(mine) > 0 {
			t.Errorf("logged %d failures, want none: %v", len(mine), mine)
		}
		return
	}
	if len(mine) == 0 {
		t.Fatalf("no failure logged for %s", tc.target)
	}
	// One record per failed request, never one per guest: the homelab has
	// 11 guests, and a whole-target failure is at most its 7 inventory
	// calls.
	if len(mine) > 8 {
		t.Errorf("%d log records for one fault", len(mine))
	}
	match := false
	for _, r := range mine {
		endpoint, _ := r["endpoint"].(string)
		hint, _ := r["hint"].(string)
		errText, _ := r["err"].(string)
		if strings.Contains(endpoint, tc.logEndpoint) && strings.Contains(hint, tc.logHint) && strings.Contains(errText, tc.logMessage) {
			match = true
		}
	}
	if !match {
		t.Errorf("no log record with endpoint ~%q, hint ~%q, message ~%q among:\n%s", tc.logEndpoint, tc.logHint, tc.logMessage, formatRecords(mine))
	}
}

func formatRecords(recs []map[string]any) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  %v\n", r)
	}
	return b.String()
}

// quietLogger discards everything (for the load and soak tests).
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
