package collector

import (
	"bytes"
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// Identity by evidence, seen end to end: what the exporter exposes when the
// evidence says two paths are not one place.

// TestStalePinReadThroughPVE: a pbs storage whose pinned fingerprint the
// PBS at its address does not present is not mapped to that PBS by
// address. PVE cannot reach the PBS with that pin (its listing fails, as
// the emulator's PVE does), so the storage's repository is down, the
// guests it could hold are unknown (absent, never 0), and /status names
// the storage with both fingerprints.
func TestStalePinReadThroughPVE(t *testing.T) {
	m := labModel()
	const stale = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
	for _, st := range m.Clusters[0].Storages {
		if st.ID == "backup-server" {
			st.Fingerprint = stale
		}
	}
	l := startLab(t, m, Options{})
	body := l.scrape(t, 10*time.Second)

	expectLines(t, body, `proxmox_backup_storage_route_info{cluster="lab",pbs_target="",reason="stale_pin",repository="lab:backup-server"`,
		`proxmox_backup_storage_route_info{cluster="lab",pbs_target="",reason="stale_pin",repository="lab:backup-server",route="pve_fallback",storage="backup-server",storage_type="pbs"} 1`)
	expectLines(t, body, `proxmox_backup_repository_up{repository="lab:backup-server"}`,
		`proxmox_backup_repository_up{repository="lab:backup-server"} 0`)
	// The PBS itself is read directly and is fine.
	expectLines(t, body, `proxmox_backup_target_up{kind="pbs",target="pbs1"}`,
		`proxmox_backup_target_up{kind="pbs",target="pbs1"} 1`)
	// vm/100 and ct/104 back up through that storage: unknown, not counted
	// from the PBS's own listing as if PVE reached it.
	for _, id := range []string{"100", "104"} {
		expectLines(t, body, `proxmox_backup_guest_snapshots{backup_id="`+id+`"`)
	}

	w := httptest.NewRecorder()
	l.coll.StatusHandler().ServeHTTP(w, httptest.NewRequest("GET", "/status?format=json", nil))
	js := w.Body.String()
	presented, err := proxmox.NormalizeFingerprint(l.srv.PBSFingerprint("pbs1"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js, `"stale_pin"`) || !strings.Contains(js, strings.ToLower(stale)) || !strings.Contains(js, presented) {
		t.Errorf("/status names no stale pin with both fingerprints:\n%s", js)
	}
	// --check says the same.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := l.coll.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if s := text.String(); !strings.Contains(s, "stale_pin") || !strings.Contains(s, "backup-server") || !strings.Contains(s, strings.ToLower(stale)) || !strings.Contains(s, presented) {
		t.Errorf("--check names no stale pin with the storage and both fingerprints:\n%s", s)
	}
}

// poolLab is the lab with pools: ct/101 and vm/103 in pool prod, which the
// backup-prod job selects; vm/105 in no pool and vm/106 in pool dev, both
// in no job. The token lacks Pool.Audit on the pools listed.
func poolLab(t *testing.T, noPoolAudit ...string) *lab {
	m := labModel()
	c := m.Clusters[0]
	c.NoPoolAudit = noPoolAudit
	c.Guest(101).Pool, c.Guest(103).Pool = "prod", "prod"
	c.Guests = append(c.Guests,
		&emulator.Guest{VMID: 105, Type: "qemu", Name: "lone", Node: "pve3"},
		&emulator.Guest{VMID: 106, Type: "qemu", Name: "devbox", Node: "pve3", Pool: "dev"})
	c.Jobs = append(c.Jobs, &emulator.BackupJob{ID: "backup-prod", Schedule: "03:00", Storage: "nfs", Pool: "prod"})
	return startLab(t, m, Options{})
}

// TestPoolJobWithoutPoolAudit (issue 14 hole 4): a token without
// Pool.Audit on a pool sees neither the pool nor its guests' membership,
// so a job selecting that pool backs up guests nobody can name. Their
// guest_in_job is absent (unknown, never 0), unless another job covers
// them; a guest shown in another pool is still 0. The missing privilege is
// counted as a permission error and named on /status and in --check; the
// target answered, so it stays up.
func TestPoolJobWithoutPoolAudit(t *testing.T) {
	l := poolLab(t, "prod")
	body := l.scrape(t, 10*time.Second)
	expectLines(t, body, "proxmox_backup_guest_in_job",
		`proxmox_backup_guest_in_job{backup_id="100",backup_type="vm",cluster="lab"} 1`,
		`proxmox_backup_guest_in_job{backup_id="101",backup_type="ct",cluster="lab"} 1`,
		`proxmox_backup_guest_in_job{backup_id="102",backup_type="vm",cluster="lab"} 1`,
		`proxmox_backup_guest_in_job{backup_id="104",backup_type="ct",cluster="lab"} 1`,
		`proxmox_backup_guest_in_job{backup_id="106",backup_type="vm",cluster="lab"} 0`,
	)
	expectLines(t, body, `proxmox_backup_target_errors_total{kind="pve",reason="permission"`,
		`proxmox_backup_target_errors_total{kind="pve",reason="permission",target="lab"} 1`)
	expectLines(t, body, `proxmox_backup_target_up{kind="pve"`, `proxmox_backup_target_up{kind="pve",target="lab"} 1`)
	if n := l.srv.CountRequests("/pools"); n != 1 {
		t.Errorf("GET /pools read %d times in one scrape, want 1", n)
	}

	w := httptest.NewRecorder()
	l.coll.StatusHandler().ServeHTTP(w, httptest.NewRequest("GET", "/status?format=json", nil))
	js := w.Body.String()
	// Only vm/106 (shown in pool dev) is known to be in no job.
	for _, want := range []string{`"pool_hidden"`, "backup job backup-prod selects pool prod", "Pool.Audit on /pool/prod", `"not_in_job": 1`} {
		if !strings.Contains(js, want) {
			t.Errorf("/status lacks %q:\n%s", want, js)
		}
	}
	rep, err := l.coll.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"backup-prod", "Pool.Audit on /pool/prod"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--check lacks %q:\n%s", want, out.String())
		}
	}
}

// TestPoolJobWithPoolAudit: with the privilege, pool members are in the
// job and everyone else is known to be out; nothing is an error.
func TestPoolJobWithPoolAudit(t *testing.T) {
	l := poolLab(t)
	body := l.scrape(t, 10*time.Second)
	expectLines(t, body, "proxmox_backup_guest_in_job",
		`proxmox_backup_guest_in_job{backup_id="100",backup_type="vm",cluster="lab"} 1`,
		`proxmox_backup_guest_in_job{backup_id="101",backup_type="ct",cluster="lab"} 1`,
		`proxmox_backup_guest_in_job{backup_id="102",backup_type="vm",cluster="lab"} 1`,
		`proxmox_backup_guest_in_job{backup_id="103",backup_type="vm",cluster="lab"} 1`,
		`proxmox_backup_guest_in_job{backup_id="104",backup_type="ct",cluster="lab"} 1`,
		`proxmox_backup_guest_in_job{backup_id="105",backup_type="vm",cluster="lab"} 0`,
		`proxmox_backup_guest_in_job{backup_id="106",backup_type="vm",cluster="lab"} 0`,
	)
	expectLines(t, body, `proxmox_backup_target_errors_total{kind="pve",reason="permission"`,
		`proxmox_backup_target_errors_total{kind="pve",reason="permission",target="lab"} 0`)
}

// TestNoPoolJobNoPoolRead: without a job that selects by pool, pools are
// not read at all.
func TestNoPoolJobNoPoolRead(t *testing.T) {
	l := startLab(t, labModel(), Options{})
	l.scrape(t, 10*time.Second)
	if n := l.srv.CountRequests("/pools"); n != 0 {
		t.Errorf("GET /pools read %d times without a pool job, want 0", n)
	}
}

// guestSeries returns the series of one metric for one guest (by
// backup_id), as label maps.
func guestSeries(x exposition, name, id string) []map[string]string {
	var out []map[string]string
	for k := range x {
		n, l := splitSeries(k)
		if n == name && l["backup_id"] == id {
			out = append(out, l)
		}
	}
	return out
}

// TestTemplateOnOfflineNode: PVE leaves a guest's name and template flag
// out of /cluster/resources while its node is offline (the emulator does
// too). A template known from an earlier scrape stays a template; one the
// exporter never saw online is template="unknown", which the mixin's
// guest alerts (template="0") do not take for a normal guest, so no alert
// fires for a template because its node is down (issue 14 hole 3).
func TestTemplateOnOfflineNode(t *testing.T) {
	offline := func(m *emulator.Model) {
		for _, n := range m.Clusters[0].Nodes {
			if n.Name == "pve1" {
				n.Offline = true
			}
		}
	}
	info := func(x exposition) map[string]string {
		t.Helper()
		s := guestSeries(x, "proxmox_backup_guest_info", "107")
		if len(s) != 1 {
			t.Fatalf("guest_info of 107: %v", s)
		}
		return s[0]
	}

	e := startEnv(t, envSpec{opts: Options{Logger: quietLogger()}})
	if l := info(parseExposition(e.mustScrape(10 * time.Second).body)); l["template"] != "1" || l["name"] != "tmpl-debian" {
		t.Fatalf("online: %v", l)
	}
	e.srv.Update(offline)
	if l := info(parseExposition(e.mustScrape(10 * time.Second).body)); l["template"] != "1" || l["name"] != "tmpl-debian" {
		t.Errorf("node offline after a scrape: the template must stay one: %v", l)
	}

	// Started while the node is offline: nothing says what 107 is.
	e = startEnv(t, envSpec{opts: Options{Logger: quietLogger()}, model: func(now time.Time) *emulator.Model {
		m := emulator.Homelab(now)
		offline(m)
		return m
	}})
	x := parseExposition(e.mustScrape(10 * time.Second).body)
	if l := info(x); l["template"] != "unknown" {
		t.Errorf("never seen online: template %q, want unknown", l["template"])
	}
	// The alerts' guest selector: guest_info{template="0"}. A guest whose
	// flag is unknown has no such series, so guest_in_job == 0 (and every
	// other guest alert input) cannot join it.
	for _, id := range []string{"100", "101", "106", "107"} {
		for _, l := range guestSeries(x, "proxmox_backup_guest_info", id) {
			if l["template"] == "0" {
				t.Errorf("guest %s on the offline node is taken for a normal guest: %v", id, l)
			}
		}
	}
	// Guests on online nodes keep their flag.
	for _, l := range guestSeries(x, "proxmox_backup_guest_info", "102") {
		if l["template"] != "0" {
			t.Errorf("guest 102 on an online node: %v", l)
		}
	}
}

// twoSites is the homelab plus a second site whose NFS storage names the
// homelab's NAS address, with the homelab's files (one place) or files of
// its own (another NAS behind the same private address).
func twoSites(same bool) func(time.Time) *emulator.Model {
	return func(now time.Time) *emulator.Model {
		m := emulator.Homelab(now)
		nfs := m.Clusters[0].Storage("nfs-backup")
		st := &emulator.Storage{ID: "nas", Type: "nfs", Server: nfs.Server, Export: nfs.Export}
		if same {
			st.Files = nfs.Files
		} else {
			st.Files = []*emulator.BackupFile{{VMID: 100, Type: "qemu", Time: now.Add(-30 * time.Hour), Size: 1 << 30}}
		}
		m.Clusters = append(m.Clusters, &emulator.Cluster{Name: "site-b", Nodes: []*emulator.Node{{Name: "b1"}},
			Guests:   []*emulator.Guest{{VMID: 100, Type: "qemu", Name: "b-web", Node: "b1"}},
			Storages: []*emulator.Storage{st}})
		return m
	}
}

// TestSameAddressTwoSites: an NFS address in two clusters is one place
// only when the listings show the same files (issue 14 hole 1). With
// different files each site's guests count their own files, the second
// site's storage is a repository of its own, and --check says why.
func TestSameAddressTwoSites(t *testing.T) {
	e := startEnv(t, envSpec{model: twoSites(false), opts: Options{Logger: quietLogger()}})
	x := parseExposition(e.mustScrape(10 * time.Second).body)
	if v, ok := x.get("proxmox_backup_guest_snapshots", "cluster", "site-b", "backup_id", "100"); v != "1" {
		t.Errorf("site-b vm/100 has one file of its own: guest_snapshots %q (present %v)", v, ok)
	}
	if _, ok := x.get("proxmox_backup_repository_up", "repository", "site-b:nas"); !ok {
		t.Errorf("site-b's storage is no repository of its own")
	}
	for k := range x {
		if name, l := splitSeries(k); name == "proxmox_backup_snapshots" && l["repository"] == "homelab:nfs-backup" && l["cluster"] != "homelab" {
			t.Errorf("homelab's NAS credited to another cluster: %s", k)
		}
	}
	if text, _ := e.check(10 * time.Second); !strings.Contains(text, "same_address") {
		t.Errorf("--check does not name the shared address:\n%s", text)
	}

	// The same files: one place, read once, cluster="" for its groups.
	e = startEnv(t, envSpec{model: twoSites(true), opts: Options{Logger: quietLogger()}})
	x = parseExposition(e.mustScrape(10 * time.Second).body)
	if _, ok := x.get("proxmox_backup_repository_up", "repository", "site-b:nas"); ok {
		t.Errorf("the same files at one address listed as a second repository")
	}
	if v, _ := x.get("proxmox_backup_duplicates_suppressed", "reason", "same_repository"); v == "0" || v == "" {
		t.Errorf("the second read is not counted as suppressed: %q", v)
	}
	for k := range x {
		if name, l := splitSeries(k); name == "proxmox_backup_snapshots" && l["repository"] == "homelab:nfs-backup" && l["cluster"] != "" {
			t.Errorf("a place two clusters reach labelled with one of them: %s", k)
		}
	}
	if text, _ := e.check(10 * time.Second); strings.Contains(text, "same_address") {
		t.Errorf("--check warns about an address whose files are the same:\n%s", text)
	}
}

// pbsTwoSites is the homelab plus a site "site-b" whose pbs storage names
// pbs1's address without a pin. With same, pbs1 answers there for site-b
// too (its namespace lab2); else another PBS, "siteb", answers behind the
// same private address, with a namespace called "homelab" like pbs1's, not
// configured in the exporter (tweakWithoutSiteB).
func pbsTwoSites(same bool) func(time.Time) *emulator.Model {
	return func(now time.Time) *emulator.Model {
		m := emulator.Homelab(now)
		st := &emulator.Storage{ID: "backup-server", Type: "pbs", PBS: "pbs1", Datastore: "store1", Namespace: "lab2", Fingerprint: "none"}
		if !same {
			ds := &emulator.Datastore{Name: "store1", Total: 2_000_000_000_000, Used: 500_000_000_000}
			ds.Namespace("homelab").Group("vm", "100").Snapshots = []emulator.Snapshot{{Time: now.Add(-30 * time.Hour), Size: 1 << 30}}
			m.PBS = append(m.PBS, &emulator.PBSServer{Name: "siteb", Datastores: []*emulator.Datastore{ds}})
			st.PBS, st.AddressOf, st.Namespace = "siteb", "pbs1", "homelab"
		}
		m.Clusters = append(m.Clusters, &emulator.Cluster{Name: "site-b", Nodes: []*emulator.Node{{Name: "b1"}},
			Guests:   []*emulator.Guest{{VMID: 100, Type: "qemu", Name: "b-web", Node: "b1"}},
			Storages: []*emulator.Storage{st}})
		return m
	}
}

// tweakWithoutSiteB leaves site-b's own PBS out of the exporter's config:
// the exporter reads pbs1 only.
func tweakWithoutSiteB(e *env, cfg *config.Config) {
	cfg.PBS = slices.DeleteFunc(cfg.PBS, func(t config.Target) bool { return t.Name == "siteb" })
}

// TestSamePBSAddressTwoSites: a pbs storage without a pin that names the
// address of a PBS the exporter reads is that PBS, once storages of two
// clusters name the address, only on evidence: the size and use PVE
// reports for it are the datastore's (issue 14 hole 1, for PBS). Site-b's
// other PBS behind pbs1's address is read through PVE as a place of its
// own; on the old code site-b's vm/100 was credited with homelab's
// backups of vm/100 in pbs1's namespace "homelab".
func TestSamePBSAddressTwoSites(t *testing.T) {
	e := startEnv(t, envSpec{model: pbsTwoSites(false), tweak: tweakWithoutSiteB, opts: Options{Logger: quietLogger()}})
	x := parseExposition(e.mustScrape(10 * time.Second).body)
	if v, ok := x.get("proxmox_backup_guest_snapshots", "cluster", "site-b", "backup_id", "100"); v != "1" {
		t.Errorf("site-b vm/100 has one snapshot on its own PBS: guest_snapshots %q (present %v)", v, ok)
	}
	if v, ok := x.get("proxmox_backup_storage_route_info", "cluster", "site-b", "route", "pve_fallback", "reason", "unproven_address", "pbs_target", ""); v != "1" {
		t.Errorf("site-b's storage: route_info pve_fallback/unproven_address %q (present %v)", v, ok)
	}
	if v, _ := x.get("proxmox_backup_guest_snapshots", "cluster", "homelab", "backup_id", "100"); v == "" || v == "1" {
		t.Errorf("homelab vm/100 lost its own backups: %q", v)
	}
	if text, _ := e.check(10 * time.Second); !strings.Contains(text, "unproven_address") {
		t.Errorf("--check does not say the address is unproven:\n%s", text)
	}

	// pbs1 itself behind the address for site-b: PVE reports the size and
	// use of pbs1's store1, so it is pbs1's namespace lab2, read from pbs1.
	e = startEnv(t, envSpec{model: pbsTwoSites(true), opts: Options{Logger: quietLogger()}})
	x = parseExposition(e.mustScrape(10 * time.Second).body)
	if v, ok := x.get("proxmox_backup_storage_route_info", "cluster", "site-b", "route", "pbs", "repository", "pbs1:store1/lab2", "reason", ""); v != "1" {
		t.Errorf("site-b's storage on pbs1: route_info pbs %q (present %v)", v, ok)
	}
	if text, _ := e.check(10 * time.Second); strings.Contains(text, "unproven_address") {
		t.Errorf("--check calls a proven address unproven:\n%s", text)
	}
}
