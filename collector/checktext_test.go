package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// TestReportWriteTextDetails: the routing reason is separated from how a
// storage was matched.
func TestReportWriteTextDetails(t *testing.T) {
	rep := Report{OK: true, Status: Status{
		Targets: []TargetStatus{{Name: "pbs1", Kind: "pbs", Up: true}},
		Storages: []dedup.StorageRoute{{
			Cluster: "lab", Storage: "backup-server", StorageType: "pbs", Route: dedup.RoutePVEFallback,
			Repository: "lab:backup-server", MatchedBy: "host_port", Reason: "PBS pbs1 is down",
		}},
	}}
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		want string
		in   bool
	}{
		{"matched by host:port; PBS pbs1 is down", true},
		{"matched by host:port PBS", false},
	} {
		if got := strings.Contains(out.String(), tc.want); got != tc.in {
			t.Errorf("output contains %q: %v, want %v\n%s", tc.want, got, tc.in, out.String())
		}
	}
}

// TestStatusPageListsNodeRepositories: a node-local storage's row names
// every node repository, as --check does.
func TestStatusPageListsNodeRepositories(t *testing.T) {
	st := Status{Storages: []dedup.StorageRoute{{
		Cluster: "lab", Storage: "local", StorageType: "dir", Route: dedup.RoutePVE,
		Repository: "lab/n1:local", Repositories: []string{"lab/n1:local", "lab/n2:local", "lab/n3:local"},
	}, {
		Cluster: "lab", Storage: "old", StorageType: "dir", Route: dedup.RouteDisabled, Reason: "disabled in storage.cfg",
	}}}
	w := httptest.NewRecorder()
	if err := statusPage.Execute(w, st); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	for _, want := range []string{
		"<td>lab/n1:local, lab/n2:local, lab/n3:local</td>",
		"<td>—</td><td>disabled in storage.cfg</td>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "node repositories") {
		t.Errorf("status page still summarises node repositories:\n%s", body)
	}
}

// TestCheckCollapsesOneCause: a PVE that is down fails every request alike;
// --check and /status say so once per cause with the hint once, say that
// its routing plan is unknown (not that it has no backup storage), and
// /status?format=json keeps every failure.
func TestCheckCollapsesOneCause(t *testing.T) {
	l := startLab(t, emulator.Homelab(labNow), Options{})
	l.srv.SetFault(emulator.Fault{Target: "homelab", Kind: emulator.Down})
	rep, err := l.coll.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var failures []Failure
	for _, ts := range rep.Targets {
		if ts.Name == "homelab" {
			failures = ts.Failures
		}
	}
	if len(failures) < 2 {
		t.Fatalf("want several failures of the down PVE, got %v", failures)
	}
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	endpoints := fmt.Sprintf("(%d endpoints)", len(failures))
	if n := strings.Count(text, "ERROR homelab (pve)"); n != 1 {
		t.Errorf("%d ERROR lines for homelab, want 1:\n%s", n, text)
	}
	if !strings.Contains(text, endpoints) || strings.Count(text, "hint: "+failures[0].Hint) != 1 {
		t.Errorf("want one line ending %s and its hint once:\n%s", endpoints, text)
	}
	if !strings.Contains(text, "(unknown: PVE homelab not readable)") || strings.Contains(text, "no PVE storage with backup content") {
		t.Errorf("routing plan of a down PVE not called unknown:\n%s", text)
	}

	w := httptest.NewRecorder()
	l.coll.StatusHandler().ServeHTTP(w, httptest.NewRequest("GET", "/status", nil))
	page := w.Body.String()
	if strings.Count(page, failures[0].Hint) != 1 || !strings.Contains(page, endpoints[1:len(endpoints)-1]) ||
		!strings.Contains(page, "unknown: PVE homelab not readable") || strings.Contains(page, "no PVE storage with backup content") {
		t.Errorf("status page does not collapse the failures or call the plan unknown:\n%s", page)
	}
	w = httptest.NewRecorder()
	l.coll.StatusHandler().ServeHTTP(w, httptest.NewRequest("GET", "/status?format=json", nil))
	var st Status
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	for _, ts := range st.Targets {
		if ts.Name == "homelab" && len(ts.Failures) != len(failures) {
			t.Errorf("JSON has %d failures of homelab, want all %d", len(ts.Failures), len(failures))
		}
	}
	if !slices.Contains(st.Unplanned, "homelab") {
		t.Errorf("JSON unplanned = %v, want homelab", st.Unplanned)
	}
}

// TestGroupFailures: failures collapse only when target, cause and hint
// agree; the target and endpoint in front of the client's message do not
// keep them apart, and a message without its reason gets it.
func TestGroupFailures(t *testing.T) {
	fs := []Failure{
		{Target: "lab", Kind: "pve", Endpoint: "GET /nodes", Part: "target", Reason: "unreachable", Message: "lab: GET /nodes: unreachable: dial tcp: refused", Hint: "h1"},
		{Target: "lab", Kind: "pve", Endpoint: "GET /cluster/backup", Part: "jobs", Reason: "unreachable", Message: "lab: GET /cluster/backup: unreachable: dial tcp: refused", Hint: "h1"},
		{Target: "lab", Kind: "pve", Endpoint: "GET /storage", Part: "target", Reason: "permission", Message: "lab: GET /storage: permission: 403", Hint: "h2"},
		{Target: "lab", Kind: "pve", Endpoint: "GET /nodes/n1/storage", Part: "node n1", Reason: "permission", Message: "lab: GET /nodes/n1/storage: permission: 403", Hint: "h3"},
		{Target: "lab", Kind: "pve", Endpoint: "scrape", Part: "target", Reason: "timeout", Message: "no answer before the scrape deadline", Hint: "h4"},
	}
	got := groupFailures(fs)
	want := []struct{ cause, where, parts string }{
		{"unreachable: dial tcp: refused", "2 endpoints", "target, jobs"},
		{"permission: 403", "GET /storage", "target"},
		{"permission: 403", "GET /nodes/n1/storage", "node n1"},
		{"timeout: no answer before the scrape deadline", "scrape", "target"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d groups, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Cause != w.cause || got[i].Where() != w.where || got[i].Parts() != w.parts {
			t.Errorf("group %d = %q %q %q, want %q %q %q", i, got[i].Cause, got[i].Where(), got[i].Parts(), w.cause, w.where, w.parts)
		}
	}
}
