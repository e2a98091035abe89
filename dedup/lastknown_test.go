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

// TestFillKnownGuests: a guest listed without a name or template flag
// gets its last known ones, a listed value always wins, a flag never known
// stays unknown, and only the guests listed now are remembered.
func TestFillKnownGuests(t *testing.T) {
	prev := map[string]KnownGuest{
		"qemu/100": {Name: "web", Template: flag(false)}, "lxc/101": {Name: "dns", Template: flag(false)},
		"qemu/102": {Name: "gone"}, "qemu/9000": {Name: "debian-tmpl", Template: flag(true)},
	}
	guests := []proxmox.ClusterResource{
		{Type: "qemu", VMID: 100},                                     // on an offline node: no name, no flag
		{Type: "lxc", VMID: 101, Name: "dns2", Template: flag(false)}, // renamed
		{Type: "lxc", VMID: 100},                                      // a container with a VM's id: not the VM
		{Type: "qemu", VMID: 103, Name: "db", Template: flag(false)},  // new
		{Type: "qemu", VMID: 9000},                                    // a template on an offline node
		{Type: "qemu", VMID: 9001},                                    // never seen online
	}
	now := FillKnownGuests(prev, guests)
	for i, want := range []string{"web", "dns2", "", "db", "debian-tmpl", ""} {
		if guests[i].Name != want {
			t.Errorf("guest %s/%d: name %q, want %q", guests[i].Type, guests[i].VMID, guests[i].Name, want)
		}
	}
	for i, want := range []string{"0", "0", "unknown", "0", "1", "unknown"} {
		got := "unknown"
		if g := guests[i].Template; g != nil {
			got = map[bool]string{false: "0", true: "1"}[bool(*g)]
		}
		if got != want {
			t.Errorf("guest %s/%d: template %s, want %s", guests[i].Type, guests[i].VMID, got, want)
		}
	}
	want := map[string]string{"qemu/100": "web", "lxc/101": "dns2", "qemu/103": "db", "qemu/9000": "debian-tmpl"}
	if len(now) != len(want) {
		t.Errorf("remembered %v, want %v", now, want)
	}
	for k, v := range want {
		if now[k].Name != v {
			t.Errorf("remembered %s = %q, want %q", k, now[k].Name, v)
		}
	}
	if prev["qemu/102"].Name != "gone" || prev["lxc/101"].Name != "dns" {
		t.Errorf("the previous facts were modified: %v", prev)
	}
}

// TestMergeTemplateUnknown: a guest whose template flag PVE leaves out and
// nobody knew is unknown, exempt from the alerts' judgement, never a
// normal guest (issue 14 hole 3).
func TestMergeTemplateUnknown(t *testing.T) {
	e := oneCluster(nfsStorage("nfs", "nas", "/e"))
	g := vm(9000, "n1")
	g.Template, g.Name = nil, ""
	e.Clusters[0].Guests = []proxmox.ClusterResource{g, vm(100, "n1")}
	p := BuildPlan(e)
	res := Merge(e, p, fakeSource{}.fetch(p))
	a := findGuest(t, res, "c1", "vm", "9000")
	if !a.TemplateUnknown || a.Template {
		t.Errorf("template flag left out: %+v", a)
	}
	if v := JudgeGuest(&a, GuestFacts{JobsKnown: true}, t0); v.Exempt != "template unknown" {
		t.Errorf("verdict %+v", v)
	}
	if b := findGuest(t, res, "c1", "vm", "100"); b.TemplateUnknown {
		t.Errorf("a guest PVE states no template of: %+v", b)
	}
}
