package emulator

import (
	"math"
	"slices"
	"time"
)

// Model is the declarative description of an emulated estate: PVE clusters
// and PBS servers. The server derives every API answer from it, so one fact
// (a PBS snapshot, a shared file) shows up consistently in every view that
// real Proxmox would show it in. Mutate a running model only through
// Server.Update.
type Model struct {
	Clusters []*Cluster
	PBS      []*PBSServer
	// Latency slows every answer down, for benchmarks of parallel fetching.
	Latency Latency
	// AuthFailureDelay delays 401 answers, as both products do (~3 s). Zero
	// by default so tests stay fast.
	AuthFailureDelay time.Duration
}

// Latency is an emulated per-request cost plus a per-row cost for listings
// (PBS and PVE both take longer the more rows they return).
type Latency struct {
	PerRequest time.Duration
	PerItem    time.Duration
}

// Cluster is a PVE cluster (or a standalone node when Standalone is set).
type Cluster struct {
	// Name is the cluster name reported by /cluster/status.
	Name string
	// Standalone makes /cluster/status report no "cluster" row, like a
	// single PVE host that never joined a cluster.
	Standalone bool
	// Version is the pve-manager version ("9.1.3" when empty).
	Version string
	// TokenID and TokenSecret are the only API token accepted. Defaults:
	// "exporter@pve!monitor" and a secret derived from the cluster name.
	TokenID     string
	TokenSecret string
	// NoPoolAudit lists the pools on which the token lacks Pool.Audit.
	// PVE then leaves them out of GET /pools and of /cluster/resources (no
	// pool row, no pool field on their guests) without an error, so their
	// membership cannot be seen; backup jobs still select by it.
	NoPoolAudit []string
	Nodes       []*Node
	Guests      []*Guest
	Storages    []*Storage
	Jobs        []*BackupJob
	Tasks       []*Task
}

// Node is a PVE cluster member. Each node gets its own HTTPS listener.
type Node struct {
	Name string
	// Offline nodes refuse connections on their own listener, calls proxied
	// to them answer 595, /nodes shows them offline and their guests and
	// storages have no RRD data (status "unknown").
	Offline bool
	// IP is shown in /cluster/status (default 10.0.0.<index+1>).
	IP string
}

// Guest is a VM (Type "qemu") or container (Type "lxc").
type Guest struct {
	VMID     int
	Type     string // qemu | lxc
	Name     string
	Node     string
	Template bool
	Tags     []string
	Pool     string
	// Status is "running" (default) or "stopped".
	Status string
	// MaxDisk and MaxMem are sizes in bytes (defaults 32 GiB / 4 GiB).
	MaxDisk int64
	MaxMem  int64
}

// Storage is one section of storage.cfg.
type Storage struct {
	ID string
	// Type is the plugin type: dir, nfs, cifs, cephfs, btrfs, pbs, zfspool,
	// lvmthin, lvm, rbd, iscsi, ...
	Type string
	// Content types; empty defaults to backup for file and pbs storages and
	// images,rootdir for block storages.
	Content []string
	// Shared is the admin's shared flag; PVE forces it for network types
	// (nfs, cifs, cephfs, rbd, pbs, iscsi, ...), see IsShared.
	Shared bool
	// Nodes restricts the storage to these nodes; empty = all nodes.
	Nodes []string
	// Disabled is storage.cfg's "disable 1".
	Disabled bool
	// Offline makes the storage fail to activate ("storage 'x' is not
	// online"), e.g. an NFS server that does not answer.
	Offline bool
	// Path of file storages (defaults: /var/lib/vz for dir, /mnt/pve/<id>).
	Path string
	// Server/Export (nfs), Server/Share (cifs).
	Server string
	Export string
	Share  string
	// Pool (zfspool, rbd), VGName and ThinPool (lvm, lvmthin).
	Pool     string
	VGName   string
	ThinPool string
	// Total and Used are the capacity in bytes (pbs storages report the
	// datastore's numbers instead).
	Total int64
	Used  int64
	// PruneBackups is the raw property string, e.g. "keep-all=1".
	PruneBackups string

	// PBS is the name of the PBSServer a pbs storage points at. An unknown
	// name makes the storage unreachable.
	PBS       string
	Datastore string
	Namespace string
	// Username is the PBS auth id PVE uses (default "pve-backup@pbs!pve").
	Username string
	// ServerName is what storage.cfg says in "server" ("127.0.0.1" when
	// empty); set e.g. "localhost" to test matching by fingerprint when
	// names differ.
	ServerName string
	// AddressOf, when set, names the PBSServer whose port storage.cfg
	// states, while the storage's cluster reaches PBS there: a second site
	// whose PBS answers behind the same private address as another's.
	AddressOf string
	// Fingerprint controls storage.cfg's fingerprint: "" = the PBS's current
	// certificate fingerprint in upper case (as admins paste it), "lower" =
	// same in lower case, "none" = absent (CA-signed certificate), anything
	// else is used literally. A literal that does not match the PBS's
	// certificate breaks PVE's access to it (content listing 500, inactive),
	// as on a real cluster after the PBS certificate was replaced.
	Fingerprint string
	// EncryptionKey is storage.cfg's encryption-key (a key fingerprint).
	EncryptionKey string

	// BackupProvider makes the storage a third-party plugin of Type that
	// declares the backup-provider feature (pve-storage storage API 11,
	// libpve-storage-perl 8.3.5, PVE 8.4): vzdump hands its guests to the
	// provider, whose own archive names become the volume ids
	// "<storage>:backup/<name>" (BackupFile.Name, else ProviderArchiveName),
	// and the plugin's listing states guest, type and time in vmid, subtype
	// and ctime. PVE before 8.4 refuses to load a plugin of a newer API and
	// skips its storage.cfg section ("unsupported type"): there the storage
	// is in no listing at all.
	BackupProvider bool

	// Files are vzdump archives on file storages, or the archives of a
	// backup provider (BackupProvider). Storages of two
	// clusters that name one Server and Export are one place only when
	// they share this slice (the same files); with files of their own
	// they are two places behind one address, as private addresses and
	// split-horizon names repeat across sites.
	Files []*BackupFile
}

// BackupFile is a vzdump archive on a file storage.
type BackupFile struct {
	// Node owns the file on a node-local storage; ignored on shared ones.
	Node string
	VMID int
	// Type is qemu or lxc.
	Type string
	// Time is the backup start: it names the file and is its ctime.
	Time time.Time
	// Format is the archive extension: vma.zst (qemu default), tar.zst (lxc
	// default), vma.gz, tar.lzo, tgz, ... On a backup-provider storage it
	// is the format the plugin lists (raw for qemu, tar for lxc when empty).
	Format string
	Size   int64
	// Notes is the first line of the .notes file.
	Notes     string
	Protected bool
	// InProgress files are being written under a temporary name and are not
	// listed at all (real vzdump renames them at the end).
	InProgress bool
	// Name overrides the generated file name (for non-standard names, whose
	// ctime comes from the file's metadata: Time), or the archive name a
	// backup provider chose.
	Name string
}

// BackupJob is one vzdump job of /cluster/backup.
type BackupJob struct {
	ID       string
	Schedule string
	// StartTime ("HH:MM") and DOW (days, e.g. "mon,wed"; empty = every
	// day) make a legacy job of vzdump.cron instead of a Schedule. PVE
	// answers its schedule, converted from them (API2/Backup.pm
	// convert_to_schedule); before PVE 9 it sends starttime and dow as
	// well.
	StartTime string
	DOW       string
	// Disabled is "enabled 0".
	Disabled bool
	// Storage is absent when empty (node default).
	Storage string
	// Selection: VMIDs, or All (minus Exclude), or Pool.
	VMIDs   []int
	All     bool
	Exclude []int
	Pool    string
	// Node restricts the job to guests on that node.
	Node          string
	Mode          string // snapshot (default), suspend, stop
	NotesTemplate string
	Comment       string
	// PruneBackups is rendered as an object of strings, as PVE does.
	PruneBackups map[string]string
	// NextRun is the next scheduled run (absent when zero).
	NextRun time.Time
}

// Task is a PVE worker task (vzdump runs mainly). See VzdumpTask for a
// helper that builds realistic vzdump tasks with their logs.
type Task struct {
	Node string
	// Type is the worker type ("vzdump" when empty).
	Type string
	// ID is the VMID for single-guest vzdump runs, "" for multi-guest runs.
	ID string
	// User is the auth id that started the task: "root@pam" (default) or a
	// token "user@realm!name".
	User  string
	Start time.Time
	// End is zero while the task runs.
	End time.Time
	// Status is the end status: OK, "WARNINGS: n", "job errors", ...
	Status string
	// Log lines without the final "TASK ..." line, which is derived from
	// Status for finished tasks.
	Log []string
	// PID and PStart appear in the UPID; derived when zero.
	PID    int
	PStart int
}

// PBSServer is a Proxmox Backup Server with its own HTTPS listener and
// self-signed certificate.
type PBSServer struct {
	// Name is the model name and the PBS host name (in UPIDs, task status).
	Name string
	// Version is "x.y", Release the patch level (defaults 3.2 / 4).
	Version string
	Release string
	// TokenID and TokenSecret are the only API token accepted. Defaults:
	// "exporter@pbs!monitor" and a secret derived from the name.
	TokenID     string
	TokenSecret string
	Datastores  []*Datastore
	VerifyJobs  []*PBSJob
	PruneJobs   []*PBSJob
	SyncJobs    []*PBSJob
	// NoRemoteAudit emulates a token without Remote.Audit: PBS leaves
	// every sync job with a remote out of /admin/sync, without an error,
	// and /access/permissions does not list the privilege.
	NoRemoteAudit bool
	// Tasks are extra worker tasks; job runs (GC, verify, prune, sync) are
	// added to the task list automatically.
	Tasks []*PBSTask
}

// Datastore is a PBS datastore.
type Datastore struct {
	Name    string
	Comment string
	// Maintenance is the raw maintenance property string:
	// "type=read-only,message=...", "type=offline,message=...",
	// "type=unmount", ... (empty = none). offline and unmount make reads
	// fail with 400, read-only does not.
	Maintenance string
	// MountStatus: "nonremovable" (default), "mounted" or "notmounted"
	// (a removable datastore whose device is absent: reads fail).
	MountStatus string
	// BackendType: "filesystem" (default) or "s3".
	BackendType string
	Total       int64
	Used        int64
	// History is the used/total fraction over time for
	// /status/datastore-usage; NaN marks a missing point (null). PBS
	// estimates the full date from it when at least 7 points exist.
	History      []float64
	HistoryStart time.Time
	// HistoryDelta is the spacing (1800 s when zero).
	HistoryDelta time.Duration
	// Namespaces; the root namespace ("") is implicit when missing.
	Namespaces []*Namespace
	// GC is the last garbage collection; nil = never ran.
	GC *GCRun
	// GCSchedule is the GC schedule ("" = none).
	GCSchedule string
	// GCNextRun is the next scheduled GC (absent when zero).
	GCNextRun time.Time
}

// Namespace is a PBS namespace ("" = root, "a/b" nested).
type Namespace struct {
	Path    string
	Comment string
	Groups  []*Group
}

// Group is a PBS backup group. Its listing fields are derived from the
// snapshots as PBS does.
type Group struct {
	Type string // vm, ct, host
	ID   string
	// Owner is the auth id owning the group (default "pve-backup@pbs!pve").
	Owner string
	// Comment is the first line of the group notes (absent when empty).
	Comment string
	// Snapshots in "directory order": PBS does not sort its listings.
	Snapshots []Snapshot
}

// Snapshot is one PBS backup snapshot. Values, not pointers, to keep a
// million of them cheap.
type Snapshot struct {
	Time time.Time
	// Size is the logical size (sum of archive sizes) PBS reports; when
	// Files carry sizes and Size is zero, their sum is used.
	Size int64
	// Files are the archives; nil = the usual set for the group type, with
	// the main archive sized so that the sum equals Size.
	Files []File
	// Comment is the first line of the snapshot notes.
	Comment   string
	Protected bool
	// Verification is "", "ok" or "failed".
	Verification string
	// VerifyUPID is the verification task; derived when empty.
	VerifyUPID string
	// Encrypted is the encryption key fingerprint ("" = not encrypted).
	Encrypted string
	// InProgress snapshots have no manifest yet: no size, verification or
	// comment in listings (PVE shows size 1).
	InProgress bool
}

// File is one archive of a snapshot.
type File struct {
	Name string
	// Size is absent when negative (client.log.blob usually has none).
	Size int64
	// CryptMode: none, encrypt, sign-only ("" = absent).
	CryptMode string
}

// GCRun is the result of the last garbage collection of a datastore.
type GCRun struct {
	Start time.Time
	End   time.Time
	// State is "OK", "WARNINGS: n" or an error text; empty while running.
	State          string
	IndexFileCount int64
	IndexDataBytes int64
	DiskBytes      int64
	DiskChunks     int64
	RemovedBytes   int64
	RemovedChunks  int64
	PendingBytes   int64
	PendingChunks  int64
}

// PBSJob is a verify, prune or sync job with its last-run state. Fields that
// do not apply to the job kind are ignored.
type PBSJob struct {
	ID       string
	Store    string
	NS       string
	MaxDepth *int
	Schedule string
	Comment  string
	// Disable (prune jobs only).
	Disable bool
	// Verify jobs.
	IgnoreVerified bool
	OutdatedAfter  int // days, 0 = absent
	// Prune jobs.
	KeepLast, KeepHourly, KeepDaily, KeepWeekly, KeepMonthly, KeepYearly int
	// Sync jobs: Remote "" = local sync.
	Remote         string
	RemoteStore    string
	RemoteNS       string
	Owner          string
	RemoveVanished bool
	// SyncDirection is "push" or "pull" (PBS 3.3+; "" = not set, pull).
	SyncDirection string
	// Last run: LastRunStart zero = never ran; LastRunState "" with a start
	// = running.
	LastRunStart time.Time
	LastRunEnd   time.Time
	LastRunState string
	NextRun      time.Time
}

// PBSTask is a PBS worker task.
type PBSTask struct {
	WorkerType string
	WorkerID   string
	// User is the full auth id (default "root@pam").
	User  string
	Start time.Time
	// End is zero while running.
	End    time.Time
	Status string
	Log    []string
	PID    int
}

// Ptr returns a pointer to v, for optional model fields such as MaxDepth.
func Ptr[T any](v T) *T { return &v }

// NaN is a missing point in Datastore.History (rendered as null).
var NaN = math.NaN()

// sharedTypes are the plugin types PVE forces shared=1 for (pve-storage
// Plugin.pm @SHARED_STORAGE).
var sharedTypes = map[string]bool{
	"iscsi": true, "nfs": true, "cifs": true, "rbd": true, "cephfs": true,
	"iscsidirect": true, "zfs": true, "drbd": true, "pbs": true,
}

// fileTypes are the plugin types that hold vzdump archives as files.
var fileTypes = map[string]bool{
	"dir": true, "nfs": true, "cifs": true, "cephfs": true, "btrfs": true,
	"glusterfs": true,
}

// IsShared reports whether PVE treats the storage as shared: forced for
// network types, otherwise the admin's flag.
func (st *Storage) IsShared() bool { return sharedTypes[st.Type] || st.Shared }

// ContentList returns the storage's content types with the defaults applied.
func (st *Storage) ContentList() []string {
	if len(st.Content) > 0 {
		return st.Content
	}
	if fileTypes[st.Type] || st.Type == "pbs" || st.BackupProvider {
		return []string{"backup"}
	}
	return []string{"images", "rootdir"}
}

// HasContent reports whether the storage holds content type c.
func (st *Storage) HasContent(c string) bool {
	for _, x := range st.ContentList() {
		if x == c {
			return true
		}
	}
	return false
}

// OnNode reports whether the storage's nodes restriction allows node.
func (st *Storage) OnNode(node string) bool {
	if len(st.Nodes) == 0 {
		return true
	}
	for _, n := range st.Nodes {
		if n == node {
			return true
		}
	}
	return false
}

// Storage returns the storage with the given id, or nil.
func (c *Cluster) Storage(id string) *Storage {
	return find(c.Storages, func(st *Storage) bool { return st.ID == id })
}

// Loads reports whether the cluster's PVE loads the storage's plugin: a
// backup-provider plugin needs PVE 8.4 or later (see
// Storage.BackupProvider); every other storage loads.
func (c *Cluster) Loads(st *Storage) bool {
	return !st.BackupProvider || c.atLeast(8, 4)
}

// configuredStorage is Storage as PVE sees storage.cfg: nil also for a
// section whose plugin PVE did not load.
func (c *Cluster) configuredStorage(id string) *Storage {
	if st := c.Storage(id); st != nil && c.Loads(st) {
		return st
	}
	return nil
}

// Pools returns the cluster's resource pools (user.cfg's pools), sorted:
// every pool a guest is in or a backup job names.
func (c *Cluster) Pools() []string {
	var out []string
	for _, g := range c.Guests {
		if g.Pool != "" {
			out = append(out, g.Pool)
		}
	}
	for _, j := range c.Jobs {
		if j.Pool != "" {
			out = append(out, j.Pool)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// PoolVisible reports whether the token has Pool.Audit on /pool/{pool}.
func (c *Cluster) PoolVisible(pool string) bool { return !slices.Contains(c.NoPoolAudit, pool) }

// VisiblePools returns the pools the token has Pool.Audit on, sorted: the
// rows of GET /pools and the pool rows of /cluster/resources.
func (c *Cluster) VisiblePools() []string {
	return slices.DeleteFunc(c.Pools(), func(p string) bool { return !c.PoolVisible(p) })
}

// Guest returns the guest with the given VMID, or nil.
func (c *Cluster) Guest(vmid int) *Guest {
	return find(c.Guests, func(g *Guest) bool { return g.VMID == vmid })
}

// Node returns the node with the given name, or nil.
func (c *Cluster) Node(name string) *Node {
	return find(c.Nodes, func(n *Node) bool { return n.Name == name })
}

// Job returns the backup job with the given id, or nil.
func (c *Cluster) Job(id string) *BackupJob {
	return find(c.Jobs, func(j *BackupJob) bool { return j.ID == id })
}

// RemoveGuest deletes a guest from the inventory (its backups stay, as on a
// real cluster: they become orphans).
func (c *Cluster) RemoveGuest(vmid int) {
	out := c.Guests[:0]
	for _, g := range c.Guests {
		if g.VMID != vmid {
			out = append(out, g)
		}
	}
	c.Guests = out
}

// Cluster returns the cluster with the given name, or nil.
func (m *Model) Cluster(name string) *Cluster {
	return find(m.Clusters, func(c *Cluster) bool { return c.Name == name })
}

// PBSServer returns the PBS with the given name, or nil.
func (m *Model) PBSServer(name string) *PBSServer {
	return find(m.PBS, func(p *PBSServer) bool { return p.Name == name })
}

// Datastore returns the datastore with the given name, or nil.
func (p *PBSServer) Datastore(name string) *Datastore {
	return find(p.Datastores, func(d *Datastore) bool { return d.Name == name })
}

// Namespace returns the namespace with the given path, creating it (and
// its parents) when missing: PBS namespaces always form a tree.
func (d *Datastore) Namespace(path string) *Namespace {
	if ns := d.existingNamespace(path); ns != nil {
		return ns
	}
	if path != "" {
		parent := ""
		if i := lastSlash(path); i >= 0 {
			parent = path[:i]
		}
		d.Namespace(parent)
	}
	ns := &Namespace{Path: path}
	d.Namespaces = append(d.Namespaces, ns)
	return ns
}

// FindNamespace returns the namespace with the given path, or nil.
func (d *Datastore) FindNamespace(path string) *Namespace {
	if ns := d.existingNamespace(path); ns != nil {
		return ns
	}
	if path == "" {
		return &Namespace{}
	}
	return nil
}

// Group returns the group with the given type and id, creating it when
// missing.
func (ns *Namespace) Group(typ, id string) *Group {
	if g := ns.FindGroup(typ, id); g != nil {
		return g
	}
	g := &Group{Type: typ, ID: id}
	ns.Groups = append(ns.Groups, g)
	return g
}

// FindGroup returns the group with the given type and id, or nil.
func (ns *Namespace) FindGroup(typ, id string) *Group {
	for _, g := range ns.Groups {
		if g.Type == typ && g.ID == id {
			return g
		}
	}
	return nil
}

// RemoveGroup deletes a group and all its snapshots (like "forget group").
func (ns *Namespace) RemoveGroup(typ, id string) {
	out := ns.Groups[:0]
	for _, g := range ns.Groups {
		if g.Type != typ || g.ID != id {
			out = append(out, g)
		}
	}
	ns.Groups = out
}

// Newest returns the index of the newest finished snapshot, or -1.
func (g *Group) Newest() int {
	best := -1
	for i := range g.Snapshots {
		s := &g.Snapshots[i]
		if s.InProgress {
			continue
		}
		if best < 0 || s.Time.After(g.Snapshots[best].Time) {
			best = i
		}
	}
	return best
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// find returns the first element that matches, or nil.
func find[T any](xs []*T, match func(*T) bool) *T {
	for _, x := range xs {
		if match(x) {
			return x
		}
	}
	return nil
}
