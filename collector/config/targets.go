package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// positions remembers where things were written, for errors found when
// looking at the whole file (duplicates, routes naming targets).
type positions struct {
	pve, pbs []targetPos
	routes   []routePos
	// targetsInvalid is set when pve or pbs is not a list, so the lack of
	// targets is not reported a second time.
	targetsInvalid bool
	// estates are the positions inside each entry of the estates list.
	estates []estatePos
}

type estatePos struct {
	path     string
	line     int
	ok       bool // the entry was a mapping
	nameLine int  // line of the name value, 0 when not written
	pos      positions
}

type targetPos struct {
	path string
	line int
	ok   bool // the entry was a mapping
	keys map[string]int
	urls []int // line of each normalised URL in Target.URLs
}

type routePos struct {
	path string
	line int
	ok   bool
	keys map[string]int
	// typo is set when an unknown key was taken for a known one: the
	// route's values are then not checked further.
	typo bool
}

func (p targetPos) lineOf(key string) int {
	if l, ok := p.keys[key]; ok {
		return l
	}
	return p.line
}

func (p routePos) lineOf(key string) int {
	if l := p.keys[key]; l > 0 {
		return l
	}
	return p.line
}

func (d *decoder) targets(n *yaml.Node, path, kind string) ([]Target, []targetPos) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, path, "want a list of %s targets (each entry starting with \"- \"), got %s", kind, describe(n))
		return nil, nil
	}
	var out []Target
	var pos []targetPos
	for i, c := range n.Content {
		c = d.resolve(c)
		if d.tooBig {
			return nil, nil
		}
		t, p := d.target(c, indexPath(path, i), kind)
		out = append(out, t)
		pos = append(pos, p)
	}
	return out, pos
}

func (d *decoder) target(n *yaml.Node, path, kind string) (Target, targetPos) {
	t := Target{Line: n.Line, MaxConcurrency: DefaultMaxConcurrency}
	p := targetPos{path: path, line: n.Line, keys: map[string]int{}}
	keys, hints := pveKeys, maps.Clone(pveHints)
	defaultPort := "8006"
	if kind == "pbs" {
		keys, hints = pbsKeys, maps.Clone(pbsHints)
		defaultPort = "8007"
	}
	maps.Copy(hints, tlsHintsTarget)

	var secretNode, secretFileNode *yaml.Node
	var suggested map[string]bool
	p.ok, suggested = d.walkMap(n, path, keys, hints, func(key string, k, v *yaml.Node, kp string) {
		p.keys[key] = k.Line
		switch key {
		case "name":
			if s, ok := d.str(v, kp, false); ok {
				d.checkName(s, v.Line, kp, kind)
				t.Name = s
			}
		case "urls":
			if isNull(v) || (v.Kind == yaml.SequenceNode && len(v.Content) == 0) {
				d.errorf(v.Line, kp, "list at least one API URL, e.g. urls: [https://%s.example.org:%s]", kind, defaultPort)
				return
			}
			if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
				d.errorf(v.Line, kp, "want a list, got a string; write urls: [%s]", redactURL(v.Value))
				return
			}
			list, lines, _ := d.strList(v, kp)
			for i, s := range list {
				if u, msg := normalizeURL(s, defaultPort); msg != "" {
					d.errorf(lines[i], indexPath(kp, i), "%s", msg)
				} else {
					t.URLs = append(t.URLs, u)
					p.urls = append(p.urls, lines[i])
				}
			}
		case "token_id":
			if s, ok := d.str(v, kp, false); ok {
				if msg := checkTokenID(s, kind); msg != "" {
					d.errorf(v.Line, kp, "%s", msg)
				}
				t.TokenID = s
			}
		case "token_secret":
			secretNode = v
		case "token_secret_file":
			secretFileNode = v
		case "tls":
			d.tls(v, kp, &t.TLS)
		case "namespaces":
			if isNull(v) {
				return
			}
			list, lines, _ := d.strList(v, kp)
			seen := map[string]int{}
			for i, ns := range list {
				if msg := checkNamespace(ns); msg != "" {
					d.errorf(lines[i], indexPath(kp, i), "%s", msg)
					continue
				}
				if first, dup := seen[ns]; dup {
					d.errorf(lines[i], indexPath(kp, i), "namespace %q is listed twice (first on line %d)", ns, first)
					continue
				}
				seen[ns] = lines[i]
				t.Namespaces = append(t.Namespaces, ns)
			}
		case "max_concurrency":
			if mc, ok := d.integer(v, kp); ok {
				if mc < 1 || mc > MaxMaxConcurrency {
					d.errorf(v.Line, kp, "must be between 1 and %d, got %d", MaxMaxConcurrency, mc)
				} else {
					t.MaxConcurrency = mc
				}
			}
		case "timeout":
			if dur, ok := d.duration(v, kp); ok {
				if dur <= 0 {
					d.errorf(v.Line, kp, "must be longer than 0s; leave it out to be bound by the scrape deadline only")
				} else {
					t.Timeout = dur
				}
			}
		case "offline":
			if isNull(v) {
				return
			}
			_, _ = d.walkMap(v, kp, offlineKeys, nil, func(key string, k, v *yaml.Node, kp string) {
				if dur, ok := d.duration(v, kp); ok {
					t.Offline.KeepLastKnown = dur
				}
			})
		}
	})
	if !p.ok {
		return t, p
	}

	missing := func(key string) bool {
		_, set := p.keys[key]
		return !set && !suggested[key]
	}
	if kind == "pbs" && missing("name") {
		d.errorf(p.line, path, "name is required for a pbs target: routes and repository labels refer to it")
	}
	if missing("urls") {
		d.errorf(p.line, path, "urls is required: list the API endpoints, e.g. urls: [https://%s.example.org:%s]", kind, defaultPort)
	}
	if missing("token_id") {
		d.errorf(p.line, path, "token_id is required: the API token as USER@REALM!TOKENNAME, e.g. exporter@%s!backup", kind)
	}
	switch {
	case secretNode != nil && secretFileNode != nil:
		d.errorf(p.keys["token_secret_file"], joinPath(path, "token_secret_file"),
			"set either token_secret (line %d) or token_secret_file, not both", p.keys["token_secret"])
	case secretNode != nil:
		t.TokenSecret = d.inlineSecret(secretNode, joinPath(path, "token_secret"))
	case secretFileNode != nil:
		t.TokenSecretFile, t.TokenSecret = d.secretFile(secretFileNode, joinPath(path, "token_secret_file"))
	case missing("token_secret") && missing("token_secret_file"):
		d.errorf(p.line, path, "token_secret_file (or token_secret) is required: the API token's secret")
	}
	return t, p
}

func (d *decoder) checkName(s string, line int, key, kind string) {
	switch {
	case !nameRe.MatchString(s):
		d.errorf(line, key, "%q is not a valid name: use letters, digits, \".\", \"_\" and \"-\" (it becomes a label value and part of repository names)", s)
	case kind == "pbs" && (s == ToPVE || s == ToIgnore):
		d.errorf(line, key, "%q is reserved: routes use \"to: pve\" and \"to: ignore\"; choose another name", s)
	}
}

// checkTokenID validates USER@REALM!TOKENNAME. Its messages never quote the
// value: a token ID written wrong often has the secret glued to it.
func checkTokenID(s, kind string) string {
	want := "want USER@REALM!TOKENNAME, e.g. exporter@" + kind + "!backup"
	switch {
	case tokenIDRe.MatchString(s):
		return ""
	case s == "":
		return "is empty; " + want
	case strings.ContainsAny(s, "=:"):
		return "looks like it includes the secret: token_id is only USER@REALM!TOKENNAME, the secret goes in token_secret_file or token_secret"
	case !strings.Contains(s, "!"):
		return "is a user, not an API token: add \"!\" and the token name; " + want
	case !strings.Contains(s, "@"):
		return "has no realm: " + want
	}
	return "is not an API token ID; " + want
}

// checkSecret returns what is wrong with a secret, never the secret.
func checkSecret(s string) string {
	if s == "" {
		return "is empty"
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "contains white space or control characters; it must hold only the token secret"
		}
	}
	return ""
}

func (d *decoder) inlineSecret(n *yaml.Node, key string) Secret {
	s, ok := d.str(n, key, true)
	if !ok {
		return ""
	}
	if msg := checkSecret(s); msg != "" {
		d.errorf(n.Line, key, "the token secret %s", msg)
		return ""
	}
	if !strings.Contains(n.Value, "${") {
		d.warnf(n.Line, key, "the token secret is written in the config file itself; prefer token_secret_file or token_secret: ${VAR}, so the config can be shared without it")
	}
	return Secret(s)
}

func (d *decoder) resolvePath(p string) string {
	if p == "" || filepath.IsAbs(p) || d.baseDir == "" {
		return p
	}
	return filepath.Join(d.baseDir, p)
}

// fileError words an os error without repeating the operation and path
// that the message already names.
func fileError(err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied (check the owner and mode, and which user the exporter runs as)"
	case errors.As(err, &pe):
		return pe.Err.Error()
	}
	return err.Error()
}

// secretFile reads a token secret from a file: trailing newlines and
// surrounding white space are ignored, anything else must be the secret.
// A file accessible by group or others is a warning, not an error, since
// some deployments (Kubernetes secrets) cannot avoid it.
func (d *decoder) secretFile(n *yaml.Node, key string) (string, Secret) {
	p, ok := d.str(n, key, false)
	if !ok {
		return "", ""
	}
	if p == "" {
		d.errorf(n.Line, key, "is empty; give the path of a file holding the token secret")
		return "", ""
	}
	p = d.resolvePath(p)
	st, err := os.Stat(p)
	if err != nil {
		d.errorf(n.Line, key, "cannot read %s: %s", p, fileError(err))
		return p, ""
	}
	if !st.Mode().IsRegular() {
		d.errorf(n.Line, key, "cannot read %s: not a regular file", p)
		return p, ""
	}
	data, err := readBounded(p, maxSecretBytes)
	if err != nil {
		d.errorf(n.Line, key, "cannot read %s: %s", p, fileError(err))
		return p, ""
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		d.warnf(n.Line, key, "%s is accessible by group or others (mode %04o); restrict it with chmod 600", p, perm)
	}
	s := strings.TrimSpace(string(data))
	if msg := checkSecret(s); msg != "" {
		d.errorf(n.Line, key, "%s %s", p, msg)
		return p, ""
	}
	return p, Secret(s)
}

func (d *decoder) tls(n *yaml.Node, path string, t *TLS) {
	if isNull(n) {
		return
	}
	lines := map[string]int{}
	_, _ = d.walkMap(n, path, tlsKeys, nil, func(key string, k, v *yaml.Node, kp string) {
		lines[key] = k.Line
		switch key {
		case "ca_file":
			if s, ok := d.str(v, kp, false); ok {
				t.CAFile = d.checkCAFile(s, v.Line, kp)
			}
		case "fingerprint":
			if s, ok := d.str(v, kp, false); ok {
				fp, err := proxmox.NormalizeFingerprint(s)
				if err != nil {
					d.errorf(v.Line, kp, "not a SHA-256 certificate fingerprint (%s); want 32 bytes in hex, colons optional, as `proxmox-backup-manager cert info` or `openssl x509 -noout -fingerprint -sha256` print it", err)
				} else {
					t.Fingerprint = fp
				}
			}
		case "insecure_skip_verify":
			if b, ok := d.boolean(v, kp); ok {
				t.InsecureSkipVerify = b
			}
		}
	})
	if !t.InsecureSkipVerify {
		return
	}
	key := joinPath(path, "insecure_skip_verify")
	switch {
	case lines["fingerprint"] != 0:
		d.errorf(lines["insecure_skip_verify"], key, "contradicts the fingerprint pin on line %d: with insecure_skip_verify the pin is not checked; remove one of them (keep the pin)", lines["fingerprint"])
	case lines["ca_file"] != 0:
		d.errorf(lines["insecure_skip_verify"], key, "contradicts ca_file on line %d: with insecure_skip_verify the CA is not checked; remove one of them", lines["ca_file"])
	default:
		d.warnf(lines["insecure_skip_verify"], key, "TLS certificate verification is off: anyone on the network path can impersonate this target and capture its API token; pin the certificate with tls.fingerprint instead")
	}
}

func (d *decoder) checkCAFile(s string, line int, key string) string {
	if s == "" {
		d.errorf(line, key, "is empty; give the path of a PEM file with the CA certificate(s)")
		return ""
	}
	p := d.resolvePath(s)
	data, err := readBounded(p, maxCABytes)
	if err != nil {
		d.errorf(line, key, "cannot read %s: %s", p, fileError(err))
		return p
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		d.errorf(line, key, "%s holds no PEM certificate (want \"-----BEGIN CERTIFICATE-----\" blocks)", p)
	}
	return p
}

// redactURL drops user info from a URL-ish string before it is quoted.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return "<url with credentials>"
	}
	if strings.Contains(s, "@") {
		return "<url>"
	}
	return s
}

// normalizeURL checks an API URL and returns it as "https://host[:port]"
// plus any path prefix, without a trailing slash.
// The second result, when not empty, says what is wrong.
func normalizeURL(s, defaultPort string) (string, string) {
	example := "https://host.example.org:" + defaultPort
	if s == "" {
		return "", "is empty; want " + example
	}
	if !strings.Contains(s, "://") {
		return "", fmt.Sprintf("has no scheme; want %s", example)
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if strings.Contains(s, "@") {
			return "", "is not a valid URL"
		}
		return "", fmt.Sprintf("is not a valid URL: %s", err)
	}
	if u.User != nil {
		return "", "must not contain a user or password: authentication uses token_id and the token secret"
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		return "", "http:// is refused: the API token would cross the network in clear text; use https:// (Proxmox serves its API over HTTPS only)"
	default:
		return "", fmt.Sprintf("scheme %q is not supported; want %s", u.Scheme, example)
	}
	if u.Hostname() == "" {
		return "", "has no host; want " + example
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", fmt.Sprintf("port %s is not between 1 and 65535", port)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return "", "has an empty port; want " + example
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", "must not have a query or fragment; want " + example
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	if i := strings.Index(path+"/", "/api2/"); i >= 0 {
		return "", fmt.Sprintf("drop %q from the URL: the exporter adds /api2/json itself", u.Path[i:])
	}
	// A path is kept as a prefix: the API may sit behind a reverse proxy
	// under a sub-path.
	return "https://" + strings.ToLower(u.Host) + path, ""
}

// checkNamespace validates a PBS namespace path ("" is the root).
func checkNamespace(ns string) string {
	if ns == "" {
		return ""
	}
	parts := strings.Split(ns, "/")
	for _, p := range parts {
		if !safeIDRe.MatchString(p) {
			return fmt.Sprintf("%q is not a namespace path: names of letters, digits, \".\", \"_\" and \"-\" separated by \"/\", without a leading or trailing \"/\" (\"\" is the root)", ns)
		}
	}
	if len(parts) > maxNamespaceDepth {
		return fmt.Sprintf("%q is %d levels deep; PBS allows at most %d", ns, len(parts), maxNamespaceDepth)
	}
	return ""
}
