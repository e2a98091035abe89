package proxmox

// This file holds the typed models of the Proxmox Backup Server API
// responses we rely on (REFERENCE.md §3). PBS uses kebab-case field names
// and JSON booleans.

// PBSVersion is GET /version. PBS's version is "x.y" and release the patch
// number (the opposite of PVE).
type PBSVersion struct {
	Version string `json:"version"`
	Release string `json:"release"`
	RepoID  string `json:"repoid"`
}

// Datastore is one row of GET /admin/datastore.
type Datastore struct {
	Store   string `json:"store"`
	Comment string `json:"comment"`
	// Maintenance is the raw property string, e.g. "type=read-only,message=x"
	// or "type=unmount"; empty when not in maintenance.
	Maintenance string `json:"maintenance"`
	MountStatus string `json:"mount-status"` // mounted, notmounted, nonremovable
	BackendType string `json:"backend-type"` // filesystem, s3
}

// GCStatus is the garbage collection summary of a datastore.
type GCStatus struct {
	UPID           String `json:"upid"`
	IndexFileCount Int    `json:"index-file-count"`
	IndexDataBytes Int    `json:"index-data-bytes"`
	DiskBytes      Int    `json:"disk-bytes"`
	DiskChunks     Int    `json:"disk-chunks"`
	RemovedBytes   Int    `json:"removed-bytes"`
	RemovedChunks  Int    `json:"removed-chunks"`
	PendingBytes   Int    `json:"pending-bytes"`
	PendingChunks  Int    `json:"pending-chunks"`
	RemovedBad     Int    `json:"removed-bad"`
	StillBad       Int    `json:"still-bad"`
}

// DatastoreUsage is one row of GET /status/datastore-usage. Sizes are nil
// when PBS could not open the datastore (Error is then set).
type DatastoreUsage struct {
	Store        string     `json:"store"`
	Total        *Int       `json:"total"`
	Used         *Int       `json:"used"`
	Avail        *Int       `json:"avail"`
	History      []*float64 `json:"history"`
	HistoryStart Int        `json:"history-start"`
	HistoryDelta Int        `json:"history-delta"`
	// EstimatedFullDate is absent with too little history, 0 when usage is
	// flat, and in the past when usage shrinks.
	EstimatedFullDate *Int      `json:"estimated-full-date"`
	GCStatus          *GCStatus `json:"gc-status"`
	Error             string    `json:"error"`
	MountStatus       string    `json:"mount-status"`
	BackendType       string    `json:"backend-type"`
}

// Namespace is one row of GET /admin/datastore/{store}/namespace. The root
// namespace is "".
type Namespace struct {
	NS      string `json:"ns"`
	Comment string `json:"comment"`
}

// BackupGroup is one row of GET /admin/datastore/{store}/groups: the cheap
// per-group summary that lets us skip unchanged groups.
type BackupGroup struct {
	BackupType  string   `json:"backup-type"` // vm, ct, host
	BackupID    String   `json:"backup-id"`
	LastBackup  Int      `json:"last-backup"`
	BackupCount Int      `json:"backup-count"`
	Files       []string `json:"files"`
	Owner       string   `json:"owner"`
	Comment     string   `json:"comment"`
}

// SnapshotFile is one archive of a snapshot.
type SnapshotFile struct {
	Filename  string `json:"filename"`
	CryptMode string `json:"crypt-mode"`
	Size      *Int   `json:"size"`
}

// Snapshot is one row of GET /admin/datastore/{store}/snapshots. Size is nil
// while the snapshot is still being written (no manifest yet).
type Snapshot struct {
	BackupType   string         `json:"backup-type"`
	BackupID     String         `json:"backup-id"`
	BackupTime   Int            `json:"backup-time"`
	Size         *Int           `json:"size"`
	Files        []SnapshotFile `json:"files"`
	Owner        string         `json:"owner"`
	Comment      string         `json:"comment"`
	Protected    Bool           `json:"protected"`
	Verification *Verification  `json:"verification"`
	Fingerprint  string         `json:"fingerprint"`
}

// GCJobStatus is one row of GET /admin/gc (one per datastore). PBS
// flattens the datastore's last GC summary into the row (pbs-api-types
// GarbageCollectionJobStatus), so GCStatus is embedded; its UPID is empty
// when GC never ran.
type GCJobStatus struct {
	Store string `json:"store"`
	GCStatus
	Schedule       string `json:"schedule"`
	NextRun        *Int   `json:"next-run"`
	LastRunState   string `json:"last-run-state"`
	LastRunEndtime *Int   `json:"last-run-endtime"`
	Duration       Int    `json:"duration"`
}

// GC states of a datastore, as GCJobStatus.State tells them.
const (
	GCNever   = "never"
	GCRunning = "running"
	GCOK      = "ok"
	GCFailed  = "failed"
)

// State says what the row tells of the datastore's garbage collection.
// PBS (src/api2/admin/datastore.rs garbage_collection_status) sends a
// null UPID when no GC has run, and leaves the last-run state and end time
// out while the job state file records a started run: that is a GC running
// now. A finished run's state is a task
// status: OK and WARNINGS mean the chunks were swept.
func (j GCJobStatus) State() string {
	switch {
	case j.UPID == "":
		return GCNever
	case j.LastRunState == "" && j.LastRunEndtime == nil:
		return GCRunning
	case TaskSucceeded(j.LastRunState):
		return GCOK
	default:
		return GCFailed
	}
}

// JobStatus is one row of GET /admin/verify, /admin/prune or /admin/sync:
// the job configuration with its last-run state flattened in.
type JobStatus struct {
	ID       string `json:"id"`
	Store    string `json:"store"`
	NS       string `json:"ns"`
	Schedule string `json:"schedule"`
	Disable  Bool   `json:"disable"`
	// MaxDepth limits the namespace levels below NS a verify or sync job
	// descends; nil means every level.
	MaxDepth       *Int   `json:"max-depth"`
	NextRun        *Int   `json:"next-run"`
	LastRunUPID    string `json:"last-run-upid"`
	LastRunState   string `json:"last-run-state"` // OK, "WARNINGS: n", error text, unknown
	LastRunEndtime *Int   `json:"last-run-endtime"`
	// Sync jobs.
	Remote      string `json:"remote"`
	RemoteStore string `json:"remote-store"`
	RemoteNS    string `json:"remote-ns"`
	// SyncDirection is pull or push (PBS 3.3+); absent means pull.
	SyncDirection string `json:"sync-direction"`
}

// PBSTask is one row of GET /nodes/localhost/tasks. Note the underscore
// names, unlike PVE's type/id.
type PBSTask struct {
	UPID       string `json:"upid"`
	Node       string `json:"node"`
	StartTime  Int    `json:"starttime"`
	WorkerType string `json:"worker_type"`
	WorkerID   string `json:"worker_id"`
	User       string `json:"user"`
	EndTime    *Int   `json:"endtime"`
	Status     string `json:"status"`
}

// PBSNodeStatus is the part of GET /nodes/localhost/status we use.
type PBSNodeStatus struct {
	Info struct {
		Fingerprint string `json:"fingerprint"`
	} `json:"info"`
}

// DatastoreStatus is GET /admin/datastore/{store}/status[?verbose=1].
// Counts is only filled with verbose=1 and spans every namespace.
type DatastoreStatus struct {
	Total       Int              `json:"total"`
	Used        Int              `json:"used"`
	Avail       Int              `json:"avail"`
	GCStatus    *GCStatus        `json:"gc-status"`
	Counts      *DatastoreCounts `json:"counts"`
	BackendType string           `json:"backend-type"`
}

// DatastoreCounts are the verbose datastore status counts per backup
// type; a type without groups is null (nil).
type DatastoreCounts struct {
	CT    *TypeCounts `json:"ct"`
	VM    *TypeCounts `json:"vm"`
	Host  *TypeCounts `json:"host"`
	Other *TypeCounts `json:"other"`
}

// TypeCounts counts groups and snapshots of one backup type.
type TypeCounts struct {
	Groups    Int `json:"groups"`
	Snapshots Int `json:"snapshots"`
}

// PBSCertificateInfo is one row of GET /nodes/localhost/certificates/info.
type PBSCertificateInfo struct {
	Filename    string   `json:"filename"`
	Subject     string   `json:"subject"`
	SAN         []string `json:"san"`
	Issuer      string   `json:"issuer"`
	NotBefore   Int      `json:"notbefore"`
	NotAfter    Int      `json:"notafter"`
	Fingerprint string   `json:"fingerprint"`
}
