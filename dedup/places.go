package dedup

// Place identity by evidence. Two storages of different clusters that name
// one network address (Plan.SameAddress) are planned as places of their
// own and both listed: an address is a hint, never proof, because private
// addresses and split-horizon names repeat across sites. What the listings
// show decides: the same files (volume names, sizes and times) are one
// place, read once; different files are two places, each credited to its
// own cluster's guests, with a warning. Without evidence (a listing failed,
// or both are empty) they stay separate: reading a place twice costs a
// duplicate, merging two places would credit one site with another's
// backups.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// fileFact is what identifies a backup file in a listing, apart from the
// storage ID (which is each cluster's own name for the place).
type fileFact struct {
	name        string
	size, ctime int64
}

func fileFacts(vs []proxmox.BackupVolume) []fileFact {
	out := make([]fileFact, 0, len(vs))
	for _, v := range vs {
		name := string(v.VolID)
		if id, err := proxmox.ParseVolumeID(name); err == nil {
			name = id.Volume
		}
		out = append(out, fileFact{name: name, size: int64(v.Size), ctime: int64(v.CTime)})
	}
	slices.SortFunc(out, func(a, b fileFact) int {
		return cmp.Or(strings.Compare(a.name, b.name), cmp.Compare(a.size, b.size), cmp.Compare(a.ctime, b.ctime))
	})
	return slices.Compact(out)
}

// SameFiles compares two storage listings as evidence of one place: same
// is true when they show the same files (volume names without the storage
// ID, sizes and ctimes), in any order; evidence is false when there is
// nothing to compare (both empty), since two empty places look alike.
func SameFiles(a, b []proxmox.BackupVolume) (same, evidence bool) {
	if len(a) == 0 && len(b) == 0 {
		return false, false
	}
	return slices.Equal(fileFacts(a), fileFacts(b)), true
}

// JoinSamePlaces returns p with the repositories of every Plan.SameAddress
// group whose listings show the same files joined into the first of them
// that was read: the others leave the plan, their storages reach it (its
// clusters are the union, cluster="" with a cluster_collision warning when
// several), and their reads count as suppressed same_repository paths. A
// group whose listings differ gets a same_address warning and stays
// separate. It is pure; p itself is not modified.
func JoinSamePlaces(p Plan, l Listings) Plan {
	if len(p.SameAddress) == 0 {
		return p
	}
	p.Repositories = slices.Clone(p.Repositories)
	p.Storages = slices.Clone(p.Storages)
	p.PVEListings = slices.Clone(p.PVEListings)
	p.Suppressed = slices.Clone(p.Suppressed)
	p.Warnings = slices.Clone(p.Warnings)
	repo := func(name string) int {
		return slices.IndexFunc(p.Repositories, func(r Repository) bool { return r.Name == name })
	}
	for _, sa := range p.SameAddress {
		keep := -1
		for _, name := range sa.Repositories {
			i := repo(name)
			res, ok := l.PVE[name]
			if i < 0 || !ok || res.Err != nil || p.Repositories[i].Unreadable != "" {
				continue // no evidence
			}
			if keep < 0 {
				keep = i
				continue
			}
			k := p.Repositories[keep]
			same, evidence := SameFiles(l.PVE[k.Name].Volumes, res.Volumes)
			switch {
			case !evidence:
			case !same:
				p.Warnings = appendWarning(p.Warnings, Warning{Kind: WarnSameAddress, Cluster: p.Repositories[i].Cluster, Storage: p.Repositories[i].Storage,
					Message: fmt.Sprintf("storages %s and %s name the same address (%s) but show different files; counted as separate places (declare them one with a route same_as if they are)",
						k.Name, name, strings.ReplaceAll(sa.Address, "|", " "))})
			default:
				p = joinPlace(p, keep, i, res.Node)
				keep = repo(k.Name)
			}
		}
	}
	slices.SortStableFunc(p.Suppressed, func(a, b SuppressedPath) int {
		if suppressedLess(a, b) {
			return -1
		}
		if suppressedLess(b, a) {
			return 1
		}
		return 0
	})
	sortWarnings(p.Warnings)
	return p
}

func appendWarning(ws []Warning, w Warning) []Warning {
	if slices.Contains(ws, w) {
		return ws
	}
	return append(ws, w)
}

// joinPlace makes repository j one place with repository k: j's read of
// node is a suppressed path of k, and j's storages and clusters reach k.
func joinPlace(p Plan, k, j int, node string) Plan {
	kr, jr := &p.Repositories[k], p.Repositories[j]
	clusters := append(slices.Clone(kr.Clusters), jr.Clusters...)
	slices.Sort(clusters)
	kr.Clusters = slices.Compact(clusters)
	switch {
	case len(kr.Clusters) == 1:
		kr.Cluster = kr.Clusters[0]
	case kr.Cluster != "" || len(jr.Clusters) > 0:
		kr.Cluster = ""
		p.Warnings = appendWarning(p.Warnings, Warning{Kind: WarnClusterCollision, Target: kr.Target,
			Message: fmt.Sprintf("storages of clusters %s reach %s; its groups get cluster=\"\" because VMIDs may collide", strings.Join(kr.Clusters, ", "), kr.Name)})
	}
	for i := range p.Storages {
		sr := &p.Storages[i]
		if sr.Repository != jr.Name {
			continue
		}
		sr.Repository, sr.Repositories = kr.Name, []string{kr.Name}
		sr.Reason = strings.TrimPrefix(sr.Reason+"; ", "; ") + fmt.Sprintf("same place as %s (same address and the same files); read once", kr.Name)
	}
	p.PVEListings = slices.DeleteFunc(p.PVEListings, func(x PVEListing) bool { return x.Repository == jr.Name })
	for i := range p.Suppressed {
		if p.Suppressed[i].Repository == jr.Name {
			p.Suppressed[i].Repository = kr.Name
		}
	}
	p.Suppressed = append(p.Suppressed, SuppressedPath{Reason: DuplicateSameRepository, Repository: kr.Name, Cluster: jr.Cluster,
		Storage: jr.Storage, Node: node, PVEView: true, Detail: "storage at the same address shows the same files"})
	p.Repositories = slices.Delete(p.Repositories, j, j+1)
	return p
}
