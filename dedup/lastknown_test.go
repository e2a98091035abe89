package dedup

import (
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// TestSubstituteLastKnown: only a PBS that is down, keeps last known data
// and has a read no older than that is substituted; the input estate is
// left as it was.
func TestSubstituteLastKnown(t *testing.T) {
	now := time.Unix(t0, 0)
	read := LastKnown{At: now.Add(-time.Hour), Fingerprint: "ab:cd", Datastores: []Datastore{ds("store1", "ns")}}
	cases := []struct {
		name  string
		pbs   PBS
		known map[string]LastKnown
		want  bool
	}{
		{"down, recent read", PBS{Target: "p", KeepLastKnown: 2 * time.Hour}, map[string]LastKnown{"p": read}, true},
		{"down, read exactly that old", PBS{Target: "p", KeepLastKnown: time.Hour}, map[string]LastKnown{"p": read}, true},
		{"down, read too old", PBS{Target: "p", KeepLastKnown: time.Hour - time.Second}, map[string]LastKnown{"p": read}, false},
		{"down, keep_last_known off", PBS{Target: "p"}, map[string]LastKnown{"p": read}, false},
		{"down, nothing known", PBS{Target: "p", KeepLastKnown: 2 * time.Hour}, nil, false},
		{"down, another target's read", PBS{Target: "q", KeepLastKnown: 2 * time.Hour}, map[string]LastKnown{"p": read}, false},
		{"up", PBS{Target: "p", Up: true, KeepLastKnown: 2 * time.Hour}, map[string]LastKnown{"p": read}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Estate{PBS: []PBS{tc.pbs}}
			out := SubstituteLastKnown(in, tc.known, now)
			got := out.PBS[0]
			if got.Stale != tc.want {
				t.Fatalf("Stale = %v, want %v", got.Stale, tc.want)
			}
			if tc.want && (!got.Up || got.Fingerprint != read.Fingerprint || len(got.Datastores) != 1 || got.Datastores[0].Name != "store1") {
				t.Errorf("substituted entry %+v, want the last known read marked up", got)
			}
			if !tc.want && (got.Up != tc.pbs.Up || got.Fingerprint != tc.pbs.Fingerprint) {
				t.Errorf("entry changed: %+v", got)
			}
			if in.PBS[0].Stale || in.PBS[0].Up != tc.pbs.Up {
				t.Errorf("the input estate was modified: %+v", in.PBS[0])
			}
		})
	}
}

// TestFillGuestNames: a guest listed without a name gets its last known
// one, a listed name always wins, and only the guests listed now are
// remembered.
func TestFillGuestNames(t *testing.T) {
	prev := map[string]string{"qemu/100": "web", "lxc/101": "dns", "qemu/102": "gone"}
	guests := []proxmox.ClusterResource{
		{Type: "qemu", VMID: 100},              // on an offline node: no name
		{Type: "lxc", VMID: 101, Name: "dns2"}, // renamed
		{Type: "lxc", VMID: 100},               // a container with a VM's id: not the VM
		{Type: "qemu", VMID: 103, Name: "db"},  // new
	}
	now := FillGuestNames(prev, guests)
	for i, want := range []string{"web", "dns2", "", "db"} {
		if guests[i].Name != want {
			t.Errorf("guest %s/%d: name %q, want %q", guests[i].Type, guests[i].VMID, guests[i].Name, want)
		}
	}
	want := map[string]string{"qemu/100": "web", "lxc/101": "dns2", "qemu/103": "db"}
	if len(now) != len(want) {
		t.Errorf("remembered %v, want %v", now, want)
	}
	for k, v := range want {
		if now[k] != v {
			t.Errorf("remembered %s = %q, want %q", k, now[k], v)
		}
	}
	if prev["qemu/102"] != "gone" || prev["lxc/101"] != "dns" {
		t.Errorf("the previous names were modified: %v", prev)
	}
}
