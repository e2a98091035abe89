package dedup

import (
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

func TestNewestEncryption(t *testing.T) {
	cases := []struct {
		name  string
		lists [][]int64
		encs  []bool
		last  int64
		want  string
	}{
		{"one encrypted copy", [][]int64{{100, 300}}, []bool{true}, 300, EncryptionYes},
		{"every copy encrypted", [][]int64{{300}, {200, 300}}, []bool{true, true}, 300, EncryptionYes},
		{"a plain copy of the newest point", [][]int64{{300}, {300}}, []bool{true, false}, 300, EncryptionNo},
		{"an older plain point elsewhere does not matter", [][]int64{{300}, {100, 200}}, []bool{true, false}, 300, EncryptionYes},
		{"plain newest point", [][]int64{{300}, {200}}, []bool{false, true}, 300, EncryptionNo},
		{"no recovery point", [][]int64{{}}, []bool{true}, 0, ""},
	}
	for _, tc := range cases {
		if got := newestEncryption(tc.lists, tc.encs, tc.last); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestMergeJudgesGuestEncryption: through Merge, a guest whose newest
// point is an encrypted PBS snapshot is encrypted; one whose newest point
// is plain is not; a guest without backups has no judgement; and one
// whose repository failed to list is unknown.
func TestMergeJudgesGuestEncryption(t *testing.T) {
	e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "", ""))
	e.Clusters[0].Guests = []proxmox.ClusterResource{vm(100, "n1"), vm(101, "n1"), vm(102, "n1")}
	enc := snapshot("vm", "100", t0+day)
	enc.Fingerprint = "8d:80"
	src := fakeSource{pbs: map[string][]proxmox.Snapshot{"pbs1/store1/": {
		snapshot("vm", "100", t0), enc, snapshot("vm", "101", t0+day),
	}}}
	p := BuildPlan(e)
	res := Merge(e, p, src.fetch(p))
	for id, want := range map[string]string{"100": EncryptionYes, "101": EncryptionNo, "102": ""} {
		if g := findGuest(t, res, "c1", "vm", id); g.LastEncryption != want {
			t.Errorf("vm/%s: %q, want %q", id, g.LastEncryption, want)
		}
	}
	if g := findGroup(t, res, "pbs1:store1", "vm", "100"); !g.LastEncrypted || g.Unencrypted != 1 {
		t.Errorf("group vm/100: %+v", g)
	}
	src.failPBS = map[string]bool{"pbs1:store1": true}
	res = Merge(e, p, src.fetch(p))
	if g := findGuest(t, res, "c1", "vm", "100"); g.LastEncryption != "" {
		t.Errorf("vm/100 with its repository down: %q, want unknown", g.LastEncryption)
	}
}
