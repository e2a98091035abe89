package proxmox

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA is a throw-away certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// serialNumber returns a random certificate serial number.
func serialNumber(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serialNumber(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// writeFile writes data to a file in a temporary directory.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// issue makes a server certificate for hosts (names or IPs) valid from
// notBefore to notAfter, signed by ca, or self-signed when ca is nil.
func issue(t *testing.T, ca *testCA, hosts []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: serialNumber(t),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	chain := [][]byte{der}
	return tls.Certificate{Certificate: chain, PrivateKey: key}
}

func valid(t *testing.T, ca *testCA, hosts ...string) tls.Certificate {
	return issue(t, ca, hosts, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

func TestFingerprintPinAccepted(t *testing.T) {
	srv := newServer(t, nil, okHandler(`{"data":{"version":"3.2","release":"4"}}`))
	fp := srv.fingerprint()
	bare := strings.ReplaceAll(fp, ":", "")
	for _, pin := range []string{
		fp,
		strings.ToUpper(fp),
		bare,
		strings.ToUpper(bare),
		"sha256 Fingerprint=" + strings.ToUpper(fp),
		"  " + fp + "\n",
	} {
		tg := testTarget(t, "pbs", srv.URL)
		tg.TLS.Fingerprint = pin
		c, err := NewPBSClient(tg)
		if err != nil {
			t.Fatalf("pin %q: %v", pin, err)
		}
		if c.SeenFingerprint() != "" {
			t.Errorf("SeenFingerprint before any handshake = %q, want empty", c.SeenFingerprint())
		}
		v, err := c.Version(context.Background())
		if err != nil {
			t.Fatalf("pin %q: %v", pin, err)
		}
		if v.Version != "3.2" {
			t.Errorf("version = %q", v.Version)
		}
		if got := c.SeenFingerprint(); got != fp {
			t.Errorf("SeenFingerprint = %q, want %q", got, fp)
		}
	}
}

func TestFingerprintPinRejected(t *testing.T) {
	srv := newServer(t, nil, okHandler(`{"data":{}}`))
	fp := srv.fingerprint()
	wrong := CertFingerprint([]byte("some other certificate"))
	tg := testTarget(t, "pbs", srv.URL)
	tg.TLS.Fingerprint = strings.ToUpper(wrong)
	c, err := NewPBSClient(tg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Version(context.Background())
	e := checkErr(t, err, ClassTLS, 0)
	if got := c.SeenFingerprint(); got != fp {
		t.Errorf("SeenFingerprint after a refused handshake = %q, want %q", got, fp)
	}
	var ce *CertificateError
	if !errors.As(err, &ce) || ce.Seen != fp || ce.Pinned != wrong {
		t.Fatalf("want a *CertificateError with Seen %s and Pinned %s, got %#v", fp, wrong, ce)
	}
	if want := "fingerprint mismatch: server presented " + fp; !strings.Contains(e.Message, want) {
		t.Errorf("message %q does not contain %q", e.Message, want)
	}
	if want := "fingerprint mismatch: server presented " + fp; !strings.Contains(Hint(err), want) {
		t.Errorf("hint %q does not contain %q", Hint(err), want)
	}
	if srv.hits.Load() != 0 {
		t.Errorf("the handler ran %d times although the certificate was refused", srv.hits.Load())
	}
}

// TestPinWins: a pin refuses a certificate the CA file would accept, and
// accepts a pinned certificate no CA vouches for, even an expired one.
func TestPinWins(t *testing.T) {
	ca := newCA(t, "pve-root-ca")
	caFile := writeFile(t, "ca.pem", ca.pem)

	good := newServer(t, ptr(valid(t, ca, "127.0.0.1")), okHandler(`{"data":{}}`))
	tg := testTarget(t, "pve", good.URL)
	tg.TLS = TLSConfig{CAFile: caFile, Fingerprint: CertFingerprint([]byte("not it"))}
	c := mustPVE(t, tg)
	_, err := c.Version(context.Background())
	checkErr(t, err, ClassTLS, 0)

	expired := newServer(t, ptr(issue(t, nil, []string{"pbs.invalid"}, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))), okHandler(`{"data":{}}`))
	tg = testTarget(t, "pve", expired.URL)
	tg.TLS = TLSConfig{Fingerprint: expired.fingerprint()}
	c = mustPVE(t, tg)
	if _, err := c.Version(context.Background()); err != nil {
		t.Errorf("pinned expired self-signed certificate: %v, want accepted (the pin names the certificate)", err)
	}
}

func TestSystemRootsRejectSelfSigned(t *testing.T) {
	srv := newServer(t, nil, okHandler(`{"data":{}}`))
	c := mustPBS(t, testTarget(t, "pbs", srv.URL))
	_, err := c.Version(context.Background())
	e := checkErr(t, err, ClassTLS, 0)
	if !strings.Contains(e.Message, "certificate not trusted") {
		t.Errorf("message %q", e.Message)
	}
	if c.SeenFingerprint() != srv.fingerprint() {
		t.Errorf("SeenFingerprint = %q, want %q", c.SeenFingerprint(), srv.fingerprint())
	}
	if h := Hint(err); !strings.Contains(h, "tls.ca_file") || !strings.Contains(h, srv.fingerprint()) {
		t.Errorf("hint %q should suggest ca_file and the fingerprint to pin", h)
	}
}

func TestCAFile(t *testing.T) {
	ca := newCA(t, "pve-root-ca")
	other := newCA(t, "someone else")
	caFile := writeFile(t, "ca.pem", ca.pem)
	now := time.Now()

	for _, tc := range []struct {
		name   string
		cert   tls.Certificate
		host   string // URL host instead of 127.0.0.1
		class  ErrorClass
		reason string
	}{
		{name: "valid for the IP", cert: valid(t, ca, "127.0.0.1")},
		{name: "valid for the name", cert: valid(t, ca, "localhost"), host: "localhost"},
		{name: "expired", cert: issue(t, ca, []string{"127.0.0.1"}, now.Add(-48*time.Hour), now.Add(-time.Hour)),
			class: ClassTLS, reason: "certificate expired or not yet valid"},
		{name: "not yet valid", cert: issue(t, ca, []string{"127.0.0.1"}, now.Add(time.Hour), now.Add(48*time.Hour)),
			class: ClassTLS, reason: "certificate expired or not yet valid"},
		{name: "other host", cert: valid(t, ca, "pve1.example.org"),
			class: ClassTLS, reason: "certificate not valid for this host"},
		{name: "other CA", cert: valid(t, other, "127.0.0.1"),
			class: ClassTLS, reason: "certificate not trusted"},
		{name: "self-signed", cert: valid(t, nil, "127.0.0.1"),
			class: ClassTLS, reason: "certificate not trusted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, &tc.cert, okHandler(`{"data":{"version":"9.1.3"}}`))
			u := srv.URL
			if tc.host != "" {
				u = strings.Replace(u, "127.0.0.1", tc.host, 1)
			}
			tg := testTarget(t, "pve", u)
			tg.TLS.CAFile = caFile
			c := mustPVE(t, tg)
			_, err := c.Version(context.Background())
			if tc.class == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			e := checkErr(t, err, tc.class, 0)
			var ce *CertificateError
			if !errors.As(err, &ce) || ce.Reason != tc.reason {
				t.Errorf("reason = %#v, want %q", ce, tc.reason)
			}
			if c.SeenFingerprint() != srv.fingerprint() {
				t.Errorf("SeenFingerprint = %q, want %q", c.SeenFingerprint(), srv.fingerprint())
			}
			if !strings.Contains(e.Message, srv.fingerprint()) {
				t.Errorf("message %q should name the presented fingerprint", e.Message)
			}
		})
	}
}

func TestTLSConfigErrors(t *testing.T) {
	garbage := writeFile(t, "garbage.pem", []byte("not a certificate\n"))
	for _, tc := range []struct {
		name string
		tls  TLSConfig
		want string
	}{
		{"missing CA file", TLSConfig{CAFile: filepath.Join(t.TempDir(), "nope.pem")}, "tls.ca_file"},
		{"CA file without certificates", TLSConfig{CAFile: garbage}, "no PEM certificate"},
		{"short pin", TLSConfig{Fingerprint: "aa:bb:cc"}, "tls.fingerprint"},
		{"non-hex pin", TLSConfig{Fingerprint: strings.Repeat("zz", 32)}, "tls.fingerprint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := testTarget(t, "pve", "https://127.0.0.1:8006")
			tg.TLS = tc.tls
			_, err := NewPVEClient(tg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"homelab"`) {
				t.Fatalf("error = %v, want one naming the target and %q", err, tc.want)
			}
			noSecret(t, err)
		})
	}
}

func TestInsecureSkipVerifyWarnsOnce(t *testing.T) {
	srv := newServer(t, ptr(issue(t, nil, []string{"elsewhere.invalid"}, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour))),
		okHandler(`{"data":{}}`))
	tg := testTarget(t, "pbs", srv.URL)
	tg.TLS.InsecureSkipVerify = true
	c := mustPBS(t, tg)
	for range 3 {
		if _, err := c.Version(context.Background()); err != nil {
			t.Fatalf("insecure_skip_verify: %v", err)
		}
	}
	logs := logOf(t).String()
	if n := strings.Count(logs, "insecure_skip_verify"); n != 1 {
		t.Errorf("insecure warning logged %d times, want once:\n%s", n, logs)
	}
	if !strings.Contains(logs, "level=WARN") {
		t.Errorf("insecure_skip_verify should log at WARN:\n%s", logs)
	}
	if c.SeenFingerprint() != srv.fingerprint() {
		t.Errorf("SeenFingerprint = %q, want %q even without verification", c.SeenFingerprint(), srv.fingerprint())
	}

	// Without the option the same server is refused.
	c2 := mustPBS(t, testTarget(t, "pbs", srv.URL))
	_, err := c2.Version(context.Background())
	checkErr(t, err, ClassTLS, 0)
}

// TestSeenFingerprintPerHandshake: the fingerprint follows the certificate
// of the server actually reached, including after fail-over.
func TestSeenFingerprintFollowsFailover(t *testing.T) {
	a := newServer(t, ptr(valid(t, nil, "127.0.0.1")), statusHandler(503, "busy"))
	b := newServer(t, ptr(valid(t, nil, "127.0.0.1")), okHandler(`{"data":{}}`))
	tg := testTarget(t, "pbs", a.URL, b.URL)
	tg.TLS.InsecureSkipVerify = true
	c := mustPBS(t, tg)
	if _, err := c.Version(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.SeenFingerprint() != b.fingerprint() {
		t.Errorf("SeenFingerprint = %q, want the second server's %q", c.SeenFingerprint(), b.fingerprint())
	}
}

func ptr[T any](v T) *T { return &v }

// Compile-time check that the handler helpers are http.Handlers.
var _ http.Handler = okHandler("")
