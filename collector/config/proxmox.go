package config

import (
	"log/slog"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// ToProxmox converts the target into the API client's target. kind is
// "pve" or "pbs". This is the one place the secret is revealed: the client
// keeps it for the Authorization header only. logger may be nil.
func (t Target) ToProxmox(kind string, logger *slog.Logger) proxmox.Target {
	return proxmox.Target{
		Name:        t.Name,
		Kind:        kind,
		URLs:        append([]string(nil), t.URLs...),
		TokenID:     t.TokenID,
		TokenSecret: t.TokenSecret.Reveal(),
		TLS: proxmox.TLSConfig{
			CAFile:             t.TLS.CAFile,
			Fingerprint:        t.TLS.Fingerprint,
			InsecureSkipVerify: t.TLS.InsecureSkipVerify,
		},
		MaxConcurrency: t.MaxConcurrency,
		Logger:         logger,
	}
}
