// Race regressions: run under -race (make test does). Both failures used to
// write a map from the loop while goroutines of earlier iterations wrote it.

package collector_test

import (
	"context"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

func startHomelabCollector(t *testing.T) (*emulator.Server, *collector.Collector) {
	srv, err := emulator.Start(emulator.Homelab(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	pveID, pveSecret := srv.PVEToken("homelab")
	pbsID, pbsSecret := srv.PBSToken("pbs1")
	cfg := &config.Config{
		PVE: []config.Target{{Name: "homelab", URLs: srv.PVEURLs("homelab")[:1], TokenID: pveID, TokenSecret: config.Secret(pveSecret),
			TLS: config.TLS{Fingerprint: srv.PVEFingerprint("homelab", "pve1")}}},
		PBS: []config.Target{{Name: "pbs1", URLs: []string{srv.PBSURL("pbs1")}, TokenID: pbsID, TokenSecret: config.Secret(pbsSecret),
			TLS: config.TLS{Fingerprint: srv.PBSFingerprint("pbs1")}}},
	}
	c, err := collector.New(cfg, collector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// store1's namespace listing fails while archive is in maintenance: the
// loop writes dsDown["archive"] while store1's goroutine writes dsDown.
func TestDatastoreDownRace(t *testing.T) {
	srv, c := startHomelabCollector(t)
	srv.SetFault(emulator.Fault{Target: "pbs1", PathPrefix: "/admin/datastore/store1/namespace", Kind: emulator.Status500, Message: "boom"})
	srv.SetFault(emulator.Fault{Target: "pbs1", Datastore: "archive", Kind: emulator.Maintenance})
	for range 20 {
		if _, err := c.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// pve1's task listing fails while pve3 is offline: the loop writes
// tasksUnknown["pve3"] while pve1's goroutine writes tasksUnknown.
func TestTasksUnknownRace(t *testing.T) {
	srv, c := startHomelabCollector(t)
	srv.SetFault(emulator.Fault{Target: "homelab", PathPrefix: "/nodes/pve1/tasks", Kind: emulator.Status500, Message: "boom"})
	srv.SetFault(emulator.Fault{Target: "homelab", Node: "pve3", Kind: emulator.NodeOffline})
	for range 20 {
		if _, err := c.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
