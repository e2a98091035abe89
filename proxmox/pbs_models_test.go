package proxmox

import "testing"

func TestGCJobStatusState(t *testing.T) {
	end := Int(1791118715)
	cases := []struct {
		name string
		row  GCJobStatus
		want string
	}{
		{"no upid: never ran", GCJobStatus{}, GCNever},
		{"upid, no end state: running", GCJobStatus{GCStatus: GCStatus{UPID: "UPID:x"}}, GCRunning},
		{"OK", GCJobStatus{GCStatus: GCStatus{UPID: "UPID:x"}, LastRunState: "OK", LastRunEndtime: &end}, GCOK},
		{"warnings swept the chunks", GCJobStatus{GCStatus: GCStatus{UPID: "UPID:x"}, LastRunState: "WARNINGS: 2", LastRunEndtime: &end}, GCOK},
		{"error text", GCJobStatus{GCStatus: GCStatus{UPID: "UPID:x"}, LastRunState: "datastore is in maintenance mode", LastRunEndtime: &end}, GCFailed},
		{"lost end state", GCJobStatus{GCStatus: GCStatus{UPID: "UPID:x"}, LastRunState: "unknown", LastRunEndtime: &end}, GCFailed},
	}
	for _, c := range cases {
		if got := c.row.State(); got != c.want {
			t.Errorf("%s: State() = %q, want %q", c.name, got, c.want)
		}
	}
}
