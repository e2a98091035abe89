package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// Security of the program as users run it (issue 8).

// TestSecretsNeverShown runs the binary at debug level against the homelab
// through a series of faults and reads every output a user or an attacker
// on the exporter's port can see (/metrics, the landing page, /status in
// HTML and JSON, --check, the log): no token secret may appear anywhere.
func TestSecretsNeverShown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	srv := startHomelab(t)
	path := writeConfig(t, t.TempDir(), srv, "")
	bin := buildBinary(t)
	base, logs := startExporter(t, bin, "--config.file="+path, "--log.level=debug", "--log.format=json")
	_, pveSecret := srv.PVEToken("homelab")
	_, pbsSecret := srv.PBSToken("pbs1")

	faults := []struct {
		name  string
		fault *emulator.Fault
	}{
		{"healthy", nil},
		{"pbs 401", &emulator.Fault{Target: "pbs1", Kind: emulator.Status401}},
		{"pve 403", &emulator.Fault{Target: "homelab", Kind: emulator.Status403}},
		{"pve 500", &emulator.Fault{Target: "homelab", PathPrefix: "/nodes/pve1/storage", Kind: emulator.Status500, Message: "boom"}},
		{"pbs down", &emulator.Fault{Target: "pbs1", Kind: emulator.Down}},
		{"pve first node down", &emulator.Fault{Target: "homelab", Node: "pve1", Kind: emulator.Down}},
		{"pbs malformed", &emulator.Fault{Target: "pbs1", PathPrefix: "/admin/datastore", Kind: emulator.MalformedJSON}},
		{"pbs no privilege", &emulator.Fault{Target: "pbs1", Kind: emulator.NoBackupPrivilege}},
	}
	var outputs []string
	for _, f := range faults {
		srv.ClearFaults()
		if f.fault != nil {
			srv.SetFault(*f.fault)
		}
		for _, p := range []string{"/metrics", "/", "/status", "/status?format=json"} {
			outputs = append(outputs, get(t, base+p))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, _ := exec.CommandContext(ctx, bin, "--check", "--config.file="+path, "--log.level=debug").CombinedOutput()
		cancel()
		if !strings.Contains(string(out), "RESULT:") {
			t.Fatalf("%s: --check printed no result:\n%s", f.name, out)
		}
		outputs = append(outputs, string(out))
	}
	outputs = append(outputs, logs.String())
	if !strings.Contains(logs.String(), `"level":"DEBUG"`) {
		t.Fatal("the exporter did not log at debug level; the test would prove little")
	}
	for _, out := range outputs {
		for _, s := range []string{pveSecret, pbsSecret} {
			if strings.Contains(out, s) {
				t.Fatalf("a token secret appears in an output:\n%s", out)
			}
		}
	}
}

// TestWebConfig: the exporter's own endpoint serves TLS and basic auth
// through --web.config.file (exporter-toolkit): plain HTTP is refused, a
// request without or with wrong credentials gets 401, the right ones the
// metrics.
func TestWebConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	certPEM, keyPEM := selfSignedCert(t)
	writeTestFile(t, filepath.Join(dir, "cert.pem"), certPEM)
	writeTestFile(t, filepath.Join(dir, "key.pem"), keyPEM)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret-scraper"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webCfg := filepath.Join(dir, "web.yml")
	writeTestFile(t, webCfg, []byte(fmt.Sprintf(`tls_server_config:
  cert_file: %s
  key_file: %s
basic_auth_users:
  prometheus: %s
`, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), hash)))

	bin := buildBinary(t)
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--demo", "--web.config.file="+webCfg, "--web.listen-address="+addr)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	do := func(scheme, user, pass, path string) (int, string, error) {
		req, _ := http.NewRequest("GET", scheme+"://"+addr+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), nil
	}
	// Wait until it serves (TLS and auth are in front of every handler).
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, err := do("https", "prometheus", "s3cret-scraper", "/-/healthy")
		if err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter not healthy over TLS: %v %d\n%s", err, code, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	if code, _, err := do("http", "prometheus", "s3cret-scraper", "/metrics"); err == nil && code == http.StatusOK {
		t.Error("plain HTTP served the metrics")
	}
	for _, tc := range []struct {
		name, user, pass string
		want             int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", "prometheus", "guess", http.StatusUnauthorized},
		{"unknown user", "admin", "s3cret-scraper", http.StatusUnauthorized},
		{"right credentials", "prometheus", "s3cret-scraper", http.StatusOK},
	} {
		for _, path := range []string{"/metrics", "/status", "/"} {
			code, body, err := do("https", tc.user, tc.pass, path)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.name, path, err)
			}
			if code != tc.want {
				t.Errorf("%s %s: HTTP %d, want %d", tc.name, path, code, tc.want)
			}
			if code == http.StatusOK && path == "/metrics" && !strings.Contains(body, "proxmox_backup_target_up") {
				t.Errorf("%s: no metrics in the answer", tc.name)
			}
		}
	}
	if strings.Contains(logs.String(), "s3cret-scraper") {
		t.Error("the basic auth password appears in the log")
	}
}

// selfSignedCert returns a certificate for 127.0.0.1 and its key, PEM.
func selfSignedCert(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "proxmox-backup-exporter test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func writeTestFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
