package collector

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// targetsFromConfig builds a client per configured source. It fails only on
// what no scrape could fix (a client that cannot be built); unreachable
// sources are a scrape's business.
func targetsFromConfig(cfg *config.Config, logger *slog.Logger) (*targetSet, error) {
	if cfg == nil {
		return nil, fmt.Errorf("no configuration")
	}
	set := &targetSet{}
	for _, tc := range cfg.PVE {
		pt := tc.ToProxmox(dedup.KindPVE, logger)
		name := pt.Name
		if name == "" && len(pt.URLs) > 0 {
			name = strings.TrimSuffix(strings.TrimSuffix(endpointOf(pt.URLs[0], "8006"), ":8006"), ":")
			pt.Name = name
		}
		cl, err := proxmox.NewPVEClient(pt)
		if err != nil {
			return nil, fmt.Errorf("pve target %q: %w", name, err)
		}
		set.targets = append(set.targets, &target{
			name: name, configured: tc.Name, kind: dedup.KindPVE, clusterName: tc.Name, pve: cl,
			insecure: pt.TLS.InsecureSkipVerify, sig: signatureOf(pt),
			timeout: tc.Timeout,
		})
	}
	for _, tc := range cfg.PBS {
		pt := tc.ToProxmox(dedup.KindPBS, logger)
		cl, err := proxmox.NewPBSClient(pt)
		if err != nil {
			return nil, fmt.Errorf("pbs target %q: %w", pt.Name, err)
		}
		var eps []string
		for _, u := range pt.URLs {
			if ep := endpointOf(u, "8007"); ep != "" {
				eps = append(eps, ep)
			}
		}
		set.targets = append(set.targets, &target{
			name: pt.Name, configured: pt.Name, kind: dedup.KindPBS, pbs: cl, endpoints: eps,
			namespaces: append([]string(nil), tc.Namespaces...),
			insecure:   pt.TLS.InsecureSkipVerify, sig: signatureOf(pt),
			timeout: tc.Timeout, keepLastKnown: tc.Offline.KeepLastKnown,
		})
	}
	for _, r := range cfg.Routes {
		set.overrides = append(set.overrides, dedup.Override{
			Cluster: r.Cluster, Storage: r.Storage, To: r.To, SameAs: r.SameAs,
			PBS: r.PBS, Datastore: r.Datastore, Namespace: r.Namespace,
		})
	}
	return set, nil
}

// signatureOf identifies where a target points (never including the
// secret), so a reload can tell whether a PBS's cache is still valid.
func signatureOf(t proxmox.Target) string {
	return strings.Join(t.URLs, ",") + "|" + t.TokenID + "|" + t.TLS.Fingerprint + "|" + t.TLS.CAFile
}

func (t *target) signature() string { return t.sig }
