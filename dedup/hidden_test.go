package dedup

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// hiddenFixture is one cluster whose job backs every guest up to the nfs
// storage and to a PBS namespace; vm 100's newest recovery point is at
// last in both.
func hiddenFixture(last int64) (Estate, fakeSource) {
	e := Estate{
		Clusters: []Cluster{{
			Target: "pve", Name: "c1", Up: true, Nodes: nodes("n1"),
			Guests: []proxmox.ClusterResource{vm(100, "n1"), vm(101, "n1")},
			Storages: []proxmox.StorageConfig{
				nfsStorage("nfs", "10.0.0.5", "/export"),
				pbsStorage("pbs", "10.0.0.9", "store1", "", ""),
			},
			Jobs: []proxmox.BackupJob{
				{ID: "nightly", Type: "vzdump", All: true, Storage: "nfs"},
			},
		}},
		PBS: []PBS{pbsTarget("pbs1", "10.0.0.9:8007", "", ds("store1"))},
	}
	src := fakeSource{
		pve: map[string][]proxmox.BackupVolume{"pve/nfs": {vzdumpVolume("nfs", "qemu", 100, last), vzdumpVolume("nfs", "qemu", 101, last)}},
		pbs: map[string][]proxmox.Snapshot{"pbs1/store1/": {snapshot("vm", "100", last-3600)}},
	}
	return e, src
}

func withTasks(l Listings, start int64, success bool) Listings {
	l.Tasks = map[string]map[GuestKey]TaskResult{"c1": {
		{Cluster: "c1", BackupType: "vm", BackupID: "100"}: {Node: "n1", StartTime: start, EndTime: start + 60, Success: success},
	}}
	return l
}

// TestHiddenBackupsJudgedFromTasks: a task that succeeded after the
// guest's newest recovery point anywhere makes the repository its job
// writes to down, with a backups_hidden warning; the guests it could hold
// are unknown, and the other repository is untouched. One Merge does it.
func TestHiddenBackupsJudgedFromTasks(t *testing.T) {
	e, src := hiddenFixture(t0)
	p := BuildPlan(e)
	repo := findStorage(t, p, "c1", "nfs").Repository
	res := Merge(e, p, withTasks(src.fetch(p), t0+3600, true))
	if got := res.RepositoryState[repo]; got != RepositoryStateDown || res.RepositoryUp[repo] {
		t.Fatalf("state of %s = %q (up %v), want down", repo, got, res.RepositoryUp[repo])
	}
	var w *Warning
	for i := range res.Warnings {
		if res.Warnings[i].Kind == WarnBackupsHidden {
			w = &res.Warnings[i]
		}
	}
	if w == nil || w.Repository != repo || w.Target != "pve" || !strings.Contains(w.Message, "vm/100") {
		t.Fatalf("warning %+v, want backups_hidden on %s naming vm/100", w, repo)
	}
	if g := findGuest(t, res, "c1", "vm", "100"); g.Known {
		t.Errorf("vm 100 is known (%d snapshots) although a repository it writes to hides backups", g.Snapshots)
	}
	for _, g := range res.Groups {
		if g.Repository == repo {
			t.Errorf("group %s/%s of the hidden repository is exported", g.BackupType, g.BackupID)
		}
	}
	pbsRepo := findStorage(t, p, "c1", "pbs").Repository
	if res.RepositoryState[pbsRepo] != RepositoryStateUp {
		t.Errorf("the repository no job of the guest writes to is %q, want up", res.RepositoryState[pbsRepo])
	}
}

// TestHiddenBackupsProperty: for any task start and outcome, the
// repository is down exactly when a successful task started after the
// guest's newest recovery point; without task evidence nothing is judged.
func TestHiddenBackupsProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	e, src := hiddenFixture(t0)
	p := BuildPlan(e)
	repo := findStorage(t, p, "c1", "nfs").Repository
	plain := Merge(e, p, src.fetch(p))
	if plain.RepositoryState[repo] != RepositoryStateUp || hasWarning(plain.Warnings, WarnBackupsHidden) {
		t.Fatalf("without task evidence: state %q, warnings %v", plain.RepositoryState[repo], plain.Warnings)
	}
	for i := range 200 {
		start := t0 + rng.Int64N(7200) - 3600
		success := rng.IntN(3) > 0
		res := Merge(e, p, withTasks(src.fetch(p), start, success))
		want := success && start > t0
		if got := res.RepositoryState[repo] == RepositoryStateDown; got != want {
			t.Fatalf("case %d: task start %+d s after the newest point, success %v: down = %v, want %v",
				i, start-t0, success, got, want)
		}
		if hasWarning(res.Warnings, WarnBackupsHidden) != want {
			t.Fatalf("case %d: backups_hidden warning = %v, want %v", i, !want, want)
		}
	}
}

// TestHiddenBackupsSpareStaleAndDown: a stale repository (last known data)
// and a cluster whose reach is already unknown are not judged.
func TestHiddenBackupsSpareStaleAndDown(t *testing.T) {
	e, src := hiddenFixture(t0)
	e.Clusters[0].Jobs[0].Storage = "pbs"
	e.PBS[0].Stale = true
	p := BuildPlan(e)
	repo := findStorage(t, p, "c1", "pbs").Repository
	res := Merge(e, p, withTasks(src.fetch(p), t0+3600, true))
	if got := res.RepositoryState[repo]; got != RepositoryStateStale || res.RepositoryUp[repo] {
		t.Errorf("stale repository %s: state %q (up %v), want stale and not up", repo, got, res.RepositoryUp[repo])
	}
	if hasWarning(res.Warnings, WarnBackupsHidden) {
		t.Errorf("a stale repository was judged: %v", res.Warnings)
	}
	if g := findGuest(t, res, "c1", "vm", "100"); !g.Known || g.Snapshots == 0 {
		t.Errorf("vm 100 = %+v, want known from the stale data", g)
	}

	e, src = hiddenFixture(t0)
	p = BuildPlan(e)
	src.failPBS = map[string]bool{findStorage(t, p, "c1", "pbs").Repository: true}
	res = Merge(e, p, withTasks(src.fetch(p), t0+3600, true))
	if hasWarning(res.Warnings, WarnBackupsHidden) {
		t.Errorf("judged a cluster whose guests are unknown anyway: %v", res.Warnings)
	}
}

// TestListGuestsShort: the message names five guests at most.
func TestListGuestsShort(t *testing.T) {
	set := map[string]bool{}
	for i := range 8 {
		set[fmt.Sprintf("vm/%d", 100+i)] = true
	}
	if got, want := listGuests(set), "vm/100, vm/101, vm/102, vm/103, vm/104 and 3 more"; got != want {
		t.Errorf("listGuests = %q, want %q", got, want)
	}
}
