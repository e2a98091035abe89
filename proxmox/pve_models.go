package proxmox

// This file holds the typed models of the Proxmox VE API responses we rely
// on (REFERENCE.md §2). Fields we do not use are left out on purpose: the
// decoder ignores them, so new PVE releases adding fields do not break us.

// PVEVersion is GET /version. PVE's version is the full package version and
// release is "x.y" (the opposite of PBS).
type PVEVersion struct {
	Version string `json:"version"`
	Release string `json:"release"`
	RepoID  string `json:"repoid"`
}

// ClusterStatusItem is one row of GET /cluster/status: one row of type
// "cluster" (absent on a standalone node) and one of type "node" per member.
type ClusterStatusItem struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	NodeID  Int    `json:"nodeid"`
	IP      string `json:"ip"`
	Online  Bool   `json:"online"`
	Local   Bool   `json:"local"`
	Quorate Bool   `json:"quorate"`
	Nodes   Int    `json:"nodes"`
	Version Int    `json:"version"`
}

// Node is one row of GET /nodes.
type Node struct {
	Node           string `json:"node"`
	Status         string `json:"status"` // online, offline, unknown
	SSLFingerprint string `json:"ssl_fingerprint"`
	Uptime         Int    `json:"uptime"`
}

// Online reports whether PVE considers the node online.
func (n Node) Online() bool { return n.Status == "online" }

// ClusterResource is one row of GET /cluster/resources (type=vm or
// type=storage). Storage rows repeat once per node, even for shared storages.
type ClusterResource struct {
	ID     string `json:"id"`
	Type   string `json:"type"` // qemu, lxc, storage, node, ...
	Node   string `json:"node"`
	Status string `json:"status"`
	VMID   Int    `json:"vmid"`
	Name   string `json:"name"`
	// Template is nil when PVE leaves the field out: it takes name and
	// template from the status its node reports (PVE::API2Tools
	// extract_vm_stats), so a guest on an offline node has neither. An
	// absent flag is unknown, not "no template".
	Template *Bool  `json:"template"`
	Tags     string `json:"tags"`
	Pool     string `json:"pool"`
	Lock     string `json:"lock"`
	// Storage rows.
	Storage    string `json:"storage"`
	PluginType string `json:"plugintype"`
	Shared     Bool   `json:"shared"`
	Content    string `json:"content"`
	Disk       Int    `json:"disk"`
	MaxDisk    Int    `json:"maxdisk"`
}

// StorageConfig is one section of GET /storage (storage.cfg).
type StorageConfig struct {
	Storage string `json:"storage"`
	Type    string `json:"type"`
	Content string `json:"content"`
	// Nodes restricts the storage to these nodes (comma list); empty = all.
	Nodes   string `json:"nodes"`
	Disable Bool   `json:"disable"`
	Shared  Bool   `json:"shared"`
	Path    string `json:"path"`
	// Network file storages (nfs, cifs) and pbs.
	Server string `json:"server"`
	Export string `json:"export"`
	Share  string `json:"share"`
	// pbs storages.
	Port        Int    `json:"port"`
	Datastore   string `json:"datastore"`
	Namespace   string `json:"namespace"`
	Username    string `json:"username"`
	Fingerprint string `json:"fingerprint"`
}

// NodeStorage is one row of GET /nodes/{node}/storage.
type NodeStorage struct {
	Storage string `json:"storage"`
	Type    string `json:"type"`
	Content string `json:"content"`
	Enabled Bool   `json:"enabled"`
	Active  Bool   `json:"active"`
	Shared  Bool   `json:"shared"`
	Total   Int    `json:"total"`
	Used    Int    `json:"used"`
	Avail   Int    `json:"avail"`
}

// Verification is a PBS verification result, passed through unchanged by
// PVE's content listing. Absent means never verified.
type Verification struct {
	State string `json:"state"` // ok, failed
	UPID  string `json:"upid"`
}

// BackupVolume is one row of GET /nodes/{node}/storage/{storage}/content
// with content=backup: a vzdump archive on a file storage or a PBS snapshot
// seen through a pbs storage.
type BackupVolume struct {
	VolID        string        `json:"volid"`
	Content      string        `json:"content"`
	Format       string        `json:"format"`
	Subtype      string        `json:"subtype"` // qemu, lxc, openvz, unknown
	VMID         Int           `json:"vmid"`
	CTime        Int           `json:"ctime"`
	Size         Int           `json:"size"`
	Notes        string        `json:"notes"`
	Protected    Bool          `json:"protected"`
	Verification *Verification `json:"verification"`
	Encrypted    String        `json:"encrypted"`
}

// BackupJob is one row of GET /cluster/backup.
type BackupJob struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Schedule string `json:"schedule"`
	NextRun  Int    `json:"next-run"`
	// Enabled is nil when PVE omits the field, which means enabled.
	Enabled *Bool  `json:"enabled"`
	Storage string `json:"storage"`
	// Selection: exactly one of VMID (comma list), All (+Exclude) or Pool.
	VMID    String `json:"vmid"`
	All     Bool   `json:"all"`
	Exclude String `json:"exclude"`
	Pool    string `json:"pool"`
	Node    string `json:"node"`
	Mode    string `json:"mode"`
	Comment string `json:"comment"`
}

// IsEnabled applies PVE's default: a job without an enabled field runs.
func (j BackupJob) IsEnabled() bool { return j.Enabled == nil || bool(*j.Enabled) }

// Pool is one row of GET /pools: a resource pool the caller may audit.
// PVE lists only the pools on which the token has Pool.Audit
// (PoolAuditPrivilege), and leaves the pool out of /cluster/resources guest
// rows for the others.
type Pool struct {
	PoolID  string `json:"poolid"`
	Comment string `json:"comment"`
}

// NotBackedUpGuest is one row of GET /cluster/backup-info/not-backed-up.
type NotBackedUpGuest struct {
	VMID Int    `json:"vmid"`
	Type string `json:"type"` // qemu, lxc
	Name string `json:"name"`
}

// Task is one row of GET /nodes/{node}/tasks or GET /cluster/tasks.
type Task struct {
	UPID      string `json:"upid"`
	Node      string `json:"node"`
	PID       Int    `json:"pid"`
	PStart    Int    `json:"pstart"`
	StartTime Int    `json:"starttime"`
	Type      string `json:"type"`
	ID        string `json:"id"`
	User      string `json:"user"`
	TokenID   string `json:"tokenid"`
	EndTime   Int    `json:"endtime"`
	// Status is absent (running, archive) or RUNNING, OK, "WARNINGS: n",
	// "job errors" or another error message.
	Status string `json:"status"`
	Saved  String `json:"saved"`
}

// TaskStatus is GET /nodes/{node}/tasks/{upid}/status.
type TaskStatus struct {
	UPID       string `json:"upid"`
	Node       string `json:"node"`
	StartTime  Int    `json:"starttime"`
	Type       string `json:"type"`
	ID         string `json:"id"`
	User       string `json:"user"`
	TokenID    string `json:"tokenid"`
	Status     string `json:"status"` // running, stopped
	ExitStatus string `json:"exitstatus"`
}

// TaskLogLine is one row of GET /nodes/{node}/tasks/{upid}/log.
type TaskLogLine struct {
	N Int    `json:"n"`
	T string `json:"t"`
}
