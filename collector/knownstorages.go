package collector

import (
	"sync"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// knownStorages keeps the last storage configuration read from each PVE
// target. While a cluster is unreachable, dedup still attributes the PBS
// namespaces its pbs storages map to it (dedup.Cluster.Storages): without
// this, those groups would lose their cluster label for the outage and
// turn into unattributed cluster="" series, on which the mixin's
// verification alerts fire without an inventory, a new alert caused by a
// source being down. Only the configuration is kept, not the guests: a
// down cluster's guests stay unknown.
type knownStorages struct {
	mu sync.Mutex
	m  map[string][]proxmox.StorageConfig // by target name and signature
}

func knownStoragesKey(t *target) string { return t.name + "\x00" + t.signature() }

// remember stores a successful read; recall returns the last one (nil if
// none).
func (k *knownStorages) remember(t *target, s []proxmox.StorageConfig) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string][]proxmox.StorageConfig{}
	}
	k.m[knownStoragesKey(t)] = s
}

func (k *knownStorages) recall(t *target) []proxmox.StorageConfig {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.m[knownStoragesKey(t)]
}

// retain drops the entries of targets no longer configured (or pointing
// elsewhere now), so reloads do not accumulate them.
func (k *knownStorages) retain(targets []*target) {
	keep := map[string]bool{}
	for _, t := range targets {
		keep[knownStoragesKey(t)] = true
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for key := range k.m {
		if !keep[key] {
			delete(k.m, key)
		}
	}
}
