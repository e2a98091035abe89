package dedup

import (
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// TestPermissionSuspectedIsUnknown: an empty listing of a backup-only
// storage that reports used space is what PVE answers a token that may
// not see backup volumes (HTTP 200, empty list). It must not read as "no
// backups": the repository is down and every guest it could hold has no
// count and no newest time (issue 8: unknown is never zero), while a
// listing that really is empty (nothing used) stays a known 0.
func TestPermissionSuspectedIsUnknown(t *testing.T) {
	for _, tc := range []struct {
		name      string
		used      int64
		wantKnown bool
	}{
		{"hidden by privileges", 5 << 30, false},
		{"really empty", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := oneCluster(nfsStorage("nfs", "nas", "/e"))
			e.Clusters[0].NodeStorages = map[string][]proxmox.NodeStorage{"n1": {{Storage: "nfs", Enabled: true, Active: true, Used: proxmox.Int(tc.used)}}}
			src := fakeSource{pve: map[string][]proxmox.BackupVolume{"pve-c1/nfs": {}}}
			p := BuildPlan(e)
			res := Merge(e, p, src.fetch(p))
			if got := res.RepositoryUp["c1:nfs"]; got != tc.wantKnown {
				t.Errorf("repository c1:nfs up = %v, want %v", got, tc.wantKnown)
			}
			g := findGuest(t, res, "c1", "vm", "100")
			if g.Known != tc.wantKnown {
				t.Errorf("vm/100 known = %v, want %v: %+v", g.Known, tc.wantKnown, g)
			}
			if !tc.wantKnown && (g.Snapshots != 0 || g.Last != 0) {
				t.Errorf("an unknown guest carries numbers: %+v", g)
			}
			if got := hasWarning(res.Warnings, WarnPermissionSuspected); got == tc.wantKnown {
				t.Errorf("permission_suspected warning = %v", got)
			}
		})
	}
}
