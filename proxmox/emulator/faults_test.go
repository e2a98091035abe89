package emulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestAuthHeaders(t *testing.T) {
	s := startHomelab(t)
	pveID, pveSecret := s.PVEToken("homelab")
	pbsID, pbsSecret := s.PBSToken("pbs1")
	hc := insecureClient(10 * time.Second)
	ctx := context.Background()
	for _, tc := range []struct {
		name, kind, header string
		status             int
		reason, body       string
	}{
		{"pve documented form", "pve", "PVEAPIToken=" + pveID + "=" + pveSecret, 200, "", ""},
		{"pve space after prefix", "pve", "PVEAPIToken " + pveID + "=" + pveSecret, 200, "", ""},
		{"pve uri-escaped", "pve", "PVEAPIToken=" + url.PathEscape(pveID) + "=" + pveSecret, 200, "", ""},
		{"pve trailing ;", "pve", "PVEAPIToken=" + pveID + "=" + pveSecret + ";x", 200, "", ""},
		{"pve wrong secret", "pve", "PVEAPIToken=" + pveID + "=wrong", 401, "Authentication failed!", ""},
		{"pve PBS-style colon", "pve", "PVEAPIToken=" + pveID + ":" + pveSecret, 401, "Authentication failed!", ""},
		{"pve PBS header", "pve", "PBSAPIToken=" + pveID + ":" + pveSecret, 401, "No ticket", ""},
		{"pve no header", "pve", "", 401, "No ticket", ""},
		{"pve bearer", "pve", "Bearer " + pveSecret, 401, "No ticket", ""},
		{"pbs documented form", "pbs", "PBSAPIToken=" + pbsID + ":" + pbsSecret, 200, "", ""},
		{"pbs space after prefix", "pbs", "PBSAPIToken " + pbsID + ":" + pbsSecret, 200, "", ""},
		{"pbs percent-encoded secret", "pbs", "PBSAPIToken=" + pbsID + ":" + strings.ReplaceAll(pbsSecret, "-", "%2D"), 200, "", ""},
		{"pbs wrong secret", "pbs", "PBSAPIToken=" + pbsID + ":wrong", 401, "", "authentication failed - invalid API token"},
		{"pbs PVE-style equals", "pbs", "PBSAPIToken=" + pbsID + "=" + pbsSecret, 401, "", "authentication failed - failed to split API token header"},
		{"pbs PVE header", "pbs", "PVEAPIToken=" + pbsID + "=" + pbsSecret, 401, "", "authentication failed - no authentication credentials provided."},
		{"pbs no header", "pbs", "", 401, "", "authentication failed - no authentication credentials provided."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, path := s.PVEURL("homelab", "pve1"), "/version"
			if tc.kind == "pbs" {
				base = s.PBSURL("pbs1")
			}
			r := doGet(ctx, hc, base, path, nil, tc.header)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.status != tc.status {
				t.Fatalf("status %d, want %d (%s)", r.status, tc.status, r.body)
			}
			if tc.status == 200 {
				return
			}
			if tc.kind == "pve" {
				// No JSON envelope: the message is the reason phrase.
				if r.reason != tc.reason || len(r.body) != 0 {
					t.Errorf("reason %q body %q, want %q and no body", r.reason, r.body, tc.reason)
				}
				return
			}
			if string(r.body) != tc.body || !strings.HasPrefix(r.ctype, "application/json") {
				t.Errorf("body %q (%s), want %q", r.body, r.ctype, tc.body)
			}
			if json.Valid(r.body) {
				t.Error("PBS errors are plain text, not JSON")
			}
		})
	}
	// Unknown paths still need authentication; then PVE 501, PBS 404.
	if r := doGet(ctx, hc, s.PBSURL("pbs1"), "/nope", nil, ""); r.status != 401 {
		t.Errorf("unauthenticated unknown path: %d", r.status)
	}
	if r := pbs(t, s, "pbs1", "/nope", nil); r.status != 404 || string(r.body) != "Path '/api2/json/nope' not found." {
		t.Errorf("PBS unknown path: %d %q", r.status, r.body)
	}
	if r := pve(t, s, "homelab", "pve1", "/nope", nil); r.status != 501 || str(r.json(t), "message") != "Method 'GET /nope' not implemented\n" {
		t.Errorf("PVE unknown path: %d %q", r.status, r.body)
	}
}

func TestAuthFailureDelayOption(t *testing.T) {
	m := Homelab(testNow)
	m.AuthFailureDelay = 150 * time.Millisecond
	s, err := Start(m)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	r := doGet(context.Background(), insecureClient(5*time.Second), s.PBSURL("pbs1"), "/version", nil, "")
	if r.status != 401 || time.Since(start) < 150*time.Millisecond {
		t.Errorf("status %d after %v, want 401 after at least the configured delay", r.status, time.Since(start))
	}
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

func TestFaultKinds(t *testing.T) {
	s := startHomelab(t)
	const content = "/nodes/pve1/storage/backup-server/content"
	type check func(t *testing.T, r resp)
	status := func(code int, reason, bodyHas string) check {
		return func(t *testing.T, r resp) {
			t.Helper()
			if r.err != nil {
				t.Fatalf("transport error %v", r.err)
			}
			if r.status != code || (reason != "" && r.reason != reason) || !strings.Contains(string(r.body), bodyHas) {
				t.Errorf("got %d %q %q, want %d %q containing %q", r.status, r.reason, truncateStr(string(r.body), 200), code, reason, bodyHas)
			}
		}
	}
	for _, tc := range []struct {
		name  string
		fault Fault
		kind  string // pve or pbs
		path  string
		check check
	}{
		{"pve 401", Fault{Target: "homelab", Kind: Status401}, "pve", "/version", status(401, "Authentication failed!", "")},
		{"pbs 401", Fault{Target: "pbs1", Kind: Status401}, "pbs", "/version", status(401, "Unauthorized", "authentication failed")},
		{"pve 403", Fault{Target: "homelab", Kind: Status403}, "pve", content,
			status(403, "Permission check failed (/storage/backup-server, Datastore.Audit|Datastore.AllocateSpace)",
				`"message":"Permission check failed (/storage/backup-server, Datastore.Audit|Datastore.AllocateSpace)\n"`)},
		{"pbs 403", Fault{Target: "pbs1", Kind: Status403}, "pbs", "/admin/datastore", status(403, "", "permission check failed")},
		{"pve 500", Fault{Target: "homelab", Kind: Status500, Message: "storage 'backup-server' is not online"}, "pve", content,
			status(500, "storage 'backup-server' is not online", `{"data":null,"message":"storage 'backup-server' is not online\n"}`)},
		{"pbs 500", Fault{Target: "pbs1", Kind: Status500, Message: "unable to open chunk store"}, "pbs", "/admin/datastore", status(500, "", "unable to open chunk store")},
		{"pve 503", Fault{Target: "homelab", Kind: Status503}, "pve", "/nodes", status(503, "service unavailable", `"message"`)},
		{"pbs 503", Fault{Target: "pbs1", Kind: Status503}, "pbs", "/version", status(503, "", "service unavailable")},
		{"pve 596", Fault{Target: "homelab", Kind: Status596}, "pve", content, func(t *testing.T, r resp) {
			if r.status != 596 || r.reason != "Broken pipe" || len(r.body) != 0 {
				t.Errorf("got %d %q %q", r.status, r.reason, r.body)
			}
		}},
		{"malformed", Fault{Target: "pbs1", Kind: MalformedJSON}, "pbs", "/admin/datastore", func(t *testing.T, r resp) {
			if r.status != 200 || json.Valid(r.body) {
				t.Errorf("got %d %q, want 200 with invalid JSON", r.status, r.body)
			}
		}},
		{"truncated", Fault{Target: "homelab", Kind: Truncated}, "pve", content, func(t *testing.T, r resp) {
			if r.err == nil || !strings.Contains(r.err.Error(), "unexpected EOF") || json.Valid(r.body) {
				t.Errorf("got err %v, body %d bytes; want unexpected EOF with half a body", r.err, len(r.body))
			}
		}},
		{"oversized", Fault{Target: "pbs1", Kind: Oversized, Size: 3 << 20}, "pbs", "/admin/datastore", func(t *testing.T, r resp) {
			if r.status != 200 || len(r.body) < 3<<20 || !json.Valid(r.body) {
				t.Errorf("got %d, %d bytes, valid %v", r.status, len(r.body), json.Valid(r.body))
			}
		}},
		{"scoped by route pattern", Fault{Target: "pbs1", Kind: Status500, PathPrefix: "/admin/datastore/{store}/groups"}, "pbs",
			"/admin/datastore/store1/snapshots?ns=homelab", status(200, "", "backup-time")},
		{"scoped by path", Fault{Target: "pbs1", Kind: Status500, PathPrefix: "/admin/datastore/archive"}, "pbs",
			"/admin/datastore/store1/groups", status(200, "", "backup-id")},
		{"other target", Fault{Target: "other", Kind: Status500}, "pbs", "/version", status(200, "", "version")},
		{"node scope hits proxied call", Fault{Target: "homelab", Node: "pve2", Kind: Status500}, "pve",
			"/nodes/pve2/storage", status(500, "internal error", "internal error")},
		{"node scope spares others", Fault{Target: "homelab", Node: "pve2", Kind: Status500}, "pve",
			"/nodes/pve1/storage", status(200, "", "local")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.ClearFaults()
			s.SetFault(tc.fault)
			defer s.ClearFaults()
			path, rawq, _ := strings.Cut(tc.path, "?")
			q, _ := url.ParseQuery(rawq)
			base, auth := s.PVEURL("homelab", "pve1"), pveAuth(s, "homelab")
			if tc.kind == "pbs" {
				base, auth = s.PBSURL("pbs1"), pbsAuth(s, "pbs1")
			}
			tc.check(t, doGet(context.Background(), insecureClient(20*time.Second), base, path, q, auth))
		})
	}
}

func TestFaultTimesAndClear(t *testing.T) {
	s := startHomelab(t)
	s.SetFault(Fault{Target: "pbs1", Kind: Status500, Times: 1})
	if r := pbs(t, s, "pbs1", "/version", nil); r.status != 500 {
		t.Errorf("first request %d, want 500", r.status)
	}
	if r := pbs(t, s, "pbs1", "/version", nil); r.status != 200 {
		t.Errorf("second request %d, want 200", r.status)
	}
	s.SetFault(Fault{Target: "pbs1", Kind: Status503})
	s.SetFault(Fault{Target: "homelab", Kind: Status503})
	s.ClearFaultsFor("pbs1")
	if r := pbs(t, s, "pbs1", "/version", nil); r.status != 200 {
		t.Errorf("after ClearFaultsFor: %d", r.status)
	}
	if r := pve(t, s, "homelab", "pve1", "/version", nil); r.status != 503 {
		t.Errorf("other target's fault must stay: %d", r.status)
	}
}

func TestSlowAndHang(t *testing.T) {
	s := startHomelab(t)
	s.SetFault(Fault{Target: "pbs1", Kind: Slow, Delay: 200 * time.Millisecond, PathPrefix: "/version"})
	start := time.Now()
	if r := pbs(t, s, "pbs1", "/version", nil); r.status != 200 || time.Since(start) < 200*time.Millisecond {
		t.Errorf("slow: %d after %v", r.status, time.Since(start))
	}
	s.ClearFaults()
	s.SetFault(Fault{Target: "pbs1", Kind: Hang})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r := doGet(ctx, insecureClient(0), s.PBSURL("pbs1"), "/version", nil, pbsAuth(s, "pbs1"))
	if !errors.Is(r.err, context.DeadlineExceeded) {
		t.Errorf("hang: want the client's deadline, got %v (status %d)", r.err, r.status)
	}
	waitFor(t, "hanging handler to end after the client gave up", func() bool { return s.active.Load() == 0 })
	recs := s.Requests()
	if last := recs[len(recs)-1]; last.Status != dropped || last.Route != "/version" {
		t.Errorf("hang recorded as %+v", last)
	}
}

// waitFor polls a condition (never a fixed sleep) with a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCloseReleasesHangingRequestsWithoutLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := Start(Homelab(testNow))
	if err != nil {
		t.Fatal(err)
	}
	s.SetFault(Fault{Target: "homelab", Kind: Hang})
	hc := insecureClient(0)
	done := make(chan resp, 2)
	go func() {
		done <- doGet(context.Background(), hc, s.PVEURL("homelab", "pve1"), "/nodes", nil, pveAuth(s, "homelab"))
	}()
	go func() {
		done <- doGet(context.Background(), hc, s.PVEURL("homelab", "pve2"), "/nodes/pve3/tasks", nil, pveAuth(s, "homelab"))
	}()
	waitFor(t, "two hanging requests", func() bool { return s.active.Load() == 2 })
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with hanging requests", d)
	}
	for i := 0; i < 2; i++ {
		if r := <-done; r.err == nil {
			t.Errorf("hanging request got an answer: %d", r.status)
		}
	}
	hc.CloseIdleConnections()
	waitFor(t, "goroutines to return to the level before Start", func() bool { return runtime.NumGoroutine() <= before })
}

func TestDownAndNodeOffline(t *testing.T) {
	s := startHomelab(t)
	pbsURL := s.PBSURL("pbs1")
	s.SetFault(Fault{Target: "pbs1", Kind: Down})
	if r := pbs(t, s, "pbs1", "/version", nil); !isRefused(r.err) {
		t.Errorf("PBS down: want connection refused, got %v %d", r.err, r.status)
	}
	// PVE cannot reach it either.
	if r := pve(t, s, "homelab", "pve1", "/nodes/pve1/storage/backup-server/content", nil); r.status != 500 || !strings.Contains(string(r.body), "Connection refused") {
		t.Errorf("PVE content of a down PBS: %d %s", r.status, r.body)
	}
	s.ClearFaults()
	if r := pbs(t, s, "pbs1", "/version", nil); r.status != 200 || s.PBSURL("pbs1") != pbsURL {
		t.Errorf("PBS back: %d %v, url %s vs %s", r.status, r.err, s.PBSURL("pbs1"), pbsURL)
	}

	// One pveproxy down: its node is still a cluster member, calls proxied
	// to it fail with 595.
	s.SetFault(Fault{Target: "homelab", Node: "pve2", Kind: Down})
	if r := pve(t, s, "homelab", "pve2", "/version", nil); !isRefused(r.err) {
		t.Errorf("pve2 down: %v %d", r.err, r.status)
	}
	r := pve(t, s, "homelab", "pve1", "/nodes/pve2/storage", nil)
	if r.status != 595 || len(r.body) != 0 || !strings.Contains(r.reason, "Connection refused") {
		t.Errorf("proxied to a down node: %d %q %q", r.status, r.reason, r.body)
	}
	for _, n := range pve(t, s, "homelab", "pve1", "/nodes", nil).rows(t) {
		if str(n, "node") == "pve2" && str(n, "status") != "online" {
			t.Errorf("pveproxy down does not make the node offline: %v", n)
		}
	}
	s.ClearFaults()

	for _, how := range []string{"fault", "model"} {
		t.Run(how, func(t *testing.T) {
			if how == "fault" {
				s.SetFault(Fault{Target: "homelab", Node: "pve2", Kind: NodeOffline})
				defer s.ClearFaults()
			} else {
				s.Update(func(m *Model) { m.Cluster("homelab").Node("pve2").Offline = true })
				defer s.Update(func(m *Model) { m.Cluster("homelab").Node("pve2").Offline = false })
			}
			if r := pve(t, s, "homelab", "pve2", "/version", nil); !isRefused(r.err) {
				t.Errorf("offline node's listener: %v %d", r.err, r.status)
			}
			if r := pve(t, s, "homelab", "pve1", "/nodes/pve2/tasks", nil); r.status != 595 || json.Valid(r.body) && len(r.body) > 0 {
				t.Errorf("proxied: %d %q", r.status, r.body)
			}
			for _, n := range pve(t, s, "homelab", "pve3", "/nodes", nil).rows(t) {
				if str(n, "node") == "pve2" && (str(n, "status") != "offline" || n["uptime"] != nil) {
					t.Errorf("/nodes: %v", n)
				}
			}
			for _, g := range pve(t, s, "homelab", "pve1", "/cluster/resources", nil).rows(t) {
				if str(g, "node") != "pve2" {
					continue
				}
				switch str(g, "type") {
				case "qemu", "lxc", "storage":
					if str(g, "status") != "unknown" || g["name"] != nil || g["disk"] != nil {
						t.Errorf("resource on an offline node without RRD data: %v", g)
					}
				}
			}
			// /cluster/* keeps working on the others.
			if n := len(pve(t, s, "homelab", "pve1", "/cluster/backup", nil).rows(t)); n != 3 {
				t.Errorf("cluster/backup on pve1: %d jobs", n)
			}
		})
		if r := pve(t, s, "homelab", "pve2", "/version", nil); r.status != 200 {
			t.Errorf("%s: pve2 back online: %v %d", how, r.err, r.status)
		}
	}
}

func TestNoBackupPrivilege(t *testing.T) {
	s := startHomelab(t)
	s.SetFault(Fault{Target: "homelab", Kind: NoBackupPrivilege})
	s.SetFault(Fault{Target: "pbs1", Kind: NoBackupPrivilege})
	for _, st := range []string{"backup-server", "nfs-backup"} {
		r := pve(t, s, "homelab", "pve3", "/nodes/pve3/storage/"+st+"/content", qv("content", "backup"))
		if rows := r.rows(t); len(rows) != 0 {
			t.Errorf("%s: %d volumes visible without privilege, want an empty 200", st, len(rows))
		}
	}
	if rows := pbs(t, s, "pbs1", "/admin/datastore/store1/groups", qv("ns", "homelab")).rows(t); len(rows) != 0 {
		t.Errorf("PBS groups owned by others are listed: %d", len(rows))
	}
	tokenID, _ := s.PBSToken("pbs1")
	s.Update(func(m *Model) {
		m.PBSServer("pbs1").Datastore("store1").Namespace("homelab").FindGroup("vm", "100").Owner = tokenID
	})
	if rows := pbs(t, s, "pbs1", "/admin/datastore/store1/groups", qv("ns", "homelab")).rows(t); len(rows) != 1 {
		t.Errorf("owned groups: %d, want 1", len(rows))
	}
	if rows := pbs(t, s, "pbs1", "/admin/datastore/store1/snapshots", qv("ns", "homelab")).rows(t); len(rows) != 14 {
		t.Errorf("owned snapshots: %d, want 14", len(rows))
	}
}

func TestDatastoreMaintenanceAndUnmounted(t *testing.T) {
	s := startHomelab(t)
	for _, tc := range []struct {
		name    string
		fault   Fault
		err     string // "" = reads work
		listing string // maintenance field in /admin/datastore
		mount   string
	}{
		{"offline", Fault{Target: "pbs1", Datastore: "store1", Kind: Maintenance},
			"datastore 'store1' is unavailable: offline maintenance mode: disk swap", "type=offline,message=disk%20swap", "nonremovable"},
		{"unmount", Fault{Target: "pbs1", Datastore: "store1", Kind: Maintenance, Message: "type=unmount"},
			"datastore 'store1' is unavailable: datastore is being unmounted", "type=unmount", "nonremovable"},
		{"read-only", Fault{Target: "pbs1", Datastore: "store1", Kind: Maintenance, Message: "type=read-only"},
			"", "type=read-only", "nonremovable"},
		{"not mounted", Fault{Target: "pbs1", Datastore: "store1", Kind: Unmounted},
			"datastore 'store1' is not mounted", "", "notmounted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.SetFault(tc.fault)
			defer s.ClearFaults()
			for _, ds := range pbs(t, s, "pbs1", "/admin/datastore", nil).rows(t) {
				if str(ds, "store") == "store1" && (str(ds, "maintenance") != tc.listing || str(ds, "mount-status") != tc.mount) {
					t.Errorf("listing %v", ds)
				}
			}
			for _, path := range []string{"groups", "snapshots", "namespace", "status"} {
				r := pbs(t, s, "pbs1", "/admin/datastore/store1/"+path, qv("ns", "homelab"))
				if tc.err == "" {
					if r.status != 200 {
						t.Errorf("%s: %d %s", path, r.status, r.body)
					}
					continue
				}
				if r.status != 400 || string(r.body) != tc.err {
					t.Errorf("%s: %d %q, want 400 %q", path, r.status, r.body, tc.err)
				}
			}
			if r := pbs(t, s, "pbs1", "/admin/datastore/archive/groups", nil); r.status != 200 {
				t.Errorf("other datastore affected: %d", r.status)
			}
			for _, u := range pbs(t, s, "pbs1", "/status/datastore-usage", nil).rows(t) {
				if str(u, "store") == "store1" && (str(u, "error") == "") != (tc.err == "") {
					t.Errorf("usage row %v", u)
				}
			}
			r := pve(t, s, "homelab", "pve1", "/nodes/pve1/storage/backup-server/content", nil)
			if (r.status == 200) != (tc.err == "") {
				t.Errorf("PVE content through a datastore in %s: %d %s", tc.name, r.status, r.body)
			}
		})
	}
}

func TestCertificates(t *testing.T) {
	m := Homelab(testNow)
	m.PBS = append(m.PBS, &PBSServer{Name: "pbs2"})
	s, err := Start(m)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seen := func(base string) *x509.Certificate {
		t.Helper()
		conn, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // inspecting the served certificate
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0]
	}
	fp1 := s.PBSFingerprint("pbs1")
	if got := fingerprint(seen(s.PBSURL("pbs1")).Raw); got != fp1 {
		t.Errorf("handshake %s != PBSFingerprint %s", got, fp1)
	}
	if fp1 == s.PBSFingerprint("pbs2") || s.PVEFingerprint("homelab", "pve1") == s.PVEFingerprint("homelab", "pve2") {
		t.Error("fingerprints must differ per PBS and per node")
	}
	if got := str(info(t, pbs(t, s, "pbs1", "/nodes/localhost/status", nil).obj(t)), "fingerprint"); got != fp1 {
		t.Errorf("node status fingerprint %s", got)
	}
	if got := str(pbs(t, s, "pbs1", "/nodes/localhost/certificates/info", nil).rows(t)[0], "fingerprint"); got != fp1 {
		t.Errorf("certificate info fingerprint %s", got)
	}
	for _, n := range pve(t, s, "homelab", "pve1", "/nodes", nil).rows(t) {
		if str(n, "ssl_fingerprint") != strings.ToUpper(s.PVEFingerprint("homelab", str(n, "node"))) {
			t.Errorf("ssl_fingerprint of %s", str(n, "node"))
		}
	}
	// Trust: PVE nodes chain to the cluster CA, PBS is self-signed.
	verify := func(name string, pemBytes []byte, base string) error {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pemBytes)
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		defer hc.CloseIdleConnections()
		r, err := hc.Get(base + "/api2/json/version")
		if err == nil {
			r.Body.Close()
		}
		return err
	}
	if err := verify("pve", s.PVECAPEM("homelab"), s.PVEURL("homelab", "pve3")); err != nil {
		t.Errorf("PVE node with the cluster CA: %v", err)
	}
	if err := verify("pbs", s.PBSCertPEM("pbs1"), s.PBSURL("pbs1")); err != nil {
		t.Errorf("PBS with its own certificate as CA: %v", err)
	}
	if err := verify("pbs", s.PBSCertPEM("pbs2"), s.PBSURL("pbs1")); err == nil {
		t.Error("pbs1 verified with pbs2's certificate")
	}
	// Expired certificate.
	s.SetFault(Fault{Target: "pbs1", Kind: ExpiredCert})
	if c := seen(s.PBSURL("pbs1")); !c.NotAfter.Before(time.Now()) || s.PBSFingerprint("pbs1") == fp1 {
		t.Errorf("expired cert: NotAfter %v, fingerprint unchanged %v", c.NotAfter, s.PBSFingerprint("pbs1") == fp1)
	}
	if err := verify("pbs", s.PBSCertPEM("pbs1"), s.PBSURL("pbs1")); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired certificate accepted: %v", err)
	}
	s.ClearFaults()
	if s.PBSFingerprint("pbs1") != fp1 {
		t.Error("clearing ExpiredCert must restore the certificate")
	}
	// Rotation: new fingerprint, /storage follows the running PBS.
	if err := s.RotateCert("pbs1", ""); err != nil {
		t.Fatal(err)
	}
	fp2 := s.PBSFingerprint("pbs1")
	if fp2 == fp1 || fingerprint(seen(s.PBSURL("pbs1")).Raw) != fp2 {
		t.Error("rotation did not change the served certificate")
	}
	for _, st := range pve(t, s, "homelab", "pve1", "/storage", qv("type", "pbs")).rows(t) {
		if str(st, "fingerprint") != strings.ToUpper(fp2) {
			t.Errorf("storage fingerprint %s after rotation", str(st, "fingerprint"))
		}
	}
	if err := s.RotateCert("homelab", "pve1"); err != nil {
		t.Fatal(err)
	}
}

func info(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	i, _ := m["info"].(map[string]any)
	return i
}

func TestRequestLog(t *testing.T) {
	s := startHomelab(t)
	s.ResetRequests()
	pve(t, s, "homelab", "pve1", "/nodes/pve2/storage/local/content", qv("content", "backup"))
	pbs(t, s, "pbs1", "/admin/datastore/store1/groups", qv("ns", "homelab"))
	pbs(t, s, "pbs1", "/admin/datastore/store1/snapshots", qv("ns", "homelab", "backup-type", "vm", "backup-id", "100"))
	pbs(t, s, "pbs1", "/nope", nil)
	reqs := s.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests recorded", len(reqs))
	}
	want := []Request{
		{Target: "homelab", Node: "pve1", Method: "GET", Path: "/nodes/pve2/storage/local/content",
			Route: "/nodes/{node}/storage/{storage}/content", Items: 7, Status: 200},
		{Target: "pbs1", Method: "GET", Path: "/admin/datastore/store1/groups", Route: "/admin/datastore/{store}/groups", Items: 5, Status: 200},
		{Target: "pbs1", Method: "GET", Path: "/admin/datastore/store1/snapshots", Route: "/admin/datastore/{store}/snapshots", Items: 14, Status: 200},
		{Target: "pbs1", Method: "GET", Path: "/nope", Status: 404},
	}
	for i, w := range want {
		got := reqs[i]
		got.Query, w.Query = nil, nil
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", w) {
			t.Errorf("request %d = %+v, want %+v", i, got, w)
		}
	}
	if reqs[0].Query.Get("content") != "backup" || reqs[2].Query.Get("backup-id") != "100" {
		t.Errorf("queries %v %v", reqs[0].Query, reqs[2].Query)
	}
	if n := s.CountRequests("/admin/datastore/{store}/groups"); n != 1 {
		t.Errorf("CountRequests = %d", n)
	}
	s.SetRequestLog(false)
	pbs(t, s, "pbs1", "/admin/datastore/store1/groups", qv("ns", "homelab"))
	if len(s.Requests()) != 4 || s.CountRequests("/admin/datastore/{store}/groups") != 2 || s.CountRequests("") != 5 {
		t.Errorf("with the log off: %d logged, %d counted", len(s.Requests()), s.CountRequests(""))
	}
	s.ResetRequests()
	if s.CountRequests("") != 0 || len(s.Requests()) != 0 {
		t.Error("reset")
	}
}

func TestLatencyOption(t *testing.T) {
	s := startHomelab(t)
	s.SetLatency(Latency{PerRequest: 50 * time.Millisecond, PerItem: 2 * time.Millisecond})
	start := time.Now()
	rows := pbs(t, s, "pbs1", "/admin/datastore/store1/snapshots", qv("ns", "homelab")).rows(t)
	if min := 50*time.Millisecond + time.Duration(len(rows))*2*time.Millisecond; time.Since(start) < min {
		t.Errorf("answered after %v, want at least %v", time.Since(start), min)
	}
}
