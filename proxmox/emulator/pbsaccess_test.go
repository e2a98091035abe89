package emulator

import (
	"slices"
	"testing"
)

// TestSyncDirections: PBS before 3.3 refuses sync-direction; 3.3 lists
// pull jobs by default and both with sync-direction=all; without
// Remote.Audit the jobs with a remote are left out, and the permissions
// say so.
func TestSyncDirections(t *testing.T) {
	s := startHomelab(t)
	ids := func(q ...string) []string {
		var out []string
		for _, r := range pbs(t, s, "pbs1", "/admin/sync", qv(q...)).rows(t) {
			out = append(out, str(r, "id"))
		}
		return out
	}
	if r := pbs(t, s, "pbs1", "/admin/sync", qv("sync-direction", "all")); r.status != 400 {
		t.Fatalf("PBS 3.2 with sync-direction: status %d, want 400", r.status)
	}
	s.Update(func(m *Model) {
		p := m.PBSServer("pbs1")
		p.Version = "3.3"
		p.SyncJobs = append(p.SyncJobs, &PBSJob{ID: "s-push", Store: "store1", Remote: "cold", RemoteStore: "x", Schedule: "daily", SyncDirection: "push"})
	})
	if got := ids(); !slices.Equal(got, []string{"s-archive"}) {
		t.Errorf("default (pull) lists %v", got)
	}
	if got := ids("sync-direction", "all"); !slices.Equal(got, []string{"s-archive", "s-push"}) {
		t.Errorf("all lists %v", got)
	}
	if got := ids("sync-direction", "push"); !slices.Equal(got, []string{"s-push"}) {
		t.Errorf("push lists %v", got)
	}
	if _, ok := pbs(t, s, "pbs1", "/access/permissions", nil).obj(t)["/remote"].(map[string]any)["Remote.Audit"]; !ok {
		t.Errorf("permissions lack Remote.Audit on /remote")
	}
	s.Update(func(m *Model) { m.PBSServer("pbs1").NoRemoteAudit = true })
	if got := ids("sync-direction", "all"); !slices.Equal(got, []string{"s-archive"}) {
		t.Errorf("without Remote.Audit lists %v, want only the local job", got)
	}
	if _, ok := pbs(t, s, "pbs1", "/access/permissions", nil).obj(t)["/remote"].(map[string]any)["Remote.Audit"]; ok {
		t.Errorf("permissions show Remote.Audit the token lacks")
	}
}
