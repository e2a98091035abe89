package collector

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

	expectLines(t, body, `proxmox_backup_storage_route_info{cluster="lab",pbs_target="",repository="lab:backup-server"`,
		`proxmox_backup_storage_route_info{cluster="lab",pbs_target="",repository="lab:backup-server",route="pve_fallback",storage="backup-server",storage_type="pbs"} 1`)
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
