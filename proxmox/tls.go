package proxmox

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSConfig is the TLS trust configuration of one target.
//
// Precedence, most specific first:
//
//  1. Fingerprint set: the server's leaf certificate must have exactly this
//     SHA-256 fingerprint. Nothing else is checked (no chain, host name or
//     validity period): the pin names the certificate bytes themselves,
//     which is how PVE's own pbs storages and proxmox-backup-client trust a
//     self-signed PBS. A certificate that does not match is refused even if
//     a CA would vouch for it ("pin wins"); CAFile and InsecureSkipVerify
//     are then unused.
//  2. CAFile set: the chain must verify against the certificates in this
//     PEM file only (e.g. PVE's /etc/pve/pve-root-ca.pem, which signs every
//     node of a cluster, the right choice for a target with several URLs),
//     for the URL's host name, at the current time.
//  3. InsecureSkipVerify: nothing is verified. A warning is logged once when
//     the client is built.
//  4. Default: the system's root certificates.
type TLSConfig struct {
	// CAFile is a PEM file with the CA certificate(s) to trust.
	CAFile string
	// Fingerprint is the SHA-256 fingerprint of the leaf certificate, in
	// any case, with or without colons.
	Fingerprint string
	// InsecureSkipVerify disables verification. Only when asked.
	InsecureSkipVerify bool
}

// tlsVerifier holds the trust decision for one target. The tls.Config it
// builds always sets InsecureSkipVerify and verifies in VerifyConnection
// instead: Go only calls VerifyConnection/VerifyPeerCertificate after its
// own verification succeeded, but we must record the fingerprint the server
// presented on every handshake, including those we refuse (so --check can
// say "fingerprint mismatch: server presented X"), and pinning has to skip
// the chain check anyway. The checks below are the ones Go would do (chain
// to the roots, host name, validity period), see crypto/tls's
// "ExampleConfig_verifyConnection".
type tlsVerifier struct {
	pin      string         // canonical fingerprint, "" = no pin
	roots    *x509.CertPool // nil = system roots
	insecure bool
	// seen receives the fingerprint of every leaf certificate presented.
	seen func(fingerprint string)
}

// newTLSVerifier validates cfg and loads the CA file.
func newTLSVerifier(cfg TLSConfig, seen func(string)) (*tlsVerifier, error) {
	v := &tlsVerifier{seen: seen, insecure: cfg.InsecureSkipVerify}
	if cfg.Fingerprint != "" {
		pin, err := NormalizeFingerprint(cfg.Fingerprint)
		if err != nil {
			return nil, fmt.Errorf("tls.fingerprint: %w", err)
		}
		v.pin = pin
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s: no PEM certificate found", cfg.CAFile)
		}
		v.roots = pool
	}
	return v, nil
}

// config returns the tls.Config for connections to host (the URL's host
// name or IP, without port).
func (v *tlsVerifier) config(host string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: host,
		// Verification happens in VerifyConnection, see tlsVerifier.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			return v.verify(host, cs.PeerCertificates)
		},
	}
}

// verify checks the presented chain for host.
func (v *tlsVerifier) verify(host string, certs []*x509.Certificate) error {
	if len(certs) == 0 {
		return &CertificateError{Reason: "server presented no certificate"}
	}
	leaf := certs[0]
	seen := CertFingerprint(leaf.Raw)
	if v.seen != nil {
		v.seen(seen)
	}
	if v.pin != "" {
		if seen != v.pin {
			return &CertificateError{Reason: "fingerprint mismatch", Seen: seen, Pinned: v.pin}
		}
		return nil
	}
	if v.insecure {
		return nil
	}
	opts := x509.VerifyOptions{
		DNSName:       host,
		Roots:         v.roots,
		Intermediates: x509.NewCertPool(),
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(opts); err != nil {
		return &CertificateError{Reason: certReason(err), Seen: seen, Err: err}
	}
	return nil
}

// certReason names an x509 verification failure in words the hint uses.
func certReason(err error) string {
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "certificate expired or not yet valid"
	case errors.As(err, &host):
		return "certificate not valid for this host"
	default:
		return "certificate not trusted"
	}
}
