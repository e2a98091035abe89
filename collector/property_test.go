package collector

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// The end-to-end property test (issue 3): random estates built as emulator
// models, served over real HTTPS, scraped through the real collector and
// handler, and compared with a ground truth computed from the model alone
// (distinct completed points in time per guest over every place its
// cluster reaches), never by calling dedup. dedup/property_test.go covers
// the pure level; this one covers the clients, the routing on real
// storage.cfg answers (fingerprints, aliases, fallbacks) and the exposition.

// propSeeds are fixed so a failure names its estate; each estate is small
// so the whole test stays well within the suite's time under -race.
const propSeeds = 20

// propCluster is the one cluster of every random estate.
const propCluster = "c1"

// propPlace is one place the cluster reaches: a repository identity with
// the names the exporter may give it (a pbs storage is called after its
// namespace when read from the PBS, after the storage when read through
// PVE) and its groups.
type propPlace struct {
	names  []string
	groups map[string]propGroup // "vm/100" -> figures
}

type propGroup struct {
	count int
	last  int64
}

// propEstate is a random estate and what the exporter must say about it.
type propEstate struct {
	model *emulator.Model
	// unconfigured PBS: in the model, not in the exporter's config.
	unconfigured []string
	faults       []emulator.Fault
	faultName    string
	// unknown is what the fault means for the guests: every guest series
	// absent (some place the cluster reaches could not be read), none
	// absent (the fault touches no such place), or not predicted (a 500
	// on a pbs storage matters only if it is read through PVE).
	unknown propUnknown
	// stalePins are the pbs storages whose pinned fingerprint no PBS
	// presents: PVE cannot read them, and they must never be mapped to
	// the PBS at their address.
	stalePins []string
	// site is a second cluster whose NFS storage names the same address
	// as c1's (nil when there is none).
	site *propSite
}

// propSite is a second site, cluster propSite2, with an NFS storage at the
// address of c1's: the same files (one place) or files of its own (a
// different NAS behind a private address that repeats).
type propSite struct {
	c1Storage, storage string
	same               bool
}

// propSite2 is the second cluster's name.
const propSite2 = "c2"

type propUnknown int

const (
	propAllKnown propUnknown = iota
	propAllUnknown
	propUnpredicted
)

// propNames are the storage ids drawn from, traps included: a pbs storage
// called backup-server, a dir storage called pbs-backups, an NFS share or
// pbs storage called nfs-pbs.
var (
	propPBSNames = []string{"backup-server", "nfs-pbs", "pbs", "offsite"}
	propNFSNames = []string{"nfs-pbs", "nfs-backup", "backup-server", "pbs-backups"}
	propDirNames = []string{"pbs-backups", "usb", "backup-disk"}
)

// genEstate builds a random estate from the seed.
func genEstate(seed uint64) *propEstate {
	rnd := rand.New(rand.NewPCG(seed, 0x5eed))
	pick := func(list []string) string { return list[rnd.IntN(len(list))] }
	chance := func(p float64) bool { return rnd.Float64() < p }
	base := homelabNow.Add(-10 * 24 * time.Hour)
	// A small pool of points in time, so that the same backup time shows
	// in several places (a copy counts once per guest).
	stamp := func() time.Time { return base.Add(time.Duration(rnd.IntN(12)) * 6 * time.Hour) }

	c := &emulator.Cluster{Name: propCluster}
	nNodes := 1 + rnd.IntN(4)
	c.Standalone = nNodes == 1 && chance(0.5)
	for i := range nNodes {
		c.Nodes = append(c.Nodes, &emulator.Node{Name: fmt.Sprintf("pve%d", i+1)})
	}
	nodeNames := func() []string {
		var out []string
		for _, n := range c.Nodes {
			out = append(out, n.Name)
		}
		return out
	}()
	// Guests with unique VMIDs; both types.
	vmids := rnd.Perm(6)[:2+rnd.IntN(4)]
	for _, v := range vmids {
		typ := "qemu"
		if chance(0.5) {
			typ = "lxc"
		}
		c.Guests = append(c.Guests, &emulator.Guest{VMID: 100 + v, Type: typ, Name: fmt.Sprintf("g%d", 100+v), Node: pick(nodeNames)})
	}
	// groupKeys are the groups backups are made for: every guest, a group
	// of the other type with the same VMID (a deleted guest whose VMID was
	// reused), and an orphan.
	type gk struct {
		typ string
		id  int
	}
	var keys []gk
	for _, g := range c.Guests {
		keys = append(keys, gk{dedupType(g.Type), g.VMID})
		if chance(0.3) {
			other := "ct"
			if dedupType(g.Type) == "ct" {
				other = "vm"
			}
			keys = append(keys, gk{other, g.VMID})
		}
	}
	keys = append(keys, gk{"vm", 199})

	used := map[string]bool{"local": true, "local-lvm": true}
	uniq := func(list []string) string {
		for _, i := range rnd.Perm(len(list)) {
			if !used[list[i]] {
				used[list[i]] = true
				return list[i]
			}
		}
		panic("out of storage names")
	}

	m := &emulator.Model{Clusters: []*emulator.Cluster{c}}
	pbs1 := &emulator.PBSServer{Name: "pbs1"}
	pbs2 := &emulator.PBSServer{Name: "pbs2"}
	namespaces := []string{"", "prod", "prod/pve", "lab"}
	fillNS := func(p *emulator.PBSServer, path string) {
		ds := p.Datastore("store1")
		if ds == nil {
			ds = &emulator.Datastore{Name: "store1"}
			p.Datastores = append(p.Datastores, ds)
		}
		if ds.FindNamespace(path) != nil && path != "" {
			return
		}
		ns := ds.Namespace(path)
		if len(ns.Groups) > 0 {
			return
		}
		for _, k := range keys {
			n := rnd.IntN(4)
			if n == 0 {
				continue
			}
			g := ns.Group(k.typ, strconv.Itoa(k.id))
			seen := map[time.Time]bool{}
			for range n {
				s := emulator.Snapshot{Time: stamp(), Size: 1 << 30, Verification: pick([]string{"", "ok", "failed"})}
				if seen[s.Time] {
					continue
				}
				seen[s.Time] = true
				s.InProgress = chance(0.15)
				g.Snapshots = append(g.Snapshots, s)
			}
		}
	}
	// A decoy namespace no storage points at: its groups (same VMIDs) are
	// none of the cluster's business.
	fillNS(pbs1, "decoy")

	c.Storages = append(c.Storages, &emulator.Storage{ID: "local", Type: "dir", Content: []string{"iso", "vztmpl", "backup"}})
	c.Storages = append(c.Storages, &emulator.Storage{ID: "local-lvm", Type: "lvmthin", VGName: "pve", ThinPool: "data"})
	var prev *emulator.Storage
	for range rnd.IntN(3) {
		st := &emulator.Storage{ID: uniq(propPBSNames), Type: "pbs", PBS: "pbs1", Datastore: "store1", Namespace: pick(namespaces)}
		if chance(0.25) {
			st.PBS = "pbs2"
		}
		if prev != nil && chance(0.5) {
			// Two storages on one datastore and namespace.
			st.PBS, st.Namespace = prev.PBS, prev.Namespace
		}
		st.Fingerprint = pick([]string{"", "lower", "none"})
		if chance(0.3) {
			st.ServerName = "localhost"
		}
		p := pbs1
		if st.PBS == "pbs2" {
			p = pbs2
		}
		fillNS(p, st.Namespace)
		c.Storages = append(c.Storages, st)
		prev = st
	}
	addFiles := func(st *emulator.Storage, local bool) {
		type fk struct {
			node string
			typ  string
			id   int
			t    time.Time
		}
		seen := map[fk]bool{}
		for _, k := range keys {
			for range rnd.IntN(3) {
				f := &emulator.BackupFile{VMID: k.id, Type: map[string]string{"vm": "qemu", "ct": "lxc"}[k.typ], Time: stamp(), Size: 1 << 28}
				if local {
					var on []string
					for _, n := range nodeNames {
						if st.OnNode(n) {
							on = append(on, n)
						}
					}
					f.Node = pick(on)
				}
				key := fk{f.Node, f.Type, f.VMID, f.Time}
				if seen[key] {
					continue
				}
				seen[key] = true
				f.InProgress = chance(0.1)
				f.Protected = chance(0.2)
				st.Files = append(st.Files, f)
			}
		}
	}
	addFiles(c.Storage("local"), true)
	if chance(0.6) {
		st := &emulator.Storage{ID: uniq(propNFSNames), Type: "nfs", Server: "10.0.0.50", Export: "/export/backup"}
		addFiles(st, false)
		c.Storages = append(c.Storages, st)
	}
	if chance(0.5) {
		st := &emulator.Storage{ID: uniq(propDirNames), Type: "dir", Path: "/mnt/backup"}
		if nNodes > 1 && chance(0.5) {
			st.Nodes = nodeNames[:1+rnd.IntN(nNodes-1)]
		}
		st.Disabled = chance(0.2)
		addFiles(st, true)
		c.Storages = append(c.Storages, st)
	}
	m.PBS = append(m.PBS, pbs1)
	e := &propEstate{model: m}
	if len(pbs2.Datastores) > 0 {
		m.PBS = append(m.PBS, pbs2)
		e.unconfigured = append(e.unconfigured, "pbs2")
	}

	if chance(0.4) {
		switch rnd.IntN(3) {
		case 0:
			n := pick(nodeNames)
			e.faultName = "node " + n + " offline"
			// Unknown when the node was the only one, or holds a
			// node-local backup storage, or is the only node of a
			// shared one.
			if nNodes == 1 {
				e.unknown = propAllUnknown
			}
			for _, st := range c.Storages {
				if st.Disabled || !st.HasContent("backup") || st.Type == "pbs" || !st.OnNode(n) {
					continue
				}
				if !st.IsShared() || len(st.Nodes) == 1 {
					e.unknown = propAllUnknown
				}
			}
			e.faults = append(e.faults, emulator.Fault{Target: propCluster, Node: n, Kind: emulator.NodeOffline})
		case 1:
			var backup []*emulator.Storage
			for _, st := range c.Storages {
				if st.HasContent("backup") && !st.Disabled {
					backup = append(backup, st)
				}
			}
			st := backup[rnd.IntN(len(backup))]
			e.faultName = "storage " + st.ID + " content 500"
			e.unknown = propAllUnknown
			if st.Type == "pbs" {
				e.unknown = propUnpredicted
			}
			for _, n := range nodeNames {
				e.faults = append(e.faults, emulator.Fault{Target: propCluster, PathPrefix: "/nodes/" + n + "/storage/" + st.ID + "/content",
					Kind: emulator.Status500, Message: "injected"})
			}
		case 2:
			e.faultName = "pbs1 down"
			for _, st := range c.Storages {
				if st.Type == "pbs" && st.PBS == "pbs1" && !st.Disabled {
					e.unknown = propAllUnknown
				}
			}
			e.faults = append(e.faults, emulator.Fault{Target: "pbs1", Kind: emulator.Down})
		}
	}
	genPoolsAndPins(seed, e)
	genSiteAndTemplate(seed, e)
	return e
}

// genSiteAndTemplate adds, from a stream of its own: a template guest on
// a random node of c1 (the node-offline fault then hides its flag), and a
// second cluster whose NFS storage names the address of c1's, with the
// same files or others.
func genSiteAndTemplate(seed uint64, e *propEstate) {
	rnd := rand.New(rand.NewPCG(seed, 0x51de))
	chance := func(p float64) bool { return rnd.Float64() < p }
	c := e.model.Cluster(propCluster)
	if chance(0.6) {
		c.Guests = append(c.Guests, &emulator.Guest{VMID: 9000, Type: "qemu", Name: "tmpl", Node: c.Nodes[rnd.IntN(len(c.Nodes))].Name, Template: true})
	}
	var nfs *emulator.Storage
	for _, st := range c.Storages {
		if st.Type == "nfs" {
			nfs = st
		}
	}
	if nfs == nil || !chance(0.7) {
		return
	}
	c2 := &emulator.Cluster{Name: propSite2, Nodes: []*emulator.Node{{Name: "b1"}}}
	for _, v := range rnd.Perm(6)[:1+rnd.IntN(3)] {
		c2.Guests = append(c2.Guests, &emulator.Guest{VMID: 100 + v, Type: "qemu", Name: fmt.Sprintf("b%d", 100+v), Node: "b1"})
	}
	st := &emulator.Storage{ID: "nas", Type: "nfs", Server: nfs.Server, Export: nfs.Export}
	e.site = &propSite{c1Storage: nfs.ID, storage: st.ID, same: chance(0.5)}
	if e.site.same {
		st.Files = nfs.Files // one place: the same files
	} else {
		base := homelabNow.Add(-3 * 24 * time.Hour)
		for i, g := range c2.Guests {
			for k := range max(rnd.IntN(3), 1-i) { // never an empty listing
				st.Files = append(st.Files, &emulator.BackupFile{VMID: g.VMID, Type: "qemu", Time: base.Add(time.Duration(k) * time.Hour), Size: 1 << 27})
			}
		}
	}
	c2.Storages = []*emulator.Storage{st}
	e.model.Clusters = append(e.model.Clusters, c2)
}

// checkSite compares the second site with the model: its guests count
// the files its storage shows (the same files or its own), and a place
// shows under one name: c1's when the listings are the same files, with
// cluster="" (two clusters reach it), else the site's own, with its
// cluster.
func checkSite(est *propEstate, x exposition, faulty bool, bad *[]string) {
	s := est.site
	c2 := est.model.Cluster(propSite2)
	files := c2.Storage(s.storage).Files
	evidence := false
	times := map[string]map[int64]bool{}
	for _, f := range files {
		if f.InProgress {
			continue
		}
		evidence = true
		k := dedupType(f.Type) + "/" + strconv.Itoa(f.VMID)
		if times[k] == nil {
			times[k] = map[int64]bool{}
		}
		times[k][f.Time.Unix()] = true
	}
	for _, g := range c2.Guests {
		id := strconv.Itoa(g.VMID)
		got, ok := x.get("proxmox_backup_guest_snapshots", "cluster", propSite2, "backup_type", "vm", "backup_id", id)
		if !ok && !evidence {
			continue // an empty listing of a storage with used space is suspect: unknown
		}
		if want := strconv.Itoa(len(times["vm/"+id])); !ok || got != want {
			*bad = append(*bad, fmt.Sprintf("site guest vm/%s: guest_snapshots = %q (present %v), want %s", id, got, ok, want))
		}
	}
	mine := propSite2 + ":" + s.storage
	theirs := propCluster + ":" + s.c1Storage
	group := func(repo string) map[string]string {
		out := map[string]string{}
		for k := range x {
			if name, l := splitSeries(k); name == "proxmox_backup_snapshots" && l["repository"] == repo {
				out[l["backup_type"]+"/"+l["backup_id"]] = l["cluster"]
			}
		}
		return out
	}
	_, mineListed := x.get("proxmox_backup_repository_info", "repository", mine)
	switch {
	case s.same && evidence && !faulty:
		if mineListed {
			*bad = append(*bad, fmt.Sprintf("the same files at one address: %s listed beside %s", mine, theirs))
		}
		for gk, cl := range group(theirs) {
			if cl != "" {
				*bad = append(*bad, fmt.Sprintf("%s %s: cluster %q on a place two clusters reach, want \"\"", theirs, gk, cl))
			}
		}
	case !s.same:
		if !mineListed {
			*bad = append(*bad, fmt.Sprintf("different files at one address: %s not listed", mine))
		}
		for gk, cl := range group(mine) {
			if cl != propSite2 {
				*bad = append(*bad, fmt.Sprintf("%s %s: cluster %q, want %s", mine, gk, cl, propSite2))
			}
		}
	}
}

// checkTemplates compares guest_info's template label with the model: a
// guest on a node the cluster reports offline has no flag PVE states, and
// the exporter, started fresh, never saw one: "unknown"; otherwise "1" for
// a template and "0" for a guest.
func checkTemplates(est *propEstate, x exposition, bad *[]string) int {
	offline := map[string]bool{}
	for _, f := range est.faults {
		if f.Kind == emulator.NodeOffline && f.Target == propCluster {
			offline[f.Node] = true
		}
	}
	n := 0
	for _, g := range est.model.Cluster(propCluster).Guests {
		want := map[bool]string{false: "0", true: "1"}[g.Template]
		if offline[g.Node] {
			want = "unknown"
		}
		for k := range x {
			name, l := splitSeries(k)
			if name != "proxmox_backup_guest_info" || l["cluster"] != propCluster || l["backup_id"] != strconv.Itoa(g.VMID) || l["backup_type"] != dedupType(g.Type) {
				continue
			}
			n++
			if l["template"] != want {
				*bad = append(*bad, fmt.Sprintf("guest %s/%d on %s: template %q, want %q", dedupType(g.Type), g.VMID, g.Node, l["template"], want))
			}
		}
	}
	return n
}

// propStalePin is a fingerprint no emulated PBS presents.
const propStalePin = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"

// genPoolsAndPins adds, from a stream of its own (the rest of the estate
// stays as the seed always made it): pools for some guests, backup jobs
// that select by pool, vmid or all, a token that lacks Pool.Audit on some
// pools, and stale fingerprint pins on pbs storages.
func genPoolsAndPins(seed uint64, e *propEstate) {
	rnd := rand.New(rand.NewPCG(seed, 0x9001))
	chance := func(p float64) bool { return rnd.Float64() < p }
	c := e.model.Cluster(propCluster)
	pools := []string{"prod", "dev"}
	for _, g := range c.Guests {
		if chance(0.6) {
			g.Pool = pools[rnd.IntN(len(pools))]
		}
	}
	if chance(0.7) {
		j := &emulator.BackupJob{ID: "backup-pool", Schedule: "02:00", Pool: pools[rnd.IntN(len(pools))]}
		if chance(0.25) {
			j.Node = c.Nodes[rnd.IntN(len(c.Nodes))].Name
		}
		j.Disabled = chance(0.15)
		c.Jobs = append(c.Jobs, j)
	}
	if chance(0.4) {
		c.Jobs = append(c.Jobs, &emulator.BackupJob{ID: "backup-some", Schedule: "03:00", VMIDs: []int{c.Guests[0].VMID}})
	}
	if chance(0.2) {
		c.Jobs = append(c.Jobs, &emulator.BackupJob{ID: "backup-all", Schedule: "04:00", All: true, Exclude: []int{c.Guests[len(c.Guests)-1].VMID}})
	}
	for _, p := range pools {
		if chance(0.4) {
			c.NoPoolAudit = append(c.NoPoolAudit, p)
		}
	}
	for _, st := range c.Storages {
		if st.Type == "pbs" && chance(0.25) {
			st.Fingerprint = propStalePin
			e.stalePins = append(e.stalePins, st.ID)
			// PVE cannot list it, and the cluster reaches it: every
			// guest's count is unknown.
			e.unknown = propAllUnknown
		}
	}
}

// propInJob is the truth of guest_in_job from the model: "1" or "0" when
// a token with the model's privileges can know it, "" (absent) when not.
// A job covers a guest by its real pool membership; the exporter can know
// it when a job covers the guest without depending on a pool the token
// may not see, or when no enabled job of such a pool may select it (a
// guest shown in a visible pool is in no other).
func propInJob(c *emulator.Cluster) map[string]string {
	out := map[string]string{}
	for _, g := range c.Guests {
		covered, knownCovered, maybe := false, false, false
		for _, j := range c.Jobs {
			if j.Disabled {
				continue
			}
			hidden := j.Pool != "" && !j.All && len(j.VMIDs) == 0 && slices.Contains(c.NoPoolAudit, j.Pool)
			if j.Selects(g) {
				covered = true
				knownCovered = knownCovered || !hidden
			}
			shownPool := g.Pool
			if slices.Contains(c.NoPoolAudit, g.Pool) {
				shownPool = ""
			}
			inPool := *g
			inPool.Pool = j.Pool
			if hidden && shownPool == "" && j.Selects(&inPool) {
				maybe = true
			}
		}
		key := dedupType(g.Type) + "/" + strconv.Itoa(g.VMID)
		switch {
		case knownCovered:
			out[key] = "1"
		case maybe:
			out[key] = ""
		case covered:
			panic("covered by a hidden pool's job, yet not maybe: " + key)
		default:
			out[key] = "0"
		}
	}
	return out
}

// propTruth computes, from the model alone, the places the cluster reaches
// and per guest the distinct completed backup times over all of them.
func propTruth(m *emulator.Model) (places map[string]*propPlace, guests map[string]map[int64]bool) {
	c := m.Cluster(propCluster)
	places = map[string]*propPlace{}
	guests = map[string]map[int64]bool{}
	for _, g := range c.Guests {
		guests[dedupType(g.Type)+"/"+strconv.Itoa(g.VMID)] = map[int64]bool{}
	}
	add := func(place, name, key string, t time.Time) {
		p := places[place]
		if p == nil {
			p = &propPlace{groups: map[string]propGroup{}}
			places[place] = p
		}
		if name != "" && !slices.Contains(p.names, name) {
			p.names = append(p.names, name)
		}
		if key == "" {
			return
		}
		g := p.groups[key]
		g.count++
		g.last = max(g.last, t.Unix())
		p.groups[key] = g
		if guests[key] != nil {
			guests[key][t.Unix()] = true
		}
	}
	for _, st := range c.Storages {
		if st.Disabled || !st.HasContent("backup") {
			continue
		}
		switch {
		case st.Type == "pbs" && st.Fingerprint == propStalePin:
			// Read through PVE, which cannot reach the PBS with that
			// pin: a place of its own that shows nothing.
			add("stale\x00"+st.ID, propCluster+":"+st.ID, "", time.Time{})
		case st.Type == "pbs":
			place := "pbs\x00" + st.PBS + "\x00" + st.Datastore + "\x00" + st.Namespace
			add(place, propCluster+":"+st.ID, "", time.Time{})
			if st.PBS == "pbs1" {
				name := "pbs1:" + st.Datastore
				if st.Namespace != "" {
					name += "/" + st.Namespace
				}
				add(place, name, "", time.Time{})
			}
			if len(places[place].groups) > 0 {
				continue // the same namespace through a second storage
			}
			ns := m.PBSServer(st.PBS).Datastore(st.Datastore).FindNamespace(st.Namespace)
			for _, g := range ns.Groups {
				for _, s := range g.Snapshots {
					if !s.InProgress {
						add(place, "", g.Type+"/"+g.ID, s.Time)
					}
				}
			}
		case st.IsShared():
			place := "shared\x00" + st.ID
			add(place, propCluster+":"+st.ID, "", time.Time{})
			for _, f := range st.Files {
				if !f.InProgress {
					add(place, "", dedupType(f.Type)+"/"+strconv.Itoa(f.VMID), f.Time)
				}
			}
		default:
			for _, n := range c.Nodes {
				if !st.OnNode(n.Name) {
					continue
				}
				place := "local\x00" + n.Name + "\x00" + st.ID
				add(place, propCluster+"/"+n.Name+":"+st.ID, "", time.Time{})
				for _, f := range st.Files {
					if !f.InProgress && f.Node == n.Name {
						add(place, "", dedupType(f.Type)+"/"+strconv.Itoa(f.VMID), f.Time)
					}
				}
			}
		}
	}
	return places, guests
}

func propFloat(ts int64) string { return strconv.FormatFloat(float64(ts), 'g', -1, 64) }

func TestPropertyEndToEnd(t *testing.T) {
	var estates, guestsChecked, guestsAbsent, groupsChecked, faults, fallbacks, inJobChecked, inJobUnknown, stalePins, sites, templates int
	for seed := uint64(1); seed <= propSeeds; seed++ {
		t.Run("seed"+strconv.FormatUint(seed, 10), func(t *testing.T) {
			est := genEstate(seed)
			places, guests := propTruth(est.model)
			e := startEnv(t, envSpec{
				model: func(time.Time) *emulator.Model { return est.model },
				opts:  Options{Logger: quietLogger()},
				tweak: func(e *env, cfg *config.Config) {
					cfg.PBS = slices.DeleteFunc(cfg.PBS, func(tc config.Target) bool { return slices.Contains(est.unconfigured, tc.Name) })
				},
			})
			for _, f := range est.faults {
				e.srv.SetFault(f)
			}
			x := parseExposition(e.mustScrape(10 * time.Second).body)
			e.srv.ClearFaults()
			faulty := len(est.faults) > 0
			if faulty {
				faults++
				t.Logf("fault: %s", est.faultName)
			}
			estates++
			var bad []string

			// Per guest: present and equal to the truth, or (only under a
			// fault) absent. Never a wrong number, never a 0 that hides an
			// unknown.
			for key, times := range guests {
				typ, id, _ := strings.Cut(key, "/")
				guestsChecked++
				got, ok := x.get("proxmox_backup_guest_snapshots", "cluster", propCluster, "backup_type", typ, "backup_id", id)
				if !ok {
					guestsAbsent++
					if est.unknown == propAllKnown {
						bad = append(bad, fmt.Sprintf("guest %s: guest_snapshots absent, want %d", key, len(times)))
					}
					continue
				}
				if est.unknown == propAllUnknown {
					bad = append(bad, fmt.Sprintf("guest %s: guest_snapshots = %s although a place its cluster reaches was not read (truth %d)", key, got, len(times)))
				}
				if want := strconv.Itoa(len(times)); got != want {
					bad = append(bad, fmt.Sprintf("guest %s: guest_snapshots = %s, want %s", key, got, want))
				}
				var newest int64
				for ts := range times {
					newest = max(newest, ts)
				}
				last, ok := x.get("proxmox_backup_guest_last_timestamp_seconds", "cluster", propCluster, "backup_type", typ, "backup_id", id)
				switch {
				case newest == 0 && ok:
					bad = append(bad, fmt.Sprintf("guest %s: guest_last_timestamp_seconds = %s, want absent", key, last))
				case newest > 0 && !ok:
					bad = append(bad, fmt.Sprintf("guest %s: guest_last_timestamp_seconds absent, want %s", key, propFloat(newest)))
				case newest > 0 && last != propFloat(newest):
					bad = append(bad, fmt.Sprintf("guest %s: guest_last_timestamp_seconds = %s, want %s", key, last, propFloat(newest)))
				}
			}

			// guest_in_job: the model's truth, absent where the token
			// cannot know it, for every guest the exporter lists.
			for key, want := range propInJob(est.model.Cluster(propCluster)) {
				typ, id, _ := strings.Cut(key, "/")
				if _, listed := x.get("proxmox_backup_guest_info", "cluster", propCluster, "backup_type", typ, "backup_id", id); !listed {
					continue
				}
				inJobChecked++
				got, ok := x.get("proxmox_backup_guest_in_job", "cluster", propCluster, "backup_type", typ, "backup_id", id)
				switch {
				case want == "" && ok:
					bad = append(bad, fmt.Sprintf("guest %s: guest_in_job = %s, want absent (a job selects a pool the token may not see)", key, got))
				case want != "" && got != want:
					bad = append(bad, fmt.Sprintf("guest %s: guest_in_job = %q (present %v), want %s", key, got, ok, want))
				case want == "":
					inJobUnknown++
				}
			}
			// A stale pin is read through PVE as a place of its own, and
			// that read fails: never mapped to the PBS at its address.
			for _, id := range est.stalePins {
				stalePins++
				route, _ := x.get("proxmox_backup_storage_route_info", "cluster", propCluster, "storage", id, "repository", propCluster+":"+id, "route", "pve_fallback")
				up, ok := x.get("proxmox_backup_repository_up", "repository", propCluster+":"+id)
				if route != "1" || !ok || up != "0" {
					bad = append(bad, fmt.Sprintf("stale pin %s: route_info pve_fallback = %q, repository_up = %q (present %v); want 1 and 0", id, route, up, ok))
				}
			}

			// Per group per repository: a place's groups exactly as in the
			// model, under whichever name its route gives it; a place may be
			// missing only under a fault.
			exposed := map[string]map[string][2]string{} // repository -> "vm/100" -> count, last
			for k, v := range x {
				name, l := splitSeries(k)
				if name != "proxmox_backup_snapshots" && name != "proxmox_backup_last_timestamp_seconds" {
					continue
				}
				repo := l["repository"]
				if exposed[repo] == nil {
					exposed[repo] = map[string][2]string{}
				}
				g := exposed[repo][l["backup_type"]+"/"+l["backup_id"]]
				if name == "proxmox_backup_snapshots" {
					g[0] = v
				} else {
					g[1] = v
				}
				exposed[repo][l["backup_type"]+"/"+l["backup_id"]] = g
			}
			placeKeys := slices.Sorted(maps.Keys(places))
			for _, pk := range placeKeys {
				p := places[pk]
				var repos []string
				for _, n := range p.names {
					if exposed[n] != nil {
						repos = append(repos, n)
					}
				}
				if strings.HasPrefix(pk, "pbs\x00") && len(repos) > 0 && !strings.HasPrefix(repos[0], "pbs1:") {
					fallbacks++
				}
				if len(repos) == 0 {
					if len(p.groups) > 0 && !faulty {
						bad = append(bad, fmt.Sprintf("place %q: no groups exported, want %d", p.names, len(p.groups)))
					}
					continue
				}
				if len(repos) > 1 {
					bad = append(bad, fmt.Sprintf("place %q exported under several names: %v", p.names, repos))
				}
				for _, repo := range repos {
					groupsChecked += checkPlaceGroups(p, repo, exposed[repo], &bad)
				}
			}
			if est.site != nil {
				sites++
				checkSite(est, x, faulty, &bad)
			}
			templates += checkTemplates(est, x, &bad)
			if len(bad) > 0 {
				sort.Strings(bad)
				t.Errorf("seed %d (fault: %q, %d nodes, storages %s): metrics differ from the model:\n%s",
					seed, est.faultName, len(est.model.Clusters[0].Nodes), describeStorages(est.model), strings.Join(bad, "\n"))
			}
		})
	}
	t.Logf("%d estates (%d with a fault, %d pbs places read through PVE, %d stale pins, %d second sites at one address): %d guests checked (%d absent under faults), %d groups checked, guest_in_job of %d guests checked (%d unknown: hidden pool), %d template labels checked",
		estates, faults, fallbacks, stalePins, sites, guestsChecked, guestsAbsent, groupsChecked, inJobChecked, inJobUnknown, templates)
}

// describeStorages summarises the storages of an estate for a failure
// message.
func describeStorages(m *emulator.Model) string {
	var out []string
	for _, st := range m.Clusters[0].Storages {
		d := st.ID + "(" + st.Type
		if st.Type == "pbs" {
			d += fmt.Sprintf(" %s:%s/%s fp=%q server=%q", st.PBS, st.Datastore, st.Namespace, st.Fingerprint, st.ServerName)
		}
		if len(st.Nodes) > 0 {
			d += " nodes=" + strings.Join(st.Nodes, ",")
		}
		if st.Disabled {
			d += " disabled"
		}
		out = append(out, d+")")
	}
	return strings.Join(out, " ")
}

// checkPlaceGroups compares the groups exported for one repository with
// the place's groups in the model and returns how many it checked.
func checkPlaceGroups(p *propPlace, repo string, exposed map[string][2]string, bad *[]string) int {
	n := 0
	for gk, g := range p.groups {
		n++
		got, ok := exposed[gk]
		if !ok {
			*bad = append(*bad, fmt.Sprintf("%s %s: absent, want %d snapshots", repo, gk, g.count))
			continue
		}
		if want := [2]string{strconv.Itoa(g.count), propFloat(g.last)}; got != want {
			*bad = append(*bad, fmt.Sprintf("%s %s: snapshots, last = %v, want %v", repo, gk, got, want))
		}
	}
	for gk, got := range exposed {
		if _, ok := p.groups[gk]; !ok && got[0] != "0" {
			*bad = append(*bad, fmt.Sprintf("%s %s: unexpected group %v", repo, gk, got))
		}
	}
	return n
}
