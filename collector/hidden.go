package collector

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Backups that tasks say were made but no listing shows (CONFIG.md: detect
// the tell-tale empty listing of "tasks that wrote to it, yet lists
// nothing"). PVE answers a token that may not see backup volumes with an
// empty list and HTTP 200, and PBS lists only the groups a token owns when
// it lacks Datastore.Audit: either way the listing looks healthy and says
// "no backups", and a guest would be counted 0 (issue 8). dedup catches the
// first case only for backup-only storages reporting used space.
//
// The tell-tale used here: a guest whose newest finished vzdump task
// succeeded after its newest recovery point anywhere. The backup that task
// wrote must be somewhere; it can only be missing from a listing that hides
// it (or if it was deleted by hand right after). The repositories the
// guest's backup jobs write to are then unknown for this scrape: down, with
// a permission warning on their target, so their guests have no count
// rather than a wrong one. It needs the tasks collector and a task within
// --tasks.window; backups older than that cannot be told apart from none.

// errHidden is the listing error of a repository suspected of hiding
// backups.
const errHidden = errString("the listing looks filtered by missing privileges: backups that tasks made are not in it")

// markHiddenBackups marks the suspected repositories' listings failed and
// reports whether it marked any (the caller then merges again). Targets
// in stale (exported from last known data) are left alone.
func (s *scrape) markHiddenBackups(res *scrapeResult, listings dedup.Listings, stale map[string]*lastKnownPBS) bool {
	repos := map[string]dedup.Repository{}
	for _, r := range res.plan.Repositories {
		repos[r.Name] = r
	}
	type suspect struct {
		guests map[string]bool
		newest int64 // start of the newest task whose backup is missing
	}
	suspects := map[string]*suspect{}
	for _, cd := range res.clusters {
		if !cd.up || !cd.tasksRead {
			continue
		}
		inventory := map[string]proxmox.ClusterResource{}
		for _, g := range cd.guests {
			inventory[proxmox.BackupTypeOfGuest(g.Type)+"/"+strconv.FormatInt(int64(g.VMID), 10)] = g
		}
		for _, g := range res.merged.Guests {
			if g.Cluster != cd.name || !g.Known {
				continue
			}
			key := g.BackupType + "/" + g.BackupID
			t, ok := cd.tasks[key]
			if !ok || !t.Success || t.Start <= 0 || g.Last >= t.Start {
				continue
			}
			guest, ok := inventory[key]
			if !ok {
				continue
			}
			for _, j := range cd.jobs {
				if j.Storage == "" || !dedup.JobSelects(j, guest) {
					continue
				}
				for _, repo := range storageRepositories(res.plan, repos, cd.name, j.Storage, t.Node) {
					r := repos[repo]
					if !res.merged.RepositoryUp[repo] || (r.Kind == dedup.KindPBS && stale[r.Target] != nil) {
						continue
					}
					sp := suspects[repo]
					if sp == nil {
						sp = &suspect{guests: map[string]bool{}}
						suspects[repo] = sp
					}
					sp.guests[key] = true
					sp.newest = max(sp.newest, t.Start)
				}
			}
		}
	}
	if len(suspects) == 0 {
		return false
	}
	names := slices.Sorted(maps.Keys(suspects))
	for _, name := range names {
		sp, r := suspects[name], repos[name]
		var path string
		if r.Kind == dedup.KindPBS {
			listings.PBS[name] = dedup.PBSResult{Err: errHidden}
			path = "/admin/datastore/" + r.Datastore + "/groups"
		} else {
			node := listings.PVE[name].Node
			if node == "" {
				node = r.Node
			}
			listings.PVE[name] = dedup.PVEResult{Err: errHidden, Node: node}
			path = "/nodes/" + node + "/storage/" + r.Storage + "/content"
		}
		for _, run := range res.runs {
			if run.name == r.Target && run.kind == r.Kind {
				run.warn(Failure{
					Endpoint: "GET " + path, Part: "repository " + name, Reason: "permission",
					Message: fmt.Sprintf("%s lists no backup of %s newer than its last successful backup task (started %s): the listing looks filtered by missing privileges; the guests' counts are left out",
						name, listGuests(sp.guests), time.Unix(sp.newest, 0).UTC().Format(time.RFC3339)),
					Hint: proxmox.PrivilegeHint(r.Kind, path),
				})
			}
		}
	}
	return true
}

// storageRepositories returns the repositories a cluster's storage writes
// to, for a node-local storage the one on node.
func storageRepositories(p dedup.Plan, repos map[string]dedup.Repository, cluster, storage, node string) []string {
	var out []string
	for _, sr := range p.Storages {
		if sr.Cluster != cluster || sr.Storage != storage {
			continue
		}
		names := sr.Repositories
		if len(names) == 0 {
			names = []string{sr.Repository}
		}
		for _, n := range names {
			if r, ok := repos[n]; ok && n != "" && (r.Node == "" || r.Node == node) {
				out = append(out, n)
			}
		}
	}
	return out
}

// listGuests names a few guests, so a log line stays short for any estate.
func listGuests(set map[string]bool) string {
	keys := slices.Sorted(maps.Keys(set))
	const show = 5
	if len(keys) <= show {
		return strings.Join(keys, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(keys[:show], ", "), len(keys)-show)
}

// listingFailed reports whether a listing of the PBS target failed without
// failing a request (a listing suspected of hiding backups): such a read is
// not complete, so it must not become the last known data.
func listingFailed(res *scrapeResult, listings dedup.Listings, target string) bool {
	for _, l := range res.plan.PBSListings {
		if l.PBSTarget == target && listings.PBS[l.Repository].Err != nil {
			return true
		}
	}
	return false
}
