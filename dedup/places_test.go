package dedup

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// randomListing is a listing of up to n vzdump files on the storage (a
// file name appears once, as in a directory).
func randomListing(rng *rand.Rand, storage string, n int) []proxmox.BackupVolume {
	var out []proxmox.BackupVolume
	seen := map[string]bool{}
	for range n {
		typ := []string{"qemu", "lxc"}[rng.IntN(2)]
		v := vzdumpVolume(storage, typ, 100+rng.IntN(5), t0+int64(rng.IntN(20))*3600)
		v.Size = proxmox.Int(1 + rng.IntN(3))
		if !seen[v.VolID] {
			seen[v.VolID] = true
			out = append(out, v)
		}
	}
	return out
}

// TestSameFilesProperties: the evidence for one place is the files, not
// their order nor each cluster's name for the storage; any file added,
// dropped, resized or retimed is another place; two empty listings are no
// evidence.
func TestSameFilesProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	for i := range 500 {
		a := randomListing(rng, "nas", 1+rng.IntN(6))
		b := make([]proxmox.BackupVolume, len(a))
		for j, v := range a {
			v.VolID = "dumps" + v.VolID[len("nas"):]
			b[j] = v
		}
		rng.Shuffle(len(b), func(x, y int) { b[x], b[y] = b[y], b[x] })
		if same, ev := SameFiles(a, b); !same || !ev {
			t.Fatalf("case %d: the same files in another order under another storage id: same=%v evidence=%v", i, same, ev)
		}
		if same, _ := SameFiles(b, a); !same {
			t.Fatalf("case %d: not symmetric", i)
		}
		c := append([]proxmox.BackupVolume(nil), b...)
		k := rng.IntN(len(c))
		switch rng.IntN(4) {
		case 0:
			c[k].Size++
		case 1:
			c[k].CTime++
		case 2:
			c[k].VolID += "-other"
		default:
			c = append(c[:k], c[k+1:]...)
		}
		if same, ev := SameFiles(a, c); same || (!ev && len(c) > 0) {
			t.Fatalf("case %d: a different listing taken for the same place: %+v vs %+v", i, a, c)
		}
	}
	if same, ev := SameFiles(nil, []proxmox.BackupVolume{}); same || ev {
		t.Errorf("two empty listings: same=%v evidence=%v, want no evidence", same, ev)
	}
	if same, ev := SameFiles(nil, randomListing(rng, "nas", 1)); same || !ev {
		t.Errorf("empty against one file: same=%v evidence=%v", same, ev)
	}
}

// TestJoinSamePlacesLeavesThePlanAlone: JoinSamePlaces does not modify the
// plan it is given (the collector keeps it for /status until it replaces
// it).
func TestJoinSamePlacesLeavesThePlanAlone(t *testing.T) {
	e := Estate{Clusters: []Cluster{
		{Target: "pve-a", Name: "a", Up: true, Nodes: nodes("a1"), Storages: []proxmox.StorageConfig{nfsStorage("nas", "nas.lan", "/pve")}},
		{Target: "pve-b", Name: "b", Up: true, Nodes: nodes("b1"), Storages: []proxmox.StorageConfig{nfsStorage("nas", "nas.lan", "/pve")}},
	}}
	files := []proxmox.BackupVolume{vzdumpVolume("nas", "qemu", 100, t0)}
	src := fakeSource{pve: map[string][]proxmox.BackupVolume{"pve-a/nas": files, "pve-b/nas": files}}
	p := BuildPlan(e)
	before := fmt.Sprintf("%+v", p)
	joined := JoinSamePlaces(p, src.fetch(p))
	if after := fmt.Sprintf("%+v", p); after != before {
		t.Errorf("the plan given was modified:\n%s\n%s", before, after)
	}
	if len(joined.Repositories) != len(p.Repositories)-1 {
		t.Errorf("joined %d repositories, from %d", len(joined.Repositories), len(p.Repositories))
	}
}
