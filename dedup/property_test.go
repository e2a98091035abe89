package dedup

// Property test: random estates, generated from a model of where backups
// physically live ("places": a PBS datastore namespace, an NFS export, a
// node's local directory). The generator knows, for every storage, which
// place it shows; the collector is simulated by answering each planned
// listing from the place behind it. The expected per-guest and per-group
// counts are computed from the places directly (which places a cluster
// reaches, which of them can be read), never from the plan. The generator
// lives here, with a fixed list of seeds, because the emulator package is
// written concurrently; it can later be swapped for the emulator's model.

import (
	"fmt"
	"maps"
	"math/rand"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

type genSnapshot struct {
	typ, id    string
	t          int64
	inProgress bool
}

type genPlace struct {
	key    string
	kind   string // "pbs", "nfs", "local", "shareddir"
	server *genServer
	ds, ns string
	failed bool
	points []genSnapshot
}

type genDatastore struct {
	name       string
	namespaces []string
	up         bool // not in maintenance
	hidden     bool // the exporter's token cannot see it
}

type genServer struct {
	id, host, ip, fp string
	configured       bool
	targets          []string // configured names; two = one server configured twice
	up               bool
	stores           []*genDatastore
	allow            []string
}

// directReadable: the exporter reads the namespace from the PBS itself.
func (s *genServer) directReadable(ds, ns string) bool {
	if !s.configured || !s.up {
		return false
	}
	for _, d := range s.stores {
		if d.name == ds {
			return !d.hidden && d.up && s.allowed(ns)
		}
	}
	return false
}

func (s *genServer) allowed(ns string) bool {
	if len(s.allow) == 0 {
		return true
	}
	for _, a := range s.allow {
		if ns == a || (a != "" && strings.HasPrefix(ns, a+"/")) {
			return true
		}
	}
	return false
}

func (s *genServer) store(name string) *genDatastore {
	for _, d := range s.stores {
		if d.name == name {
			return d
		}
	}
	return nil
}

type genStorage struct {
	cluster  *Cluster
	cfg      proxmox.StorageConfig
	place    string   // shared storages
	local    bool     // node-local: one place per node
	nodes    []string // nodes that have it
	ignored  bool
	toPVE    bool
	backup   bool
	disabled bool
}

func (s *genStorage) active() bool { return s.backup && !s.disabled && !s.ignored }

type genWorld struct {
	e        Estate
	servers  []*genServer
	places   map[string]*genPlace
	storages map[string]*genStorage // "clusterTarget/storage"
	attrib   map[string]string      // PBS place key -> cluster (config route)
	online   map[string]bool        // "clusterTarget/node"
}

func localPlaceKey(cluster, node, storage string) string {
	return "local|" + cluster + "|" + node + "|" + storage
}

func genWorldFrom(seed int64) *genWorld {
	r := rand.New(rand.NewSource(seed))
	w := &genWorld{places: map[string]*genPlace{}, storages: map[string]*genStorage{}, attrib: map[string]string{}, online: map[string]bool{}}
	chance := func(p float64) bool { return r.Float64() < p }
	times := func() []int64 {
		var out []int64
		for i, n := 0, 1+r.Intn(4); i < n; i++ {
			// A small pool of times, so copies of one point show up in
			// several places.
			out = append(out, t0+int64(r.Intn(12))*3600)
		}
		return out
	}
	ids := []string{"100", "101", "102", "103", "104", "105"}
	fillPoints := func(p *genPlace, pbs bool) {
		for _, id := range ids {
			if !chance(0.45) {
				continue
			}
			typ := "vm"
			if chance(0.4) {
				typ = "ct"
			}
			for _, t := range times() {
				p.points = append(p.points, genSnapshot{typ: typ, id: id, t: t})
			}
			if pbs && chance(0.1) {
				p.points = append(p.points, genSnapshot{typ: typ, id: id, t: t0 + 100*3600, inProgress: true})
			}
		}
		if pbs && chance(0.3) {
			p.points = append(p.points, genSnapshot{typ: "host", id: "pve-host", t: t0})
		}
		if pbs && chance(0.2) {
			p.points = append(p.points, genSnapshot{typ: "vm", id: "web", t: t0}) // not numeric: PVE hides it
		}
		p.failed = p.failed || chance(0.07)
	}

	// PBS servers and their namespaces.
	targetNames := []string{"pbs1", "backup", "pbs-main", "offsite", "vault"}
	r.Shuffle(len(targetNames), func(i, j int) { targetNames[i], targetNames[j] = targetNames[j], targetNames[i] })
	for i, n := 0, 1+r.Intn(3); i < n; i++ {
		fp := make([]string, 32)
		for j := range fp {
			fp[j] = fmt.Sprintf("%02X", r.Intn(256))
		}
		s := &genServer{id: fmt.Sprintf("srv%d", i), host: fmt.Sprintf("pbs%d.lan", i), ip: fmt.Sprintf("10.0.0.%d", i+10),
			fp: strings.Join(fp, ":"), configured: chance(0.75), up: chance(0.85)}
		if s.configured {
			s.targets = []string{targetNames[0]}
			targetNames = targetNames[1:]
			if chance(0.15) {
				s.targets = append(s.targets, targetNames[0])
				targetNames = targetNames[1:]
			}
		}
		for j, m := 0, 1+r.Intn(2); j < m; j++ {
			d := &genDatastore{name: fmt.Sprintf("store%d", j), up: chance(0.9), hidden: s.configured && chance(0.1), namespaces: []string{""}}
			for _, ns := range []string{"a", "a/b", "b", "c", "c/d"} {
				if chance(0.4) {
					if parent, _, nested := strings.Cut(ns, "/"); nested && !contains(d.namespaces, parent) {
						d.namespaces = append(d.namespaces, parent)
					}
					if !contains(d.namespaces, ns) {
						d.namespaces = append(d.namespaces, ns)
					}
				}
			}
			sort.Strings(d.namespaces)
			s.stores = append(s.stores, d)
			for _, ns := range d.namespaces {
				p := &genPlace{key: "pbs|" + s.id + "|" + d.name + "|" + ns, kind: "pbs", server: s, ds: d.name, ns: ns,
					failed: !s.up || !d.up}
				fillPoints(p, true)
				w.places[p.key] = p
			}
		}
		if s.configured && chance(0.15) {
			s.allow = []string{"", "a"}
		}
		w.servers = append(w.servers, s)
	}
	for _, s := range w.servers {
		if !s.configured {
			continue
		}
		for i, t := range s.targets {
			ep := s.host + ":8007"
			if i > 0 {
				ep = s.ip // the same server under its address
			}
			p := PBS{Target: t, Endpoints: []string{ep}, Fingerprint: strings.ToLower(s.fp), Up: s.up, Namespaces: s.allow}
			for _, d := range s.stores {
				if !d.hidden {
					p.Datastores = append(p.Datastores, Datastore{Name: d.name, Up: d.up, Namespaces: d.namespaces})
				}
			}
			w.e.PBS = append(w.e.PBS, p)
		}
	}
	pbsPlaces := func() []*genPlace {
		var out []*genPlace
		for _, p := range w.places {
			if p.kind == "pbs" {
				out = append(out, p)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
		return out
	}()

	// NFS exports, shared by clusters.
	var exports []*genPlace
	for i, n := 0, 1+r.Intn(2); i < n; i++ {
		p := &genPlace{key: fmt.Sprintf("nfs|nas.lan|/export%d", i), kind: "nfs"}
		fillPoints(p, false)
		w.places[p.key] = p
		exports = append(exports, p)
	}

	// Clusters. hostClusters is the last cluster that names a server by
	// its host name, unpinnedHost the one that does without a pin.
	hostClusters, unpinnedHost := map[string]string{}, map[string]string{}
	storageNames := []string{"backup-server", "pbs", "pbs-backups", "local", "nfs", "store", "offsite", "dump"}
	for ci, nc := 0, 1+r.Intn(3); ci < nc; ci++ {
		c := Cluster{Target: fmt.Sprintf("pve-c%d", ci), Name: fmt.Sprintf("c%d", ci), Up: chance(0.9)}
		for ni, nn := 0, 1+r.Intn(4); ni < nn; ni++ {
			node := proxmox.Node{Node: fmt.Sprintf("c%dn%d", ci, ni), Status: "online"}
			if chance(0.15) {
				node.Status = "offline"
			}
			w.online[c.Target+"/"+node.Node] = node.Online()
			c.Nodes = append(c.Nodes, node)
		}
		// Guests: VMIDs are unique within a cluster, across types.
		for _, id := range ids {
			if chance(0.6) {
				g := vm(0, c.Nodes[r.Intn(len(c.Nodes))].Node)
				if chance(0.4) {
					g = ct(0, g.Node)
				}
				fmt.Sscan(id, &g.VMID)
				g.ID = strings.Split(g.ID, "/")[0] + "/" + id
				c.Guests = append(c.Guests, g)
			}
		}
		names := append([]string(nil), storageNames...)
		r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		w.e.Clusters = append(w.e.Clusters, c)
		cp := &w.e.Clusters[len(w.e.Clusters)-1]
		for si, ns := 0, 1+r.Intn(5); si < ns; si++ {
			gs := &genStorage{cluster: cp, backup: true}
			name := names[si]
			switch k := r.Intn(4); {
			case k == 0 || k == 1: // pbs
				p := pbsPlaces[r.Intn(len(pbsPlaces))]
				s := p.server
				gs.cfg = pbsStorage(name, s.host, p.ds, p.ns, "")
				switch {
				case !s.configured || chance(0.5):
					// A pinned fingerprint, in any format, with the host
					// name or the address.
					fp := s.fp
					if chance(0.5) {
						fp = strings.ToLower(fp)
					}
					if chance(0.3) {
						fp = strings.ReplaceAll(fp, ":", "")
					}
					gs.cfg.Fingerprint = fp
					if chance(0.5) {
						gs.cfg.Server = s.ip
					}
				default:
					// No fingerprint: a CA-signed certificate, so the
					// server is named as the exporter names it.
					if chance(0.3) {
						gs.cfg.Server = strings.ToUpper(s.host)
						gs.cfg.Port = 8007
					}
				}
				// An address without a pin is one place only with evidence
				// once pbs storages of two clusters name it (WarnUnprovenAddress;
				// its own tests): the world keeps it to one cluster, naming
				// the server by address elsewhere.
				if gs.cfg.Fingerprint == "" && hostClusters[s.id] != "" && hostClusters[s.id] != c.Name {
					gs.cfg.Fingerprint, gs.cfg.Server, gs.cfg.Port = s.fp, s.ip, 0
				}
				if gs.cfg.Fingerprint != "" && gs.cfg.Server != s.ip && unpinnedHost[s.id] != "" && unpinnedHost[s.id] != c.Name {
					gs.cfg.Server = s.ip
				}
				if gs.cfg.Server != s.ip {
					hostClusters[s.id] = c.Name
					if gs.cfg.Fingerprint == "" {
						unpinnedHost[s.id] = c.Name
					}
				}
				gs.place = p.key
				gs.toPVE = chance(0.08)
			case k == 2: // nfs
				p := exports[r.Intn(len(exports))]
				gs.cfg = nfsStorage(name, "nas.lan", strings.TrimPrefix(p.key, "nfs|nas.lan|"))
				if chance(0.3) {
					gs.cfg.Export += "/"
					gs.cfg.Server = "NAS.lan"
				}
				gs.place = p.key
			default: // dir: node-local, or marked shared
				gs.cfg = dirStorage(name, "backup")
				if chance(0.25) {
					gs.cfg.Shared = true
					p := &genPlace{key: "sdir|" + c.Name + "|" + name, kind: "shareddir"}
					fillPoints(p, false)
					w.places[p.key] = p
					gs.place = p.key
				} else {
					gs.local = true
				}
			}
			// Nodes restriction.
			for _, n := range c.Nodes {
				gs.nodes = append(gs.nodes, n.Node)
			}
			if chance(0.2) && len(gs.nodes) > 1 {
				gs.nodes = gs.nodes[:1+r.Intn(len(gs.nodes)-1)]
				gs.cfg.Nodes = strings.Join(gs.nodes, ",")
			}
			if gs.local {
				for _, n := range gs.nodes {
					p := &genPlace{key: localPlaceKey(c.Name, n, name), kind: "local"}
					fillPoints(p, false)
					w.places[p.key] = p
				}
			}
			switch {
			case chance(0.08):
				gs.cfg.Disable, gs.disabled = true, true
			case chance(0.05):
				gs.cfg.Content, gs.backup = "iso,vztmpl", false
			case chance(0.2):
				gs.cfg.Content = "iso,backup,vztmpl"
			}
			if chance(0.05) {
				gs.ignored = true
				w.e.Overrides = append(w.e.Overrides, Override{Cluster: c.Name, Storage: name, To: "ignore"})
			} else if gs.toPVE {
				w.e.Overrides = append(w.e.Overrides, Override{Cluster: c.Name, Storage: name, To: "pve"})
			}
			cp.Storages = append(cp.Storages, gs.cfg)
			w.storages[c.Target+"/"+name] = gs
		}
	}
	// Config routes attributing namespaces of configured servers (which
	// may be down this scrape, like an offsite PBS powered off).
	for _, p := range pbsPlaces {
		if p.server.configured && !p.server.store(p.ds).hidden && p.server.allowed(p.ns) && chance(0.15) {
			c := w.e.Clusters[r.Intn(len(w.e.Clusters))]
			w.attrib[p.key] = c.Name
			w.e.Overrides = append(w.e.Overrides, Override{PBS: p.server.targets[0], Datastore: p.ds, Namespace: p.ns, Cluster: c.Name})
		}
	}
	return w
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (w *genWorld) serverOfTarget(target string) *genServer {
	for _, s := range w.servers {
		if contains(s.targets, target) {
			return s
		}
	}
	return nil
}

// fetch answers the plan's listings from the places, as the collector
// would: a PBS namespace from its server, a PVE storage from the node it is
// listed on (PVE shows a PBS namespace's numeric vm/ct snapshots only,
// with size 1 while in progress).
func (w *genWorld) fetch(p Plan) Listings {
	l := Listings{PVE: map[string]PVEResult{}, PBS: map[string]PBSResult{}}
	for _, x := range p.PBSListings {
		pl := w.places["pbs|"+w.serverOfTarget(x.PBSTarget).id+"|"+x.Datastore+"|"+x.Namespace]
		if pl == nil || pl.failed {
			l.PBS[x.Repository] = PBSResult{Err: fmt.Errorf("failed")}
			continue
		}
		var snaps []proxmox.Snapshot
		for _, s := range pl.points {
			sn := snapshot(s.typ, s.id, s.t)
			if s.inProgress {
				sn.Size = nil
			}
			snaps = append(snaps, sn)
		}
		l.PBS[x.Repository] = PBSResult{Groups: SummarizeSnapshots(snaps)}
	}
	for _, x := range p.PVEListings {
		gs := w.storages[x.ClusterTarget+"/"+x.Storage]
		node := x.Nodes[0]
		if gs == nil || !w.online[x.ClusterTarget+"/"+node] || !contains(gs.nodes, node) {
			l.PVE[x.Repository] = PVEResult{Err: fmt.Errorf("bad listing %+v", x)}
			continue
		}
		key := gs.place
		if gs.local {
			key = localPlaceKey(gs.cluster.Name, node, x.Storage)
		}
		pl := w.places[key]
		if pl.failed {
			l.PVE[x.Repository] = PVEResult{Err: fmt.Errorf("failed"), Node: node}
			continue
		}
		vols := []proxmox.BackupVolume{}
		for _, s := range pl.points {
			var id int
			if _, err := fmt.Sscan(s.id, &id); err != nil || (s.typ != "vm" && s.typ != "ct") {
				continue
			}
			if pl.kind == "pbs" {
				size := int64(4096)
				if s.inProgress {
					size = 1
				}
				vols = append(vols, pbsVolume(x.Storage, s.typ, id, s.t, size))
				continue
			}
			vols = append(vols, vzdumpVolume(x.Storage, map[string]string{"vm": "qemu", "ct": "lxc"}[s.typ], id, s.t))
		}
		l.PVE[x.Repository] = PVEResult{Volumes: vols, Node: node}
	}
	return l
}

// place is the place behind a key; a site key (see site) names the
// place it is part of.
func (w *genWorld) place(key string) *genPlace {
	k, _, _ := strings.Cut(key, "@")
	return w.places[k]
}

// site is the key under which a cluster counts a shared NFS place: the
// place itself when the exporter has evidence that it is one place (the
// storages of at least two clusters list it, with the same files, since
// it is one place), else the cluster's own view of it ("key@cluster"):
// an address is no proof of one place.
func (w *genWorld) site(key, cluster string) string {
	p := w.places[key]
	if p == nil || p.kind != "nfs" {
		return key
	}
	readers := map[string]bool{}
	for _, gs := range w.storages {
		if gs.place != key || !gs.cluster.Up || !gs.active() {
			continue
		}
		for _, n := range gs.nodes {
			if w.online[gs.cluster.Target+"/"+n] {
				readers[gs.cluster.Name] = true
			}
		}
	}
	evidence := false
	for _, s := range p.points {
		var id int
		if _, err := fmt.Sscan(s.id, &id); err == nil && (s.typ == "vm" || s.typ == "ct") {
			evidence = true
		}
	}
	if !p.failed && evidence && len(readers) >= 2 && readers[cluster] {
		return key
	}
	return key + "@" + cluster
}

// reach lists the places whose backups a cluster's guests count: those of
// its active storages (node-local ones on every node that has them) and
// namespaces a config route attributes to it.
func (w *genWorld) reach(c Cluster) []string {
	set := map[string]bool{}
	for _, s := range c.Storages {
		gs := w.storages[c.Target+"/"+s.Storage]
		if !gs.active() {
			continue
		}
		if gs.local {
			for _, n := range gs.nodes {
				set[localPlaceKey(c.Name, n, s.Storage)] = true
			}
			continue
		}
		set[w.site(gs.place, c.Name)] = true
	}
	for k, cl := range w.attrib {
		if cl == c.Name {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// readable: some path can read the place this scrape.
func (w *genWorld) readable(key string) bool {
	p := w.place(key)
	if p.failed {
		return false
	}
	key, only, _ := strings.Cut(key, "@")
	if p.kind == "pbs" && p.server.directReadable(p.ds, p.ns) {
		return true
	}
	for _, gs := range w.storages {
		if !gs.cluster.Up || !gs.active() || (only != "" && gs.cluster.Name != only) {
			continue
		}
		for _, n := range gs.nodes {
			if !w.online[gs.cluster.Target+"/"+n] {
				continue
			}
			if gs.place == key || (gs.local && localPlaceKey(gs.cluster.Name, n, gs.cfg.Storage) == key) {
				return true
			}
		}
	}
	return false
}

// viaPVE: the place is read through PVE (only numeric vm/ct visible).
func (w *genWorld) viaPVE(key string) bool {
	p := w.place(key)
	return p.kind != "pbs" || !p.server.directReadable(p.ds, p.ns)
}

func (w *genWorld) completed(key, typ, id string) map[int64]bool {
	out := map[int64]bool{}
	for _, s := range w.place(key).points {
		if s.typ == typ && s.id == id && !s.inProgress {
			out[s.t] = true
		}
	}
	return out
}

// placeOf maps a repository back to the place it shows, using the
// generator's own storage table.
func (w *genWorld) placeOf(r Repository) string {
	if r.Kind == KindPBS {
		return "pbs|" + w.serverOfTarget(r.Target).id + "|" + r.Datastore + "|" + r.Namespace
	}
	gs := w.storages[r.Target+"/"+r.Storage]
	if gs.local {
		return localPlaceKey(gs.cluster.Name, r.Node, r.Storage)
	}
	return w.site(gs.place, gs.cluster.Name)
}

// attribution: the cluster a place's groups are labelled with.
func (w *genWorld) attribution(key string) string {
	if c, ok := w.attrib[key]; ok {
		return c
	}
	if _, c, ok := strings.Cut(key, "@"); ok {
		return c
	}
	p := w.place(key)
	set := map[string]bool{}
	for _, gs := range w.storages {
		if !gs.active() {
			continue
		}
		if gs.place == key || (gs.local && strings.HasPrefix(key, "local|"+gs.cluster.Name+"|") && strings.HasSuffix(key, "|"+gs.cfg.Storage)) {
			// A down cluster's last known pbs storages still attribute
			// namespaces that are read directly.
			if gs.cluster.Up || (p.kind == "pbs" && p.server.directReadable(p.ds, p.ns)) {
				set[gs.cluster.Name] = true
			}
		}
	}
	if len(set) == 1 {
		return slices.Sorted(maps.Keys(set))[0]
	}
	return ""
}

func TestPropertyCountsMatchGroundTruth(t *testing.T) {
	seeds := 400
	if testing.Short() {
		seeds = 60
	}
	var stats struct{ guests, unknown, known, groups, dups int }
	start := time.Now()
	for seed := int64(1); seed <= int64(seeds); seed++ {
		w := genWorldFrom(seed)
		p := BuildPlan(w.e)
		checkPlanInvariants(t, p)
		l := w.fetch(p)
		p = JoinSamePlaces(p, l)
		res := Merge(w.e, p, l)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Errorf("seed %d: "+format, append([]any{seed}, args...)...)
		}

		// Every place is read by at most one repository, and every
		// readable place some Up cluster reaches (or that is read
		// directly) is read by exactly one.
		readBy := map[string][]string{}
		for _, r := range p.Repositories {
			readBy[w.placeOf(r)] = append(readBy[w.placeOf(r)], r.Name)
		}
		for key, names := range readBy {
			if len(names) > 1 {
				fail("place %s is read by %v", key, names)
			}
		}
		for _, c := range w.e.Clusters {
			if !c.Up {
				continue
			}
			for _, key := range w.reach(c) {
				if w.readable(key) && len(readBy[key]) != 1 {
					fail("readable place %s of %s not planned (%v)", key, c.Name, readBy[key])
				}
			}
		}

		// Per group per repository.
		repos := map[string]Repository{}
		for _, r := range p.Repositories {
			repos[r.Name] = r
		}
		seenGroups := map[string]bool{}
		for _, g := range res.Groups {
			stats.groups++
			r := repos[g.Repository]
			key := w.placeOf(r)
			want := w.completed(key, g.BackupType, g.BackupID)
			if g.Snapshots != len(want) {
				fail("group %s %s/%s: %d snapshots, want %d", g.Repository, g.BackupType, g.BackupID, g.Snapshots, len(want))
			}
			if wc := w.attribution(key); g.Cluster != wc {
				fail("group %s %s/%s: cluster %q, want %q", g.Repository, g.BackupType, g.BackupID, g.Cluster, wc)
			}
			if w.viaPVE(key) && !visibleThroughPVE(GroupSummary{BackupType: g.BackupType, BackupID: g.BackupID}) {
				fail("group %s %s/%s cannot be seen through PVE", g.Repository, g.BackupType, g.BackupID)
			}
			seenGroups[key+"|"+g.BackupType+"|"+g.BackupID] = true
		}
		for key, names := range readBy {
			if !res.RepositoryUp[names[0]] {
				if w.readable(key) && !w.place(key).failed && repos[names[0]].Unreadable == "" {
					fail("repository %s of readable place %s is down", names[0], key)
				}
				continue
			}
			if w.place(key).failed {
				fail("repository %s of failed place %s is up", names[0], key)
			}
			for _, s := range w.place(key).points {
				if w.viaPVE(key) && !visibleThroughPVE(GroupSummary{BackupType: s.typ, BackupID: s.id}) {
					continue
				}
				if !seenGroups[key+"|"+s.typ+"|"+s.id] {
					fail("group %s/%s of place %s missing from %s", s.typ, s.id, key, names[0])
				}
			}
		}

		// Per guest.
		got := map[GuestKey]GuestAggregate{}
		for _, g := range res.Guests {
			got[GuestKey{g.Cluster, g.BackupType, g.BackupID}] = g
		}
		for _, c := range w.e.Clusters {
			if !c.Up {
				continue
			}
			places := w.reach(c)
			known := true
			for _, key := range places {
				known = known && w.readable(key)
			}
			for _, g := range c.Guests {
				stats.guests++
				k := GuestKey{c.Name, proxmox.BackupTypeOfGuest(g.Type), guestID(g)}
				a, ok := got[k]
				if !ok {
					fail("guest %v missing", k)
					continue
				}
				if a.Known != known {
					fail("guest %v: known=%v, want %v (places %v)", k, a.Known, known, places)
					continue
				}
				if !known {
					stats.unknown++
					if a.Snapshots != 0 || a.Last != 0 || a.LastCopies != 0 {
						fail("unknown guest %v carries numbers: %+v", k, a)
					}
					continue
				}
				stats.known++
				union := map[int64]bool{}
				var last int64
				for _, key := range places {
					for t := range w.completed(key, k.BackupType, k.BackupID) {
						union[t] = true
						last = max(last, t)
					}
				}
				copies := 0
				for _, key := range places {
					if last != 0 && w.completed(key, k.BackupType, k.BackupID)[last] {
						copies++
					}
				}
				if a.Snapshots != len(union) || a.Last != last || a.LastCopies != copies {
					fail("guest %v: snapshots=%d last=%d copies=%d, want %d %d %d", k, a.Snapshots, a.Last, a.LastCopies, len(union), last, copies)
				}
			}
			delete(got, GuestKey{}) // no zero keys expected
		}
		if len(res.Guests) != countGuests(w.e) {
			fail("%d guest aggregates, want %d", len(res.Guests), countGuests(w.e))
		}
		for _, v := range res.Duplicates {
			stats.dups += v
		}
	}
	t.Logf("%d estates in %v: %d guests (%d known, %d unknown), %d groups, %d duplicate reads avoided",
		seeds, time.Since(start).Round(time.Millisecond), stats.guests, stats.known, stats.unknown, stats.groups, stats.dups)
	// The generator must exercise both sides of "unknown is never zero".
	if stats.unknown < seeds/10 || stats.known < seeds/2 || stats.dups == 0 {
		t.Errorf("generator too tame: %+v", stats)
	}
}

func countGuests(e Estate) int {
	n := 0
	for _, c := range e.Clusters {
		if c.Up {
			n += len(c.Guests)
		}
	}
	return n
}
