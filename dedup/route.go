package dedup

// This file builds the routing plan: for every PVE storage with backup
// content its route and repository, for every PBS namespace its
// repository, and exactly the listings to fetch. Routing is by storage
// TYPE, never by name. Every repository has an identity key; two paths to
// one key are read once (the others are Plan.Suppressed).
//
// Order of work (it matters for which path is read):
//  1. PBS namespaces of every Up datastore of every Up PBS are planned
//     first, as direct reads: they are the richest view (verification,
//     host backups, every namespace).
//  2. Storages of every Up cluster, clusters and storages sorted by name.
//     A storage whose repository key is already planned joins that
//     repository instead of being read again.
//  3. Cluster attribution of every repository.

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// DefaultPBSPort is the port of a pbs storage without one.
const DefaultPBSPort = 8007

// Ways a pbs storage is matched to a configured PBS (StorageRoute.MatchedBy).
const (
	MatchOverride    = "override"
	MatchFingerprint = "fingerprint"
	MatchHostPort    = "host_port"
)

// Override destinations besides a PBS target name.
const (
	OverrideToPVE    = "pve"
	OverrideToIgnore = "ignore"
)

// sharedTypes are the storage types PVE forces to shared=1 (pve-storage
// Plugin.pm @SHARED_STORAGE).
var sharedTypes = map[string]bool{
	"nfs": true, "cifs": true, "cephfs": true, "rbd": true, "iscsi": true,
	"iscsidirect": true, "glusterfs": true, "zfs": true, "drbd": true, "pbs": true,
}

// hasBackupContent reports whether a storage holds backups. A pbs storage
// holds nothing else, so an absent content means backup.
func hasBackupContent(s proxmox.StorageConfig) bool {
	if s.Type == "pbs" && strings.TrimSpace(s.Content) == "" {
		return true
	}
	for _, c := range strings.Split(s.Content, ",") {
		if strings.TrimSpace(c) == "backup" {
			return true
		}
	}
	return false
}

// keyPart escapes a free-form key component.
func keyPart(s string) string {
	return strings.NewReplacer("%", "%25", "|", "%7C").Replace(s)
}

func joinKey(parts ...string) string {
	for i, p := range parts {
		parts[i] = keyPart(p)
	}
	return strings.Join(parts, "|")
}

// NormalizeNamespace trims slashes and spaces: "" is the root namespace.
func NormalizeNamespace(ns string) string { return strings.Trim(strings.TrimSpace(ns), "/") }

// NormalizeHostPort lower-cases the host of "host[:port]" (IPv6 in
// brackets, or bare) and adds defaultPort when the port is missing.
func NormalizeHostPort(s string, defaultPort int) string {
	s = strings.TrimSpace(s)
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		if i := strings.Index(s, "]"); i > 0 {
			host = s[1:i]
			port = strings.TrimPrefix(s[i+1:], ":")
		}
	case strings.Count(s, ":") == 1:
		host, port, _ = strings.Cut(s, ":")
	}
	if port == "" {
		port = strconv.Itoa(defaultPort)
	}
	return hostPort(host, port)
}

// hostPort formats a host (name, IPv4, or IPv6 with or without brackets)
// and a port as a comparable "host:port": host lower-cased, trailing dot
// dropped, IPv6 in brackets.
func hostPort(host, port string) string {
	host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(host), "["), "]")
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// PBSRepositoryName is the repository label of a PBS namespace.
func PBSRepositoryName(pbs, datastore, namespace string) string {
	if namespace == "" {
		return pbs + ":" + datastore
	}
	return pbs + ":" + datastore + "/" + namespace
}

// pbsInfo is a configured PBS prepared for matching.
type pbsInfo struct {
	target    string
	fp        string // canonical fingerprint, "" when unknown
	identity  string
	endpoints map[string]bool
	up        bool
	stores    map[string]Datastore
	allow     []string
	canonical *pbsInfo // the target read for this identity (itself if so)
}

func (p *pbsInfo) allowed(ns string) bool {
	if len(p.allow) == 0 {
		return true
	}
	for _, a := range p.allow {
		a = NormalizeNamespace(a)
		if ns == a || (a != "" && strings.HasPrefix(ns, a+"/")) {
			return true
		}
	}
	return false
}

func (p *pbsInfo) namespaces(ds Datastore) []string {
	set := map[string]bool{"": true}
	for _, ns := range ds.Namespaces {
		set[NormalizeNamespace(ns)] = true
	}
	return slices.Sorted(maps.Keys(set))
}

func pbsKey(identity, datastore, namespace string) string {
	return joinKey("pbs", identity, datastore, namespace)
}

// planner carries the state of one BuildPlan call.
type planner struct {
	e        Estate
	plan     Plan
	pbs      []*pbsInfo
	byTarget map[string]*pbsInfo
	byKey    map[string]*Repository // planned repositories by key
	names    map[string]string      // repository name -> key
	// storageClusters are the clusters whose storages reach a repository
	// key (attribution).
	storageClusters map[string]map[string]bool
	warned          map[Warning]bool
	// serverFP maps a PBS "host:port" to the one fingerprint pbs storages
	// state for it ("" when they state none or disagree), so a storage
	// that names the server without a fingerprint has the same identity as
	// one that pins it.
	serverFP map[string]string
	// addresses are the shared file repositories by the network address
	// their storage names, in planning order (see Plan.SameAddress).
	addresses map[string][]string
	// declared maps "cluster\x00storage" to the place a config route
	// same_as declares it one with (see declaredPlaces).
	declared map[string]string
	// pbsAddressClusters counts, per PBS "host:port", the clusters whose
	// pbs storages name it (see addressEvidence).
	pbsAddressClusters map[string]int
}

func (pl *planner) warn(w Warning) {
	if !pl.warned[w] {
		pl.warned[w] = true
		pl.plan.Warnings = append(pl.plan.Warnings, w)
	}
}

func clusterName(c Cluster) string {
	if c.Name != "" {
		return c.Name
	}
	return c.Target
}

// newPlanner starts a plan: the PBS inventories prepared, and the PBS
// namespaces to read planned.
func newPlanner(e Estate) *planner {
	pl := &planner{
		e:               e,
		byTarget:        map[string]*pbsInfo{},
		byKey:           map[string]*Repository{},
		names:           map[string]string{},
		storageClusters: map[string]map[string]bool{},
		warned:          map[Warning]bool{},
		addresses:       map[string][]string{},
	}
	pl.preparePBS()
	pl.learnServerFingerprints()
	pl.countPBSAddresses()
	pl.planPBSNamespaces()
	return pl
}

// PlanPBS is the first phase of planning: the PBS namespaces to read,
// from the PBS inventories alone (see BuildPlan), in repository order.
func PlanPBS(pbs []PBS) []PBSListing {
	pl := newPlanner(Estate{PBS: pbs})
	pl.finish()
	return pl.plan.PBSListings
}

// BuildPlan decides where every backup is read from. It is pure and
// deterministic: the same Estate always gives the same Plan, in sorted
// order.
//
// Planning has two phases, because PBS namespaces can be read long before
// the PVE inventories are in: PlanPBS names the namespaces from the PBS
// inventories alone, and BuildPlan, given everything, is the plan of the
// scrape. The PBS listings of BuildPlan are a subset of PlanPBS's for the
// same PBS entries (pbs storages can only show that two configured
// targets are one server, whose namespaces are then read once).
func BuildPlan(e Estate) Plan {
	pl := newPlanner(e)
	clusters := append([]Cluster(nil), e.Clusters...)
	sort.SliceStable(clusters, func(a, b int) bool {
		if clusterName(clusters[a]) != clusterName(clusters[b]) {
			return clusterName(clusters[a]) < clusterName(clusters[b])
		}
		return clusters[a].Target < clusters[b].Target
	})
	pl.declared = pl.declaredPlaces(clusters)
	for _, c := range clusters {
		pl.planCluster(c)
	}
	pl.checkStorageOverrides(clusters)
	pl.attribute()
	pl.sameAddress()
	pl.finish()
	return pl.plan
}

// learnServerFingerprints fills serverFP from every cluster's pbs
// storages, per cluster: an address is only one server within one
// cluster's view (private addresses and split-horizon names repeat across
// sites), so another cluster's pin says nothing about it.
func (pl *planner) learnServerFingerprints() {
	pl.serverFP = map[string]string{}
	conflict := map[string]bool{}
	for _, c := range pl.e.Clusters {
		for _, s := range c.Storages {
			if s.Type != "pbs" || s.Fingerprint == "" {
				continue
			}
			fp, err := proxmox.NormalizeFingerprint(s.Fingerprint)
			if err != nil {
				continue
			}
			server := clusterServer(clusterName(c), storageServer(s))
			if old, ok := pl.serverFP[server]; ok && old != fp {
				conflict[server] = true
			}
			pl.serverFP[server] = fp
		}
	}
	for server := range conflict {
		pl.serverFP[server] = ""
	}
}

// countPBSAddresses fills pbsAddressClusters.
func (pl *planner) countPBSAddresses() {
	pl.pbsAddressClusters = map[string]int{}
	seen := map[string]bool{}
	for _, c := range pl.e.Clusters {
		for _, s := range c.Storages {
			if s.Type != "pbs" {
				continue
			}
			server := storageServer(s)
			if k := clusterServer(clusterName(c), server); !seen[k] {
				seen[k] = true
				pl.pbsAddressClusters[server]++
			}
		}
	}
}

// addressEvidence tells whether a pbs storage without a fingerprint, which
// names the address of configured PBS p, reaches p's datastore as its
// cluster sees it. Within one cluster the address is taken as it is (the
// contract's host:port match); once pbs storages of several clusters name
// it, it is a hint to check: the cluster pins p's certificate for that
// address in another storage, or PVE reports for the storage the size and
// use PBS reports for the datastore (use within 1 % of the size: a backup
// may run between the two reads). It returns why not, "" when proven.
func (pl *planner) addressEvidence(c Cluster, s proxmox.StorageConfig, p *pbsInfo) string {
	cname, server := clusterName(c), storageServer(s)
	if pl.pbsAddressClusters[server] < 2 {
		return ""
	}
	if fp := pl.serverFP[clusterServer(cname, server)]; fp != "" && fp == p.fp {
		return ""
	}
	ds := p.stores[s.Datastore]
	if ds.Total <= 0 {
		return fmt.Sprintf("names %s, where the exporter reads PBS %s, as do storages of other clusters; it pins no fingerprint and the size of datastore %s on %s is unknown, so nothing shows it is that PBS", server, p.target, s.Datastore, p.target)
	}
	seen := ""
	for _, node := range slices.Sorted(maps.Keys(c.NodeStorages)) {
		for _, row := range c.NodeStorages[node] {
			if row.Storage != s.Storage || row.Total <= 0 {
				continue
			}
			total, used := int64(row.Total), int64(row.Used)
			diff := used - ds.Used
			if total == ds.Total && max(diff, -diff) <= ds.Total/100 {
				return ""
			}
			seen = fmt.Sprintf("PVE node %s reports %d bytes, %d used", node, total, used)
		}
	}
	if seen == "" {
		seen = "PVE reports no size for it"
	}
	return fmt.Sprintf("names %s, where the exporter reads PBS %s, as do storages of other clusters; it pins no fingerprint, and %s where datastore %s on %s has %d bytes, %d used, so nothing shows it is that PBS", server, p.target, seen, s.Datastore, p.target, ds.Total, ds.Used)
}

// clusterServer is the serverFP key of a server as one cluster names it.
func clusterServer(cluster, server string) string { return cluster + "\x00" + server }

// storageServer is a pbs storage's "host:port" (port 8007 when unset). The
// server field holds a name or an address (IPv6 without brackets), never a
// port.
func storageServer(s proxmox.StorageConfig) string {
	port := int(s.Port)
	if port <= 0 {
		port = DefaultPBSPort
	}
	return hostPort(s.Server, strconv.Itoa(port))
}

func (pl *planner) preparePBS() {
	ps := append([]PBS(nil), pl.e.PBS...)
	sort.SliceStable(ps, func(a, b int) bool { return ps[a].Target < ps[b].Target })
	byIdentity := map[string][]*pbsInfo{}
	for _, p := range ps {
		if _, dup := pl.byTarget[p.Target]; dup {
			continue // the config loader rejects duplicate names
		}
		info := &pbsInfo{target: p.Target, up: p.Up, endpoints: map[string]bool{}, stores: map[string]Datastore{}, allow: p.Namespaces}
		if p.Fingerprint != "" {
			fp, err := proxmox.NormalizeFingerprint(p.Fingerprint)
			if err != nil {
				pl.warn(Warning{Kind: WarnBadFingerprint, Target: p.Target, Message: fmt.Sprintf("fingerprint seen on PBS %s ignored: %v", p.Target, err)})
			}
			info.fp = fp
		}
		eps := make([]string, 0, len(p.Endpoints))
		for _, ep := range p.Endpoints {
			n := NormalizeHostPort(ep, DefaultPBSPort)
			info.endpoints[n] = true
			eps = append(eps, n)
		}
		sort.Strings(eps)
		switch {
		case info.fp != "":
			info.identity = "fp:" + info.fp
		case len(eps) > 0:
			info.identity = "ep:" + eps[0]
		default:
			info.identity = "target:" + p.Target
		}
		for _, ds := range p.Datastores {
			info.stores[ds.Name] = ds
		}
		pl.pbs = append(pl.pbs, info)
		pl.byTarget[p.Target] = info
		byIdentity[info.identity] = append(byIdentity[info.identity], info)
	}
	ids := slices.Sorted(maps.Keys(byIdentity))
	for _, id := range ids {
		group := byIdentity[id]
		canon := group[0]
		for _, p := range group {
			if p.up {
				canon = p
				break
			}
		}
		for _, p := range group {
			p.canonical = canon
			if p != canon {
				pl.warn(Warning{Kind: WarnAmbiguousMapping, Target: p.target,
					Message: fmt.Sprintf("PBS targets %s and %s are one server (same certificate or address); its backups are read once, from %s", canon.target, p.target, canon.target)})
			}
		}
	}
}

// planPBSNamespaces plans a direct read of every allowed namespace of every
// Up datastore of every Up PBS that is the canonical target of its server.
func (pl *planner) planPBSNamespaces() {
	for _, p := range pl.pbs {
		if !p.up {
			continue
		}
		dsNames := slices.Sorted(maps.Keys(p.stores))
		for _, dsName := range dsNames {
			ds := p.stores[dsName]
			if !ds.Up {
				continue
			}
			for _, ns := range p.namespaces(ds) {
				if !p.allowed(ns) {
					continue
				}
				key := pbsKey(p.identity, dsName, ns)
				if p.canonical != p {
					// A second target for the same server: read once.
					if r := pl.byKey[key]; r != nil {
						pl.plan.Suppressed = append(pl.plan.Suppressed, SuppressedPath{
							Reason: DuplicateSameRepository, Repository: r.Name, PBSTarget: p.target, Datastore: dsName, Namespace: ns,
							Detail: fmt.Sprintf("PBS target %s is the same server as %s", p.target, p.canonical.target)})
					}
					continue
				}
				r := pl.addRepository(Repository{
					Name: PBSRepositoryName(p.target, dsName, ns), Key: key, Kind: KindPBS, Target: p.target,
					Datastore: dsName, Namespace: ns,
				})
				pl.plan.PBSListings = append(pl.plan.PBSListings, PBSListing{PBSTarget: p.target, Datastore: dsName, Namespace: ns, Repository: r.Name})
			}
		}
	}
}

// addRepository registers a new repository under a unique name.
func (pl *planner) addRepository(r Repository) *Repository {
	name := r.Name
	for i := 2; ; i++ {
		if _, taken := pl.names[name]; !taken {
			break
		}
		name = fmt.Sprintf("%s#%d", r.Name, i)
	}
	if name != r.Name {
		pl.warn(Warning{Kind: WarnNameClash, Cluster: r.Cluster, Storage: r.Storage, Target: r.Target,
			Message: fmt.Sprintf("repository name %s is taken; this one is called %s", r.Name, name)})
		r.Name = name
	}
	pl.names[r.Name] = r.Key
	rp := &r
	pl.byKey[r.Key] = rp
	return rp
}

func (pl *planner) reach(key, cluster string) {
	if cluster == "" {
		return
	}
	if pl.storageClusters[key] == nil {
		pl.storageClusters[key] = map[string]bool{}
	}
	pl.storageClusters[key][cluster] = true
}

// storageOverride returns the storage route override for a storage, the
// first in config order; a contradicting later one is reported.
func (pl *planner) storageOverride(c Cluster, storage string) (Override, bool) {
	var found Override
	ok := false
	for _, o := range pl.e.Overrides {
		if o.Storage == "" || o.SameAs != "" || o.Storage != storage || (o.Cluster != c.Name && o.Cluster != c.Target) {
			continue
		}
		if !ok {
			found, ok = o, true
			continue
		}
		if o.To != found.To {
			pl.warn(Warning{Kind: WarnOverrideConflict, Cluster: clusterName(c), Storage: storage,
				Message: fmt.Sprintf("routes for storage %s say both %q and %q; %q applies", storage, found.To, o.To, found.To)})
		}
	}
	return found, ok
}

// nodeSlot is one node that has a storage.
type nodeSlot struct {
	name   string
	online bool
	active int // 2 = row says active, 1 = no row, 0 = row says inactive
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' })
}

// nodesWith returns the cluster nodes that have the storage, sorted by
// name: within its nodes restriction, and not excluded by a node's own
// storage rows.
func nodesWith(c Cluster, s proxmox.StorageConfig) []nodeSlot {
	restrict := map[string]bool{}
	for _, n := range splitList(s.Nodes) {
		restrict[n] = true
	}
	var out []nodeSlot
	seen := map[string]bool{}
	for _, n := range c.Nodes {
		if n.Node == "" || seen[n.Node] {
			continue
		}
		seen[n.Node] = true
		if len(restrict) > 0 && !restrict[n.Node] {
			continue
		}
		slot := nodeSlot{name: n.Node, online: n.Online(), active: 1}
		if rows, ok := c.NodeStorages[n.Node]; ok && rows != nil {
			var row *proxmox.NodeStorage
			for i := range rows {
				if rows[i].Storage == s.Storage {
					row = &rows[i]
					break
				}
			}
			if row == nil || !bool(row.Enabled) {
				continue
			}
			if row.Active {
				slot.active = 2
			} else {
				slot.active = 0
			}
		}
		out = append(out, slot)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].name < out[b].name })
	return out
}

// isShared reports whether a storage has the same content on every node.
func isShared(c Cluster, s proxmox.StorageConfig) bool {
	if sharedTypes[s.Type] || bool(s.Shared) {
		return true
	}
	for _, rows := range c.NodeStorages {
		for _, r := range rows {
			if r.Storage == s.Storage && bool(r.Shared) {
				return true
			}
		}
	}
	return false
}

// candidates orders the online nodes of a shared storage for failover:
// nodes that report it active first, then those without a report, then
// inactive ones; by name within each group.
func candidates(slots []nodeSlot) []string {
	on := make([]nodeSlot, 0, len(slots))
	for _, s := range slots {
		if s.online {
			on = append(on, s)
		}
	}
	sort.SliceStable(on, func(a, b int) bool {
		if on[a].active != on[b].active {
			return on[a].active > on[b].active
		}
		return on[a].name < on[b].name
	})
	out := make([]string, len(on))
	for i, s := range on {
		out[i] = s.name
	}
	return out
}

// placeAddress is the network address a shared file storage names
// ("" when it names none: a shared dir, cephfs, glusterfs). It is a hint,
// never proof: private addresses and split-horizon names repeat across
// sites, so two clusters naming one address are one place only when their
// listings show it (JoinSamePlaces) or a config route declares it.
func placeAddress(s proxmox.StorageConfig) string {
	server := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s.Server), "."))
	switch {
	case s.Type == "nfs" && server != "" && s.Export != "":
		return joinKey("nfs", server, cleanPath(s.Export))
	case s.Type == "cifs" && server != "" && s.Share != "":
		return joinKey("cifs", server, strings.Trim(s.Share, "/"))
	}
	return ""
}

// cleanPath is an export path with one leading slash, no trailing or
// doubled ones.
func cleanPath(p string) string {
	p = "/" + strings.Trim(p, "/")
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return p
}

// fileKey is the identity of a shared file storage, and why two storages
// with it are one place. A config route same_as declares it; otherwise
// two NFS storages of one cluster on one server and export hold the same
// files (PVE writes to <mount>/dump). Across clusters an address is no
// identity (see placeAddress). CIFS may point at different
// subdirectories that the storage config we decode does not show, so it
// is never keyed by address: reading a place twice only costs a
// duplicate, merging two places would lose backups.
func (pl *planner) fileKey(cluster string, s proxmox.StorageConfig) (key, why string) {
	if place, ok := pl.declared[cluster+"\x00"+s.Storage]; ok {
		return joinKey("place", place), "declared by a config route same_as"
	}
	if addr := placeAddress(s); s.Type == "nfs" && addr != "" {
		return joinKey(addr, "in", cluster), "same NFS server and export in one cluster"
	}
	return joinKey("pve-shared", cluster, s.Storage), "same storage"
}

// declaredPlaces resolves the config's same_as routes: every storage they
// link, directly or through others, maps to one place named after the
// first of them by cluster and storage name. Routes naming a cluster or
// storage that is not there are reported and ignored (the config loader
// cannot know PVE's storages).
func (pl *planner) declaredPlaces(clusters []Cluster) map[string]string {
	parent := map[string]string{}
	find := func(x string) string {
		for parent[x] != "" && parent[x] != x {
			x = parent[x]
		}
		return x
	}
	// storageOf names a storage of an Up cluster with backup content as
	// "cluster\x00storage", by the cluster's name or target.
	storageOf := func(cluster, storage string) (string, bool) {
		for _, c := range clusters {
			if c.Name != cluster && c.Target != cluster {
				continue
			}
			for _, s := range c.Storages {
				if s.Storage == storage && hasBackupContent(s) && isShared(c, s) {
					return clusterName(c) + "\x00" + storage, true
				}
			}
		}
		return "", false
	}
	for _, o := range pl.e.Overrides {
		if o.SameAs == "" {
			continue
		}
		oc, os, _ := strings.Cut(o.SameAs, ":")
		a, okA := storageOf(o.Cluster, o.Storage)
		b, okB := storageOf(oc, os)
		if !okA || !okB {
			missing := o.Cluster + ":" + o.Storage
			if okA {
				missing = o.SameAs
			}
			pl.warn(Warning{Kind: WarnOverrideConflict, Cluster: o.Cluster, Storage: o.Storage,
				Message: fmt.Sprintf("route declares %s:%s the same place as %s, but %s is no shared storage with backup content of a cluster that is up; ignored", o.Cluster, o.Storage, o.SameAs, missing)})
			continue
		}
		ra, rb := find(a), find(b)
		if ra == rb {
			continue
		}
		if rb < ra {
			ra, rb = rb, ra
		}
		parent[ra], parent[rb] = ra, ra
	}
	out := map[string]string{}
	for x := range parent {
		out[x] = find(x)
	}
	return out
}

// sameAddress records the shared file repositories of different clusters
// whose storages name one address, for JoinSamePlaces to judge.
func (pl *planner) sameAddress() {
	for _, addr := range slices.Sorted(maps.Keys(pl.addresses)) {
		names := pl.addresses[addr]
		if len(names) < 2 {
			continue
		}
		pl.plan.SameAddress = append(pl.plan.SameAddress, SameAddress{Address: addr, Repositories: names})
	}
}

func (pl *planner) planCluster(c Cluster) {
	cname := clusterName(c)
	storages := append([]proxmox.StorageConfig(nil), c.Storages...)
	sort.SliceStable(storages, func(a, b int) bool { return storages[a].Storage < storages[b].Storage })
	seen := map[string]bool{}
	for _, s := range storages {
		if s.Storage == "" || seen[s.Storage] || !hasBackupContent(s) {
			continue
		}
		seen[s.Storage] = true
		if !c.Up {
			// No routing for a cluster whose inventory is down, but its
			// last known pbs storages still attribute PBS namespaces, so
			// labels do not flap while it is unreachable.
			if s.Type == "pbs" && !bool(s.Disable) {
				if o, ok := pl.storageOverride(c, s.Storage); ok && o.To == OverrideToIgnore {
					continue
				}
				if m := pl.matchPBS(c, s, false); m.route == RoutePBS {
					pl.reach(m.key, cname)
				}
			}
			continue
		}
		sr := StorageRoute{ClusterTarget: c.Target, Cluster: cname, Storage: s.Storage, StorageType: s.Type}
		if s.Disable {
			sr.Route, sr.Reason = RouteDisabled, "disabled in storage.cfg"
			pl.plan.Storages = append(pl.plan.Storages, sr)
			continue
		}
		o, hasOverride := pl.storageOverride(c, s.Storage)
		if hasOverride && o.To == OverrideToIgnore {
			sr.Route, sr.Reason, sr.MatchedBy = RouteIgnored, "ignored by a config route", ""
			pl.plan.Storages = append(pl.plan.Storages, sr)
			continue
		}
		if s.Type == "pbs" {
			pl.planPBSStorage(c, s, sr)
			continue
		}
		if hasOverride && o.To != OverrideToPVE {
			pl.warn(Warning{Kind: WarnOverrideConflict, Cluster: cname, Storage: s.Storage,
				Message: fmt.Sprintf("route of %s storage %s to PBS %s ignored: only pbs storages can be read from a PBS", s.Type, s.Storage, o.To)})
		}
		pl.planFileStorage(c, s, sr)
	}
}

// checkStorageOverrides reports storage routes that name no backup
// storage of an Up cluster (a typo would otherwise do nothing silently).
func (pl *planner) checkStorageOverrides(clusters []Cluster) {
	for _, o := range pl.e.Overrides {
		if o.Storage == "" || o.SameAs != "" { // same_as: see declaredPlaces
			continue
		}
		for _, c := range clusters {
			if !c.Up || (o.Cluster != c.Name && o.Cluster != c.Target) {
				continue
			}
			found := false
			for _, s := range c.Storages {
				found = found || (s.Storage == o.Storage && hasBackupContent(s))
			}
			if !found {
				pl.warn(Warning{Kind: WarnOverrideConflict, Cluster: clusterName(c), Storage: o.Storage,
					Message: fmt.Sprintf("route names storage %s of cluster %s, which has no such storage with backup content; ignored", o.Storage, clusterName(c))})
			}
		}
	}
}

// pbsMatch is the outcome of matching a pbs storage.
type pbsMatch struct {
	route     string // RoutePBS or RoutePVEFallback
	pbs       *pbsInfo
	by        string
	key       string // repository key (PBS identity, datastore, namespace)
	datastore string
	namespace string
	reason    string
	cause     string // StorageRoute.Cause of a fallback
	warning   *Warning
}

// matchPBS matches a pbs storage to a configured PBS: a config route, else
// the fingerprint the storage pins equal to the one seen on a PBS, else the
// storage's server:port equal to a PBS URL's host:port. The datastore and
// namespace must exist on it (and be allowed), and it must be up;
// otherwise the storage falls back to PVE with a reason. With honorPVE a
// config route "pve" forces the fallback.
func (pl *planner) matchPBS(c Cluster, s proxmox.StorageConfig, honorPVE bool) pbsMatch {
	cname := clusterName(c)
	ns := NormalizeNamespace(s.Namespace)
	m := pbsMatch{route: RoutePVEFallback, datastore: s.Datastore, namespace: ns}
	server := storageServer(s)
	storageFP := ""
	if s.Fingerprint != "" {
		fp, err := proxmox.NormalizeFingerprint(s.Fingerprint)
		if err != nil {
			pl.warn(Warning{Kind: WarnBadFingerprint, Cluster: cname, Storage: s.Storage,
				Message: fmt.Sprintf("fingerprint of storage %s ignored: %v", s.Storage, err)})
		}
		storageFP = fp
	}
	// ownKey is the address as a place of this cluster's own.
	ownKey := joinKey(pbsKey("ep:"+server, s.Datastore, ns), "in", cname)
	// The key of a read through PVE when no PBS matches: what the storage
	// itself says about the server, or what another storage naming the
	// same server pins (one place, whether a storage states the
	// fingerprint or not).
	switch {
	case storageFP != "":
		m.key = pbsKey("fp:"+storageFP, s.Datastore, ns)
	case pl.serverFP[clusterServer(cname, server)] != "":
		m.key = pbsKey("fp:"+pl.serverFP[clusterServer(cname, server)], s.Datastore, ns)
	default:
		// An address alone is one place only within the cluster: two
		// sites may both reach a different PBS at 10.0.0.5:8007.
		m.key = ownKey
	}
	fallback := func(kind, reason string, p *pbsInfo) pbsMatch {
		m.route, m.reason, m.cause = RoutePVEFallback, reason, kind
		if kind == "" {
			m.cause = CauseConfigRoute
		}
		target := ""
		if p != nil {
			target = p.target
		}
		if kind != "" {
			m.warning = &Warning{Kind: kind, Cluster: cname, Storage: s.Storage, Target: target, Message: fmt.Sprintf("storage %s: %s; read through PVE", s.Storage, reason)}
		}
		if m.pbs != nil && m.by == MatchHostPort && (m.pbs.fp == "" || pl.addressEvidence(c, s, m.pbs) != "") {
			// Matched by address to a PBS whose certificate the exporter
			// has not seen (it is down), or that nothing proves this
			// cluster reaches there (addressEvidence): the address is one
			// place only within the cluster.
			m.key = ownKey
		}
		return m
	}

	var cands []*pbsInfo
	if o, ok := pl.storageOverride(c, s.Storage); ok && o.To != OverrideToPVE && o.To != OverrideToIgnore {
		p := pl.byTarget[o.To]
		if p == nil {
			return fallback(WarnUnknownPBS, fmt.Sprintf("config route names PBS %q, which is not configured", o.To), nil)
		}
		cands, m.by = []*pbsInfo{p}, MatchOverride
	}
	if cands == nil && storageFP != "" {
		for _, p := range pl.pbs {
			if p.fp == storageFP {
				cands = append(cands, p)
			}
		}
		if cands != nil {
			m.by = MatchFingerprint
		}
	}
	if cands == nil && storageFP != "" {
		// A pin is evidence, and this one names no PBS we read. The PBS
		// at the storage's address presents another certificate, so PVE,
		// which checks the pin, cannot reach it either: its backups there
		// fail. Mapping the storage by address would hide that behind the
		// PBS's own data; it is read through PVE, where the failure shows
		// as a down repository and unknown guests.
		for _, p := range pl.pbs {
			if p.endpoints[server] && p.fp != "" {
				return fallback(WarnStalePin, fmt.Sprintf("pins fingerprint %s, but PBS %s at %s presents %s (a stale pin: PVE cannot reach it either)", storageFP, p.target, server, p.fp), p)
			}
		}
	}
	if cands == nil && storageFP == "" {
		// An address without a pin is a hint, the only one there is.
		for _, p := range pl.pbs {
			if p.endpoints[server] {
				cands = append(cands, p)
			}
		}
		if cands != nil {
			m.by = MatchHostPort
		}
	}
	if cands == nil {
		return fallback(WarnUnknownPBS, fmt.Sprintf("no configured PBS matches server %s (fingerprint %s)", server, orNone(storageFP)), nil)
	}
	// Several targets: fine if they are one server (same identity), else
	// we cannot know which one PVE talks to.
	p := cands[0].canonical
	for _, q := range cands[1:] {
		if q.canonical != p {
			names := make([]string, len(cands))
			for i, x := range cands {
				names[i] = x.target
			}
			reason := fmt.Sprintf("matches several PBS (%s) by %s", strings.Join(names, ", "), m.by)
			m.by = ""
			return fallback(WarnAmbiguousMapping, reason, nil)
		}
	}
	if len(cands) > 1 || cands[0] != p {
		pl.warn(Warning{Kind: WarnAmbiguousMapping, Cluster: cname, Storage: s.Storage, Target: p.target,
			Message: fmt.Sprintf("storage %s matches PBS targets that are one server; read from %s", s.Storage, p.target)})
	}
	m.pbs = p
	// Identity of the place, known now: the key is the same whether it is
	// read from the PBS or through PVE.
	m.key = pbsKey(p.identity, s.Datastore, ns)
	if honorPVE {
		if o, ok := pl.storageOverride(c, s.Storage); ok && o.To == OverrideToPVE {
			m.by = MatchOverride
			return fallback("", "config route says read through PVE", p)
		}
	}
	if !p.up {
		return fallback(WarnPBSDown, fmt.Sprintf("PBS %s is down", p.target), p)
	}
	ds, ok := p.stores[s.Datastore]
	if !ok {
		return fallback(WarnDatastoreMissing, fmt.Sprintf("PBS %s has no datastore %q", p.target, s.Datastore), p)
	}
	if !ds.Up {
		return fallback(WarnDatastoreDown, fmt.Sprintf("datastore %s on PBS %s is down (maintenance, unmounted or unreadable)", s.Datastore, p.target), p)
	}
	found := false
	for _, n := range p.namespaces(ds) {
		if n == ns {
			found = true
		}
	}
	if !found {
		return fallback(WarnNamespaceMissing, fmt.Sprintf("datastore %s on PBS %s has no namespace %q", s.Datastore, p.target, ns), p)
	}
	if !p.allowed(ns) {
		return fallback(WarnNamespaceMissing, fmt.Sprintf("namespace %q of %s is not in PBS %s's namespaces allow-list", ns, s.Datastore, p.target), p)
	}
	if m.by == MatchHostPort {
		// The address is a hint; across clusters it needs evidence, which
		// a PBS and datastore that answer can give. Without it the storage
		// is its own place within its cluster, read through PVE.
		if why := pl.addressEvidence(c, s, p); why != "" {
			m.pbs, m.key = nil, ownKey
			return fallback(WarnUnprovenAddress, why, nil)
		}
	}
	m.route = RoutePBS
	return m
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (pl *planner) planPBSStorage(c Cluster, s proxmox.StorageConfig, sr StorageRoute) {
	cname := clusterName(c)
	m := pl.matchPBS(c, s, true)
	if m.warning != nil {
		pl.warn(*m.warning)
	}
	sr.MatchedBy = m.by
	sr.Reason = m.reason
	slots := nodesWith(c, s)
	cands := candidates(slots)
	// A pbs route always finds its namespace planned by planPBSNamespaces
	// (same conditions); the check only keeps a bug from losing data.
	if r := pl.byKey[m.key]; m.route == RoutePBS && r != nil && r.Kind == KindPBS {
		sr.Route, sr.Repository, sr.Repositories = RoutePBS, r.Name, []string{r.Name}
		sr.PBSTarget, sr.Datastore, sr.Namespace = m.pbs.target, m.datastore, m.namespace
		pl.reach(m.key, cname)
		pl.plan.Storages = append(pl.plan.Storages, sr)
		pl.suppressPVEPaths(DuplicatePBSViaPVE, r.Name, cname, s.Storage, cands, true)
		return
	}
	sr.Route, sr.Cause = RoutePVEFallback, m.cause
	if m.pbs != nil {
		sr.PBSTarget = m.pbs.target
	}
	pl.planSharedPVE(c, s, sr, cands, Repository{
		Name: cname + ":" + s.Storage, Key: m.key, Kind: KindPVE, Target: c.Target,
		Datastore: s.Datastore, Namespace: m.namespace, Storage: s.Storage, StorageType: s.Type,
	}, "the same datastore and namespace is already read as %s")
}

// planSharedPVE plans a storage that is read once per cluster through PVE
// (a shared file storage or a pbs storage falling back). When another path
// already reads its repository key, the storage joins that repository and
// its reads are suppressed; if that repository could not be read because
// its own storage has no online node, this storage reads it instead.
func (pl *planner) planSharedPVE(c Cluster, s proxmox.StorageConfig, sr StorageRoute, cands []string, fresh Repository, sameReason string) {
	cname := clusterName(c)
	pl.reach(fresh.Key, cname)
	if r := pl.byKey[fresh.Key]; r != nil {
		sr.Repository, sr.Repositories = r.Name, []string{r.Name}
		sr.Reason = strings.TrimPrefix(sr.Reason+"; ", "; ") + fmt.Sprintf(sameReason, r.Name)
		pl.plan.Storages = append(pl.plan.Storages, sr)
		if r.Kind == KindPVE && r.Unreadable != "" && len(cands) > 0 {
			r.Unreadable = ""
			pl.listShared(c, r, s, cands)
			return
		}
		pl.suppressPVEPaths(DuplicateSameRepository, r.Name, cname, s.Storage, cands, true)
		return
	}
	r := pl.addRepository(fresh)
	sr.Repository, sr.Repositories = r.Name, []string{r.Name}
	pl.plan.Storages = append(pl.plan.Storages, sr)
	pl.listShared(c, r, s, cands)
}

// listShared plans the one listing of a shared storage, from the first of
// its online nodes, or marks it unreadable when no online node has it.
func (pl *planner) listShared(c Cluster, r *Repository, s proxmox.StorageConfig, cands []string) {
	if len(cands) == 0 {
		r.Unreadable = "no online node has storage " + s.Storage
		return
	}
	pl.plan.PVEListings = append(pl.plan.PVEListings, PVEListing{ClusterTarget: c.Target, Storage: s.Storage, Nodes: cands, Repository: r.Name})
	for _, n := range cands[1:] {
		pl.plan.Suppressed = append(pl.plan.Suppressed, SuppressedPath{
			Reason: DuplicateSharedStorage, Repository: r.Name, Cluster: clusterName(c), Storage: s.Storage, Node: n, PVEView: true,
			Detail: "shared storage shows the same backups on every node"})
	}
}

// suppressPVEPaths records the PVE reads of a storage that the plan leaves
// out: the first with reason, the ones on further nodes as shared_storage.
func (pl *planner) suppressPVEPaths(reason, repo, cluster, storage string, cands []string, pveView bool) {
	first := ""
	if len(cands) > 0 {
		first = cands[0]
	}
	pl.plan.Suppressed = append(pl.plan.Suppressed, SuppressedPath{Reason: reason, Repository: repo, Cluster: cluster, Storage: storage, Node: first, PVEView: pveView,
		Detail: map[string]string{
			DuplicatePBSViaPVE:      "pbs storage whose datastore and namespace are read from the PBS directly",
			DuplicateSameRepository: "storage reaches a repository that is already read",
		}[reason]})
	for _, n := range cands[min(1, len(cands)):] {
		pl.plan.Suppressed = append(pl.plan.Suppressed, SuppressedPath{
			Reason: DuplicateSharedStorage, Repository: repo, Cluster: cluster, Storage: storage, Node: n, PVEView: pveView,
			Detail: "shared storage shows the same backups on every node"})
	}
}

func (pl *planner) planFileStorage(c Cluster, s proxmox.StorageConfig, sr StorageRoute) {
	cname := clusterName(c)
	sr.Route = RoutePVE
	slots := nodesWith(c, s)
	if isShared(c, s) {
		key, why := pl.fileKey(cname, s)
		pl.planSharedPVE(c, s, sr, candidates(slots), Repository{
			Name: cname + ":" + s.Storage, Key: key, Kind: KindPVE, Target: c.Target, Storage: s.Storage, StorageType: s.Type,
		}, "same place as %s ("+why+"); read once")
		if addr := placeAddress(s); addr != "" {
			if r := pl.byKey[key]; r != nil && !slices.Contains(pl.addresses[addr], r.Name) {
				pl.addresses[addr] = append(pl.addresses[addr], r.Name)
			}
		}
		return
	}
	// Node-local: one repository per node that has the storage. The same
	// volid on two nodes is two different files.
	for _, slot := range slots {
		key := joinKey("pve-local", cname, slot.name, s.Storage)
		r := pl.addRepository(Repository{Name: cname + "/" + slot.name + ":" + s.Storage, Key: key, Kind: KindPVE, Target: c.Target,
			Storage: s.Storage, Node: slot.name, StorageType: s.Type})
		pl.reach(key, cname)
		sr.Repositories = append(sr.Repositories, r.Name)
		if !slot.online {
			r.Unreadable = "node " + slot.name + " is offline"
			continue
		}
		pl.plan.PVEListings = append(pl.plan.PVEListings, PVEListing{ClusterTarget: c.Target, Storage: s.Storage, Nodes: []string{slot.name}, Repository: r.Name})
	}
	if len(sr.Repositories) > 0 {
		sr.Repository = sr.Repositories[0]
	} else {
		sr.Reason = "no node of the cluster has this storage"
	}
	pl.plan.Storages = append(pl.plan.Storages, sr)
}

// attribute sets every repository's cluster: the one cluster whose
// storages reach it; "" with a warning when several do (their VMIDs may
// collide); a config route (pbs, datastore, namespace, cluster) names the
// cluster of a PBS namespace and wins, with a warning when it contradicts
// the storages.
func (pl *planner) attribute() {
	attrib := map[string][]string{} // repository key -> clusters named by routes
	for _, o := range pl.e.Overrides {
		if o.PBS == "" || o.Cluster == "" || o.Storage != "" {
			continue
		}
		p := pl.byTarget[o.PBS]
		if p == nil {
			pl.warn(Warning{Kind: WarnOverrideConflict, Cluster: o.Cluster, Target: o.PBS,
				Message: fmt.Sprintf("route attributes a namespace of PBS %q, which is not configured; ignored", o.PBS)})
			continue
		}
		p = p.canonical
		ns := NormalizeNamespace(o.Namespace)
		key := pbsKey(p.identity, o.Datastore, ns)
		attrib[key] = append(attrib[key], o.Cluster)
		if pl.byKey[key] != nil {
			continue
		}
		// The namespace is not read this scrape. If that is because its
		// PBS or datastore is down, it may still hold the cluster's
		// backups: plan it unreadable so the cluster's guests are unknown
		// rather than counted short. Otherwise the route points at
		// nothing.
		name := PBSRepositoryName(p.target, o.Datastore, ns)
		ds, hasDS := p.stores[o.Datastore]
		switch {
		case !p.up:
			pl.addRepository(Repository{Name: name, Key: key, Kind: KindPBS, Target: p.target, Datastore: o.Datastore, Namespace: ns,
				Unreadable: "PBS " + p.target + " is down"})
		case hasDS && !ds.Up:
			pl.addRepository(Repository{Name: name, Key: key, Kind: KindPBS, Target: p.target, Datastore: o.Datastore, Namespace: ns,
				Unreadable: "datastore " + o.Datastore + " is down"})
		default:
			pl.warn(Warning{Kind: WarnOverrideConflict, Cluster: o.Cluster, Target: p.target,
				Message: fmt.Sprintf("route attributes %s to cluster %s, but it is not read (no such datastore or namespace, or outside the namespaces allow-list); ignored", name, o.Cluster)})
		}
	}
	keys := slices.Sorted(maps.Keys(pl.byKey))
	for _, key := range keys {
		r := pl.byKey[key]
		set := map[string]bool{}
		for c := range pl.storageClusters[key] {
			set[c] = true
		}
		fromStorages := slices.Sorted(maps.Keys(set))
		named := uniqueSorted(attrib[key])
		switch {
		case len(named) > 1:
			pl.warn(Warning{Kind: WarnOverrideConflict, Target: r.Target,
				Message: fmt.Sprintf("routes attribute %s to several clusters (%s); ignored", r.Name, strings.Join(named, ", "))})
			named = nil
		case len(named) == 1:
			if len(fromStorages) > 0 && (len(fromStorages) > 1 || fromStorages[0] != named[0]) {
				pl.warn(Warning{Kind: WarnOverrideConflict, Cluster: named[0], Target: r.Target,
					Message: fmt.Sprintf("route attributes %s to cluster %s, but storages of %s reach it; the route applies", r.Name, named[0], strings.Join(fromStorages, ", "))})
			}
			set[named[0]] = true
		}
		// Never nil: the status page shows a repository no cluster
		// reaches as "clusters": [].
		r.Clusters = append([]string{}, slices.Sorted(maps.Keys(set))...)
		switch {
		case len(named) == 1:
			r.Cluster = named[0]
		case len(fromStorages) == 1:
			r.Cluster = fromStorages[0]
		case len(fromStorages) > 1:
			r.Cluster = ""
			pl.warn(Warning{Kind: WarnClusterCollision, Target: r.Target,
				Message: fmt.Sprintf("storages of clusters %s reach %s; its groups get cluster=\"\" because VMIDs may collide", strings.Join(fromStorages, ", "), r.Name)})
		}
	}
}

func uniqueSorted(s []string) []string {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return slices.Sorted(maps.Keys(m))
}

// finish copies the repositories into the plan and sorts everything.
func (pl *planner) finish() {
	for _, r := range pl.byKey {
		pl.plan.Repositories = append(pl.plan.Repositories, *r)
		if r.Unreadable != "" {
			pl.warn(Warning{Kind: WarnRepositoryUnreadable, Cluster: strings.Join(r.Clusters, ","), Storage: r.Storage, Target: r.Target,
				Message: fmt.Sprintf("repository %s cannot be read: %s; guests of %s are unknown until it can", r.Name, r.Unreadable, strings.Join(r.Clusters, ", "))})
		}
	}
	p := &pl.plan
	sort.Slice(p.Repositories, func(a, b int) bool { return p.Repositories[a].Name < p.Repositories[b].Name })
	sort.SliceStable(p.Storages, func(a, b int) bool {
		if p.Storages[a].Cluster != p.Storages[b].Cluster {
			return p.Storages[a].Cluster < p.Storages[b].Cluster
		}
		if p.Storages[a].ClusterTarget != p.Storages[b].ClusterTarget {
			return p.Storages[a].ClusterTarget < p.Storages[b].ClusterTarget
		}
		return p.Storages[a].Storage < p.Storages[b].Storage
	})
	sort.Slice(p.PVEListings, func(a, b int) bool { return p.PVEListings[a].Repository < p.PVEListings[b].Repository })
	sort.Slice(p.PBSListings, func(a, b int) bool { return p.PBSListings[a].Repository < p.PBSListings[b].Repository })
	sort.SliceStable(p.Suppressed, func(a, b int) bool { return suppressedLess(p.Suppressed[a], p.Suppressed[b]) })
	sortWarnings(p.Warnings)
}

func suppressedLess(a, b SuppressedPath) bool {
	ka := []string{a.Reason, a.Repository, a.Cluster, a.Storage, a.Node, a.PBSTarget, a.Datastore, a.Namespace}
	kb := []string{b.Reason, b.Repository, b.Cluster, b.Storage, b.Node, b.PBSTarget, b.Datastore, b.Namespace}
	for i := range ka {
		if ka[i] != kb[i] {
			return ka[i] < kb[i]
		}
	}
	return false
}

func sortWarnings(ws []Warning) {
	sort.SliceStable(ws, func(a, b int) bool {
		x, y := ws[a], ws[b]
		for _, p := range [][2]string{{x.Kind, y.Kind}, {x.Cluster, y.Cluster}, {x.Storage, y.Storage}, {x.Target, y.Target}, {x.Message, y.Message}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return false
	})
}
