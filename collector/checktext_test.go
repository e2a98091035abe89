package collector

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
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
