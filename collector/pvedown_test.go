package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// TestPVEDownKeepsAttribution: while a PVE cluster is unreachable, the PBS
// namespaces its pbs storages map keep their cluster label (from the last
// storage configuration read), so its groups do not turn into unattributed
// cluster="" series that the mixin alerts on without an inventory (found
// by the end-to-end test: VerificationFailed and NeverVerified fired anew
// for cluster="" while the cluster was down).
func TestPVEDownKeepsAttribution(t *testing.T) {
	for _, tc := range []struct {
		name       string
		firstUp    bool // a healthy scrape before the outage
		wantLabels string
	}{
		{"after a healthy scrape", true, `cluster="homelab",repository="pbs1:store1/homelab"`},
		// Never seen: nothing to attribute with; the namespace is
		// unattributed, as documented.
		{"down from the start", false, `cluster="",repository="pbs1:store1/homelab"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := startLab(t, emulator.Homelab(labNow), Options{})
			group := func(body string) []string {
				var out []string
				for _, s := range series(body, "proxmox_backup_snapshots") {
					if strings.Contains(s, `backup_id="102",backup_type="vm"`) && strings.Contains(s, `store1/homelab"`) {
						out = append(out, s)
					}
				}
				return out
			}
			if tc.firstUp {
				want := `proxmox_backup_snapshots{backup_id="102",backup_type="vm",cluster="homelab",repository="pbs1:store1/homelab"} 14`
				if got := group(l.scrape(t, 5*time.Second)); strings.Join(got, "\n") != want {
					t.Fatalf("healthy: %v, want %s", got, want)
				}
			}
			l.srv.SetFault(emulator.Fault{Target: "homelab", Kind: emulator.Down})
			body := l.scrape(t, 5*time.Second)
			expectLines(t, body, `proxmox_backup_target_up{kind="pve"`, `proxmox_backup_target_up{kind="pve",target="homelab"} 0`)
			got := group(body)
			if len(got) != 1 || !strings.Contains(got[0], `{backup_id="102",backup_type="vm",`+tc.wantLabels+`}`) {
				t.Errorf("while homelab is down: %v, want labels %s", got, tc.wantLabels)
			}
			l.srv.ClearFaults()
			want := `proxmox_backup_snapshots{backup_id="102",backup_type="vm",cluster="homelab",repository="pbs1:store1/homelab"} 14`
			if got := group(l.scrape(t, 5*time.Second)); strings.Join(got, "\n") != want {
				t.Errorf("recovered: %v, want %s", got, want)
			}
		})
	}
}
