package collector

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
)

// Security (issue 8): certificate verification is on unless switched off,
// and switching it off is loud. (Secrets in every output of every fault are
// checked by the fault matrix; the exporter's own TLS and basic auth by the
// main package's TestWebConfig.)

// TestTLSVerifiedByDefault: a target with no trust settings is checked
// against the system roots, so the emulator's self-signed PBS (like a real
// fresh PBS) is refused with reason tls, and the hint names the
// certificate's fingerprint to pin.
func TestTLSVerifiedByDefault(t *testing.T) {
	e := startEnv(t, envSpec{tweak: func(e *env, cfg *config.Config) {
		cfg.PBS[0].TLS = config.TLS{}
	}})
	x := parseExposition(e.mustScrape(5 * time.Second).body)
	if v, _ := x.get("proxmox_backup_target_up", "target", pbsTarget); v != "0" {
		t.Errorf("an untrusted self-signed PBS is up (%q): certificates are not verified", v)
	}
	if v, _ := x.get("proxmox_backup_target_errors_total", "target", pbsTarget, "reason", "tls"); v == "" || v == "0" {
		t.Errorf("target_errors_total{reason=tls} = %q", v)
	}
	if !strings.Contains(e.logs.String(), e.srv.PBSFingerprint(pbsTarget)) {
		t.Error("the TLS failure does not name the fingerprint the PBS presented")
	}
	if strings.Contains(e.logs.String(), "insecure") {
		t.Error("an insecure-TLS warning without insecure_skip_verify")
	}
}

// TestInsecureSkipVerifyIsLoud: insecure_skip_verify works (the PBS is
// read) but warns at start, naming the target, and shows on /status (HTML
// and JSON) and in --check.
func TestInsecureSkipVerifyIsLoud(t *testing.T) {
	e := startEnv(t, envSpec{tweak: func(e *env, cfg *config.Config) {
		cfg.PBS[0].TLS = config.TLS{InsecureSkipVerify: true}
	}})
	// At start: the clients are built by New, before any scrape.
	warned := false
	for _, r := range e.logs.records(t) {
		if r["level"] == "WARN" && r["target"] == pbsTarget && strings.Contains(strings.ToLower(r["msg"].(string)), "verification is disabled") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no start-up warning for insecure_skip_verify:\n%s", e.logs.String())
	}
	x := parseExposition(e.mustScrape(5 * time.Second).body)
	if v, _ := x.get("proxmox_backup_target_up", "target", pbsTarget); v != "1" {
		t.Errorf("target_up{pbs1} = %q with insecure_skip_verify", v)
	}
	html, js := e.status()
	if !strings.Contains(html, "TLS verification is OFF") {
		t.Error("/status does not show that TLS verification is off")
	}
	var st Status
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		t.Fatal(err)
	}
	for _, ts := range st.Targets {
		if want := ts.Name == pbsTarget; ts.InsecureTLS != want {
			t.Errorf("/status JSON: %s insecure_tls = %v, want %v", ts.Name, ts.InsecureTLS, want)
		}
	}
	text, _ := e.check(5 * time.Second)
	if !strings.Contains(text, "pbs1 (pbs): TLS verification is off") {
		t.Errorf("--check does not warn about insecure TLS:\n%s", text)
	}
}
