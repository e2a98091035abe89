package emulator

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// This file holds the PBS handlers (REFERENCE.md §3).

func pbsVersion(rc *reqCtx) reply {
	p := rc.pbs
	v, rel := orDefault(p.Version, "3.2"), orDefault(p.Release, "4")
	return okReply(1, func(w *jw) {
		w.obj()
		w.key("data")
		w.obj()
		w.fStr("version", v)
		w.fStr("release", rel)
		w.fStr("repoid", "4940514b0f05d6cd6a5f711edfdd47c1fa41b537")
		w.end()
		w.end()
	})
}

// pbsNode checks the {node} parameter: PBS is single-node, "localhost" or
// its own host name.
func pbsNode(rc *reqCtx) *reply {
	n := rc.param("node")
	if n == "localhost" || n == rc.pbs.Name {
		return nil
	}
	rp := errReply(http.StatusBadRequest, fmt.Sprintf("no such node '%s'", n))
	return &rp
}

func pbsNodeStatus(rc *reqCtx) reply {
	if bad := pbsNode(rc); bad != nil {
		return *bad
	}
	fp := rc.s.PBSFingerprint(rc.pbs.Name)
	return okReply(1, func(w *jw) {
		w.obj()
		w.key("data")
		w.obj()
		w.fInt("uptime", 2_345_678)
		w.key("cpu")
		w.float(0.0134)
		w.key("wait")
		w.float(0.0002)
		w.key("loadavg")
		w.arr()
		w.float(0.12)
		w.float(0.18)
		w.float(0.21)
		w.endArr()
		w.key("memory")
		w.obj()
		w.fInt("total", 16_642_998_272)
		w.fInt("used", 3_153_399_808)
		w.fInt("free", 13_489_598_464)
		w.end()
		w.key("swap")
		w.obj()
		w.fInt("total", 8_589_930_496)
		w.fInt("used", 0)
		w.fInt("free", 8_589_930_496)
		w.end()
		w.key("root")
		w.obj()
		w.fInt("total", 100_861_726_720)
		w.fInt("used", 12_463_228_416)
		w.fInt("avail", 83_234_159_104)
		w.end()
		w.key("info")
		w.obj()
		w.fStr("fingerprint", fp)
		w.end()
		w.end()
		w.end()
	})
}

func pbsCertInfo(rc *reqCtx) reply {
	if bad := pbsNode(rc); bad != nil {
		return *bad
	}
	ep := rc.s.pbs[rc.pbs.Name].ep
	id := ep.identity()
	leaf := id.leaf
	return okReply(1, func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		w.obj()
		w.fStr("filename", "proxy.pem")
		w.fStr("subject", "CN="+leaf.Subject.CommonName)
		w.key("san")
		w.arr()
		for _, n := range leaf.DNSNames {
			w.str(n)
		}
		for _, ip := range leaf.IPAddresses {
			w.str(ip.String())
		}
		w.endArr()
		w.fStr("issuer", "CN="+leaf.Issuer.CommonName)
		w.fInt("notbefore", leaf.NotBefore.Unix())
		w.fInt("notafter", leaf.NotAfter.Unix())
		w.fStr("pem", string(id.pem))
		w.fStr("public-key-type", "id-ecPublicKey")
		w.fInt("public-key-bits", 256)
		w.fStr("fingerprint", id.fp)
		w.end()
		w.endArr()
		w.end()
	})
}

// effectiveDatastore returns the maintenance string and mount status in
// force (faults override the model).
func (s *Server) effectiveDatastore(p *PBSServer, ds *Datastore) (maint, mount string) {
	maint, mount = ds.Maintenance, orDefault(ds.MountStatus, "nonremovable")
	fm, unmounted := s.datastoreFault(p.Name, ds.Name)
	if fm != "" {
		maint = fm
	}
	if unmounted {
		mount = "notmounted"
	}
	return maint, mount
}

// datastoreUnavailable is DataStore::lookup_datastore for a read: offline,
// unmount and delete maintenance refuse it, read-only does not; a removable
// datastore whose device is absent is "not mounted".
func (s *Server) datastoreUnavailable(p *PBSServer, ds *Datastore) string {
	maint, mount := s.effectiveDatastore(p, ds)
	if maint != "" {
		typ, msg := parseMaintenance(maint)
		var err string
		switch typ {
		case "offline":
			err = "offline maintenance mode: " + msg
		case "unmount":
			err = "datastore is being unmounted"
		case "delete":
			err = "datastore is being deleted"
		}
		if err != "" {
			return fmt.Sprintf("datastore '%s' is unavailable: %s", ds.Name, err)
		}
	}
	if mount == "notmounted" {
		return fmt.Sprintf("datastore '%s' is not mounted", ds.Name)
	}
	return ""
}

// parseMaintenance splits "type=offline,message=disk%20swap".
func parseMaintenance(s string) (typ, msg string) {
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			typ = kv
			continue
		}
		switch k {
		case "type":
			typ = v
		case "message":
			if d, err := url.QueryUnescape(v); err == nil {
				v = d
			}
			msg = v
		}
	}
	return typ, msg
}

// readDatastore resolves {store} for a read operation.
func readDatastore(rc *reqCtx) (*Datastore, *reply) {
	name := rc.param("store")
	ds := rc.pbs.Datastore(name)
	if ds == nil {
		rp := errReply(http.StatusBadRequest, fmt.Sprintf("no such datastore '%s'", name))
		return nil, &rp
	}
	if msg := rc.s.datastoreUnavailable(rc.pbs, ds); msg != "" {
		rp := errReply(http.StatusBadRequest, msg)
		return nil, &rp
	}
	return ds, nil
}

func pbsDatastores(rc *reqCtx) reply {
	p := rc.pbs
	return okReply(len(p.Datastores), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, ds := range p.Datastores {
			maint, mount := rc.s.effectiveDatastore(p, ds)
			w.obj()
			w.fStr("store", ds.Name)
			w.fStrOpt("comment", ds.Comment)
			w.fStrOpt("maintenance", maint)
			w.fStr("mount-status", mount)
			w.fStr("backend-type", orDefault(ds.BackendType, "filesystem"))
			w.end()
		}
		w.endArr()
		w.end()
	})
}

func writeGCStatus(w *jw, p *PBSServer, ds *Datastore, withUPID bool) {
	gc := ds.GC
	if gc == nil {
		gc = &GCRun{}
	}
	if withUPID && !gc.Start.IsZero() {
		w.fStr("upid", gcUPID(p, ds))
	}
	w.fInt("index-file-count", gc.IndexFileCount)
	w.fInt("index-data-bytes", gc.IndexDataBytes)
	w.fInt("disk-bytes", gc.DiskBytes)
	w.fInt("disk-chunks", gc.DiskChunks)
	w.fInt("removed-bytes", gc.RemovedBytes)
	w.fInt("removed-chunks", gc.RemovedChunks)
	w.fInt("pending-bytes", gc.PendingBytes)
	w.fInt("pending-chunks", gc.PendingChunks)
	w.fInt("removed-bad", 0)
	w.fInt("still-bad", 0)
}

func pbsDatastoreStatus(rc *reqCtx) reply {
	ds, bad := readDatastore(rc)
	if bad != nil {
		return *bad
	}
	verbose, bad := qBool(rc, "verbose")
	if bad != nil {
		return *bad
	}
	p := rc.pbs
	return okReply(1, func(w *jw) {
		w.obj()
		w.key("data")
		w.obj()
		w.fInt("total", ds.Total)
		w.fInt("used", ds.Used)
		w.fInt("avail", ds.Total-ds.Used)
		w.fStr("backend-type", orDefault(ds.BackendType, "filesystem"))
		if verbose {
			// Counted across all namespaces; types without groups omitted.
			counts := map[string][2]int64{}
			for _, ns := range ds.Namespaces {
				for _, g := range ns.Groups {
					if len(g.Snapshots) == 0 {
						continue
					}
					t := g.Type
					if t != "vm" && t != "ct" && t != "host" {
						t = "other"
					}
					c := counts[t]
					c[0]++
					c[1] += int64(len(g.Snapshots))
					counts[t] = c
				}
			}
			w.key("counts")
			w.obj()
			for _, t := range []string{"ct", "host", "other", "vm"} {
				if c, ok := counts[t]; ok {
					w.key(t)
					w.obj()
					w.fInt("groups", c[0])
					w.fInt("snapshots", c[1])
					w.end()
				}
			}
			w.end()
		}
		w.key("gc-status")
		w.obj()
		writeGCStatus(w, p, ds, true)
		w.end()
		w.end()
		w.end()
	})
}

// pbsNamespaces lists parent first, then its descendants depth-first, down
// to max-depth (default and maximum 7).
func pbsNamespaces(rc *reqCtx) reply {
	ds, bad := readDatastore(rc)
	if bad != nil {
		return *bad
	}
	parent := rc.q.Get("parent")
	depth, bad := qInt(rc, "max-depth", 7)
	if bad != nil {
		return *bad
	}
	if depth < 0 || depth > 7 {
		return paramError(rc, "max-depth", fmt.Sprintf("value must have a maximum value of 7 (got %d)", depth))
	}
	byPath := map[string]*Namespace{"": {}}
	for _, ns := range ds.Namespaces {
		byPath[ns.Path] = ns
	}
	if _, ok := byPath[parent]; !ok {
		return errReply(http.StatusBadRequest, fmt.Sprintf("namespace '%s' does not exist", parent))
	}
	var paths []string
	for path := range byPath {
		if path == parent {
			continue
		}
		if parent != "" && !strings.HasPrefix(path, parent+"/") {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(path, parent), "/")
		if int64(strings.Count(rel, "/")+1) > depth {
			continue
		}
		paths = append(paths, path)
	}
	sort.Strings(paths) // depth-first, children in name order
	paths = append([]string{parent}, paths...)
	return okReply(len(paths), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, path := range paths {
			w.obj()
			w.fStr("ns", path)
			w.fStrOpt("comment", byPath[path].Comment)
			w.end()
		}
		w.endArr()
		w.end()
	})
}

// owned reports whether a token without Datastore.Audit may see a group:
// only groups it owns (PBS check_backup_owner).
func owned(rc *reqCtx, g *Group) bool {
	return !rc.noPriv || groupOwner(g) == rc.pbs.TokenID
}

func groupOwner(g *Group) string { return orDefault(g.Owner, "pve-backup@pbs!pve") }

func nsFor(rc *reqCtx, ds *Datastore) (*nsIndex, *reply) {
	ns := rc.q.Get("ns")
	ix := rc.s.nsIndexFor(rc.pbs, ds, ns)
	if ix == nil {
		rp := errReply(http.StatusBadRequest, fmt.Sprintf("namespace '%s' does not exist", ns))
		return nil, &rp
	}
	return ix, nil
}

// pbsGroups is the cheap per-group summary of one namespace (no
// recursion).
func pbsGroups(rc *reqCtx) reply {
	ds, bad := readDatastore(rc)
	if bad != nil {
		return *bad
	}
	ix, bad := nsFor(rc, ds)
	if bad != nil {
		return *bad
	}
	rows := ix.groups
	if rc.noPriv {
		rows = nil
		for _, sum := range ix.groups {
			if owned(rc, sum.g) {
				rows = append(rows, sum)
			}
		}
	}
	return okReply(len(rows), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, sum := range rows {
			g := sum.g
			sn := &g.Snapshots[sum.last]
			w.obj()
			w.fStr("backup-type", g.Type)
			w.fStr("backup-id", g.ID)
			w.fInt("last-backup", sn.Time.Unix())
			w.fInt("backup-count", int64(sum.count))
			w.key("files")
			w.arr()
			forFiles(g, sn, func(f File) { w.str(f.Name) })
			w.endArr()
			w.fStr("owner", groupOwner(g))
			w.fStrOpt("comment", g.Comment)
			w.end()
			if w.failed() {
				return
			}
		}
		w.endArr()
		w.end()
	})
}

// pbsSnapshots lists one namespace's snapshots, optionally of one group
// (backup-type + backup-id) in O(group size). Unsorted, as PBS.
func pbsSnapshots(rc *reqCtx) reply {
	ds, bad := readDatastore(rc)
	if bad != nil {
		return *bad
	}
	ix, bad := nsFor(rc, ds)
	if bad != nil {
		return *bad
	}
	btype, bid := rc.q.Get("backup-type"), rc.q.Get("backup-id")
	switch btype {
	case "", "vm", "ct", "host":
	default:
		return paramError(rc, "backup-type", "value '"+btype+"' is not defined in the enumeration.")
	}
	var groups []*Group
	if btype != "" && bid != "" {
		if i, ok := ix.byGroup[btype+"/"+bid]; ok {
			groups = []*Group{ix.groups[i].g}
		}
	} else {
		for _, sum := range ix.groups {
			if (btype == "" || sum.g.Type == btype) && (bid == "" || sum.g.ID == bid) {
				groups = append(groups, sum.g)
			}
		}
	}
	n := 0
	kept := groups[:0]
	for _, g := range groups {
		if owned(rc, g) {
			kept = append(kept, g)
			n += len(g.Snapshots)
		}
	}
	groups = kept
	return okReply(n, func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, g := range groups {
			owner := groupOwner(g)
			for i := range g.Snapshots {
				writeSnapshot(w, ix, g, &g.Snapshots[i], owner)
				if w.failed() {
					return
				}
			}
		}
		w.endArr()
		w.end()
	})
}

func writeSnapshot(w *jw, ix *nsIndex, g *Group, sn *Snapshot, owner string) {
	w.obj()
	w.fStr("backup-type", g.Type)
	w.fStr("backup-id", g.ID)
	w.fInt("backup-time", sn.Time.Unix())
	w.key("files")
	w.arr()
	forFiles(g, sn, func(f File) {
		w.obj()
		w.fStr("filename", f.Name)
		if f.CryptMode != "" {
			w.fStr("crypt-mode", f.CryptMode)
		}
		if f.Size >= 0 {
			w.fInt("size", f.Size)
		}
		w.end()
	})
	w.endArr()
	w.fStr("owner", owner)
	w.fBool("protected", sn.Protected)
	if !sn.InProgress {
		// Only a readable manifest yields size, notes, verification and the
		// encryption key fingerprint.
		w.fInt("size", snapSize(g, sn))
		w.fStrOpt("comment", sn.Comment)
		if sn.Verification != "" {
			w.key("verification")
			w.obj()
			w.fStr("state", sn.Verification)
			w.fStr("upid", ix.verifyUPID(sn))
			w.end()
		}
		w.fStrOpt("fingerprint", sn.Encrypted)
	}
	w.end()
}

// forFiles yields a snapshot's archives: the model's, or the usual set for
// the group type with the main archive sized so the sum equals Size. An
// in-progress snapshot only has what was uploaded so far, without sizes.
func forFiles(g *Group, sn *Snapshot, fn func(File)) {
	if sn.Files != nil {
		for _, f := range sn.Files {
			fn(f)
		}
		return
	}
	conf, mainName, extra := "qemu-server.conf.blob", "drive-scsi0.img.fidx", ""
	confSize, extraSize, indexSize := int64(487), int64(0), int64(414)
	switch g.Type {
	case "ct":
		conf, mainName, extra = "pct.conf.blob", "root.pxar.didx", "catalog.pcat1.didx"
		confSize, extraSize, indexSize = 312, 4096, 398
	case "host":
		conf, mainName, extra = "", "root.pxar.didx", "catalog.pcat1.didx"
		confSize, extraSize, indexSize = 0, 4096, 380
	}
	if sn.InProgress {
		if conf != "" {
			fn(File{Name: conf, Size: -1})
		}
		return
	}
	crypt := "none"
	if sn.Encrypted != "" {
		crypt = "encrypt"
	}
	mainSize := sn.Size - confSize - extraSize - indexSize
	if mainSize < 0 {
		mainSize = 0
	}
	if conf != "" {
		fn(File{Name: conf, Size: confSize, CryptMode: crypt})
	}
	if extra != "" {
		fn(File{Name: extra, Size: extraSize, CryptMode: crypt})
	}
	fn(File{Name: mainName, Size: mainSize, CryptMode: crypt})
	fn(File{Name: "index.json.blob", Size: indexSize, CryptMode: "none"})
	fn(File{Name: "client.log.blob", Size: -1})
}

func pbsDatastoreUsage(rc *reqCtx) reply {
	p := rc.pbs
	return okReply(len(p.Datastores), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, ds := range p.Datastores {
			_, mount := rc.s.effectiveDatastore(p, ds)
			w.obj()
			w.fStr("store", ds.Name)
			w.fStr("mount-status", mount)
			w.fStr("backend-type", orDefault(ds.BackendType, "filesystem"))
			if msg := rc.s.datastoreUnavailable(p, ds); msg != "" {
				w.fStr("error", msg)
				w.end()
				continue
			}
			w.fInt("total", ds.Total)
			w.fInt("used", ds.Used)
			w.fInt("avail", ds.Total-ds.Used)
			if len(ds.History) > 0 {
				delta := ds.HistoryDelta
				if delta <= 0 {
					delta = 1800 * time.Second
				}
				w.key("history")
				w.arr()
				for _, v := range ds.History {
					w.float(v)
				}
				w.endArr()
				w.fInt("history-start", ds.HistoryStart.Unix())
				w.fInt("history-delta", int64(delta/time.Second))
				if est, ok := estimateFull(ds.History, ds.HistoryStart.Unix(), int64(delta/time.Second)); ok {
					w.fInt("estimated-full-date", est)
				}
			}
			w.key("gc-status")
			w.obj()
			writeGCStatus(w, p, ds, true)
			w.end()
			w.end()
		}
		w.endArr()
		w.end()
	})
}

// estimateFull is PBS's linear regression of usage over time: absent with
// fewer than 7 points, 0 when flat, else when usage reaches 1.0 (in the
// past when usage shrinks).
func estimateFull(hist []float64, start, delta int64) (int64, bool) {
	var xs, ys []float64
	for i, v := range hist {
		if math.IsNaN(v) {
			continue
		}
		xs = append(xs, float64(start+int64(i)*delta))
		ys = append(ys, v)
	}
	if len(xs) < 7 {
		return 0, false
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	n := float64(len(xs))
	mx, my = mx/n, my/n
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 || sxy == 0 {
		return 0, true
	}
	b := sxy / sxx
	a := my - b*mx
	return int64(math.Floor((1 - a) / b)), true
}

// Job UPIDs and worker ids (REFERENCE §3.8).
func jobWorker(kind string, j *PBSJob) (wtype, wid string) {
	switch kind {
	case "verify":
		return "verificationjob", j.Store + ":" + j.ID
	case "prune":
		wid = j.Store
		if j.NS != "" {
			wid += ":" + j.NS
		}
		return "prunejob", wid
	default:
		remote := orDefault(j.Remote, "-")
		return "syncjob", remote + ":" + j.RemoteStore + ":" + j.Store + ":" + j.NS + ":" + j.ID
	}
}

func jobUPID(p *PBSServer, kind string, j *PBSJob) string {
	wtype, wid := jobWorker(kind, j)
	return pbsUPID(p.Name, 1000, j.LastRunStart, wtype, wid, "root@pam")
}

func gcUPID(p *PBSServer, ds *Datastore) string {
	return pbsUPID(p.Name, 1000, ds.GC.Start, "garbage_collection", ds.Name, "root@pam")
}

func writeJobState(w *jw, p *PBSServer, kind string, j *PBSJob) {
	if !j.NextRun.IsZero() {
		w.fInt("next-run", j.NextRun.Unix())
	}
	if j.LastRunStart.IsZero() {
		return
	}
	w.fStr("last-run-upid", jobUPID(p, kind, j))
	if j.LastRunState != "" {
		w.fStr("last-run-state", j.LastRunState)
		w.fInt("last-run-endtime", j.LastRunEnd.Unix())
	}
}

func writeJobConfig(w *jw, kind string, j *PBSJob) {
	w.fStr("id", j.ID)
	w.fStr("store", j.Store)
	w.fStrOpt("ns", j.NS)
	if j.MaxDepth != nil {
		w.fInt("max-depth", int64(*j.MaxDepth))
	}
	w.fStrOpt("schedule", j.Schedule)
	w.fStrOpt("comment", j.Comment)
	switch kind {
	case "verify":
		if j.IgnoreVerified {
			w.fBool("ignore-verified", true)
		}
		if j.OutdatedAfter > 0 {
			w.fInt("outdated-after", int64(j.OutdatedAfter))
		}
	case "prune":
		if j.Disable {
			w.fBool("disable", true)
		}
		for _, k := range []struct {
			name string
			v    int
		}{{"keep-last", j.KeepLast}, {"keep-hourly", j.KeepHourly}, {"keep-daily", j.KeepDaily},
			{"keep-weekly", j.KeepWeekly}, {"keep-monthly", j.KeepMonthly}, {"keep-yearly", j.KeepYearly}} {
			if k.v > 0 {
				w.fInt(k.name, int64(k.v))
			}
		}
	case "sync":
		w.fStrOpt("remote", j.Remote)
		w.fStr("remote-store", j.RemoteStore)
		w.fStrOpt("remote-ns", j.RemoteNS)
		w.fStrOpt("owner", j.Owner)
		w.fBool("remove-vanished", j.RemoveVanished)
		w.fStrOpt("sync-direction", j.SyncDirection)
	}
}

func jobsOf(p *PBSServer, kind string) []*PBSJob {
	switch kind {
	case "verify":
		return p.VerifyJobs
	case "prune":
		return p.PruneJobs
	}
	return p.SyncJobs
}

// jobList renders /admin/{verify,prune,sync} (withState) or /config/*.
// /config/* and /admin/{verify,sync} carry a digest attribute.
func jobList(rc *reqCtx, kind string, withState bool) reply {
	p := rc.pbs
	jobs := jobsOf(p, kind)
	if kind == "sync" {
		var bad *reply
		if jobs, bad = syncJobsListed(rc, jobs); bad != nil {
			return *bad
		}
	}
	digest := !withState || kind != "prune"
	return okReply(len(jobs), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, j := range jobs {
			w.obj()
			writeJobConfig(w, kind, j)
			if withState {
				writeJobState(w, p, kind, j)
			}
			w.end()
		}
		w.endArr()
		if digest {
			w.fStr("digest", "9a1c3f0b5d7e2a4c6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d")
		}
		w.end()
	})
}

func pbsAdminVerify(rc *reqCtx) reply  { return jobList(rc, "verify", true) }
func pbsAdminPrune(rc *reqCtx) reply   { return jobList(rc, "prune", true) }
func pbsAdminSync(rc *reqCtx) reply    { return jobList(rc, "sync", true) }
func pbsConfigVerify(rc *reqCtx) reply { return jobList(rc, "verify", false) }
func pbsConfigPrune(rc *reqCtx) reply  { return jobList(rc, "prune", false) }
func pbsConfigSync(rc *reqCtx) reply   { return jobList(rc, "sync", false) }

// pbsAdminGC has one entry per datastore (unmounted ones are skipped).
func pbsAdminGC(rc *reqCtx) reply {
	p := rc.pbs
	var rows []*Datastore
	for _, ds := range p.Datastores {
		if _, mount := rc.s.effectiveDatastore(p, ds); mount == "notmounted" {
			continue
		}
		rows = append(rows, ds)
	}
	return okReply(len(rows), func(w *jw) {
		w.obj()
		w.key("data")
		w.arr()
		for _, ds := range rows {
			w.obj()
			w.fStr("store", ds.Name)
			w.fStrOpt("schedule", ds.GCSchedule)
			if !ds.GCNextRun.IsZero() {
				w.fInt("next-run", ds.GCNextRun.Unix())
			}
			gc := ds.GC
			if gc == nil || gc.Start.IsZero() {
				w.key("upid")
				w.null()
			} else {
				w.fStr("upid", gcUPID(p, ds))
				if gc.State != "" {
					w.fStr("last-run-state", gc.State)
					w.fInt("last-run-endtime", gc.End.Unix())
					w.fInt("duration", int64(gc.End.Sub(gc.Start)/time.Second))
				}
			}
			writeGCStatus(w, p, ds, false)
			w.end()
		}
		w.endArr()
		w.end()
	})
}

// pbsTaskView is one task as the PBS task list shows it.
type pbsTaskView struct {
	upid, wtype, wid, user string
	pid                    int
	start, end             time.Time
	status                 string
	log                    []string
}

func (t pbsTaskView) running() bool { return t.end.IsZero() }

// allTasks combines explicit tasks with the job and GC runs.
func allTasks(p *PBSServer) []pbsTaskView {
	var out []pbsTaskView
	for _, t := range p.Tasks {
		pid := t.PID
		if pid == 0 {
			pid = 1000
		}
		user := orDefault(t.User, "root@pam")
		log := t.Log
		if log == nil {
			log = defaultPBSLog(t)
		}
		out = append(out, pbsTaskView{
			upid: pbsUPID(p.Name, pid, t.Start, t.WorkerType, t.WorkerID, user), wtype: t.WorkerType,
			wid: t.WorkerID, user: user, pid: pid, start: t.Start, end: t.End, status: t.Status, log: log,
		})
	}
	for _, kind := range []string{"verify", "prune", "sync"} {
		for _, j := range jobsOf(p, kind) {
			if j.LastRunStart.IsZero() {
				continue
			}
			wtype, wid := jobWorker(kind, j)
			v := pbsTaskView{upid: jobUPID(p, kind, j), wtype: wtype, wid: wid, user: "root@pam", pid: 1000, start: j.LastRunStart}
			if j.LastRunState != "" {
				v.end, v.status = j.LastRunEnd, j.LastRunState
			}
			v.log = []string{fmt.Sprintf("Starting %s job '%s'", kind, j.ID)}
			out = append(out, v)
		}
	}
	for _, ds := range p.Datastores {
		if ds.GC == nil || ds.GC.Start.IsZero() {
			continue
		}
		v := pbsTaskView{upid: gcUPID(p, ds), wtype: "garbage_collection", wid: ds.Name, user: "root@pam", pid: 1000, start: ds.GC.Start}
		if ds.GC.State != "" {
			v.end, v.status = ds.GC.End, ds.GC.State
		}
		v.log = []string{"starting garbage collection on store " + ds.Name}
		out = append(out, v)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].start.After(out[j].start) })
	return out
}

// taskStore is the datastore a task belongs to, from its worker id.
func taskStore(t pbsTaskView) string {
	parts := strings.Split(t.wid, ":")
	if t.wtype == "syncjob" && len(parts) >= 3 {
		return parts[2]
	}
	return parts[0]
}

// pbsNodeTasks: typefilter is a substring match here (unlike PVE), limit
// defaults to 50 with 0 = unlimited, running tasks are included.
func pbsNodeTasks(rc *reqCtx) reply {
	if bad := pbsNode(rc); bad != nil {
		return *bad
	}
	page, bad := qTaskPage(rc)
	if bad != nil {
		return *bad
	}
	start, limit, since, until := page.start, page.limit, page.since, page.until
	runningOnly, bad := qBool(rc, "running")
	if bad != nil {
		return *bad
	}
	errorsOnly, bad := qBool(rc, "errors")
	if bad != nil {
		return *bad
	}
	typefilter, store, userfilter := rc.q.Get("typefilter"), rc.q.Get("store"), rc.q.Get("userfilter")
	statusf := map[string]bool{}
	for _, x := range rc.q["statusfilter"] {
		for _, y := range strings.Split(x, ",") {
			statusf[strings.TrimSpace(y)] = true
		}
	}
	var match []pbsTaskView
	for _, t := range allTasks(rc.pbs) {
		if runningOnly && !t.running() {
			continue
		}
		if errorsOnly && t.status == "OK" {
			continue
		}
		if typefilter != "" && !strings.Contains(t.wtype, typefilter) {
			continue
		}
		if store != "" && taskStore(t) != store {
			continue
		}
		if userfilter != "" && !strings.Contains(t.user, userfilter) {
			continue
		}
		if since != 0 && t.start.Unix() < since {
			continue
		}
		if until != 0 && t.start.Unix() > until {
			continue
		}
		if len(statusf) > 0 && (t.running() || !statusf[taskStatusClass(t.status)]) {
			continue
		}
		match = append(match, t)
	}
	total := len(match)
	if start > int64(len(match)) {
		start = int64(len(match))
	}
	match = match[start:]
	if limit > 0 && int64(len(match)) > limit {
		match = match[:limit]
	}
	return okReply(len(match), func(w *jw) {
		w.obj()
		w.fInt("total", int64(total))
		w.key("data")
		w.arr()
		for _, t := range match {
			w.obj()
			w.fStr("upid", t.upid)
			w.fStr("node", "localhost")
			w.fInt("pid", int64(t.pid))
			w.fInt("pstart", 41394)
			w.fInt("starttime", t.start.Unix())
			w.fStr("worker_type", t.wtype)
			w.fStr("worker_id", t.wid)
			w.fStr("user", t.user)
			if !t.running() {
				w.fInt("endtime", t.end.Unix())
				w.fStr("status", t.status)
			}
			w.end()
		}
		w.endArr()
		w.end()
	})
}

func findPBSTask(rc *reqCtx) (pbsTaskView, *reply) {
	upid := rc.param("upid")
	if !strings.HasPrefix(upid, "UPID:") || strings.Count(upid, ":") < 9 {
		rp := errReply(http.StatusBadRequest, "unable to parse UPID '"+upid+"'")
		return pbsTaskView{}, &rp
	}
	for _, t := range allTasks(rc.pbs) {
		if t.upid == upid {
			return t, nil
		}
	}
	rp := errReply(http.StatusBadRequest, "no such task")
	return pbsTaskView{}, &rp
}

func pbsTaskStatus(rc *reqCtx) reply {
	if bad := pbsNode(rc); bad != nil {
		return *bad
	}
	t, bad := findPBSTask(rc)
	if bad != nil {
		return *bad
	}
	host := rc.pbs.Name
	return okReply(1, func(w *jw) {
		w.obj()
		w.key("data")
		w.obj()
		w.fStr("upid", t.upid)
		w.fStr("node", host)
		w.fInt("pid", int64(t.pid))
		w.fInt("pstart", 41394)
		w.fInt("starttime", t.start.Unix())
		w.fStr("type", t.wtype)
		w.fStr("id", t.wid)
		user, token := splitAuthID(t.user)
		w.fStr("user", user)
		w.fStrOpt("tokenid", token)
		if t.running() {
			w.fStr("status", "running")
		} else {
			w.fStr("status", "stopped")
			w.fStr("exitstatus", t.status)
		}
		w.end()
		w.end()
	})
}

func pbsTaskLog(rc *reqCtx) reply {
	if bad := pbsNode(rc); bad != nil {
		return *bad
	}
	t, bad := findPBSTask(rc)
	if bad != nil {
		return *bad
	}
	lines := t.log
	if !t.running() {
		lines = append(append([]string(nil), lines...), finalLine(t.status))
	}
	return logReply(rc, lines, true)
}

// defaultPBSLog is a plausible first log line for a task without one.
func defaultPBSLog(t *PBSTask) []string {
	if t.WorkerType == "backup" {
		store, group, _ := strings.Cut(t.WorkerID, ":")
		return []string{fmt.Sprintf("starting new backup on datastore '%s' from ::ffff:10.0.0.1: %q", store,
			group+"/"+t.Start.UTC().Format("2006-01-02T15:04:05Z"))}
	}
	return []string{fmt.Sprintf("starting %s task %s", t.WorkerType, t.WorkerID)}
}
