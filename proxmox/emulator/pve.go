package emulator

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// This file holds the PVE handlers (REFERENCE.md §2). They run with the
// model read-locked and render straight from it.

const pveDigest = "ca46a68d7699de061c139d714892682ea7c9d681"

func (c *Cluster) version() (version, release string) {
	v := c.Version
	if v == "" {
		v = "9.1.3"
	}
	parts := strings.SplitN(v, ".", 3)
	release = v
	if len(parts) >= 2 {
		release = parts[0] + "." + strings.SplitN(parts[1], "-", 2)[0]
	}
	return v, release
}

// major is the cluster's major PVE version.
func (c *Cluster) major() int {
	v, _ := c.version()
	n, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	return n
}

// atLeast reports whether the cluster's PVE is major.minor or newer.
func (c *Cluster) atLeast(major, minor int) bool {
	_, rel := c.version()
	return versionAtLeast(rel, major, minor)
}

// legacySchedule is the schedule PVE reports for a vzdump.cron job: the
// start time, preceded by the days unless they are all seven.
func legacySchedule(start, dow string) string {
	if dow == "" || dow == "mon,tue,wed,thu,fri,sat,sun" {
		return start
	}
	return dow + " " + start
}

func pveVersion(rc *reqCtx) reply {
	v, rel := rc.cluster.version()
	return okReply(1, func(w *jw) {
		w.obj()
		w.key("data")
		w.obj()
		w.fStr("version", v)
		w.fStr("release", rel)
		w.fStr("repoid", "8e5a1b2c")
		w.end()
		w.end()
	})
}

func pveClusterStatus(rc *reqCtx) reply {
	c := rc.cluster
	online := 0
	for _, n := range c.Nodes {
		if rc.s.nodeOnline(c, n) {
			online++
		}
	}
	items := len(c.Nodes)
	if !c.Standalone {
		items++
	}
	return okReply(items, func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		if !c.Standalone {
			w.obj()
			w.fStr("type", "cluster")
			w.fStr("id", "cluster")
			w.fStr("name", c.Name)
			w.fInt("nodes", int64(len(c.Nodes)))
			w.fBit("quorate", online*2 > len(c.Nodes))
			w.fInt("version", int64(len(c.Nodes)))
			w.end()
		}
		for i, n := range c.Nodes {
			w.obj()
			w.fStr("type", "node")
			w.fStr("id", "node/"+n.Name)
			w.fStr("name", n.Name)
			w.fInt("nodeid", int64(i+1))
			w.fStr("ip", n.IP)
			w.fBit("online", rc.s.nodeOnline(c, n))
			w.fBit("local", n.Name == rc.ep.node)
			w.fStr("level", "")
			w.end()
		}
		w.endArr()
		w.end()
	})
}

func (s *Server) sslFingerprint(c *Cluster, node string) string {
	if ep := s.pveEP(c.Name, node); ep != nil {
		return strings.ToUpper(ep.identity().fp)
	}
	return ""
}

func pveNodes(rc *reqCtx) reply {
	c := rc.cluster
	return okReply(len(c.Nodes), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for i, n := range c.Nodes {
			w.obj()
			w.fStr("node", n.Name)
			w.fStr("id", "node/"+n.Name)
			w.fStr("type", "node")
			w.fStr("ssl_fingerprint", rc.s.sslFingerprint(c, n.Name))
			w.fStr("level", "")
			if rc.s.nodeOnline(c, n) {
				w.fStr("status", "online")
				nodeStats(w, i)
			} else {
				w.fStr("status", "offline")
			}
			w.end()
		}
		w.endArr()
		w.end()
	})
}

func nodeStats(w *jw, i int) {
	w.key("cpu")
	w.float(0.0031 + float64(i)*0.0017)
	w.fInt("maxcpu", 8)
	w.fInt("mem", 8_127_873_024+int64(i)*1_000_000)
	w.fInt("maxmem", 33_567_911_936)
	w.fInt("disk", 2_797_338_624)
	w.fInt("maxdisk", 100_861_726_720)
	w.fInt("uptime", 874_373+int64(i)*1000)
}

// storageState is a storage's activation state on one node.
type storageState struct {
	enabled bool
	active  bool
	err     string // why content/status calls fail
	total   int64
	used    int64
}

// storageOn computes what PVE on node sees of a storage.
func (s *Server) storageOn(c *Cluster, st *Storage, node string) storageState {
	if !st.OnNode(node) {
		return storageState{err: fmt.Sprintf("storage '%s' is not available on node '%s'", st.ID, node)}
	}
	if st.Disabled {
		return storageState{err: fmt.Sprintf("storage '%s' is disabled", st.ID)}
	}
	if st.Offline {
		return storageState{enabled: true, err: fmt.Sprintf("storage '%s' is not online", st.ID)}
	}
	ss := storageState{enabled: true, active: true, total: st.Total, used: st.Used}
	if st.Type == "pbs" {
		ds, msg := s.pbsBehindStorage(st)
		if msg != "" {
			return storageState{enabled: true, err: msg}
		}
		ss.total, ss.used = ds.Total, ds.Used
	}
	if ss.total == 0 {
		ss.total, ss.used = 100_861_726_720, 7_954_288_640
	}
	return ss
}

// pbsBehindStorage resolves a pbs storage to its datastore the way PVE
// reaches it: over the network, checking the configured fingerprint, and
// subject to the datastore's availability.
func (s *Server) pbsBehindStorage(st *Storage) (*Datastore, string) {
	p := s.m.PBSServer(st.PBS)
	host, port := s.pbsAddress(st)
	refused := fmt.Sprintf("500 Can't connect to %s:%d (Connection refused)", host, port)
	if p == nil || s.hasFault(p.Name, "", Down) {
		return nil, refused
	}
	fp := s.PBSFingerprint(p.Name)
	switch st.Fingerprint {
	case "", "lower", "none":
	default:
		if !strings.EqualFold(st.Fingerprint, fp) {
			return nil, fmt.Sprintf("500 Can't connect to %s:%d (certificate verify failed: fingerprint '%s' does not match)", host, port, strings.ToUpper(fp))
		}
	}
	if s.hasFault(p.Name, "", ExpiredCert) && st.Fingerprint == "none" {
		return nil, fmt.Sprintf("500 Can't connect to %s:%d (certificate verify failed: certificate has expired)", host, port)
	}
	ds := p.Datastore(st.Datastore)
	if ds == nil {
		return nil, fmt.Sprintf("400 Bad Request: no such datastore '%s'", st.Datastore)
	}
	if msg := s.datastoreUnavailable(p, ds); msg != "" {
		return nil, "400 Bad Request: " + msg
	}
	return ds, ""
}

// pbsAddress is what storage.cfg says about where the PBS is.
func (s *Server) pbsAddress(st *Storage) (string, int) {
	host := st.ServerName
	if host == "" {
		host = "127.0.0.1"
	}
	name := st.PBS
	if st.AddressOf != "" {
		name = st.AddressOf
	}
	if port := s.PBSPort(name); port != 0 {
		return host, port
	}
	return "192.0.2.10", 8007
}

func sortedGuests(c *Cluster) []*Guest {
	gs := append([]*Guest(nil), c.Guests...)
	sort.Slice(gs, func(i, j int) bool { return gs[i].VMID < gs[j].VMID })
	return gs
}

// sortedStorages returns the storages PVE has loaded, by id.
func sortedStorages(c *Cluster) []*Storage {
	ss := slices.DeleteFunc(slices.Clone(c.Storages), func(st *Storage) bool { return !c.Loads(st) })
	sort.Slice(ss, func(i, j int) bool { return ss[i].ID < ss[j].ID })
	return ss
}

func pveClusterResources(rc *reqCtx) reply {
	c := rc.cluster
	typ := rc.q.Get("type")
	switch typ {
	case "", "vm", "storage", "node", "sdn":
	default:
		return paramError(rc, "type", "value '"+typ+"' does not have a value in the enumeration 'vm, storage, node, sdn'")
	}
	online := map[string]bool{}
	for _, n := range c.Nodes {
		online[n.Name] = rc.s.nodeOnline(c, n)
	}
	guests := sortedGuests(c)
	storages := sortedStorages(c)
	type srow struct {
		st   *Storage
		node string
		ss   storageState
	}
	var srows []srow
	if typ == "" || typ == "storage" {
		for _, st := range storages {
			for _, n := range c.Nodes {
				if !st.OnNode(n.Name) || st.Disabled {
					continue
				}
				srows = append(srows, srow{st, n.Name, rc.s.storageOn(c, st, n.Name)})
			}
		}
	}
	// Pool rows come first, only without a type filter: "pool" is not in
	// the schema's enumeration, so ?type=pool is a 400 like any unknown
	// type, although the handler's code tests for it.
	var pools []string
	if typ == "" {
		pools = c.VisiblePools()
	}
	items := len(srows) + len(pools)
	if typ == "" || typ == "vm" {
		items += len(guests)
	}
	if typ == "" || typ == "node" {
		items += len(c.Nodes)
	}
	return okReply(items, func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, p := range pools {
			writePoolResource(w, c, p, online)
		}
		if typ == "" || typ == "vm" {
			for _, g := range guests {
				writeVMResource(w, g, online[g.Node], c.PoolVisible(g.Pool))
			}
		}
		if typ == "" || typ == "node" {
			for i, n := range c.Nodes {
				w.obj()
				w.fStr("id", "node/"+n.Name)
				w.fStr("type", "node")
				w.fStr("node", n.Name)
				w.fStr("level", "")
				if online[n.Name] {
					w.fStr("status", "online")
					w.fInt("cgroup-mode", 2)
					nodeStats(w, i)
				} else {
					w.fStr("status", "offline")
				}
				w.end()
			}
		}
		for _, r := range srows {
			w.obj()
			w.fStr("id", "storage/"+r.node+"/"+r.st.ID)
			w.fStr("storage", r.st.ID)
			w.fStr("node", r.node)
			w.fStr("type", "storage")
			w.fStr("plugintype", r.st.Type)
			w.fBit("shared", r.st.IsShared())
			w.fStr("content", strings.Join(r.st.ContentList(), ","))
			if online[r.node] && r.ss.active {
				w.fStr("status", "available")
				w.fInt("disk", r.ss.used)
				w.fInt("maxdisk", r.ss.total)
			} else {
				w.fStr("status", "unknown")
			}
			w.end()
		}
		w.endArr()
		w.end()
	})
}

// guestLoad is what a guest's RRD data shows: the numbers of its
// /cluster/resources row, which PVE also sums into its pool's row.
type guestLoad struct {
	status                       string
	maxDisk, maxMem, mem, uptime int64
	traffic                      int64
	cpu                          float64
	maxCPU                       int64
}

func loadOf(g *Guest) guestLoad {
	l := guestLoad{status: orDefault(g.Status, "running"), maxDisk: g.MaxDisk, maxMem: g.MaxMem, maxCPU: 2}
	if g.Template {
		l.status = "stopped"
	}
	if l.maxDisk == 0 {
		l.maxDisk = 34_359_738_368
	}
	if l.maxMem == 0 {
		l.maxMem = 4_294_967_296
	}
	if l.status == "running" {
		l.cpu, l.mem, l.uptime, l.traffic = 0.0249, l.maxMem/3, 874_350, 2_456_116_121
	}
	return l
}

// writePoolResource writes a pool row of /cluster/resources: PVE lists it
// only for a token with Pool.Audit on it and adds the load of its running
// guests (pve-manager PVE/API2/Cluster.pm resources).
func writePoolResource(w *jw, c *Cluster, pool string, online map[string]bool) {
	w.obj()
	w.fStr("id", "/pool/"+pool)
	w.fStr("pool", pool)
	w.fStr("type", "pool")
	var sum guestLoad
	for _, g := range sortedGuests(c) {
		l := loadOf(g)
		if g.Pool != pool || !online[g.Node] || l.uptime == 0 {
			continue
		}
		// cpu is the average weighted by maxcpu, as PVE computes it.
		sum.cpu = (sum.cpu*float64(sum.maxCPU) + l.cpu*float64(l.maxCPU)) / float64(sum.maxCPU+l.maxCPU)
		sum.maxCPU += l.maxCPU
		sum.mem += l.mem
		sum.maxMem += l.maxMem
		sum.uptime = max(sum.uptime, l.uptime)
	}
	if sum.uptime > 0 {
		w.fInt("uptime", sum.uptime)
		w.fInt("mem", sum.mem)
		w.fInt("maxmem", sum.maxMem)
		w.key("cpu")
		w.float(sum.cpu)
		w.fInt("maxcpu", sum.maxCPU)
	}
	w.end()
}

// writeVMResource writes a guest row; poolVisible is false when the token
// lacks Pool.Audit on the guest's pool, which PVE then leaves out.
func writeVMResource(w *jw, g *Guest, nodeOnline, poolVisible bool) {
	w.obj()
	w.fStr("id", g.Type+"/"+strconv.Itoa(g.VMID))
	w.fInt("vmid", int64(g.VMID))
	w.fStr("type", g.Type)
	w.fStr("node", g.Node)
	if len(g.Tags) > 0 {
		w.fStr("tags", strings.Join(g.Tags, ";"))
	}
	if g.Pool != "" && poolVisible {
		w.fStr("pool", g.Pool)
	}
	if !nodeOnline {
		// No current RRD data: no name, template or stats (REFERENCE §2.3).
		w.fStr("status", "unknown")
		w.end()
		return
	}
	l := loadOf(g)
	w.fStr("name", g.Name)
	w.fStr("status", l.status)
	w.fBit("template", g.Template)
	w.fInt("maxcpu", l.maxCPU)
	w.fInt("maxmem", l.maxMem)
	w.fInt("maxdisk", l.maxDisk)
	w.key("cpu")
	if l.uptime > 0 {
		w.float(l.cpu)
	} else {
		w.int(0)
	}
	w.fInt("mem", l.mem)
	w.fInt("disk", 0)
	w.fInt("netin", l.traffic)
	w.fInt("netout", l.traffic/4)
	w.fInt("diskread", l.traffic*2)
	w.fInt("diskwrite", l.traffic*3)
	w.fInt("uptime", l.uptime)
	w.end()
}

// pvePools is GET /pools without poolid: the pools the token has
// Pool.Audit on, sorted (pve-manager PVE/API2/Pool.pm index). A pool
// without it is left out silently, never a 403.
func pvePools(rc *reqCtx) reply {
	rows := rc.cluster.VisiblePools()
	return okReply(len(rows), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, p := range rows {
			w.obj()
			w.fStr("poolid", p)
			w.end()
		}
		w.endArr()
		w.end()
	})
}

func pveStorageConfig(rc *reqCtx) reply {
	c := rc.cluster
	typ := rc.q.Get("type")
	var rows []*Storage
	for _, st := range sortedStorages(c) {
		if typ == "" || st.Type == typ {
			rows = append(rows, st)
		}
	}
	return okReply(len(rows), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, st := range rows {
			rc.s.writeStorageConfig(w, st)
		}
		w.endArr()
		w.end()
	})
}

func (s *Server) writeStorageConfig(w *jw, st *Storage) {
	w.obj()
	w.fStr("storage", st.ID)
	w.fStr("type", st.Type)
	w.fStr("content", strings.Join(st.ContentList(), ","))
	w.fStr("digest", pveDigest)
	if len(st.Nodes) > 0 {
		w.fStr("nodes", strings.Join(st.Nodes, ","))
	}
	if st.Disabled {
		w.fInt("disable", 1)
	}
	if st.IsShared() {
		w.fInt("shared", 1)
	}
	w.fStrOpt("prune-backups", st.PruneBackups)
	path := st.Path
	switch st.Type {
	case "dir", "btrfs":
		if path == "" {
			path = "/var/lib/vz"
		}
		w.fStr("path", path)
	case "nfs", "cifs", "cephfs", "glusterfs":
		if path == "" {
			path = "/mnt/pve/" + st.ID
		}
		w.fStr("path", path)
		if st.Type == "nfs" {
			w.fStr("server", orDefault(st.Server, "10.0.0.20"))
			w.fStr("export", orDefault(st.Export, "/export/"+st.ID))
		}
		if st.Type == "cifs" {
			w.fStr("server", orDefault(st.Server, "10.0.0.21"))
			w.fStr("share", orDefault(st.Share, st.ID))
		}
	case "zfspool":
		w.fStr("pool", orDefault(st.Pool, "rpool/data"))
		w.fInt("sparse", 1)
	case "rbd":
		w.fStr("pool", orDefault(st.Pool, "rbd"))
	case "lvmthin":
		w.fStr("vgname", orDefault(st.VGName, "pve"))
		w.fStr("thinpool", orDefault(st.ThinPool, "data"))
	case "lvm":
		w.fStr("vgname", orDefault(st.VGName, "pve"))
	case "pbs":
		host, port := s.pbsAddress(st)
		w.fStr("server", host)
		w.fInt("port", int64(port))
		w.fStr("datastore", st.Datastore)
		w.fStrOpt("namespace", st.Namespace)
		w.fStr("username", orDefault(st.Username, "pve-backup@pbs!pve"))
		fp := s.PBSFingerprint(st.PBS)
		switch st.Fingerprint {
		case "":
			w.fStrOpt("fingerprint", strings.ToUpper(fp))
		case "lower":
			w.fStrOpt("fingerprint", fp)
		case "none":
		default:
			w.fStr("fingerprint", st.Fingerprint)
		}
		w.fStrOpt("encryption-key", st.EncryptionKey)
	}
	w.end()
}

func pveNodeStorage(rc *reqCtx) reply {
	c := rc.cluster
	content := rc.q.Get("content")
	only := rc.q.Get("storage")
	enabledOnly, bad := qBool(rc, "enabled")
	if bad != nil {
		return *bad
	}
	if only != "" && c.configuredStorage(only) == nil {
		return paramError(rc, "storage", "No such storage.")
	}
	type row struct {
		st *Storage
		ss storageState
	}
	var rows []row
	for _, st := range sortedStorages(c) {
		if only != "" && st.ID != only {
			continue
		}
		if content != "" && (!st.HasContent(content) || !st.OnNode(rc.node)) {
			continue
		}
		ss := rc.s.storageOn(c, st, rc.node)
		if enabledOnly && !ss.enabled {
			continue
		}
		rows = append(rows, row{st, ss})
	}
	return okReply(len(rows), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, r := range rows {
			w.obj()
			w.fStr("storage", r.st.ID)
			w.fStr("type", r.st.Type)
			w.fStr("content", strings.Join(r.st.ContentList(), ","))
			w.fBit("active", r.ss.active)
			w.fBit("enabled", r.ss.enabled)
			w.fBit("shared", r.st.IsShared())
			if r.ss.active {
				w.fInt("total", r.ss.total)
				w.fInt("used", r.ss.used)
				w.fInt("avail", r.ss.total-r.ss.used)
				w.key("used_fraction")
				w.float(float64(r.ss.used) / float64(r.ss.total))
			} else {
				w.fInt("total", 0)
				w.fInt("used", 0)
				w.fInt("avail", 0)
			}
			w.end()
		}
		w.endArr()
		w.end()
	})
}

// fileRow is one vzdump archive as the content listing shows it.
type fileRow struct {
	volid string
	f     *BackupFile
}

func pveStorageContent(rc *reqCtx) reply {
	c := rc.cluster
	id := rc.param("storage")
	st := c.configuredStorage(id)
	if st == nil {
		return errReply(http.StatusInternalServerError, fmt.Sprintf("storage '%s' does not exist", id))
	}
	vmid, bad := qInt(rc, "vmid", 0)
	if bad != nil {
		return *bad
	}
	ss := rc.s.storageOn(c, st, rc.node)
	if ss.err != "" {
		return errReply(http.StatusInternalServerError, ss.err)
	}
	content := rc.q.Get("content")
	empty := okReply(0, func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		w.endArr()
		w.end()
	})
	// Backups are listed only on storages configured for them; a token
	// without Datastore.Allocate (or AllocateSpace + VM.Backup) sees every
	// backup volume silently dropped (REFERENCE §1.4).
	if (content != "" && content != "backup") || !st.HasContent("backup") || rc.noPriv {
		return empty
	}
	if st.Type == "pbs" {
		return rc.s.pbsStorageContent(rc, st, vmid)
	}
	if !fileTypes[st.Type] && !st.BackupProvider {
		return empty
	}
	shared := st.IsShared()
	var rows []fileRow
	for _, f := range st.Files {
		if f.InProgress || (!shared && f.Node != rc.node) || (vmid != 0 && int64(f.VMID) != vmid) {
			continue
		}
		name := f.Name
		switch {
		case name != "":
		case st.BackupProvider:
			name = ProviderArchiveName(f.Type, f.VMID, f.Time)
		default:
			name = VzdumpFileName(f.Type, f.VMID, f.Time, f.Format)
		}
		rows = append(rows, fileRow{volid: st.ID + ":backup/" + name, f: f})
	}
	sort.Slice(rows, func(i, j int) bool { return strings.ToLower(rows[i].volid) < strings.ToLower(rows[j].volid) })
	return okReply(len(rows), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, r := range rows {
			f := r.f
			format := f.Format
			switch {
			case format != "":
			case st.BackupProvider:
				format = providerFormat(f.Type)
			default:
				format = defaultFormat(f.Type)
			}
			w.obj()
			w.fStr("volid", r.volid)
			w.fStr("content", "backup")
			w.fStr("format", format)
			w.fStr("subtype", orDefault(f.Type, "unknown"))
			w.fInt("vmid", int64(f.VMID))
			w.fInt("ctime", f.Time.Unix())
			w.fInt("size", f.Size)
			w.fStrOpt("notes", f.Notes)
			if f.Protected {
				w.fInt("protected", 1)
			}
			w.end()
			if w.failed() {
				return
			}
		}
		w.endArr()
		w.end()
	})
}

// pbsStorageContent is PBSPlugin list_volumes: one snapshot listing of the
// configured namespace (no recursion), vm/ct groups with numeric ids only,
// sorted by lower-cased volid.
func (s *Server) pbsStorageContent(rc *reqCtx, st *Storage, vmid int64) reply {
	p := s.m.PBSServer(st.PBS)
	ds := p.Datastore(st.Datastore)
	ix := s.nsIndexFor(p, ds, st.Namespace)
	if ix == nil {
		return errReply(http.StatusInternalServerError, fmt.Sprintf("400 Bad Request: namespace '%s' does not exist", st.Namespace))
	}
	refs := ix.pveOrder
	if vmid != 0 {
		refs = nil
		for _, r := range ix.pveOrder {
			if r.g.ID == strconv.FormatInt(vmid, 10) {
				refs = append(refs, r)
			}
		}
	}
	store := st.ID
	return okReply(len(refs), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		var nameBuf []byte
		for _, r := range refs {
			g := r.g
			sn := &g.Snapshots[r.i]
			w.obj()
			nameBuf = append(nameBuf[:0], store...)
			nameBuf = append(nameBuf, ":backup/"...)
			nameBuf = append(nameBuf, g.Type...)
			nameBuf = append(nameBuf, '/')
			nameBuf = append(nameBuf, g.ID...)
			nameBuf = append(nameBuf, '/')
			nameBuf = sn.Time.UTC().AppendFormat(nameBuf, "2006-01-02T15:04:05Z")
			w.key("volid")
			w.str(string(nameBuf))
			w.fStr("content", "backup")
			w.fStr("format", "pbs-"+g.Type)
			if g.Type == "vm" {
				w.fStr("subtype", "qemu")
			} else {
				w.fStr("subtype", "lxc")
			}
			id, _ := strconv.ParseInt(g.ID, 10, 64)
			w.fInt("vmid", id)
			w.fInt("ctime", sn.Time.Unix())
			size := int64(1)
			if !sn.InProgress {
				size = snapSize(g, sn)
			}
			w.fInt("size", size)
			if !sn.InProgress {
				w.fStrOpt("notes", sn.Comment)
			}
			if sn.Protected {
				w.fInt("protected", 1)
			}
			if !sn.InProgress && sn.Verification != "" {
				w.key("verification")
				w.obj()
				w.fStr("state", sn.Verification)
				w.fStr("upid", ix.verifyUPID(sn))
				w.end()
			}
			if !sn.InProgress && sn.Encrypted != "" {
				w.fStr("encrypted", sn.Encrypted)
			}
			w.end()
			if w.failed() {
				return
			}
		}
		w.endArr()
		w.end()
	})
}

func pveClusterBackup(rc *reqCtx) reply {
	c := rc.cluster
	return okReply(len(c.Jobs), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, j := range c.Jobs {
			w.obj()
			w.fStr("type", "vzdump")
			w.fStr("id", j.ID)
			if j.StartTime != "" {
				w.fStr("schedule", legacySchedule(j.StartTime, j.DOW))
				if c.major() < 9 {
					w.fStr("starttime", j.StartTime)
					w.fStrOpt("dow", j.DOW)
				}
			} else {
				w.fStrOpt("schedule", j.Schedule)
			}
			w.fBit("enabled", !j.Disabled)
			w.fStrOpt("storage", j.Storage)
			switch {
			case j.All:
				w.fInt("all", 1)
				if len(j.Exclude) > 0 {
					w.fStr("exclude", joinInts(j.Exclude))
				}
			case j.Pool != "":
				w.fStr("pool", j.Pool)
			default:
				w.fStr("vmid", joinInts(j.VMIDs))
			}
			w.fStrOpt("node", j.Node)
			w.fStr("mode", orDefault(j.Mode, "snapshot"))
			w.fStrOpt("notes-template", j.NotesTemplate)
			w.fStrOpt("comment", j.Comment)
			if len(j.PruneBackups) > 0 {
				keys := slices.Sorted(maps.Keys(j.PruneBackups))
				w.key("prune-backups")
				w.obj()
				for _, k := range keys {
					w.fStr(k, j.PruneBackups[k])
				}
				w.end()
			}
			if !j.NextRun.IsZero() {
				w.fInt("next-run", j.NextRun.Unix())
			}
			w.end()
		}
		w.endArr()
		w.end()
	})
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// Selects reports whether the job selects the guest, as PVE's
// get_included_guests does: by vmid list, all (minus exclude) or pool (by
// real membership, whatever the token may see), within the job's node
// restriction. Enabled is NOT checked here.
func (j *BackupJob) Selects(g *Guest) bool {
	if j.Node != "" && j.Node != g.Node {
		return false
	}
	switch {
	case j.All:
		return !slices.Contains(j.Exclude, g.VMID)
	case j.Pool != "":
		return g.Pool == j.Pool
	}
	return slices.Contains(j.VMIDs, g.VMID)
}

// pveNotBackedUp lists guests no job selects. Disabled jobs still count as
// coverage and templates are included, as in PVE's BackupInfo.pm.
func pveNotBackedUp(rc *reqCtx) reply {
	c := rc.cluster
	var rows []*Guest
	for _, g := range sortedGuests(c) {
		covered := false
		for _, j := range c.Jobs {
			if j.Selects(g) {
				covered = true
				break
			}
		}
		if !covered {
			rows = append(rows, g)
		}
	}
	return okReply(len(rows), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, g := range rows {
			w.obj()
			w.fInt("vmid", int64(g.VMID))
			w.fStr("type", g.Type)
			w.fStrOpt("name", g.Name)
			w.end()
		}
		w.endArr()
		w.end()
	})
}

func writeTaskIdentity(w *jw, t *Task) {
	w.fStr("upid", t.UPID())
	w.fStr("node", t.Node)
	w.fInt("starttime", t.Start.Unix())
	w.fStr("type", t.typ())
	w.fStr("id", t.ID)
	user, token := splitAuthID(t.user())
	w.fStr("user", user)
	w.fStrOpt("tokenid", token)
}

func sortTasksNewestFirst(ts []*Task) {
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Start.After(ts[j].Start) })
}

// pveClusterTasks is what each node publishes to the cluster file system:
// all running tasks plus its 25 most recent finished ones.
func pveClusterTasks(rc *reqCtx) reply {
	c := rc.cluster
	var out []*Task
	for _, n := range c.Nodes {
		var fin []*Task
		for _, t := range c.Tasks {
			if t.Node != n.Name {
				continue
			}
			if t.running() {
				out = append(out, t)
			} else {
				fin = append(fin, t)
			}
		}
		sortTasksNewestFirst(fin)
		if len(fin) > 25 {
			fin = fin[:25]
		}
		out = append(out, fin...)
	}
	sortTasksNewestFirst(out)
	return okReply(len(out), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, t := range out {
			w.obj()
			writeTaskIdentity(w, t)
			if t.running() {
				pid, _ := t.ids()
				w.fInt("pid", int64(pid))
				w.fStr("saved", "0")
			} else {
				w.fStr("saved", "1")
				w.fInt("endtime", t.End.Unix())
				w.fStr("status", t.Status)
			}
			w.end()
		}
		w.endArr()
		w.end()
	})
}

func taskStatusClass(status string) string {
	switch {
	case status == "OK":
		return "ok"
	case strings.HasPrefix(status, "WARNINGS"):
		return "warning"
	case status == "unknown":
		return "unknown"
	}
	return "error"
}

// pveNodeTasks is /nodes/{node}/tasks with PVE's filters: typefilter is an
// exact match, vmid matches the task id, source archive (default) lists
// finished tasks only, limit defaults to 50.
func pveNodeTasks(rc *reqCtx) reply {
	c := rc.cluster
	page, bad := qTaskPage(rc)
	if bad != nil {
		return *bad
	}
	start, limit, since, until := page.start, page.limit, page.since, page.until
	vmid, bad := qInt(rc, "vmid", 0)
	if bad != nil {
		return *bad
	}
	errorsOnly, bad := qBool(rc, "errors")
	if bad != nil {
		return *bad
	}
	source := rc.q.Get("source")
	switch source {
	case "", "archive", "active", "all":
	default:
		return paramError(rc, "source", "value '"+source+"' does not have a value in the enumeration 'archive, active, all'")
	}
	typefilter := rc.q.Get("typefilter")
	userfilter := rc.q.Get("userfilter")
	var statusf map[string]bool
	if sf := rc.q.Get("statusfilter"); sf != "" {
		statusf = map[string]bool{}
		for _, x := range strings.Split(sf, ",") {
			statusf[strings.TrimSpace(x)] = true
		}
	}
	var match []*Task
	for _, t := range c.Tasks {
		if t.Node != rc.node {
			continue
		}
		running := t.running()
		switch source {
		case "", "archive":
			if running {
				continue
			}
		case "active":
			if !running {
				continue
			}
		}
		if typefilter != "" && t.typ() != typefilter {
			continue
		}
		if vmid != 0 && t.ID != strconv.FormatInt(vmid, 10) {
			continue
		}
		if since != 0 && t.Start.Unix() < since {
			continue
		}
		if until != 0 && t.Start.Unix() > until {
			continue
		}
		if userfilter != "" && !strings.Contains(t.user(), userfilter) {
			continue
		}
		if !running && errorsOnly && t.Status == "OK" {
			continue
		}
		if !running && statusf != nil && !statusf[taskStatusClass(t.Status)] {
			continue
		}
		match = append(match, t)
	}
	sortTasksNewestFirst(match)
	total := len(match)
	if start > int64(len(match)) {
		start = int64(len(match))
	}
	match = match[start:]
	if limit >= 0 && int64(len(match)) > limit {
		match = match[:limit]
	}
	return okReply(len(match), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, t := range match {
			w.obj()
			writeTaskIdentity(w, t)
			pid, pstart := t.ids()
			w.fInt("pid", int64(pid))
			w.fInt("pstart", int64(pstart))
			if t.running() {
				w.fStr("status", "RUNNING")
			} else {
				w.fInt("endtime", t.End.Unix())
				w.fStr("status", t.Status)
			}
			w.end()
		}
		w.endArr()
		w.fInt("total", int64(total))
		w.end()
	})
}

// findTask looks a task up by UPID on the handling node.
func findTask(rc *reqCtx) (*Task, *reply) {
	upid := rc.param("upid")
	parts := strings.Split(upid, ":")
	if len(parts) < 9 || parts[0] != "UPID" {
		rp := paramError(rc, "upid", "unable to parse worker upid '"+upid+"'")
		return nil, &rp
	}
	for _, t := range rc.cluster.Tasks {
		if t.Node == rc.node && t.UPID() == upid {
			return t, nil
		}
	}
	rp := paramError(rc, "upid", "no such task")
	return nil, &rp
}

func pveTaskStatus(rc *reqCtx) reply {
	t, bad := findTask(rc)
	if bad != nil {
		return *bad
	}
	return okReply(1, func(w *jw) {
		w.obj()
		w.key("data")
		w.obj()
		writeTaskIdentity(w, t)
		pid, pstart := t.ids()
		w.fInt("pid", int64(pid))
		w.fInt("pstart", int64(pstart))
		if t.running() {
			w.fStr("status", "running")
		} else {
			w.fStr("status", "stopped")
			w.fStr("exitstatus", t.Status)
		}
		w.end()
		w.end()
	})
}

func (t *Task) logLines() []string {
	if t.running() {
		return t.Log
	}
	return append(append([]string(nil), t.Log...), finalLine(t.Status))
}

// pveTaskLog pages the log: start (0-based line), limit (default 50, 0 =
// everything); total is the number of lines.
func pveTaskLog(rc *reqCtx) reply {
	t, bad := findTask(rc)
	if bad != nil {
		return *bad
	}
	return logReply(rc, t.logLines(), false)
}

func logReply(rc *reqCtx, lines []string, pbs bool) reply {
	start, bad := qInt(rc, "start", 0)
	if bad != nil {
		return *bad
	}
	limit, bad := qInt(rc, "limit", 50)
	if bad != nil {
		return *bad
	}
	total := len(lines)
	if start > int64(total) {
		start = int64(total)
	}
	first := int(start)
	page := lines[first:]
	if limit > 0 && int64(len(page)) > limit {
		page = page[:limit]
	}
	return okReply(len(page), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for i, l := range page {
			w.obj()
			w.fInt("n", int64(first+i+1))
			w.fStr("t", l)
			w.end()
		}
		w.endArr()
		w.fInt("total", int64(total))
		if pbs {
			w.fInt("success", 1)
		}
		w.end()
	})
}
