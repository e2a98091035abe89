package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// Secret values the test environment hands to configs. No error, warning
// or rendering of a config may ever contain them.
const (
	pveSecret  = "hunter2-pve-3f0c2a86"
	pbsSecret  = "hunter2-pbs-9b1e7d42"
	pve2Secret = "hunter2-pve2-55aa"
)

// setTestEnv sets the variables the testdata files reference and returns
// the directory holding good.yml's secret files (mode 0600, since git does
// not keep file modes and a 0644 file would warn).
func setTestEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, secret := range map[string]string{
		"homelab": "hunter2-homelab-file",
		"pbs1":    "hunter2-pbs1-file",
		"offsite": "hunter2-offsite-file",
	} {
		if err := os.WriteFile(filepath.Join(dir, name+".secret"), []byte(secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TEST_SECRETS", dir)
	t.Setenv("TEST_PVE_SECRET", pveSecret)
	t.Setenv("TEST_PBS_SECRET", pbsSecret)
	t.Setenv("TEST_PVE2_SECRET", pve2Secret)
	for _, v := range []string{"TEST_UNSET_HOST", "TEST_UNSET_SECRET"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	return dir
}

// allSecrets are the secret values setTestEnv makes available.
var allSecrets = []string{pveSecret, pbsSecret, pve2Secret, "hunter2"}

func TestLoadGood(t *testing.T) {
	dir := setTestEnv(t)
	cfg, warnings, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("unexpected warnings: %v", warnings)
	}
	want := &Config{
		Source: "testdata/good.yml",
		PVE: []Target{
			{
				Name:            "homelab",
				URLs:            []string{"https://pve1.example.org:8006", "https://pve2.example.org:8006", "https://proxy.example.org/pve-homelab"},
				TokenID:         "exporter@pve!backup",
				TokenSecret:     "hunter2-homelab-file",
				TokenSecretFile: filepath.Join(dir, "homelab.secret"),
				TLS:             TLS{CAFile: "testdata/ca.pem"},
				MaxConcurrency:  8,
				Timeout:         20 * time.Second,
				Line:            4,
			},
			{
				URLs:           []string{"https://10.0.0.5:8006"},
				TokenID:        "exporter@pam!backup",
				TokenSecret:    pve2Secret,
				TLS:            TLS{Fingerprint: "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89"},
				MaxConcurrency: DefaultMaxConcurrency,
				Line:           15,
			},
		},
		PBS: []Target{
			{
				Name:            "pbs1",
				URLs:            []string{"https://pbs.example.org:8007"},
				TokenID:         "exporter@pbs!backup",
				TokenSecret:     "hunter2-pbs1-file",
				TokenSecretFile: filepath.Join(dir, "pbs1.secret"),
				TLS:             TLS{Fingerprint: "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef"},
				Namespaces:      []string{"", "homelab", "homelab/old"},
				MaxConcurrency:  DefaultMaxConcurrency,
				Line:            21,
			},
			{
				Name:            "offsite",
				URLs:            []string{"https://[2001:db8::7]:8007"},
				TokenID:         "john@example.com@ldap!mon-1",
				TokenSecret:     "hunter2-offsite-file",
				TokenSecretFile: filepath.Join(dir, "offsite.secret"),
				Namespaces:      []string{"homelab"},
				MaxConcurrency:  DefaultMaxConcurrency,
				Offline:         Offline{KeepLastKnown: 36 * time.Hour},
				Line:            27,
			},
		},
		Routes: []Route{
			{Cluster: "homelab", Storage: "backup-server", To: "pbs1", Line: 35},
			{Cluster: "homelab", Storage: "old-nfs", To: ToIgnore, Line: 38},
			{Cluster: "homelab", Storage: "usb", To: ToPVE, Line: 41},
			{PBS: "offsite", Datastore: "store1", Namespace: "homelab", Cluster: "homelab", Line: 44},
			{PBS: "pbs1", Datastore: "2024", Cluster: "homelab", Line: 48},
			{Cluster: "homelab", Storage: "nas", SameAs: "site-b:nas", Line: 51},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load(good.yml) =\n%s\nwant\n%s", dump(t, cfg), dump(t, want))
	}
	// Secret hides the value from dump; compare the real values too.
	for i, tg := range cfg.PVE {
		if tg.TokenSecret.Reveal() != want.PVE[i].TokenSecret.Reveal() {
			t.Errorf("pve[%d] secret differs", i)
		}
	}
	if !cfg.Routes[3].IsAttribution() || cfg.Routes[0].IsAttribution() {
		t.Errorf("IsAttribution wrong: %v", cfg.Routes)
	}
}

// dump renders a config with its secrets revealed, for test failure output
// only.
func dump(t *testing.T, c *Config) string {
	t.Helper()
	var b strings.Builder
	for _, l := range []struct {
		kind string
		ts   []Target
	}{{"pve", c.PVE}, {"pbs", c.PBS}} {
		for i, tg := range l.ts {
			fmt.Fprintf(&b, "%s[%d] %+v secret=%q\n", l.kind, i, tg, tg.TokenSecret.Reveal())
		}
	}
	for i, r := range c.Routes {
		fmt.Fprintf(&b, "routes[%d] %+v\n", i, r)
	}
	fmt.Fprintf(&b, "source %q\n", c.Source)
	return b.String()
}

// TestLoadBad checks the exact error text for every file in testdata/bad,
// and that every such file has a golden entry.
func TestLoadBad(t *testing.T) {
	setTestEnv(t)
	files, err := filepath.Glob("testdata/bad/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range badCases {
		names = append(names, c.file)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yml")
		if !slices.Contains(names, name) {
			t.Errorf("%s has no entry in badCases", f)
		}
	}
	for _, tc := range badCases {
		t.Run(tc.file, func(t *testing.T) {
			path := "testdata/bad/" + tc.file + ".yml"
			cfg, _, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%s) succeeded: %+v", path, cfg)
			}
			if cfg != nil {
				t.Errorf("Load returned a config along with an error")
			}
			want := make([]string, len(tc.want))
			for i, w := range tc.want {
				want[i] = path + w
			}
			if got := err.Error(); got != strings.Join(want, "\n") {
				t.Errorf("Load(%s) error:\n%s\nwant:\n%s", path, got, strings.Join(want, "\n"))
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != len(tc.want) {
				t.Errorf("error is not Errors with %d entries: %#v", len(tc.want), err)
			}
			for _, e := range errs {
				if e.Source != path {
					t.Errorf("error source %q, want %q", e.Source, path)
				}
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	setTestEnv(t)
	dir := t.TempDir()
	open := filepath.Join(dir, "open.secret")
	if err := os.WriteFile(open, []byte("hunter2-open\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode is subject to the umask; set it explicitly.
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_OPEN_SECRET_FILE", open)
	src := `pve:
  - urls: [https://pve1.example.org:8006]
    token_id: exporter@pve!backup
    token_secret_file: ${TEST_OPEN_SECRET_FILE}
  - urls: [https://pve2.example.org:8006]
    token_id: exporter@pve!backup
    token_secret: hunter2-literal
    tls:
      insecure_skip_verify: true
`
	cfg, warnings, err := Parse([]byte(src), "w.yml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !cfg.PVE[1].TLS.InsecureSkipVerify {
		t.Errorf("insecure_skip_verify not set")
	}
	want := []string{
		"w.yml:4: pve[0].token_secret_file: " + open + " is accessible by group or others (mode 0644); restrict it with chmod 600",
		"w.yml:7: pve[1].token_secret: the token secret is written in the config file itself; prefer token_secret_file or token_secret: ${VAR}, so the config can be shared without it",
		"w.yml:9: pve[1].tls.insecure_skip_verify: TLS certificate verification is off: anyone on the network path can impersonate this target and capture its API token; pin the certificate with tls.fingerprint instead",
	}
	var got []string
	for _, w := range warnings {
		got = append(got, w.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range got {
		if strings.Contains(s, "hunter2") {
			t.Errorf("warning leaks a secret: %s", s)
		}
	}
}

// TestSecretsNeverLeak loads every bad file and some hand-made traps, and
// checks that no error or warning contains a secret value.
func TestSecretsNeverLeak(t *testing.T) {
	setTestEnv(t)
	files, _ := filepath.Glob("testdata/bad/*.yml")
	var outputs []string
	for _, f := range files {
		_, warnings, err := Load(f)
		if err != nil {
			outputs = append(outputs, err.Error())
		}
		for _, w := range warnings {
			outputs = append(outputs, w.String())
		}
	}
	traps := []string{
		// Secret glued to the token ID, in both products' syntaxes.
		"pve:\n  - urls: [https://a:8006]\n    token_id: \"root@pam!x=hunter2-a\"\n    token_secret: x\n",
		"pbs:\n  - name: b\n    urls: [https://b:8007]\n    token_id: \"root@pam!x:hunter2-b\"\n    token_secret: x\n",
		// Secret pasted as token ID and as a URL password.
		"pve:\n  - urls: [\"https://root:hunter2-c@c:8006\"]\n    token_id: hunter2-d\n    token_secret: x\n",
		// Secret in a broken YAML document.
		"pve:\n  - token_secret: \"hunter2-e\n",
		"pve:\n  - token_secret: hunter2-f\n  token_id: [\n",
		// Secret of the wrong type, or with bad expansion.
		"pve:\n  - token_secret: {hunter2-g: 1}\n",
		"pve:\n  - token_secret: [hunter2-h]\n",
		"pve:\n  - token_secret: \"${hunter2-i}\"\n",
		"pve:\n  - token_secret: \"${hunter2_j\"\n",
		"pve:\n  - token_secret: \"hunter2-k with space\"\n",
		// Secret used as a key by mistake.
		"pve:\n  - token_secret=hunter2-l: x\n",
		"pve:\n  - hunter2-m-0123456789abcdef0123456789abcdef: x\n",
		// Both secrets set: neither may be echoed.
		"pve:\n  - urls: [https://n:8006]\n    token_id: a@pve!b\n    token_secret: hunter2-n\n    token_secret_file: /nonexistent\n",
	}
	for _, src := range traps {
		_, warnings, err := Parse([]byte(src), "trap.yml")
		if err == nil {
			t.Errorf("trap parsed without error:\n%s", src)
			continue
		}
		outputs = append(outputs, err.Error())
		for _, w := range warnings {
			outputs = append(outputs, w.String())
		}
	}
	for _, out := range outputs {
		for _, s := range allSecrets {
			if strings.Contains(out, s) {
				t.Errorf("output contains secret %q:\n%s", s, out)
			}
		}
	}
}

// TestConfigRendersWithoutSecrets prints, marshals and logs a loaded config
// every way the program might, and checks no secret shows.
func TestConfigRendersWithoutSecrets(t *testing.T) {
	setTestEnv(t)
	cfg, _, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	secrets := append([]string{"hunter2-homelab-file", "hunter2-pbs1-file", "hunter2-offsite-file"}, allSecrets...)
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		outs = append(outs, fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, *cfg), fmt.Sprintf(verb, cfg.PVE[0]), fmt.Sprintf(verb, cfg.PVE[1].TokenSecret))
	}
	outs = append(outs, fmt.Sprint(cfg.PBS), fmt.Sprintln(cfg.PVE[0].TokenSecret), cfg.PVE[1].TokenSecret.String())
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := cfg.PVE[0].TokenSecret.MarshalText()
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", cfg, "secret", cfg.PVE[1].TokenSecret, "target", cfg.PBS[0])
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "cfg", cfg, "secret", cfg.PVE[1].TokenSecret)
	outs = append(outs, string(j), string(y), string(tx), logs.String())
	for _, out := range outs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("rendering contains secret %q:\n%s", s, out)
			}
		}
	}
	if !strings.Contains(string(j), `"token_secret":"\u003csecret\u003e"`) || !strings.Contains(string(y), "token_secret: <secret>") {
		t.Errorf("marshalled config does not show the redaction marker:\n%s\n%s", j, y)
	}
	if got := fmt.Sprintf("%#v", cfg.PVE[1].TokenSecret); got != `"<secret>"` {
		t.Errorf("%%#v = %s", got)
	}
}

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "alpha", "B_2": "beta", "EMPTY": "", "DOLLAR": "$X"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cases := []struct {
		in, want, err string
		secret        bool
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x${A}y${B_2}z", want: "xalphaybetaz"},
		{in: "${EMPTY}", want: ""},
		{in: "$$", want: "$"},
		{in: "$${A}", want: "${A}"},
		{in: "a$b", want: "a$b"},
		{in: "cost: 5$", want: "cost: 5$"},
		{in: "${DOLLAR}", want: "$X"}, // values are not expanded again
		{in: "${MISSING}", err: "environment variable MISSING is not set"},
		{in: "${A", err: `unterminated "${": write "${NAME}", or "$$" for a literal "$"`},
		{in: "${}", err: `invalid variable name "" in "${...}": want letters, digits and "_", not starting with a digit, or "$$" for a literal "$"`},
		{in: "${9A}", err: `invalid variable name "9A" in "${...}": want letters, digits and "_", not starting with a digit, or "$$" for a literal "$"`},
		{in: "${a-b}", secret: true, err: `invalid "${...}" reference: want "${NAME}" with NAME made of letters, digits and "_", or "$$" for a literal "$"`},
	}
	for _, c := range cases {
		got, err := expand(c.in, lookup, c.secret)
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("expand(%q) error = %v, want %q", c.in, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("expand(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// TestCredentialsDirectory is the systemd LoadCredential= pattern the
// example unit uses.
func TestCredentialsDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pve.secret"), []byte("cred-secret\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", dir)
	src := "pve:\n  - urls: [https://pve:8006]\n    token_id: e@pve!b\n    token_secret_file: ${CREDENTIALS_DIRECTORY}/pve.secret\n"
	cfg, warnings, err := Parse([]byte(src), "c.yml")
	if err != nil || len(warnings) != 0 {
		t.Fatalf("Parse: %v %v", err, warnings)
	}
	if cfg.PVE[0].TokenSecret.Reveal() != "cred-secret" || cfg.PVE[0].TokenSecretFile != filepath.Join(dir, "pve.secret") {
		t.Errorf("got %q from %q", cfg.PVE[0].TokenSecret.Reveal(), cfg.PVE[0].TokenSecretFile)
	}
}

// TestRelativePaths: Load resolves relative paths against the config
// file's directory, Parse against the working directory.
func TestRelativePaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.secret"), []byte("rel-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := []byte("pbs:\n  - name: p\n    urls: [https://p:8007]\n    token_id: e@pbs!b\n    token_secret_file: s.secret\n")
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, src, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := Load(cfgPath)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := cfg.PBS[0].TokenSecretFile; got != filepath.Join(dir, "s.secret") {
		t.Errorf("Load resolved the secret file to %q", got)
	}
	_, _, err = Parse(src, "mem.yml")
	want := "mem.yml:5: pbs[0].token_secret_file: cannot read s.secret: no such file"
	if err == nil || err.Error() != want {
		t.Errorf("Parse error = %v, want %q", err, want)
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# comment\n"), MaxConfigBytes/10+1), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ path, want string }{
		{filepath.Join(dir, "missing.yml"), filepath.Join(dir, "missing.yml") + ": cannot read config file: stat " + filepath.Join(dir, "missing.yml") + ": no such file or directory"},
		{dir, dir + ": cannot read config file: " + dir + " is not a regular file"},
		{big, big + ": cannot read config file: " + big + " is larger than 1048576 bytes"},
	}
	for _, c := range cases {
		_, _, err := Load(c.path)
		if err == nil || err.Error() != c.want {
			t.Errorf("Load(%s) = %v, want %q", c.path, err, c.want)
		}
	}
	if _, _, err := Parse(bytes.Repeat([]byte("#"), MaxConfigBytes+1), "big"); err == nil || err.Error() != "big: the file is larger than 1048576 bytes" {
		t.Errorf("Parse(big) = %v", err)
	}
}

func TestAliasesAndBudget(t *testing.T) {
	t.Setenv("TEST_PVE_SECRET", pveSecret)
	// Aliases are followed: a shared TLS block is a fair use of them.
	src := `pve:
  - name: a
    urls: [https://a:8006]
    token_id: e@pve!b
    token_secret: ${TEST_PVE_SECRET}
    tls: &pin
      fingerprint: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  - name: b
    urls: [https://b:8006]
    token_id: e@pve!b
    token_secret: ${TEST_PVE_SECRET}
    tls: *pin
`
	cfg, _, err := Parse([]byte(src), "a.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PVE[1].TLS.Fingerprint != cfg.PVE[0].TLS.Fingerprint || cfg.PVE[1].TLS.Fingerprint == "" {
		t.Errorf("alias not followed: %+v", cfg.PVE[1].TLS)
	}
	// A "billion laughs" document is refused quickly instead of walked:
	// one anchored mapping of 100 keys referenced 2000 times.
	var b strings.Builder
	b.WriteString("pve:\n  - &t\n")
	for i := range 100 {
		fmt.Fprintf(&b, "    k%d: x\n", i)
	}
	for range 2000 {
		b.WriteString("  - *t\n")
	}
	_, _, err = Parse([]byte(b.String()), "laughs.yml")
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("billion laughs: %v", err)
	}
	if errs[0].Error() != "laughs.yml: the document has more than 100000 YAML nodes (aliases included); a config file is never that large" {
		t.Errorf("first error: %v", errs[0])
	}
	if len(errs) != maxErrors+1 || errs[maxErrors].Message != "too many errors; only the first 50 are shown" {
		t.Errorf("errors not capped: %d, last %v", len(errs), errs[len(errs)-1])
	}
}

func TestSuggest(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{"tokn_id", "token_id"},
		{"token", "token_id"},
		{"URLS", "urls"},
		{"url", "urls"},
		{"fingerprnt", "fingerprint"},
		{"insecure", "insecure_skip_verify"},
		{"verify_tls", ""},
		{"x", ""},
	}
	keys := append(append([]string{}, pbsKeys...), tlsKeys...)
	for _, c := range cases {
		if got := suggest(c.in, keys); got != c.want {
			t.Errorf("suggest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNamespaceAllowed(t *testing.T) {
	cases := []struct {
		allow []string
		ns    string
		want  bool
	}{
		{nil, "anything/below", true},
		{[]string{""}, "a/b", true},
		{[]string{"a"}, "a", true},
		{[]string{"a"}, "a/b", true},
		{[]string{"a"}, "ab", false},
		{[]string{"a"}, "", false},
		{[]string{"a/b", "c"}, "a", false},
	}
	for _, c := range cases {
		if got := (Target{Namespaces: c.allow}).NamespaceAllowed(c.ns); got != c.want {
			t.Errorf("NamespaceAllowed(%q in %q) = %v", c.ns, c.allow, got)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	es := Errors{
		{Source: "f.yml", Line: 3, Key: "pve[0].urls", Message: "m1"},
		{Source: "f.yml", Message: "m2"},
	}
	if got, want := es.Error(), "f.yml:3: pve[0].urls: m1\nf.yml: m2"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := (Warning{Source: "f.yml", Line: 1, Message: "w"}).String(); got != "f.yml:1: w" {
		t.Errorf("warning: %q", got)
	}
}

func TestToProxmox(t *testing.T) {
	setTestEnv(t)
	cfg, _, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	got := cfg.PVE[0].ToProxmox("pve", logger)
	if got.Name != "homelab" || got.Kind != "pve" || got.TokenID != "exporter@pve!backup" ||
		got.TokenSecret != "hunter2-homelab-file" || got.TLS.CAFile != "testdata/ca.pem" ||
		got.MaxConcurrency != 8 || got.Logger != logger || !slices.Equal(got.URLs, cfg.PVE[0].URLs) {
		t.Errorf("ToProxmox(pve[0]) = %+v", got)
	}
	got.URLs[0] = "changed"
	if cfg.PVE[0].URLs[0] == "changed" {
		t.Errorf("ToProxmox shares the URL slice with the config")
	}
	pbs := cfg.PBS[0].ToProxmox("pbs", nil)
	if pbs.Kind != "pbs" || pbs.TLS.Fingerprint != cfg.PBS[0].TLS.Fingerprint || pbs.TokenSecret != "hunter2-pbs1-file" {
		t.Errorf("ToProxmox(pbs[0]) = %+v", pbs)
	}
}

// TestEstates loads a file with the default estate and two more: target
// names are scoped by estate (both estates may call their PBS "backup"),
// routes resolve inside their estate, and Estate returns each as a
// single-estate Config.
func TestEstates(t *testing.T) {
	setTestEnv(t)
	const file = `
pve:
  - name: homelab
    urls: [https://pve.home.example.org:8006]
    token_id: exporter@pve!backup
    token_secret: ${TEST_PVE_SECRET}
estates:
  - name: acme
    pve:
      - name: acme
        urls: [https://pve.acme.example.org:8006]
        token_id: exporter@pve!backup
        token_secret: ${TEST_PVE_SECRET}
    pbs:
      - name: backup
        urls: [https://pbs.acme.example.org:8007]
        token_id: exporter@pbs!backup
        token_secret: ${TEST_PBS_SECRET}
    routes:
      - {cluster: acme, storage: pbs-store, to: backup}
  - name: globex
    pbs:
      - name: backup
        urls: [https://pbs.globex.example.org:8007]
        token_id: exporter@pbs!backup
        token_secret: ${TEST_PBS_SECRET}
`
	cfg, warnings, err := Parse([]byte(file), "estates.yml")
	if err != nil || len(warnings) > 0 {
		t.Fatalf("Parse: %v, warnings %v", err, warnings)
	}
	if got, want := cfg.EstateNames(), []string{DefaultEstate, "acme", "globex"}; !slices.Equal(got, want) {
		t.Errorf("EstateNames() = %v, want %v", got, want)
	}
	def, ok := cfg.Estate(DefaultEstate)
	if !ok || len(def.PVE) != 1 || def.PVE[0].Name != "homelab" || len(def.PBS) != 0 || len(def.Estates) != 0 {
		t.Errorf("Estate(default) = %+v, %v; want the top-level homelab only", def, ok)
	}
	acme, ok := cfg.Estate("acme")
	if !ok || len(acme.PVE) != 1 || len(acme.PBS) != 1 || len(acme.Routes) != 1 || acme.Routes[0].To != "backup" || acme.Source != "estates.yml" {
		t.Errorf("Estate(acme) = %+v, %v", acme, ok)
	}
	globex, ok := cfg.Estate("globex")
	if !ok || len(globex.PBS) != 1 || globex.PBS[0].URLs[0] != "https://pbs.globex.example.org:8007" {
		t.Errorf("Estate(globex) = %+v, %v", globex, ok)
	}
	if _, ok := cfg.Estate("initech"); ok {
		t.Error("Estate(initech) found an estate that is not configured")
	}

	// Without top-level targets there is no default estate.
	only, _, err := Parse([]byte(file[strings.Index(file, "estates:"):]), "estates.yml")
	if err != nil {
		t.Fatal(err)
	}
	if only.HasDefaultEstate() {
		t.Error("HasDefaultEstate() with no top-level targets")
	}
	if _, ok := only.Estate(DefaultEstate); ok {
		t.Error("Estate(default) found an estate with no top-level targets")
	}
	if got, want := only.EstateNames(), []string{"acme", "globex"}; !slices.Equal(got, want) {
		t.Errorf("EstateNames() = %v, want %v", got, want)
	}
}
