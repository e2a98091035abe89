package dedup

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Backups that tasks say were made but no listing shows (CONFIG.md: detect
// the tell-tale empty listing of "tasks that wrote to it, yet lists
// nothing"). PVE answers a token that may not see backup volumes with an
// empty list and HTTP 200, and PBS lists only the groups a token owns when
// it lacks Datastore.Audit: either way the listing looks healthy and says
// "no backups", and a guest would be counted 0 (issue 8).
// permissionSuspect catches the first case only for backup-only storages
// reporting used space.
//
// The tell-tale used here: a guest whose newest finished vzdump task
// succeeded after its newest recovery point anywhere. The backup that task
// wrote must be somewhere; it can only be missing from a listing that
// hides it (or if it was deleted by hand right after). The repositories
// the guest's backup jobs write to are then unknown for this scrape: down,
// with a WarnBackupsHidden warning, so their guests have no count rather
// than a wrong one. It needs task evidence (Listings.Tasks) within the
// collector's task window; backups older than that cannot be told apart
// from none. Stale repositories (last known data) are not judged: their
// listing is not this scrape's.

// hiddenRepository is one repository judged to hide backups.
type hiddenRepository struct {
	repository Repository
	warning    Warning
}

// hiddenRepositories judges, from the task evidence, which up repositories
// hide backups, in name order. groups, positions and state are Merge's
// view after reading every repository.
func hiddenRepositories(clusters map[string]Cluster, inventories map[string]*guestIndex, reaches map[string][]Repository,
	p Plan, tasks map[string]map[GuestKey]TaskResult, groups map[string][]GroupSummary,
	positions map[string]guestPositions, state map[string]string) []hiddenRepository {
	if len(tasks) == 0 {
		return nil
	}
	type suspect struct {
		guests map[string]bool
		newest int64 // start of the newest task whose backup is missing
	}
	suspects := map[string]*suspect{}
	repos := make(map[string]Repository, len(p.Repositories))
	for _, r := range p.Repositories {
		repos[r.Name] = r
	}
	var lists [][]int64
	for cname, c := range clusters {
		ct, ok := tasks[cname]
		inventory := inventories[cname]
		if !ok || inventory == nil || !readable(reaches[cname], state) {
			continue
		}
		var off []int
		off, lists = reachTimes(cname, inventory, reaches[cname], groups, positions, lists, nil)
		for j := range inventory.guests {
			kg := &inventory.guests[j]
			if kg.typ == "" || kg.id == "" || j > 0 && inventory.guests[j-1].sameKey(kg) {
				continue
			}
			t, ok := ct[GuestKey{Cluster: cname, BackupType: kg.typ, BackupID: kg.id}]
			if !ok || !t.Success || t.StartTime <= 0 {
				continue
			}
			_, last, _ := unionTimes(lists[off[j]:off[j+1]])
			if last >= t.StartTime {
				continue
			}
			for _, job := range c.Jobs {
				if job.Storage == "" || !JobSelects(job, *kg.g) {
					continue
				}
				for _, name := range storageRepositories(p, repos, cname, job.Storage, t.Node) {
					if state[name] != RepositoryStateUp {
						continue
					}
					sp := suspects[name]
					if sp == nil {
						sp = &suspect{guests: map[string]bool{}}
						suspects[name] = sp
					}
					sp.guests[kg.typ+"/"+kg.id] = true
					sp.newest = max(sp.newest, t.StartTime)
				}
			}
		}
	}
	names := make([]string, 0, len(suspects))
	for n := range suspects {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]hiddenRepository, 0, len(names))
	for _, name := range names {
		sp, r := suspects[name], repos[name]
		out = append(out, hiddenRepository{repository: r, warning: Warning{
			Kind: WarnBackupsHidden, Cluster: r.Cluster, Storage: r.Storage, Target: r.Target, Repository: name,
			Message: fmt.Sprintf("%s lists no backup of %s newer than its last successful backup task (started %s): the listing looks filtered by missing privileges; the guests' counts are left out",
				name, listGuests(sp.guests), time.Unix(sp.newest, 0).UTC().Format(time.RFC3339)),
		}})
	}
	return out
}

// storageRepositories returns the repositories a cluster's storage writes
// to, for a node-local storage the one on node.
func storageRepositories(p Plan, repos map[string]Repository, cluster, storage, node string) []string {
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

// listGuests names a few guests, so a message stays short for any estate.
func listGuests(guests map[string]bool) string {
	keys := make([]string, 0, len(guests))
	for k := range guests {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	const show = 5
	if len(keys) <= show {
		return strings.Join(keys, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(keys[:show], ", "), len(keys)-show)
}
