package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// identity is a certificate with its key, as served by one listener.
type identity struct {
	tls  tls.Certificate
	leaf *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
	// fp is the SHA-256 fingerprint of the DER certificate, "aa:bb:.."
	// lower case: what PBS reports and what a client sees in the handshake.
	fp string
}

// certSpec describes a certificate to issue.
type certSpec struct {
	cn        string
	org       string
	dnsNames  []string
	isCA      bool
	notBefore time.Time
	notAfter  time.Time
}

// issue creates a certificate for key, signed by parent (self-signed when
// parent is nil). Real PBS uses a self-signed proxy certificate; real PVE
// nodes use a leaf signed by the cluster's own CA (pve-root-ca.pem).
func issue(spec certSpec, key *ecdsa.PrivateKey, parent *identity) (*identity, error) {
	if key == nil {
		var err error
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: spec.cn},
		NotBefore:    spec.notBefore,
		NotAfter:     spec.notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	if spec.org != "" {
		tmpl.Subject.Organization = []string{spec.org}
	}
	if spec.isCA {
		tmpl.IsCA = true
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = spec.dnsNames
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.leaf
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signer)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	chain := [][]byte{der}
	if parent != nil {
		chain = append(chain, parent.leaf.Raw)
	}
	return &identity{
		tls:  tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf},
		leaf: leaf,
		key:  key,
		pem:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		fp:   fingerprint(der),
	}, nil
}

// fingerprint formats the SHA-256 of a DER certificate as "aa:bb:..".
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := hex.EncodeToString(sum[:])
	var b strings.Builder
	b.Grow(len(h) + len(h)/2)
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// certSet is the certificate state of one listener: the valid identity, an
// expired twin (same key and names, validity in the past) and, for PVE, the
// cluster CA that signed them.
type certSet struct {
	spec    certSpec
	ca      *identity
	valid   *identity
	expired *identity
}

func newCertSet(cn, org string, names []string, ca *identity) (*certSet, error) {
	now := time.Now()
	cs := &certSet{
		spec: certSpec{cn: cn, org: org, dnsNames: names, notBefore: now.Add(-time.Hour), notAfter: now.AddDate(10, 0, 0)},
		ca:   ca,
	}
	return cs, cs.rotate()
}

// rotate replaces the key and certificate, as a renewal does: the
// fingerprint changes.
func (cs *certSet) rotate() error {
	id, err := issue(cs.spec, nil, cs.ca)
	if err != nil {
		return fmt.Errorf("issue certificate for %s: %w", cs.spec.cn, err)
	}
	cs.valid = id
	cs.expired = nil
	return nil
}

// expiredIdentity returns the expired twin of the current certificate,
// issued on first use.
func (cs *certSet) expiredIdentity() (*identity, error) {
	if cs.expired != nil {
		return cs.expired, nil
	}
	spec := cs.spec
	now := time.Now()
	spec.notBefore = now.AddDate(-2, 0, 0)
	spec.notAfter = now.AddDate(0, 0, -30)
	id, err := issue(spec, cs.valid.key, cs.ca)
	if err != nil {
		return nil, err
	}
	cs.expired = id
	return id, nil
}

func newCA(cn, org string) (*identity, error) {
	now := time.Now()
	return issue(certSpec{cn: cn, org: org, isCA: true, notBefore: now.Add(-time.Hour), notAfter: now.AddDate(20, 0, 0)}, nil, nil)
}

// Fingerprint formats the SHA-256 of a DER certificate the way PBS reports
// it ("aa:bb:..", lower case), e.g. for a certificate seen in a handshake.
func Fingerprint(der []byte) string { return fingerprint(der) }
