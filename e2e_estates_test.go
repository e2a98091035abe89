//go:build e2e

package main

// Scale-out as docs/estates.md recommends it, with real software: three
// emulated estates, two exporter replicas with the same config, and a real
// Prometheus that scrapes each estate once through /probe?estate=NAME,
// spreading the estates over the replicas with hashmod and setting the
// estate label by relabelling; the mixin's rules and alerts run unchanged.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

func TestE2EEstates(t *testing.T) {
	promBin := requireTool(t, "prometheus")
	t.Cleanup(e2eClient.CloseIdleConnections)
	start := time.Now()

	estates := []string{"acme", "globex", "initech"}
	var srvs []*emulator.Server
	for range estates {
		srv, err := emulator.Start(emulator.Homelab(time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		srvs = append(srvs, srv)
	}
	dir := t.TempDir()
	cfgFile := writeFile(t, filepath.Join(dir, "config.yml"), estatesYAML(t, dir, estates, srvs...))

	bin, mixinBin := buildE2E(t, dir)
	replicas := []string{freeAddr(t), freeAddr(t)}
	for i, addr := range replicas {
		startProc(t, fmt.Sprintf("exporter-%d", i), bin, "--config.file="+cfgFile, "--web.listen-address="+addr,
			"--scrape.timeout-offset=200ms")
		waitReady(t, fmt.Sprintf("exporter-%d", i), "http://"+addr+"/-/healthy")
	}
	rulesDir := filepath.Join(dir, "rules")
	renderRules(t, mixinBin, rulesDir)

	// examples/prometheus-estates.yml, with the test's addresses.
	promAddr := freeAddr(t)
	promFile := filepath.Join(dir, "prometheus.yml")
	writeFile(t, promFile, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
  - %q
scrape_configs:
  - job_name: proxmox-backup
    metrics_path: /probe
    static_configs:
      - targets: [%s]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_estate
      - source_labels: [__address__]
        target_label: estate
      - source_labels: [__address__]
        modulus: 2
        target_label: __tmp_replica
        action: hashmod
      - source_labels: [__tmp_replica]
        regex: "0"
        target_label: __address__
        replacement: %q
      - source_labels: [__tmp_replica]
        regex: "1"
        target_label: __address__
        replacement: %q
  - job_name: proxmox-backup-exporter
    static_configs:
      - targets: [%q, %q]
`, filepath.Join(rulesDir, "prometheus_alerts.yaml"), filepath.Join(rulesDir, "prometheus_rules.yaml"),
		strings.Join(estates, ", "), replicas[0], replicas[1], replicas[0], replicas[1]))
	startProc(t, "prometheus", promBin, "--config.file="+promFile, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr)
	p := &promAPI{t: t, base: "http://" + promAddr}
	waitReady(t, "prometheus", p.base+"/-/ready")

	eventually(t, 30*time.Second, "every estate is up", func() (bool, string) {
		v := p.query(`up{job="proxmox-backup"} == 1`)
		return len(v) == len(estates), fmt.Sprint(v)
	})
	eventually(t, 30*time.Second, "five scrapes of every estate stored", func() (bool, string) {
		v := p.query(`count_over_time(up{job="proxmox-backup"}[1h]) >= 5`)
		return len(v) == len(estates), fmt.Sprint(v)
	})
	t.Logf("setup done in %s", time.Since(start).Round(time.Millisecond))

	t.Run("EachEstateOnce", func(t *testing.T) {
		p := p.on(t)
		// One probe target per estate, on one replica.
		byReplica := map[string][]string{}
		for _, s := range p.query(`up{job="proxmox-backup"}`) {
			byReplica[s.labels["instance"]] = append(byReplica[s.labels["instance"]], s.labels["estate"])
		}
		var seen []string
		for _, es := range byReplica {
			seen = append(seen, es...)
		}
		sort.Strings(seen)
		if !slices.Equal(seen, estates) {
			t.Errorf("estates scraped: %v, want each of %v once", seen, estates)
		}
		if len(byReplica) != len(replicas) {
			t.Errorf("estates per replica: %v; want both replicas used", byReplica)
		}
		t.Logf("estates per replica: %v", byReplica)
		// Both replicas serve their own metrics, none of an estate.
		if v := p.query(`count by (instance) (process_start_time_seconds{job="proxmox-backup-exporter"})`); len(v) != len(replicas) {
			t.Errorf("replicas' own metrics: %v", v)
		}
		if v := p.query(`proxmox_backup_target_up{job="proxmox-backup-exporter"}`); len(v) != 0 {
			t.Errorf("a replica's /metrics carries estate series: %v", v)
		}
		if v := p.query(`count by (estate) (proxmox_backup_target_up{job="proxmox-backup"} == 1)`); len(v) != len(estates) {
			t.Errorf("sources up per estate: %v", v)
		} else {
			for _, s := range v {
				if s.value != 2 {
					t.Errorf("estate %s: %g sources up, want 2 (homelab, pbs1)", s.labels["estate"], s.value)
				}
			}
		}
	})

	t.Run("EachGuestOnce", func(t *testing.T) {
		p := p.on(t)
		if v := p.query(`count by (estate, cluster, backup_type, backup_id) (proxmox_backup_guest_info{job="proxmox-backup"}) > 1`); len(v) != 0 {
			t.Errorf("guests seen more than once: %v", v)
		}
		v := p.query(`count by (estate) (proxmox_backup_guest_info{job="proxmox-backup"})`)
		if len(v) != len(estates) {
			t.Fatalf("guests per estate: %v", v)
		}
		for _, s := range v {
			if s.value != 11 {
				t.Errorf("estate %s: %g guests, want the homelab's 11", s.labels["estate"], s.value)
			}
		}
	})

	t.Run("Rules", func(t *testing.T) {
		p := p.on(t)
		p.waitEvaluations(1)
		for _, r := range p.rules() {
			if r.Health != "ok" || r.LastError != "" {
				t.Errorf("rule %s: health %q: %s", r.Name, r.Health, r.LastError)
			}
		}
		for state, want := range wantGuestStates {
			q := fmt.Sprintf(`cluster:proxmox_backup_guests:count{cluster="homelab", state=%q}`, state)
			v := p.query(q)
			if len(v) != len(estates) {
				t.Errorf("%s = %v, want one series per estate", q, v)
			}
			for _, s := range v {
				if s.value != want {
					t.Errorf("%s in estate %s = %g, want %g", q, s.labels["estate"], s.value, want)
				}
			}
		}
		v := p.query(`cluster:proxmox_backup_guests_fresh:ratio{cluster="homelab"}`)
		if len(v) != len(estates) {
			t.Errorf("fresh ratio = %v, want one series per estate", v)
		}
		for _, s := range v {
			if s.value != 5.0/9 {
				t.Errorf("fresh ratio in estate %s = %g, want 5/9", s.labels["estate"], s.value)
			}
		}
	})

	t.Run("Dashboards", func(t *testing.T) {
		// One estate picked in the estate variable: every panel of every
		// dashboard shows its data.
		// and no panel shows another estate's series.
		checkDashboards(t, p.on(t), dashboardView{values: map[string]string{"estate": estates[1]}})
	})

	t.Run("Alerts", func(t *testing.T) {
		p := p.on(t)
		// The homelab's alerts, once per estate, each with its estate.
		var want []string
		for _, es := range estates {
			for _, k := range wantFiring {
				want = append(want, withLabel(k, "estate", es))
			}
		}
		checkFiring(p, want)
	})
	t.Logf("e2e finished in %s", time.Since(start).Round(time.Millisecond))
}

var labelRe = regexp.MustCompile(`(\w+)="([^"]*)"`)

// withLabel adds a label to an alert key of wantFiring's form, keeping the
// labels sorted as promAlert.key writes them.
func withLabel(key, name, value string) string {
	alert, labels, _ := strings.Cut(key, "{")
	m := map[string]string{name: value}
	for _, l := range labelRe.FindAllStringSubmatch(labels, -1) {
		m[l[1]] = l[2]
	}
	m["alertname"] = alert
	return promAlert{Labels: m}.key()
}

// TestE2EAlertmanagerEstates: with the inhibitions mixins/README.md
// recommends, in a real Alertmanager, one estate's SourceDown holds back
// that estate's alerts about the target, never another estate's alerts
// about a target of the same name on the same replica.
func TestE2EAlertmanagerEstates(t *testing.T) {
	amBin := requireTool(t, "prometheus-alertmanager", "alertmanager")
	t.Cleanup(e2eClient.CloseIdleConnections)
	dir := t.TempDir()
	hook := newWebhook(t)
	amURL, _ := startAlertmanager(t, amBin, dir, hook.URL)

	alert := func(name, estate string, extra ...string) map[string]any {
		labels := map[string]string{"alertname": name, "severity": "warning", "job": "proxmox-backup",
			"instance": "replica-a:10074", "estate": estate, "target": "backup"}
		for i := 0; i+1 < len(extra); i += 2 {
			labels[extra[i]] = extra[i+1]
		}
		return map[string]any{"labels": labels, "startsAt": time.Now().Add(-time.Minute).Format(time.RFC3339),
			"endsAt": time.Now().Add(time.Hour).Format(time.RFC3339)}
	}
	body, err := json.Marshal([]map[string]any{
		alert("ProxmoxBackupSourceDown", "acme", "kind", "pbs"),
		alert("ProxmoxBackupRepositoryDown", "acme", "repository", "pve:backup-server"),
		alert("ProxmoxBackupRepositoryDown", "globex", "repository", "pve:backup-server"),
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e2eClient.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("posting alerts: HTTP %d", resp.StatusCode)
	}

	want := map[string]bool{ // alertname/estate: held back
		"ProxmoxBackupSourceDown/acme":       false,
		"ProxmoxBackupRepositoryDown/acme":   true,
		"ProxmoxBackupRepositoryDown/globex": false,
	}
	eventually(t, 10*time.Second, "inhibitions by estate", func() (bool, string) {
		resp, err := e2eClient.Get(amURL + "/api/v2/alerts")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var alerts []struct {
			Labels map[string]string `json:"labels"`
			Status struct {
				InhibitedBy []string `json:"inhibitedBy"`
			} `json:"status"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
			return false, err.Error()
		}
		got := map[string]bool{}
		for _, a := range alerts {
			got[a.Labels["alertname"]+"/"+a.Labels["estate"]] = len(a.Status.InhibitedBy) > 0
		}
		return maps.Equal(got, want), fmt.Sprintf("held back: %v, want %v", got, want)
	})
}
