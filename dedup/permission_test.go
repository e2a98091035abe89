package dedup

import (
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// TestPermissionSuspectIsDeterministic: two clusters on one target (a
// misconfiguration, but a possible one) both hold the empty storage; the
// warning names the same cluster every time, not whichever a map
// iteration gives first.
func TestPermissionSuspectIsDeterministic(t *testing.T) {
	cluster := func(name string) Cluster {
		return Cluster{Target: "pve", Name: name, Up: true,
			Storages:     []proxmox.StorageConfig{{Storage: "nfs", Type: "nfs", Content: "backup"}},
			NodeStorages: map[string][]proxmox.NodeStorage{"pve1": {{Storage: "nfs", Used: 1 << 30}}}}
	}
	clusters := map[string]Cluster{}
	for _, name := range []string{"zulu", "alpha", "mike", "kilo", "bravo"} {
		clusters[name] = cluster(name)
	}
	repo := Repository{Target: "pve", Storage: "nfs", StorageType: "nfs"}
	for range 50 {
		w, ok := permissionSuspect(clusters, repo, PVEResult{})
		if !ok || w.Cluster != "alpha" {
			t.Fatalf("warning %+v, %v; want one for cluster alpha", w, ok)
		}
	}
}
