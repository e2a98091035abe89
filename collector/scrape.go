package collector

import (
	"context"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// One scrape: inventory of every target (concurrently) -> dedup.BuildPlan
// -> fetch exactly the listings the plan names (concurrently, bounded per
// target) -> dedup.Merge. The result is immutable and turned into metrics by
// emit; concurrent scrapes share it through the coalescer.

// pveAPI is what the collector calls on a PVE client (the contract's
// *proxmox.PVEClient satisfies it; tests use fakes).
type pveAPI interface {
	Requests() uint64
	Version(ctx context.Context) (proxmox.PVEVersion, error)
	ClusterStatus(ctx context.Context) ([]proxmox.ClusterStatusItem, error)
	Nodes(ctx context.Context) ([]proxmox.Node, error)
	ClusterResources(ctx context.Context, typ string) ([]proxmox.ClusterResource, error)
	StorageConfig(ctx context.Context) ([]proxmox.StorageConfig, error)
	NodeStorage(ctx context.Context, node, content string) ([]proxmox.NodeStorage, error)
	StorageContent(ctx context.Context, node, storage string) ([]proxmox.BackupVolume, error)
	BackupJobs(ctx context.Context) ([]proxmox.BackupJob, error)
	Pools(ctx context.Context) ([]proxmox.Pool, error)
	pveTaskAPI
}

// pbsAPI is what the collector calls on a PBS client.
type pbsAPI interface {
	Requests() uint64
	SeenFingerprint() string
	Version(ctx context.Context) (proxmox.PBSVersion, error)
	Datastores(ctx context.Context) ([]proxmox.Datastore, error)
	DatastoreUsage(ctx context.Context) ([]proxmox.DatastoreUsage, error)
	Namespaces(ctx context.Context, store string) ([]proxmox.Namespace, error)
	GCStatus(ctx context.Context) ([]proxmox.GCJobStatus, error)
	VerifyJobs(ctx context.Context) ([]proxmox.JobStatus, error)
	PruneJobs(ctx context.Context) ([]proxmox.JobStatus, error)
	SyncJobs(ctx context.Context) ([]proxmox.JobStatus, error)
	SyncJobsAll(ctx context.Context) ([]proxmox.JobStatus, bool, error)
	Permissions(ctx context.Context) (map[string]map[string]bool, error)
	pbsGroupAPI
}

// target is one configured source with its client, which also bounds the
// requests in flight to it.
type target struct {
	name string
	kind string // dedup.KindPVE or dedup.KindPBS
	// clusterName is the configured cluster label of a PVE target; ""
	// means "the name PVE reports".
	clusterName string
	pve         pveAPI
	pbs         pbsAPI
	// endpoints are the PBS URLs' host:port, to match pbs storages.
	endpoints []string
	// namespaces is a PBS target's allow-list.
	namespaces []string
	// insecure is shown on /status: TLS verification is off.
	insecure bool
	// sig identifies where the target points (see signatureOf).
	sig string
	// timeout, when set, caps one scrape's time on this target.
	timeout time.Duration
	// configured is the name given in the config ("" for a PVE target
	// without one: it is then known by the cluster name PVE reports).
	configured string
	// discovered is that reported name, once known.
	discoveredMu sync.Mutex
	discovered   string
	// keepLastKnown is how long a PBS's last known groups are still
	// exported while it is unreachable (config offline.keep_last_known).
	keepLastKnown time.Duration
	// syncDirections remembers a PBS that refuses sync-direction
	// (syncjobs.go).
	syncDirections syncDirectionMemory
}

// label is the target label: the configured name, else the cluster name
// PVE reported, else the first URL's host.
func (t *target) label() string {
	t.discoveredMu.Lock()
	defer t.discoveredMu.Unlock()
	if t.configured == "" && t.discovered != "" {
		return t.discovered
	}
	return t.name
}

func (t *target) setDiscovered(name string) {
	t.discoveredMu.Lock()
	t.discovered = name
	t.discoveredMu.Unlock()
}

func (t *target) requests() uint64 {
	if t.pve != nil {
		return t.pve.Requests()
	}
	if t.pbs != nil {
		return t.pbs.Requests()
	}
	return 0
}

// call runs one request to the target and notes when the target was last
// busy, for target_scrape_duration_seconds. The target's client bounds the
// requests in flight (proxmox.Target.MaxConcurrency) and times each one
// (see fetch).
func (r *targetRun) call(fn func() error) error {
	err := fn()
	now := time.Now().UnixNano()
	for {
		last := r.lastEnd.Load()
		if now <= last || r.lastEnd.CompareAndSwap(last, now) {
			break
		}
	}
	return err
}

// clusterData is what one scrape learned of a PVE target.
type clusterData struct {
	t   *target
	run *targetRun
	// ctx is the scrape's context, capped by the target's own timeout.
	ctx context.Context

	name string
	// target is the target label once the cluster name is known (see
	// inventoryPVE), before the run is renamed.
	target string
	// planned is closed once what the routing plan needs is known:
	// nodes, storage configuration and node storage status; planUp says
	// whether the plan may count on the cluster (guests may still fail).
	planned      chan struct{}
	planUp       bool
	up           bool
	version      string
	nodes        []proxmox.Node
	guests       []proxmox.ClusterResource
	storages     []proxmox.StorageConfig
	nodeStorages map[string][]proxmox.NodeStorage
	jobs         []proxmox.BackupJob
	jobsOK       bool
	// pools are the pools the token may see, read only when a job selects
	// by pool (dedup.NeedsPools); poolsOK says they were read.
	pools   []string
	poolsOK bool

	// tasks is the newest finished vzdump task per guest "type/vmid";
	// tasksUnknown names the nodes whose tasks could not be read (failed or
	// offline): their guests get no task series.
	tasksRead    bool
	tasks        map[string]guestTask
	tasksUnknown map[string]bool
	// taskRows are the fetched tasks, nil until fetched.
	taskRows []dedup.TaskWithLog
}

// pbsData is what one scrape learned of a PBS target.
type pbsData struct {
	t   *target
	run *targetRun
	// ctx is the scrape's context, capped by the target's own timeout.
	ctx context.Context

	up          bool
	version     string
	fingerprint string
	datastores  []proxmox.Datastore
	// dsDown says why a datastore is down ("" = up).
	dsDown     map[string]string
	namespaces map[string][]string
	usage      map[string]proxmox.DatastoreUsage
	jobs       []pbsJob
	// gc is GET /admin/gc per datastore: state and figures of the last GC.
	gc map[string]proxmox.GCJobStatus
	// jobsRead says which job lists (by job type) were read: only then
	// does a missing job mean "none" (verify coverage).
	jobsRead map[string]bool
	// syncVisible says whether the token provably sees every sync job
	// (syncjobs.go); nil when its permissions could not be read.
	syncVisible *bool
	// perms are the token's privileges by ACL path (GET
	// /access/permissions); nil when they could not be read.
	perms map[string]map[string]bool
	// syncPullOnly: the sync jobs were read without sync-direction (a PBS
	// before 3.3, which has only pull jobs).
	syncPullOnly bool
}

// pbsJob is one GC, verify, prune or sync job with its last-run state.
type pbsJob struct {
	Datastore string `json:"datastore"`
	Type      string `json:"job_type"`
	ID        string `json:"job_id"`
	LastEnd   int64  `json:"last_run_end,omitempty"`   // 0 = never ran or running
	LastState string `json:"last_run_state,omitempty"` // "" = never ran or running
	NextRun   int64  `json:"next_run,omitempty"`       // 0 = not scheduled
	// Verify and sync jobs: schedule ("" = runs only by hand), anchor
	// namespace and depth (nil = every level).
	Schedule  string `json:"schedule,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	MaxDepth  *int   `json:"max_depth,omitempty"`
	// Sync jobs: direction (pull or push) and remote ("" = local).
	Direction   string `json:"direction,omitempty"`
	Remote      string `json:"remote,omitempty"`
	RemoteStore string `json:"remote_store,omitempty"`
}

// scrapeResult is the immutable outcome of one scrape.
type scrapeResult struct {
	start    time.Time
	duration time.Duration
	enabled  map[string]bool
	runs     []*targetRun
	clusters []*clusterData
	pbs      []*pbsData
	estate   dedup.Estate
	plan     dedup.Plan
	merged   dedup.Result
	// cache reports per PBS repository how many groups were listed and how
	// many snapshot listings were fetched.
	cache map[string]cacheStats
	// warming are the PBS repositories whose warm-up goes on past this
	// scrape, with its progress (warmup.go).
	warming map[string]warmup
	// errorCounts is target_errors_total after this scrape.
	errorCounts map[errorKey]float64
	// lastSuccess is target_last_success_timestamp_seconds after it.
	lastSuccess map[runKey]time.Time
}

type errorKey struct{ target, kind, reason string }

type runKey struct{ target, kind string }

// scrape holds the state of one scrape in progress.
type scrape struct {
	c   *Collector
	now time.Time
	set *targetSet
}

// fetch runs one complete scrape. It never fails as a whole: every failure
// is recorded on its target and the part it takes down.
func (c *Collector) fetch(ctx context.Context) *scrapeResult {
	set := c.currentSet()
	start := time.Now()
	s := &scrape{c: c, now: c.opts.Now(), set: set}
	res := &scrapeResult{start: start, enabled: c.opts.Enabled, cache: map[string]cacheStats{}, warming: map[string]warmup{}}

	for _, t := range set.targets {
		run := &targetRun{name: t.label(), kind: t.kind, tgt: t, start: start, requestsBefore: t.requests()}
		res.runs = append(res.runs, run)
		tctx := proxmox.WithRequestTimer(ctx, run.noteRequest)
		if t.timeout > 0 {
			var cancel context.CancelFunc
			tctx, cancel = context.WithTimeout(ctx, t.timeout)
			defer cancel()
		}
		switch t.kind {
		case dedup.KindPVE:
			res.clusters = append(res.clusters, &clusterData{t: t, run: run, ctx: tctx, planned: make(chan struct{})})
		case dedup.KindPBS:
			res.pbs = append(res.pbs, &pbsData{t: t, run: run, ctx: tctx})
		}
	}

	// The pipeline: inventory -> plan -> fetch -> merge -> emit. A scrape
	// takes as long as its longest chain of dependent requests, so nothing
	// waits for what it does not need (issue 5):
	//   - plan, phase one: a PBS's namespaces are read through the group
	//     cache as soon as every PBS inventory is in (dedup.PlanPBS: which
	//     namespaces are read depends on the PBS targets alone);
	//   - a cluster's node storage status is asked for as soon as its
	//     nodes are known;
	//   - plan, phase two: the scrape's one plan (dedup.BuildPlan) is built
	//     once every target's planning inventory is in (nodes, storage
	//     configuration and status, PBS datastores), while guests and jobs
	//     are still being listed: routing does not depend on them. PVE
	//     content listings and vzdump tasks start then. Only a cluster
	//     whose guest listing fails after planning changes the plan (a
	//     down cluster is not routed): then it is built again without it;
	//   - merge runs once, when every listing the plan names is in.
	//
	// Inventories: planning needs all of them, so a hanging source must
	// not eat the whole budget. The inventories get half of it, and a
	// source not done by then is down for this scrape while the others'
	// listings still fit.
	var invWG, pbsWG, tasksWG sync.WaitGroup
	invCtx := func(tctx context.Context) (context.Context, context.CancelFunc) {
		if dl, ok := tctx.Deadline(); ok {
			return context.WithDeadline(tctx, start.Add(dl.Sub(start)/2))
		}
		return context.WithCancel(tctx)
	}
	for _, cd := range res.clusters {
		ictx, cancel := invCtx(cd.ctx)
		defer cancel()
		invWG.Go(func() { s.inventoryPVE(ictx, cd) })
	}
	for _, pd := range res.pbs {
		ictx, cancel := invCtx(pd.ctx)
		defer cancel()
		pbsWG.Go(func() { s.inventoryPBS(ictx, pd) })
	}
	lists := newListingSet()
	defer lists.finish()

	// Plan, phase one: PBS namespaces, as soon as every PBS is known.
	pbsWG.Wait()
	for _, l := range dedup.PlanPBS(pbsEstate(res)) {
		if pd := findPBS(res.pbs, l.PBSTarget); pd != nil && pd.up {
			lists.startPBS(s, pd, l.Datastore, l.Namespace)
		}
	}

	// Plan, phase two: the plan of the scrape, as soon as every cluster's
	// planning inventory is in. PVE listings and tasks start right away,
	// while guests and jobs are still being listed.
	for _, cd := range res.clusters {
		<-cd.planned
	}
	known := c.lastKnown.snapshot()
	res.estate = dedup.SubstituteLastKnown(planningEstate(res, set.overrides), known, s.now)
	res.plan = dedup.BuildPlan(res.estate)
	fallback := fallbackRepositories(res.plan)
	for _, l := range res.plan.PVEListings {
		if cd := findCluster(res.clusters, l.ClusterTarget); cd != nil {
			lists.startPVE(s, cd, l.ClusterTarget, l, fallback[l.Repository])
		}
	}
	if c.enabled(CollectorTasks) {
		for _, cd := range res.clusters {
			if cd.planUp {
				tasksWG.Go(func() { s.fetchClusterTasks(cd.ctx, cd) })
			}
		}
	}

	// Guests and jobs complete the estate. A cluster whose guest listing
	// failed is down, and a down cluster is not routed (dedup.Cluster.Up):
	// only then is the plan built again, without it. The listings that
	// plan names and that did not start (a shared storage read through
	// another cluster) start now; those it drops are cancelled unused.
	invWG.Wait()
	completeEstate(res)
	for _, cd := range res.clusters {
		if cd.planUp && !cd.up {
			res.plan = dedup.BuildPlan(res.estate)
			fallback = fallbackRepositories(res.plan)
			break
		}
	}

	// Fetch exactly the listings the plan names.
	listings := dedup.Listings{PVE: map[string]dedup.PVEResult{}, PBS: map[string]dedup.PBSResult{}}
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for _, l := range res.plan.PVEListings {
		cd := findCluster(res.clusters, l.ClusterTarget)
		if cd == nil {
			continue
		}
		f := lists.startPVE(s, cd, l.ClusterTarget, l, fallback[l.Repository])
		lists.usePVE(f)
		wg.Go(func() {
			r := f.wait()
			f.record()
			mu.Lock()
			listings.PVE[l.Repository] = r
			mu.Unlock()
		})
	}
	stale := map[string]bool{}
	for _, p := range res.estate.PBS {
		stale[p.Target] = p.Stale
	}
	keep := map[nsKey]bool{}
	for _, l := range res.plan.PBSListings {
		pd := findPBS(res.pbs, l.PBSTarget)
		if pd == nil {
			continue
		}
		keep[nsKey{l.PBSTarget, l.Datastore, l.Namespace}] = true
		if stale[l.PBSTarget] {
			// Last known groups of an offline PBS (keep_last_known).
			listings.PBS[l.Repository] = dedup.PBSResult{Groups: known[l.PBSTarget].Groups[l.Repository]}
			continue
		}
		f := lists.startPBS(s, pd, l.Datastore, l.Namespace)
		lists.usePBS(f)
		wg.Go(func() {
			r := f.wait()
			if r.warming != nil {
				// Unknown, so down to dedup (its guests get no counts),
				// but not a failure: no log, no error counted.
				r.err = errWarming
			} else if r.err != nil {
				pd.run.fail(r.endpoint, "repository "+l.Repository, r.err, pd.t.pbs.SeenFingerprint())
			}
			mu.Lock()
			listings.PBS[l.Repository] = dedup.PBSResult{Groups: r.groups, Err: r.err}
			res.cache[l.Repository] = r.stats
			if r.warming != nil {
				res.warming[l.Repository] = *r.warming
			}
			mu.Unlock()
		})
	}
	tasksWG.Wait()
	if c.enabled(CollectorTasks) {
		listings.Tasks = map[string]map[dedup.GuestKey]dedup.TaskResult{}
		for _, cd := range res.clusters {
			if cd.up && cd.taskRows != nil {
				listings.Tasks[cd.name] = s.resolveClusterTasks(cd)
			}
		}
	}
	wg.Wait()
	lists.finish()

	// Forget namespaces that are gone from PBS targets whose inventory was
	// read; keep the cache of a PBS that is down for when it returns.
	readTargets := map[string]bool{}
	for _, pd := range res.pbs {
		if pd.up {
			readTargets[pd.t.name] = true
		}
	}
	c.pbsCache.retain(readTargets, keep)

	// Storages of two clusters at one address were both listed; what the
	// listings show decides whether they are one place.
	res.plan = dedup.JoinSamePlaces(res.plan, listings)
	res.merged = dedup.Merge(res.estate, res.plan, listings)
	c.recordLastKnown(res, listings, s.now)
	s.noteWarnings(res, listings)

	end := time.Now()
	for _, r := range res.runs {
		r.requests = r.tgt.requests() - r.requestsBefore
		if last := r.lastEnd.Load(); last > 0 {
			r.duration = time.Unix(0, last).Sub(start)
		}
	}
	res.duration = end.Sub(start)
	c.account(res)
	return res
}

func findCluster(cs []*clusterData, target string) *clusterData {
	for _, cd := range cs {
		if cd.run.name == target {
			return cd
		}
	}
	return nil
}

func findPBS(ps []*pbsData, target string) *pbsData {
	for _, pd := range ps {
		if pd.t.name == target {
			return pd
		}
	}
	return nil
}

// inventoryPVE reads what dedup needs of a cluster before planning:
// cluster name, nodes, guests, storage configuration and per-node storage
// status, and backup jobs. Nodes, guests and storages are required (the
// cluster is down without them); the rest degrades one part.
func (s *scrape) inventoryPVE(ctx context.Context, cd *clusterData) {
	api, run := cd.t.pve, cd.run
	var (
		wg, planWG                     sync.WaitGroup
		status                         []proxmox.ClusterStatusItem
		nodesOK, guestsOK, storagesOK  bool
		nodesErr, guestsErr, storesErr error
	)
	planned := false
	defer func() {
		if !planned {
			close(cd.planned)
		}
	}()
	wg.Go(func() {
		var v proxmox.PVEVersion
		if err := run.call(func() (err error) { v, err = api.Version(ctx); return err }); err != nil {
			run.fail(proxmox.EndpointVersion, "target", err, "")
			return
		}
		cd.version = v.Version
	})
	planWG.Go(func() {
		if err := run.call(func() (err error) { status, err = api.ClusterStatus(ctx); return err }); err != nil {
			run.fail(proxmox.EndpointClusterStatus, "target", err, "")
		}
	})
	cd.nodeStorages = map[string][]proxmox.NodeStorage{}
	var nsMu sync.Mutex
	planWG.Go(func() {
		nodesErr = run.call(func() (err error) { cd.nodes, err = api.Nodes(ctx); return err })
		if nodesErr != nil {
			run.fail(proxmox.EndpointNodes, "target", nodesErr, "")
			return
		}
		nodesOK = true
		// Node storage status right away: planning waits for it.
		for _, n := range cd.nodes {
			if !n.Online() {
				run.warn(nodeOfflineFailure(n.Node))
				continue
			}
			planWG.Go(func() {
				var rows []proxmox.NodeStorage
				if err := run.call(func() (err error) { rows, err = api.NodeStorage(ctx, n.Node, "backup"); return err }); err != nil {
					run.fail(proxmox.EndpointNodeStorage(n.Node), "node "+n.Node, err, "")
					return
				}
				nsMu.Lock()
				cd.nodeStorages[n.Node] = rows
				nsMu.Unlock()
			})
		}
	})
	wg.Go(func() {
		guestsErr = run.call(func() (err error) { cd.guests, err = api.ClusterResources(ctx, "vm"); return err })
		if guestsErr != nil {
			run.fail(proxmox.EndpointClusterResourcesVM, "target", guestsErr, "")
			return
		}
		guestsOK = true
	})
	planWG.Go(func() {
		storesErr = run.call(func() (err error) { cd.storages, err = api.StorageConfig(ctx); return err })
		if storesErr != nil {
			run.fail(proxmox.EndpointStorageConfig, "target", storesErr, "")
			return
		}
		storagesOK = true
	})
	wg.Go(func() {
		if err := run.call(func() (err error) { cd.jobs, err = api.BackupJobs(ctx); return err }); err != nil {
			run.fail(proxmox.EndpointBackupJobs, "jobs", err, "")
			return
		}
		cd.jobsOK = true
		if !dedup.NeedsPools(cd.jobs) {
			return
		}
		// PVE hides the pools the token lacks Pool.Audit on, also from the
		// guest rows: dedup needs to know which ones it sees.
		var pools []proxmox.Pool
		if err := run.call(func() (err error) { pools, err = api.Pools(ctx); return err }); err != nil {
			run.fail("GET /pools", "jobs", err, "")
			return
		}
		for _, p := range pools {
			cd.pools = append(cd.pools, p.PoolID)
		}
		cd.poolsOK = true
	})
	planWG.Wait()

	name, reported := clusterName(cd.t, status, cd.nodes)
	cd.name = name
	if reported && cd.t.clusterName == "" && cd.t.configured == "" {
		// No name in the config: the target is known by the name PVE
		// reports, from now on.
		cd.t.setDiscovered(name)
		run.rename(name)
	}
	cd.target = run.name // only this goroutine renames
	if storagesOK {
		s.c.knownStorages.remember(cd.t, cd.storages)
	} else {
		// Keeps the cluster's PBS namespaces attributed while it is down.
		cd.storages = s.c.knownStorages.recall(cd.t)
	}
	if !nodesOK {
		cd.nodeStorages = nil
	}
	// Planned as up; guests may still fail, which takes the cluster down
	// (see fetch).
	cd.planUp = nodesOK && storagesOK
	planned = true
	close(cd.planned)

	wg.Wait()
	cd.up = nodesOK && guestsOK && storagesOK
	if !nodesOK {
		return
	}
	// Guests of other types (a newer PVE's resources) are not ours. In
	// place: the rows are large and nothing else holds them.
	cd.guests = slices.DeleteFunc(cd.guests, func(g proxmox.ClusterResource) bool {
		return g.Type != "qemu" && g.Type != "lxc"
	})
	s.c.knownGuests.fill(cd.t.name, cd.guests)
}

// clusterName applies METRICS.md: the configured name, else the name PVE
// reports for the cluster, else a standalone node's own name. reported is
// true when the name came from PVE.
func clusterName(t *target, status []proxmox.ClusterStatusItem, nodes []proxmox.Node) (name string, reported bool) {
	if t.clusterName != "" {
		return t.clusterName, false
	}
	for _, it := range status {
		if it.Type == "cluster" && it.Name != "" {
			return it.Name, true
		}
	}
	var members []string
	for _, it := range status {
		if it.Type == "node" {
			members = append(members, it.Name)
		}
	}
	if len(members) == 0 {
		for _, n := range nodes {
			members = append(members, n.Node)
		}
	}
	if len(members) == 1 {
		return members[0], true
	}
	return t.label(), false
}

// inventoryPBS reads a PBS's version, datastores and their namespaces, and
// (with the datastores collector) usage and job states.
func (s *scrape) inventoryPBS(ctx context.Context, pd *pbsData) {
	api, run := pd.t.pbs, pd.run
	fp := func() string { return api.SeenFingerprint() }
	var (
		wg      sync.WaitGroup
		dsOK    bool
		usage   []proxmox.DatastoreUsage
		usageOK bool
		jobsMu  sync.Mutex
	)
	wg.Go(func() {
		var v proxmox.PBSVersion
		if err := run.call(func() (err error) { v, err = api.Version(ctx); return err }); err != nil {
			run.fail(proxmox.EndpointVersion, "target", err, fp())
			return
		}
		pd.version = v.Version
		if v.Release != "" {
			pd.version += "." + v.Release
		}
	})
	wg.Go(func() {
		if err := run.call(func() (err error) { pd.datastores, err = api.Datastores(ctx); return err }); err != nil {
			run.fail(proxmox.EndpointDatastores, "target", err, fp())
			return
		}
		dsOK = true
	})
	if s.c.enabled(CollectorDatastores) {
		wg.Go(func() {
			if err := run.call(func() (err error) { usage, err = api.DatastoreUsage(ctx); return err }); err != nil {
				run.fail(proxmox.EndpointDatastoreUsage, "datastores", err, fp())
				return
			}
			usageOK = true
		})
		jobCalls := []struct {
			typ, endpoint string
			fn            func(context.Context) ([]proxmox.JobStatus, error)
		}{
			{"verify", proxmox.EndpointVerifyJobs, api.VerifyJobs},
			{"prune", proxmox.EndpointPruneJobs, api.PruneJobs},
			{"sync", proxmox.EndpointSyncJobs, func(ctx context.Context) ([]proxmox.JobStatus, error) {
				return readSyncJobs(ctx, pd)
			}},
		}
		pd.jobsRead = map[string]bool{}
		wg.Go(func() { readSyncVisibility(ctx, pd) })
		for _, jc := range jobCalls {
			wg.Go(func() {
				var rows []proxmox.JobStatus
				if err := run.call(func() (err error) { rows, err = jc.fn(ctx); return err }); err != nil {
					run.fail(jc.endpoint, "jobs", err, fp())
					return
				}
				jobsMu.Lock()
				defer jobsMu.Unlock()
				pd.jobsRead[jc.typ] = true
				for _, j := range rows {
					pj := pbsJob{
						Datastore: j.Store, Type: jc.typ, ID: j.ID,
						LastEnd: intPtr(j.LastRunEndtime), LastState: j.LastRunState, NextRun: intPtr(j.NextRun),
						Schedule: j.Schedule, Namespace: j.NS,
					}
					if j.MaxDepth != nil {
						d := int(*j.MaxDepth)
						pj.MaxDepth = &d
					}
					if jc.typ == "sync" {
						pj.Direction, pj.Remote, pj.RemoteStore = j.Direction(), j.Remote, j.RemoteStore
					}
					pd.jobs = append(pd.jobs, pj)
				}
			})
		}
		wg.Go(func() {
			var rows []proxmox.GCJobStatus
			if err := run.call(func() (err error) { rows, err = api.GCStatus(ctx); return err }); err != nil {
				run.fail(proxmox.EndpointGCStatus, "jobs", err, fp())
				return
			}
			jobsMu.Lock()
			defer jobsMu.Unlock()
			pd.gc = make(map[string]proxmox.GCJobStatus, len(rows))
			pd.jobsRead["gc"] = true
			for _, j := range rows {
				pd.gc[j.Store] = j
				pd.jobs = append(pd.jobs, pbsJob{
					Datastore: j.Store, Type: "gc", ID: j.Store,
					LastEnd: intPtr(j.LastRunEndtime), LastState: j.LastRunState, NextRun: intPtr(j.NextRun),
				})
			}
		})
	}
	wg.Wait()
	pd.t.syncDirections.note(pd)
	pd.fingerprint = api.SeenFingerprint()
	sort.Slice(pd.jobs, func(i, j int) bool {
		a, b := pd.jobs[i], pd.jobs[j]
		if a.Datastore != b.Datastore {
			return a.Datastore < b.Datastore
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.ID < b.ID
	})
	if usageOK {
		pd.usage = map[string]proxmox.DatastoreUsage{}
		for _, u := range usage {
			pd.usage[u.Store] = u
		}
	}
	if !dsOK {
		return
	}
	pd.up = true

	// Namespaces per datastore; one bad datastore never fails the others.
	pd.dsDown = map[string]string{}
	pd.namespaces = map[string][]string{}
	var mu sync.Mutex
	// Datastores PBS reports down are settled before any goroutine starts:
	// the goroutines below write dsDown too.
	for _, ds := range pd.datastores {
		if why := datastoreDownReason(ds, pd.usage); why != "" {
			pd.dsDown[ds.Store] = why
			run.warn(datastoreDownFailure(ds.Store, why))
		}
	}
	for _, ds := range pd.datastores {
		if datastoreDownReason(ds, pd.usage) != "" {
			continue
		}
		wg.Go(func() {
			var rows []proxmox.Namespace
			err := run.call(func() (err error) { rows, err = api.Namespaces(ctx, ds.Store); return err })
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				f := run.fail(proxmox.EndpointNamespaces(ds.Store), "datastore "+ds.Store, err, fp())
				pd.dsDown[ds.Store] = f.Reason + ": " + f.Message
				return
			}
			var names []string
			for _, n := range rows {
				names = append(names, n.NS)
			}
			sort.Strings(names)
			pd.namespaces[ds.Store] = names
		})
	}
	wg.Wait()
}

// datastoreDownReason says why a datastore cannot be read, "" when it can.
func datastoreDownReason(ds proxmox.Datastore, usage map[string]proxmox.DatastoreUsage) string {
	// Read-only maintenance still serves reads (PBS blocks only writes);
	// an unparsable mode is taken as blocking.
	if m, err := proxmox.ParseMaintenance(ds.Maintenance); ds.Maintenance != "" && (err != nil || m.BlocksReads()) {
		return "maintenance (" + ds.Maintenance + ")"
	}
	if ds.MountStatus == "notmounted" {
		return "not mounted"
	}
	if u, ok := usage[ds.Store]; ok && u.Error != "" {
		return "error: " + u.Error
	}
	return ""
}

func intPtr(p *proxmox.Int) int64 {
	if p == nil {
		return 0
	}
	return int64(*p)
}

// planningEstate turns the planning inventories into dedup's input: what
// the plan depends on. completeEstate adds guests and jobs.
func planningEstate(res *scrapeResult, overrides []dedup.Override) dedup.Estate {
	e := dedup.Estate{Overrides: overrides, PBS: pbsEstate(res)}
	for _, cd := range res.clusters {
		e.Clusters = append(e.Clusters, dedup.Cluster{
			Target: cd.target, Name: cd.name, Up: cd.planUp,
			Nodes: cd.nodes, Storages: cd.storages, NodeStorages: cd.nodeStorages,
		})
	}
	return e
}

// completeEstate adds what the inventories read after planning (guests
// and jobs) to the estate, once every inventory is done; a cluster whose
// guests could not be read is down.
func completeEstate(res *scrapeResult) {
	for i, cd := range res.clusters {
		c := &res.estate.Clusters[i]
		c.Up, c.Guests, c.Jobs = cd.up, cd.guests, cd.jobs
		c.Pools, c.PoolsRead = cd.pools, cd.poolsOK
	}
}

// pbsEstate is the PBS part of dedup's input.
func pbsEstate(res *scrapeResult) []dedup.PBS {
	var out []dedup.PBS
	for _, pd := range res.pbs {
		p := dedup.PBS{
			Target: pd.t.name, Endpoints: pd.t.endpoints, Fingerprint: pd.fingerprint,
			Up: pd.up, Namespaces: pd.t.namespaces, KeepLastKnown: pd.t.keepLastKnown,
		}
		for _, ds := range pd.datastores {
			_, down := pd.dsDown[ds.Store]
			d := dedup.Datastore{Name: ds.Store, Up: pd.up && !down, Namespaces: pd.namespaces[ds.Store]}
			if u, ok := pd.usage[ds.Store]; ok && u.Total != nil && u.Used != nil {
				d.Total, d.Used = int64(*u.Total), int64(*u.Used)
			}
			p.Datastores = append(p.Datastores, d)
		}
		out = append(out, p)
	}
	return out
}

// fallbackRepositories names the repositories of pbs storages read through
// PVE because their PBS is down or unmatched.
func fallbackRepositories(p dedup.Plan) map[string]bool {
	out := map[string]bool{}
	for _, sr := range p.Storages {
		if sr.Route == dedup.RoutePVEFallback {
			for _, r := range append([]string{sr.Repository}, sr.Repositories...) {
				out[r] = true
			}
		}
	}
	return out
}

// listPVE reads one storage content listing, moving to the next candidate
// node when one is unreachable (a shared storage can be read from any). Its
// failures are returned as record, called when the listing is used.
func (s *scrape) listPVE(ctx context.Context, cd *clusterData, l dedup.PVEListing, fallback bool) (dedup.PVEResult, func()) {
	var (
		lastErr error
		records []func()
	)
	record := func() {
		for _, r := range records {
			r()
		}
	}
	for _, node := range l.Nodes {
		var vols []proxmox.BackupVolume
		err := cd.run.call(func() (err error) { vols, err = cd.t.pve.StorageContent(ctx, node, l.Storage); return err })
		if err == nil {
			return dedup.PVEResult{Volumes: vols, Node: node}, record
		}
		lastErr = err
		endpoint := proxmox.EndpointStorageContent(node, l.Storage)
		if fallback {
			// A pbs storage read through PVE because its PBS is down or
			// unmatched: PVE fails because the PBS does. That takes the
			// repository down but is not the cluster's error: it neither
			// calls the PVE cluster down nor counts in its
			// target_errors_total (no "PVE down" page for a PBS outage).
			f := Failure{Endpoint: endpoint, Part: "storage " + l.Storage, Reason: reasonOf(err),
				Message: errorMessage(err), Hint: "the PBS behind this pbs storage did not answer PVE either; see the PBS target's state",
				State: true}
			records = append(records, func() { cd.run.warn(f) })
		} else {
			records = append(records, func() { cd.run.fail(endpoint, "storage "+l.Storage, err, "") })
		}
		if reasonOf(err) != "unreachable" {
			break
		}
	}
	if lastErr == nil {
		lastErr = errNoNode
	}
	return dedup.PVEResult{Err: lastErr}, record
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

type errString string

func (e errString) Error() string { return string(e) }

// errNoNode is the error of a listing dedup planned without any node.
const errNoNode = errString("no online node has the storage")

// errWarming is the listing error of a warming repository (warmup.go).
const errWarming = errString("the first read of the repository is still under way")

// fetchClusterTasks reads the vzdump tasks of every online node (and the
// logs of finished job runs); resolveClusterTasks resolves them per guest
// once the guests are known.
func (s *scrape) fetchClusterTasks(ctx context.Context, cd *clusterData) {
	cd.tasksUnknown = map[string]bool{}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		all = []dedup.TaskWithLog{}
	)
	// Offline nodes are settled before any goroutine starts: the goroutines
	// below write tasksUnknown too.
	for _, n := range cd.nodes {
		if !n.Online() {
			cd.tasksUnknown[n.Node] = true
		}
	}
	for _, n := range cd.nodes {
		if !n.Online() {
			continue
		}
		wg.Go(func() {
			got, err := s.nodeTasks(ctx, cd, n.Node)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				cd.tasksUnknown[n.Node] = true
			}
			all = append(all, got...)
		})
	}
	wg.Wait()
	cd.taskRows = all
}

// resolveClusterTasks resolves the fetched tasks per guest with
// dedup.GuestTaskResults, once the guests are known, and returns them as
// evidence for dedup.Merge.
func (s *scrape) resolveClusterTasks(cd *clusterData) map[dedup.GuestKey]dedup.TaskResult {
	results := dedup.GuestTaskResults(cd.name, cd.guests, cd.taskRows)
	cd.tasks = make(map[string]guestTask, len(results))
	for k, r := range results {
		cd.tasks[k.BackupType+"/"+k.BackupID] = guestTask{Start: r.StartTime, End: r.EndTime, Success: r.Success, Node: r.Node,
			Seconds: r.Seconds, Timed: r.Timed, Bytes: r.Bytes, Transferred: r.Transferred}
	}
	cd.tasksRead = true
	return results
}

// noteWarnings records dedup's permission warnings on their targets,
// counted in target_errors_total{reason="permission"}: an empty listing
// where PVE reports data (permission_suspected), a listing without the
// backups that tasks made (backups_hidden), and a job's pool the token may
// not see (pool_hidden).
func (s *scrape) noteWarnings(res *scrapeResult, listings dedup.Listings) {
	repos := map[string]dedup.Repository{}
	for _, r := range res.plan.Repositories {
		repos[r.Name] = r
	}
	for _, w := range res.merged.Warnings {
		// Each warning is about one side of its target (PVE or PBS); the
		// hint names the privilege that guards what was hidden.
		var f Failure
		kind := dedup.KindPVE
		switch w.Kind {
		case dedup.WarnPermissionSuspected:
			f = Failure{Endpoint: "storage " + w.Storage + " content", Part: "storage " + w.Storage,
				Hint: proxmox.PrivilegeHint(kind, proxmox.PathOf(proxmox.EndpointStorageContent("{node}", w.Storage)))}
		case dedup.WarnBackupsHidden:
			r := repos[w.Repository]
			kind = r.Kind
			if r.Kind == dedup.KindPBS {
				f.Endpoint = proxmox.EndpointGroups(r.Datastore)
			} else {
				node := listings.PVE[r.Name].Node
				if node == "" {
					node = r.Node
				}
				f.Endpoint = proxmox.EndpointStorageContent(node, r.Storage)
			}
			f.Part = "repository " + r.Name
			f.Hint = proxmox.PrivilegeHint(kind, proxmox.PathOf(f.Endpoint))
		case dedup.WarnPoolHidden:
			// GET /pools answered; the pool was simply not in it. What
			// makes it visible is the pool's own privilege.
			f = Failure{Endpoint: proxmox.EndpointPools, Part: "job " + w.Job, Hint: proxmox.PoolHint(w.Pool)}
		default:
			continue
		}
		f.Reason, f.Message = "permission", w.Message
		for _, r := range res.runs {
			if r.name == w.Target && r.kind == kind {
				r.warn(f)
			}
		}
	}
}

// endpointOf returns host:port of a URL, defaulting the port (8007 for
// PBS, as PVE's pbs storage does).
func endpointOf(raw, defPort string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = defPort
	}
	return net.JoinHostPort(strings.ToLower(host), port)
}
