package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// demo is a running emulated homelab and the config that points at it.
type demo struct {
	config *config.Config
	server *emulator.Server
}

func (d *demo) close() { d.server.Close() }

// startDemo starts the emulated homelab (issue 4: a 3-node cluster with
// local, shared NFS and a pbs storage on a PBS that is also configured
// directly) and builds the config a user would write for it: one PVE and
// one PBS target with the emulator's tokens, and the emulator's certificate
// fingerprints pinned, exactly as for a real self-signed Proxmox.
func startDemo(now time.Time) (*demo, error) {
	m := emulator.Homelab(now)
	srv, err := emulator.Start(m)
	if err != nil {
		return nil, err
	}
	cfg := &config.Config{Source: "demo"}
	for _, c := range m.Clusters {
		urls := srv.PVEURLs(c.Name)
		if len(urls) == 0 || len(c.Nodes) == 0 {
			continue
		}
		id, secret := srv.PVEToken(c.Name)
		// Each emulated node has its own certificate; pin the first
		// node's, the one we talk to (every node proxies the whole API).
		cfg.PVE = append(cfg.PVE, config.Target{
			URLs:        urls[:1],
			TokenID:     id,
			TokenSecret: config.Secret(secret),
			TLS:         config.TLS{Fingerprint: srv.PVEFingerprint(c.Name, c.Nodes[0].Name)},
		})
	}
	for _, p := range m.PBS {
		id, secret := srv.PBSToken(p.Name)
		cfg.PBS = append(cfg.PBS, config.Target{
			Name:        p.Name,
			URLs:        []string{srv.PBSURL(p.Name)},
			TokenID:     id,
			TokenSecret: config.Secret(secret),
			TLS:         config.TLS{Fingerprint: srv.PBSFingerprint(p.Name)},
		})
	}
	return &demo{config: cfg, server: srv}, nil
}

// printDemoHelp tells a newcomer where to look.
func printDemoHelp(f *flags) {
	host, port, err := net.SplitHostPort(f.listenAddress())
	if err != nil {
		host, port = "localhost", strings.TrimPrefix(f.listenAddress(), ":")
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	base := "http://" + net.JoinHostPort(host, port)
	fmt.Fprintf(os.Stderr, `
Demo: an emulated homelab (3-node PVE cluster "homelab" with local, NFS and
PBS storage, and the PBS "pbs1" configured directly) is running.

  metrics:  %[1]s%[2]s
  status:   %[1]s/status      (guests worst first, sources, routing plan, duplicates suppressed)
  try:      curl -s %[1]s%[2]s | grep proxmox_backup_guest_

Each backup is counted once although PVE and PBS both show it.
Stop with Ctrl+C.

`, base, f.telemetryPath)
}

// listenAddress is the first --web.listen-address.
func (f *flags) listenAddress() string {
	if f.web != nil && f.web.WebListenAddresses != nil && len(*f.web.WebListenAddresses) > 0 {
		return (*f.web.WebListenAddresses)[0]
	}
	return defaultListenAddress
}
