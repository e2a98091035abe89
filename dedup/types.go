// Package dedup decides where every backup is read from and counts each
// recovery point exactly once. It is pure: no I/O, no clock, no randomness.
// Data flows proxmox (fetch) → dedup (route, normalise, merge) → collector.
//
// The collector calls BuildPlan with what it knows before listing backups
// (an Estate), fetches exactly the listings the Plan names, and hands the
// results to Merge, which returns the per-group and per-guest aggregates.
package dedup

import (
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// Routes a PVE storage with backup content can take.
const (
	RoutePBS         = "pbs"          // read from the PBS API directly
	RoutePVE         = "pve"          // file storage read through PVE's content API
	RoutePVEFallback = "pve_fallback" // pbs storage read through PVE (no PBS mapped, or it is down)
	RouteIgnored     = "ignored"      // a config override says so
	RouteDisabled    = "disabled"     // storage.cfg disables it
)

// Verification states of a recovery point. None means never verified (and
// every file backup); it is never folded into Failed.
const (
	VerificationOK     = "ok"
	VerificationFailed = "failed"
	VerificationNone   = "none"
)

// Repository kinds.
const (
	KindPBS = "pbs"
	KindPVE = "pve"
)

// Estate is everything the collector knows before it lists backups: the
// inventory of every PVE cluster and PBS, and the config's route overrides.
type Estate struct {
	Clusters  []Cluster
	PBS       []PBS
	Overrides []Override
}

// Cluster is one configured PVE target and its inventory.
type Cluster struct {
	// Target is the configured name of the PVE target.
	Target string
	// Name is the value of the cluster label.
	Name string
	// Up is false when the inventory could not be read; nothing of the
	// cluster is planned then and it has no guest aggregates. Storages of
	// a down cluster (the last ones known, if the collector keeps them)
	// are still used to attribute the PBS namespaces they map, so group
	// labels do not change while a cluster is unreachable.
	Up       bool
	Nodes    []proxmox.Node
	Guests   []proxmox.ClusterResource // rows of type qemu and lxc
	Storages []proxmox.StorageConfig
	// NodeStorages are the rows of GET /nodes/{node}/storage by node; may
	// be nil. A node missing from the map (or with a nil slice) is unknown
	// and the storage config decides; a node with a non-nil slice that
	// lacks a storage, or lists it with enabled=0, does not have it.
	NodeStorages map[string][]proxmox.NodeStorage
	Jobs         []proxmox.BackupJob
	// Pools are the pools the token may see (GET /pools lists only those
	// with proxmox.PoolAuditPrivilege), and PoolsRead says they were read;
	// read them when NeedsPools says a job selects by pool. PVE drops a
	// hidden pool from its guests' rows too, so a guest without a pool may
	// still be in a hidden one: an enabled job selecting a pool not among
	// Pools (any pool, while PoolsRead is false) leaves InJob unknown for
	// the guests no other job covers, with a WarnPoolHidden warning.
	Pools     []string
	PoolsRead bool
}

// PBS is one configured Proxmox Backup Server and what was read of it.
type PBS struct {
	// Target is the configured name of the PBS target.
	Target string
	// Endpoints are the configured URLs' "host:port" (port defaulted to
	// 8007), used to match pbs storages that carry no fingerprint.
	Endpoints []string
	// Fingerprint is the SHA-256 fingerprint of the certificate actually seen
	// in the TLS handshake, in any case, with or without colons. While the
	// PBS is down, pass the last one seen (if any): it is the server's
	// identity, and keeping it stable keeps repository keys stable.
	Fingerprint string
	// Up is false when the PBS could not be read this scrape; storages that
	// map to it fall back to PVE.
	Up         bool
	Datastores []Datastore
	// Namespaces, when not empty, is the config's allow-list: "" selects
	// the root namespace, any other entry selects that namespace and every
	// namespace below it.
	Namespaces []string
	// KeepLastKnown is the config's offline.keep_last_known: how long the
	// last complete read of this PBS stands in for it while it is down
	// (SubstituteLastKnown); 0 = never.
	KeepLastKnown time.Duration
	// Stale marks an entry that is such a last complete read, not this
	// scrape's: Merge uses its listings but calls its repositories stale.
	Stale bool
}

// Datastore is one PBS datastore and its namespaces ("" is the root).
type Datastore struct {
	Name string
	// Up is false while the datastore is in maintenance, unmounted or its
	// namespaces could not be listed.
	Up         bool
	Namespaces []string
	// Total and Used are the datastore's capacity and use in bytes as PBS
	// reports them (GET /status/datastore-usage); 0 when unknown. PVE
	// reports the same figures for a pbs storage on it, which makes them
	// evidence that an address names this datastore (see
	// WarnUnprovenAddress).
	Total, Used int64
}

// Override is one entry of the config's routes list. Either a storage route
// (Cluster, Storage, To) or a namespace attribution (PBS, Datastore,
// Namespace, Cluster).
type Override struct {
	Cluster string
	Storage string
	// To is a configured PBS target name, "pve" or "ignore".
	To        string
	PBS       string
	Datastore string
	Namespace string
	// SameAs ("CLUSTER:STORAGE") declares the storage (Cluster, Storage)
	// one place with another cluster's storage: they are read once and
	// their guests count the same files, whatever the listings show.
	SameAs string
}

// Plan is the routing decision for one scrape. It names exactly the
// listings the collector must fetch, nothing more.
type Plan struct {
	Storages     []StorageRoute `json:"storages"`
	Repositories []Repository   `json:"repositories"`
	PVEListings  []PVEListing   `json:"pve_listings"`
	PBSListings  []PBSListing   `json:"pbs_listings"`
	Warnings     []Warning      `json:"warnings"`
	// Suppressed lists every path a naive reader would also take and this
	// plan does not (a pbs storage read through PVE next to the PBS, a
	// shared storage on its other nodes, a second storage or PBS target
	// for the same repository). Merge counts the records each would have
	// repeated into Result.Duplicates.
	Suppressed []SuppressedPath `json:"suppressed"`
	// SameAddress lists shared file repositories of different clusters
	// whose storages name one network address. Each is planned and listed
	// as a place of its own; JoinSamePlaces joins those whose listings
	// show the same files.
	SameAddress []SameAddress `json:"same_address"`
}

// SameAddress is one network address (an NFS server and export, a CIFS
// server and share) named by storages of several clusters.
type SameAddress struct {
	Address string `json:"address"`
	// Repositories are the repositories of the storages naming it, in
	// planning order (clusters by name).
	Repositories []string `json:"repositories"`
}

// Reasons a path is suppressed, the reason label of
// proxmox_backup_duplicates_suppressed.
const (
	DuplicatePBSViaPVE      = "pbs_via_pve"
	DuplicateSharedStorage  = "shared_storage"
	DuplicateSameRepository = "same_repository"
)

// SuppressedPath is one read the plan leaves out because another read
// already covers its recovery points.
type SuppressedPath struct {
	Reason string `json:"reason"`
	// Repository names the planned repository that holds the records.
	Repository string `json:"repository"`
	// The PVE path left out (Node is set for one node of a shared storage).
	Cluster string `json:"cluster"`
	Storage string `json:"storage"`
	Node    string `json:"node"`
	// The PBS path left out (a second configured target for one server).
	PBSTarget string `json:"pbs_target"`
	Datastore string `json:"datastore"`
	Namespace string `json:"namespace"`
	// PVEView is true when the path reads through PVE's content API, which
	// shows only vm and ct groups with numeric ids.
	PVEView bool   `json:"pve_view"`
	Detail  string `json:"detail"`
}

// StorageRoute is the route of one PVE storage with backup content.
type StorageRoute struct {
	ClusterTarget string `json:"cluster_target"`
	Cluster       string `json:"cluster"`
	Storage       string `json:"storage"`
	StorageType   string `json:"storage_type"`
	Route         string `json:"route"`
	// Repository is empty for ignored and disabled storages. A node-local
	// storage has one repository per node; this names the first and
	// Repositories lists them all.
	Repository   string   `json:"repository"`
	Repositories []string `json:"repositories"`
	// PBSTarget is the configured PBS a pbs storage matched: the one it is
	// read from (RoutePBS), or, for RoutePVEFallback, the one it stands in
	// for (that PBS or its datastore is down, or a config route sends it
	// through PVE), so a failure of the fallback read is known to be that
	// PBS's. Datastore and Namespace are set for RoutePBS.
	PBSTarget string `json:"pbs_target"`
	Datastore string `json:"datastore"`
	Namespace string `json:"namespace"`
	// MatchedBy says how a pbs storage was matched to a configured PBS:
	// "override", "fingerprint" or "host_port" (also set when the match
	// then fell back, e.g. because the PBS is down); empty otherwise.
	MatchedBy string `json:"matched_by"`
	// Reason explains a fallback, ignore or disable in plain words.
	Reason string `json:"reason"`
	// Cause is why a RoutePVEFallback storage is read through PVE, as a
	// code for the reason label of storage_route_info: the kind of the
	// warning the planner raised for it (WarnStalePin, WarnUnknownPBS,
	// WarnPBSDown, WarnDatastoreMissing, WarnDatastoreDown,
	// WarnNamespaceMissing, WarnAmbiguousMapping) or CauseConfigRoute;
	// empty for every other route.
	Cause string `json:"cause"`
}

// CauseConfigRoute is the Cause of a pbs storage that a config route sends
// through PVE.
const CauseConfigRoute = "config_route"

// Repository is one place recovery points live, with a stable label name.
type Repository struct {
	// Name is the repository label: "<pbs>:<ds>[/<ns>]", "<cluster>:<storage>"
	// or "<cluster>/<node>:<storage>".
	Name string `json:"name"`
	// Key is the identity used for deduplication: two repositories with the
	// same key are one place (e.g. two storages of one cluster on one NFS
	// export, two clusters' storages a route same_as declares one place, or
	// a fallback read of a datastore that is also read directly). Storages
	// of two clusters at one address get keys of their own; their listings
	// decide (JoinSamePlaces).
	Key     string `json:"key"`
	Kind    string `json:"kind"`    // KindPBS or KindPVE
	Target  string `json:"target"`  // PBS target, or PVE target
	Cluster string `json:"cluster"` // attributed cluster; "" when none or ambiguous
	// PBS repositories.
	Datastore string `json:"datastore"`
	Namespace string `json:"namespace"`
	// PVE repositories.
	Storage string `json:"storage"`
	Node    string `json:"node"` // "" for shared storages
	// StorageType is the PVE storage type of a PVE repository ("pbs" for a
	// pbs storage read through PVE).
	StorageType string `json:"storage_type"`
	// Clusters are the clusters whose storages reach the repository, plus
	// a cluster a config route attributes it to, sorted. Their guests
	// count its recovery points, and a failed read makes them unknown.
	Clusters []string `json:"clusters"`
	// Unreadable, when set, says why the repository cannot be read this
	// scrape (its node is offline, no online node has the storage). It has
	// no listing and is down.
	Unreadable string `json:"unreadable"`
}

// PVEListing is one storage content listing to fetch through PVE:
// GET /nodes/{node}/storage/{Storage}/content?content=backup on the PVE
// target ClusterTarget. The result goes into Listings.PVE[Repository].
type PVEListing struct {
	ClusterTarget string `json:"cluster_target"`
	// Storage is the storage to list. It is usually the repository's own,
	// but when a place that a route same_as declares shared by several
	// clusters has no online node in the first, another cluster's storage
	// lists it.
	Storage string `json:"storage"`
	// Nodes are candidates in order: the collector lists from the first and
	// moves to the next when a node is unreachable. Node-local storages have
	// exactly one.
	Nodes      []string `json:"nodes"`
	Repository string   `json:"repository"`
}

// PBSListing is one namespace to read from a PBS directly (groups, then
// snapshots as needed); the summary goes into Listings.PBS[Repository].
type PBSListing struct {
	PBSTarget  string `json:"pbs_target"`
	Datastore  string `json:"datastore"`
	Namespace  string `json:"namespace"`
	Repository string `json:"repository"`
}

// Warning is something the user should know about the routing or the data.
type Warning struct {
	// Kind is one of the Warn* constants.
	Kind    string `json:"kind"`
	Cluster string `json:"cluster"`
	Storage string `json:"storage"`
	Target  string `json:"target"`
	// Repository names the repository the warning takes down, when it
	// takes one down (WarnBackupsHidden).
	Repository string `json:"repository"`
	// Job and Pool name the backup job and its pool (WarnPoolHidden).
	Job     string `json:"job"`
	Pool    string `json:"pool"`
	Message string `json:"message"`
}

// Warning kinds.
const (
	// WarnAmbiguousMapping: a pbs storage matches several configured PBS,
	// or two configured PBS targets are one server.
	WarnAmbiguousMapping = "ambiguous_mapping"
	// WarnUnknownPBS: a pbs storage matches no configured PBS.
	WarnUnknownPBS = "unknown_pbs"
	// WarnStalePin: a pbs storage pins a fingerprint that the PBS at its
	// address does not present; it is read through PVE, not mapped by
	// address.
	WarnStalePin = "stale_pin"
	// WarnPBSDown: the matched PBS could not be read this scrape.
	WarnPBSDown = "pbs_down"
	// WarnDatastoreMissing: the matched PBS has no such datastore.
	WarnDatastoreMissing = "datastore_missing"
	// WarnDatastoreDown: the datastore is in maintenance, unmounted or its
	// namespaces could not be listed.
	WarnDatastoreDown = "datastore_down"
	// WarnNamespaceMissing: the datastore has no such namespace, or the
	// PBS's namespaces allow-list leaves it out.
	WarnNamespaceMissing = "namespace_missing"
	// WarnClusterCollision: storages of two clusters reach one repository;
	// its groups get cluster="" (VMIDs may collide).
	WarnClusterCollision = "cluster_collision"
	// WarnUnprovenAddress: pbs storages of more than one cluster name one
	// address, this one without a fingerprint, and nothing shows that what
	// its cluster reaches there is the configured PBS the exporter reads at
	// that address (no pin of its cluster for the address, and the size
	// PVE reports for the storage is not that PBS datastore's). Private
	// addresses and split-horizon names repeat across sites: the storage
	// is read through PVE as a place of its own.
	WarnUnprovenAddress = "unproven_address"
	// WarnSameAddress: storages of two clusters name one network address
	// (NFS server and export, CIFS server and share) but their listings
	// show different files: they are counted as separate places.
	WarnSameAddress = "same_address"
	// WarnPermissionSuspected: a listing came back empty where backups are
	// expected (PVE hides volumes the token may not see). The repository
	// is then down: its guests are unknown, not counted short.
	WarnPermissionSuspected = "permission_suspected"
	// WarnBackupsHidden: a backup task succeeded after the newest recovery
	// point of a guest, yet no listing shows that backup: a repository the
	// guest's jobs write to hides it (PVE and PBS filter listings by the
	// token's privileges with HTTP 200). The repository is then down.
	WarnBackupsHidden = "backups_hidden"
	// WarnPoolHidden: an enabled backup job selects a pool the token may
	// not see (it lacks Pool.Audit on it), so PVE hides which guests are
	// in it: those no other job covers have no known InJob.
	WarnPoolHidden = "pool_hidden"
	// WarnOverrideConflict: config routes contradict each other or the
	// storage mapping; what was applied is in the message.
	WarnOverrideConflict = "override_conflict"
	// WarnScheduleUnparsable: a backup job's schedule could not be parsed,
	// so its guests have no expected interval.
	WarnScheduleUnparsable = "schedule_unparsable"
	// WarnRepositoryUnreadable: a planned repository cannot be read this
	// scrape (node offline); its cluster's guests are unknown.
	WarnRepositoryUnreadable = "repository_unreadable"
	// WarnBadFingerprint: a fingerprint in storage.cfg or seen on a PBS is
	// not 32 bytes of hex and was ignored.
	WarnBadFingerprint = "bad_fingerprint"
	// WarnNameClash: two repositories would get the same name; the second
	// got a suffix.
	WarnNameClash = "name_clash"
)

// GroupSummary is everything the metrics need of one backup group in one
// repository. It is what the collector caches per PBS group instead of
// snapshot objects.
type GroupSummary struct {
	BackupType string // vm, ct, host
	BackupID   string
	// Times are the completed recovery points' times (epoch seconds),
	// ascending and distinct.
	Times            []int64
	LastSize         int64
	LastVerification string // VerificationOK, VerificationFailed, VerificationNone
	VerifyFailed     int
	// Verified counts the completed points whose last verification is ok.
	Verified  int
	Protected int
	// LastEncrypted is true when the newest completed point is encrypted;
	// Unencrypted counts the completed points that are not.
	LastEncrypted bool
	Unencrypted   int
	InProgress    bool
}

// Listings are the fetched results, keyed by repository name.
type Listings struct {
	PVE map[string]PVEResult
	PBS map[string]PBSResult
	// Tasks are the newest finished vzdump task per guest
	// (GuestTaskResults), by cluster name. They are evidence for Merge:
	// a task that succeeded after a guest's newest recovery point wrote a
	// backup some listing hides. A cluster without an entry has no
	// evidence (its tasks were not read).
	Tasks map[string]map[GuestKey]TaskResult
}

// PVEResult is a fetched PVE content listing.
type PVEResult struct {
	Volumes []proxmox.BackupVolume
	// Node is the node the listing was read from.
	Node string
	Err  error
}

// PBSResult is a fetched PBS namespace, already summarised per group.
type PBSResult struct {
	Groups []GroupSummary
	Err    error
}

// Result is the merged, deduplicated view of one scrape.
type Result struct {
	Groups []GroupAggregate
	Guests []GuestAggregate
	// RepositoryState is the state of every planned repository: up (read
	// and trusted), stale (last known data of an offline PBS, see
	// SubstituteLastKnown: exported, but not up) or down (unknown: not
	// read, or its listing looks filtered by missing privileges).
	RepositoryState map[string]string
	// RepositoryUp is RepositoryState == RepositoryStateUp, by name: the
	// value of repository_up.
	RepositoryUp map[string]bool
	// Duplicates counts records seen (or that a naive reader would see)
	// through more than one path and counted once, by reason:
	// "pbs_via_pve", "shared_storage", "same_repository".
	Duplicates map[string]int
	Warnings   []Warning
}

// Repository states (Result.RepositoryState).
const (
	RepositoryStateUp    = "up"
	RepositoryStateStale = "stale"
	RepositoryStateDown  = "down"
)

// GroupAggregate is one backup group in one repository.
type GroupAggregate struct {
	Repository       string
	Cluster          string
	BackupType       string
	BackupID         string
	Snapshots        int
	First            int64 // 0 when no completed recovery point
	Last             int64
	LastSize         int64
	LastVerification string
	VerifyFailed     int
	// Verified counts recovery points whose last verification is ok.
	Verified  int
	Protected int
	// LastEncrypted is true when the newest recovery point is encrypted
	// (meaningless without one); Unencrypted counts those that are not.
	LastEncrypted bool
	Unencrypted   int
	InProgress    bool
	// Orphan is true when the group's cluster is known and its guest is not
	// in that cluster's inventory (guest deleted).
	Orphan bool
}

// GuestAggregate is one PVE guest, merged over every repository of its
// cluster.
type GuestAggregate struct {
	Cluster    string
	BackupType string // vm, ct
	BackupID   string
	Name       string
	Node       string
	Template   bool
	// TemplateUnknown is true when PVE did not say whether the guest is a
	// template (its node is offline) and no earlier scrape knew it
	// (FillKnownGuests): Template is then false and says nothing, and
	// guest_info carries template="unknown", which no guest alert takes
	// for a normal guest.
	TemplateUnknown bool
	Tags            []string // sorted
	// Known is false when some repository that could hold the guest's
	// backups failed to list: Snapshots, Last and LastCopies must then not
	// be exported ("unknown is never zero").
	Known      bool
	Snapshots  int
	Last       int64 // 0 when none
	LastCopies int
	// LastEncryption says whether the newest recovery point is encrypted
	// in every repository holding it (the LastCopies ones):
	// EncryptionYes, EncryptionNo, or "" when unknown or there is none.
	LastEncryption string
	InJob          bool
	// InJobUnknown is true when no job is known to cover the guest but an
	// enabled job selects a pool the token cannot see (Cluster.Pools):
	// InJob is then false and says nothing, and guest_in_job is absent.
	InJobUnknown bool
	// ExpectedIntervalSeconds is the shortest interval between runs of the
	// enabled jobs covering the guest; 0 when unknown (also when a job of
	// hidden membership might run more often).
	ExpectedIntervalSeconds int64
}
