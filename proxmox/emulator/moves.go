package emulator

import (
	"fmt"
	"slices"
	"strings"
)

// This file holds PBS 4's moves within a datastore: a backup group to
// another namespace (POST /admin/datastore/{store}/move-group, the
// client's "group move") and a namespace with its children to another
// path (proxmox-backup api2/admin/namespace.rs move_namespace, worker
// type "move-namespace"). Both answer a UPID and run as worker tasks; the model
// applies their outcome at once, because what a reader sees is the
// listings before and after. A move keeps every snapshot as it is (time,
// size, verification, protection, owner): only its namespace changes.
// When the target already holds the group, PBS merges the snapshots in
// (merge-group, the default), which it allows only for the same owner and
// snapshot times that do not overlap.

// canMove refuses moves on a PBS before 4 (issue 16: PBS 4.x moves
// groups and namespaces), and finds the datastore.
func (p *PBSServer) canMove(store string) (*Datastore, error) {
	if !pbsAtLeast(p, 4, 0) {
		return nil, fmt.Errorf("PBS %s %s has no group or namespace moves (PBS 4 and later)", p.Name, orDefault(p.Version, "3.2"))
	}
	d := p.Datastore(store)
	if d == nil {
		return nil, fmt.Errorf("PBS %s: no datastore %q", p.Name, store)
	}
	return d, nil
}

// MoveGroup moves group typ/id from namespace ns to targetNS of the
// datastore store, merging it into a group of the same name there.
func (p *PBSServer) MoveGroup(store, ns, typ, id, targetNS string) error {
	d, err := p.canMove(store)
	if err != nil {
		return err
	}
	src, dst := d.existingNamespace(ns), d.existingNamespace(targetNS)
	switch {
	case src == nil:
		return fmt.Errorf("datastore %s: no namespace %q", store, ns)
	case dst == nil:
		return fmt.Errorf("datastore %s: no target namespace %q", store, targetNS)
	case ns == targetNS:
		return fmt.Errorf("datastore %s: group %s/%s is already in namespace %q", store, typ, id, ns)
	}
	g := src.FindGroup(typ, id)
	if g == nil {
		return fmt.Errorf("datastore %s namespace %q: no group %s/%s", store, ns, typ, id)
	}
	if err := canMerge(g, dst.FindGroup(typ, id)); err != nil {
		return fmt.Errorf("datastore %s: moving %s/%s to namespace %q: %w", store, typ, id, targetNS, err)
	}
	src.RemoveGroup(typ, id)
	mergeGroup(dst, g)
	return nil
}

// MoveNamespace moves namespace ns with its child namespaces and their
// groups to targetNS, and removes the source (delete-source, the
// default). A namespace that exists at the new path takes in the moved
// groups. The root namespace cannot move, nor into its own subtree.
func (p *PBSServer) MoveNamespace(store, ns, targetNS string) error {
	d, err := p.canMove(store)
	if err != nil {
		return err
	}
	switch {
	case ns == "":
		return fmt.Errorf("datastore %s: the root namespace cannot be moved", store)
	case d.existingNamespace(ns) == nil:
		return fmt.Errorf("datastore %s: no namespace %q", store, ns)
	case targetNS == ns || strings.HasPrefix(targetNS, ns+"/"):
		return fmt.Errorf("datastore %s: namespace %q cannot move into itself (%q)", store, ns, targetNS)
	}
	inside := func(path string) bool { return path == ns || strings.HasPrefix(path, ns+"/") }
	moved := func(path string) string { return targetNS + path[len(ns):] }
	// Check every merge before changing anything: a failed move changes
	// nothing in the model.
	for _, n := range d.Namespaces {
		if !inside(n.Path) {
			continue
		}
		if dst := d.existingNamespace(moved(n.Path)); dst != nil {
			for _, g := range n.Groups {
				if err := canMerge(g, dst.FindGroup(g.Type, g.ID)); err != nil {
					return fmt.Errorf("datastore %s: moving namespace %q to %q: group %s/%s: %w", store, ns, targetNS, g.Type, g.ID, err)
				}
			}
		}
	}
	var sources []*Namespace
	for _, n := range d.Namespaces {
		if inside(n.Path) {
			sources = append(sources, n)
		}
	}
	d.Namespaces = slices.DeleteFunc(d.Namespaces, func(n *Namespace) bool { return inside(n.Path) })
	for _, n := range sources {
		dst := d.Namespace(moved(n.Path))
		for _, g := range n.Groups {
			mergeGroup(dst, g)
		}
		if dst.Comment == "" {
			dst.Comment = n.Comment
		}
	}
	return nil
}

// existingNamespace is FindNamespace without inventing a root namespace
// the model does not hold.
func (d *Datastore) existingNamespace(path string) *Namespace {
	for _, ns := range d.Namespaces {
		if ns.Path == path {
			return ns
		}
	}
	return nil
}

// canMerge checks that group g may join existing (nil: no such group).
func canMerge(g, existing *Group) error {
	if existing == nil {
		return nil
	}
	if groupOwner(g) != groupOwner(existing) {
		return fmt.Errorf("the target group has another owner (%s, not %s)", groupOwner(existing), groupOwner(g))
	}
	for i := range g.Snapshots {
		for j := range existing.Snapshots {
			if g.Snapshots[i].Time.Equal(existing.Snapshots[j].Time) {
				return fmt.Errorf("both hold a snapshot at %s", g.Snapshots[i].Time.UTC().Format("2006-01-02T15:04:05Z"))
			}
		}
	}
	return nil
}

// mergeGroup puts g into ns: as it is, or its snapshots into the group of
// the same name there.
func mergeGroup(ns *Namespace, g *Group) {
	if existing := ns.FindGroup(g.Type, g.ID); existing != nil {
		existing.Snapshots = append(existing.Snapshots, g.Snapshots...)
		return
	}
	ns.Groups = append(ns.Groups, g)
}
