package emulator

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func movesPBS(version string) *PBSServer {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	snap := func(h int) Snapshot { return Snapshot{Time: t0.Add(time.Duration(h) * time.Hour), Size: 1 << 30} }
	return &PBSServer{Name: "pbs", Version: version, Datastores: []*Datastore{{Name: "store", Namespaces: []*Namespace{
		{Path: ""},
		{Path: "a", Groups: []*Group{{Type: "vm", ID: "100", Snapshots: []Snapshot{snap(1), snap(2)}}}},
		{Path: "a/x", Groups: []*Group{{Type: "ct", ID: "101", Snapshots: []Snapshot{snap(1)}}}},
		{Path: "b", Groups: []*Group{{Type: "ct", ID: "101", Snapshots: []Snapshot{snap(3)}}}},
	}}}}
}

// groupsOf lists "ns:type/id:snapshots" of the datastore.
func groupsOf(d *Datastore) string {
	var out []string
	for _, ns := range d.Namespaces {
		for _, g := range ns.Groups {
			out = append(out, ns.Path+":"+g.Type+"/"+g.ID+":"+strconv.Itoa(len(g.Snapshots)))
		}
	}
	return strings.Join(out, " ")
}

// TestMoveGroup: PBS 4 moves a group with its snapshots; PBS 3 cannot;
// a merge with overlapping times fails and changes nothing.
func TestMoveGroup(t *testing.T) {
	if err := movesPBS("3.4").MoveGroup("store", "a", "vm", "100", "b"); err == nil {
		t.Error("PBS 3.4 moved a group")
	}
	p := movesPBS("4.1")
	d := p.Datastore("store")
	if err := p.MoveGroup("store", "a", "vm", "100", "b"); err != nil {
		t.Fatal(err)
	}
	if got, want := groupsOf(d), "a/x:ct/101:1 b:ct/101:1 b:vm/100:2"; got != want {
		t.Errorf("after the move: %s, want %s", got, want)
	}
	if err := p.MoveGroup("store", "a/x", "ct", "101", "b"); err != nil {
		t.Fatalf("merge of non-overlapping snapshots: %v", err)
	}
	if got, want := groupsOf(d), "b:ct/101:2 b:vm/100:2"; got != want {
		t.Errorf("after the merge: %s, want %s", got, want)
	}
	d.Namespace("c").Group("vm", "100").Snapshots = []Snapshot{d.FindNamespace("b").FindGroup("vm", "100").Snapshots[0]}
	if err := p.MoveGroup("store", "b", "vm", "100", "c"); err == nil {
		t.Error("merged two groups holding one snapshot time")
	}
	if got, want := groupsOf(d), "b:ct/101:2 b:vm/100:2 c:vm/100:1"; got != want {
		t.Errorf("a refused move changed the datastore: %s, want %s", got, want)
	}
	for _, bad := range [][2]string{{"nope", "b"}, {"b", "nope"}, {"b", "b"}} {
		if err := p.MoveGroup("store", bad[0], "vm", "100", bad[1]); err == nil {
			t.Errorf("move from %q to %q accepted", bad[0], bad[1])
		}
	}
}

// TestMoveNamespace: the namespace moves with its children and groups,
// merging into a namespace at the new path; the source is gone.
func TestMoveNamespace(t *testing.T) {
	p := movesPBS("4.0")
	d := p.Datastore("store")
	for _, bad := range [][2]string{{"", "z"}, {"a", "a/y"}, {"nope", "z"}} {
		if err := p.MoveNamespace("store", bad[0], bad[1]); err == nil {
			t.Errorf("namespace move from %q to %q accepted", bad[0], bad[1])
		}
	}
	if err := p.MoveNamespace("store", "a", "b/a"); err != nil {
		t.Fatal(err)
	}
	if got, want := groupsOf(d), "b:ct/101:1 b/a:vm/100:2 b/a/x:ct/101:1"; got != want {
		t.Errorf("after the move: %s, want %s", got, want)
	}
	if err := p.MoveNamespace("store", "b/a/x", "b"); err != nil {
		t.Fatalf("merge into an existing namespace: %v", err)
	}
	if got, want := groupsOf(d), "b:ct/101:2 b/a:vm/100:2"; got != want {
		t.Errorf("after the merge: %s, want %s", got, want)
	}
}
