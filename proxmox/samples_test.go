package proxmox

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// samplesDir holds real and reconstructed Proxmox API answers, copied into
// the repository with their sources (testdata/samples/SOURCES.md). Missing
// samples are a failure, not a skip: these tests are what ties our models
// to real Proxmox answers.
var samplesDir = filepath.Join("testdata", "samples")

// decodeSample decodes a sample through DecodeEnvelope, exactly as the
// client does with a response body.
func decodeSample[T any](t *testing.T, body []byte) T {
	t.Helper()
	var out T
	if err := DecodeEnvelope(body, &out); err != nil {
		t.Fatalf("DecodeEnvelope into %T: %v", out, err)
	}
	return out
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func intp(t *testing.T, what string, got *Int, want int64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s is absent, want %d", what, want)
		return
	}
	eq(t, what, int64(*got), want)
}

func absent(t *testing.T, what string, got any) {
	t.Helper()
	if v := reflect.ValueOf(got); !v.IsNil() {
		t.Errorf("%s = %v, want absent (nil)", what, v.Elem().Interface())
	}
}

func wantLen[T any](t *testing.T, rows []T, n int) {
	t.Helper()
	if len(rows) != n {
		t.Fatalf("got %d rows, want %d", len(rows), n)
	}
}

// The PBS certificate fingerprint that the PBS samples and the PVE pbs
// storage samples agree on (PVE upper-case, PBS lower-case).
const samplePBSFingerprint = "94:fd:ac:e7:d5:36:0e:11:5b:23:05:40:d2:a4:e1:8a:c1:52:41:01:07:28:c0:4d:c5:ee:df:7f:7c:03:ab:41"

func normFP(t *testing.T, s string) string {
	t.Helper()
	n, err := NormalizeFingerprint(s)
	if err != nil {
		t.Fatalf("NormalizeFingerprint(%q): %v", s, err)
	}
	return n
}

// sampleChecks maps every sample file to the model it decodes into and the
// fields we depend on.
var sampleChecks = map[string]func(t *testing.T, body []byte){
	// ---- PBS ----
	"pbs-admin-datastore.json": func(t *testing.T, b []byte) {
		ds := decodeSample[[]Datastore](t, b)
		wantLen(t, ds, 3)
		eq(t, "store", ds[0].Store, "main")
		eq(t, "maintenance of main", ds[0].Maintenance, "")
		eq(t, "maintenance", ds[1].Maintenance, "type=unmount")
		eq(t, "mount-status", ds[1].MountStatus, "notmounted")
		eq(t, "maintenance", ds[2].Maintenance, "type=read-only,message=disk%20swap")
		eq(t, "backend-type", ds[2].BackendType, "filesystem")
	},
	"pbs-admin-gc-never-run.json": func(t *testing.T, b []byte) {
		gc := decodeSample[[]GCJobStatus](t, b)
		wantLen(t, gc, 1)
		eq(t, "upid (null: never ran)", gc[0].UPID, "")
		eq(t, "last-run-state", gc[0].LastRunState, "")
		absent(t, "last-run-endtime", gc[0].LastRunEndtime)
		intp(t, "next-run", gc[0].NextRun, 1791626400)
		eq(t, "store", gc[0].Store, "erebor")
		eq(t, "schedule", gc[0].Schedule, "sat 03:00")
		eq(t, "state", gc[0].State(), GCNever)
	},
	"pbs-admin-gc.json": func(t *testing.T, b []byte) {
		gc := decodeSample[[]GCJobStatus](t, b)
		wantLen(t, gc, 1)
		eq(t, "upid", gc[0].UPID, "UPID:golem:000030B1:000082AF:00000010:6AC24ACF:garbage_collection:erebor:root@pam:")
		eq(t, "last-run-state", gc[0].LastRunState, "OK")
		intp(t, "last-run-endtime", gc[0].LastRunEndtime, 1791118715)
		eq(t, "duration", gc[0].Duration, 684)
		eq(t, "state", gc[0].State(), GCOK)
		// The GC summary is flattened into the row.
		eq(t, "pending-bytes", gc[0].PendingBytes, 4732488637)
		eq(t, "removed-bytes", gc[0].RemovedBytes, 0)
		eq(t, "disk-bytes", gc[0].DiskBytes, 115363386675)
		eq(t, "index-data-bytes", gc[0].IndexDataBytes, 575554027520)
	},
	"pbs-admin-prune.json": func(t *testing.T, b []byte) {
		j := decodeSample[[]JobStatus](t, b)
		wantLen(t, j, 1)
		eq(t, "id", j[0].ID, "daily")
		eq(t, "store", j[0].Store, "erebor")
		eq(t, "last-run-state", j[0].LastRunState, "OK")
		intp(t, "last-run-endtime", j[0].LastRunEndtime, 1791097200)
		intp(t, "next-run", j[0].NextRun, 1791183600)
		eq(t, "disable (absent = enabled)", j[0].Disable, false)
		eq(t, "last-run-upid", strings.HasPrefix(j[0].LastRunUPID, "UPID:golem:"), true)
	},
	"pbs-admin-sync.json": func(t *testing.T, b []byte) {
		j := decodeSample[[]JobStatus](t, b)
		wantLen(t, j, 1)
		eq(t, "remote", j[0].Remote, "offsite")
		eq(t, "remote-store", j[0].RemoteStore, "main")
		eq(t, "last-run-state (running)", j[0].LastRunState, "")
		absent(t, "last-run-endtime (running)", j[0].LastRunEndtime)
		eq(t, "last-run-upid", strings.Contains(j[0].LastRunUPID, `:syncjob:offsite\x3amain`), true)
		intp(t, "next-run", j[0].NextRun, 1705285600)
	},
	"pbs-admin-sync-all.json": func(t *testing.T, b []byte) {
		j := decodeSample[[]JobStatus](t, b)
		wantLen(t, j, 2)
		eq(t, "pull direction", j[0].Direction(), SyncPull)
		eq(t, "push direction", j[1].Direction(), SyncPush)
		eq(t, "pull result", JobResult(j[0].LastRunState), JobResultOK)
		eq(t, "push result (warnings are not a failure)", JobResult(j[1].LastRunState), JobResultWarning)
		intp(t, "max-depth", j[1].MaxDepth, 2)
	},
	"pbs-access-permissions.json": func(t *testing.T, b []byte) {
		p := decodeSample[map[string]map[string]bool](t, b)
		eq(t, "Remote.Audit on /remote, propagated", p["/remote"][RemoteAuditPrivilege], true)
		eq(t, "the Audit role has no Remote.Audit", p["/"][RemoteAuditPrivilege], false)
		eq(t, "sees every sync job", SeesAllSyncJobs(p), true)
	},
	"pbs-admin-verify.json": func(t *testing.T, b []byte) {
		j := decodeSample[[]JobStatus](t, b)
		wantLen(t, j, 1)
		eq(t, "id", j[0].ID, "weekly")
		eq(t, "last-run-state", j[0].LastRunState, "OK")
		intp(t, "last-run-endtime", j[0].LastRunEndtime, 1791110495)
		intp(t, "next-run", j[0].NextRun, 1791712800)
	},
	"pbs-certificates-info.json": func(t *testing.T, b []byte) {
		c := decodeSample[[]PBSCertificateInfo](t, b)
		wantLen(t, c, 1)
		eq(t, "filename", c[0].Filename, "proxy.pem")
		eq(t, "fingerprint", normFP(t, c[0].Fingerprint), samplePBSFingerprint)
		eq(t, "notafter", c[0].NotAfter, 2015360000)
		eq(t, "san count", len(c[0].SAN), 2)
	},
	"pbs-config-prune.json": func(t *testing.T, b []byte) {
		j := decodeSample[[]JobStatus](t, b)
		wantLen(t, j, 1)
		eq(t, "id", j[0].ID, "p-daily")
		eq(t, "ns", j[0].NS, "cluster-a")
		absent(t, "next-run (config only)", j[0].NextRun)
	},
	"pbs-config-verify.json": func(t *testing.T, b []byte) {
		j := decodeSample[[]JobStatus](t, b)
		wantLen(t, j, 1)
		eq(t, "id", j[0].ID, "v-3f2a1b7c-9d41")
		eq(t, "ns", j[0].NS, "cluster-a")
		eq(t, "schedule", j[0].Schedule, "daily")
	},
	"pbs-datastore-status-verbose.json": func(t *testing.T, b []byte) {
		s := decodeSample[DatastoreStatus](t, b)
		eq(t, "total", s.Total, 3998639849472)
		eq(t, "avail", s.Avail, 2099285737472)
		if s.Counts == nil || s.Counts.VM == nil || s.Counts.CT == nil {
			t.Fatalf("counts missing: %+v", s.Counts)
		}
		eq(t, "vm snapshots", s.Counts.VM.Snapshots, 97)
		eq(t, "ct groups", s.Counts.CT.Groups, 4)
		absent(t, "host counts", s.Counts.Host)
		if s.GCStatus == nil {
			t.Fatal("gc-status missing")
		}
		eq(t, "gc removed-chunks", s.GCStatus.RemovedChunks, 2611)
	},
	"pbs-groups.json": func(t *testing.T, b []byte) {
		g := decodeSample[[]BackupGroup](t, b)
		wantLen(t, g, 3)
		eq(t, "backup-type", g[0].BackupType, "ct")
		eq(t, "backup-id (string on PBS)", g[0].BackupID, "105")
		eq(t, "last-backup", g[0].LastBackup, 1705280592)
		eq(t, "backup-count", g[0].BackupCount, 14)
		eq(t, "owner", g[0].Owner, "pve-backup@pbs!pve")
		eq(t, "backup-count", g[1].BackupCount, 30)
		eq(t, "host backup-id", g[2].BackupID, "pbs1")
		eq(t, "comment absent", g[2].Comment, "")
		eq(t, "files", len(g[1].Files), 4)
	},
	"pbs-namespace-root-only.json": func(t *testing.T, b []byte) {
		ns := decodeSample[[]Namespace](t, b)
		if !reflect.DeepEqual(ns, []Namespace{{NS: ""}}) {
			t.Errorf("namespaces = %+v, want only the root", ns)
		}
	},
	"pbs-namespaces.json": func(t *testing.T, b []byte) {
		ns := decodeSample[[]Namespace](t, b)
		wantLen(t, ns, 4)
		eq(t, "root first", ns[0].NS, "")
		eq(t, "nested", ns[2].NS, "cluster-a/prod")
		eq(t, "comment", ns[3].Comment, "second PVE cluster")
	},
	"pbs-node-status-fingerprint.json": func(t *testing.T, b []byte) {
		s := decodeSample[PBSNodeStatus](t, b)
		eq(t, "info.fingerprint", s.Info.Fingerprint, samplePBSFingerprint)
		eq(t, "already canonical", normFP(t, s.Info.Fingerprint), s.Info.Fingerprint)
	},
	"pbs-node-tasks-constructed.json": func(t *testing.T, b []byte) {
		tasks := decodeSample[[]PBSTask](t, b)
		wantLen(t, tasks, 4)
		eq(t, "worker_type", tasks[0].WorkerType, "syncjob")
		eq(t, "running: status", tasks[0].Status, "")
		absent(t, "running: endtime", tasks[0].EndTime)
		eq(t, "worker_id (unescaped)", tasks[1].WorkerID, "main:v-3f2a1b7c-9d41")
		eq(t, "status", tasks[1].Status, "verification failed - please check the log for details")
		eq(t, "backup worker_id", tasks[2].WorkerID, "main:vm/101")
		eq(t, "user with token", tasks[2].User, "pve-backup@pbs!pve")
		intp(t, "endtime", tasks[2].EndTime, 1705280998)
		eq(t, "status", tasks[3].Status, "WARNINGS: 1")
		eq(t, "node", tasks[3].Node, "localhost")
	},
	"pbs-node-tasks.json": func(t *testing.T, b []byte) {
		tasks := decodeSample[[]PBSTask](t, b)
		wantLen(t, tasks, 1)
		eq(t, "worker_type", tasks[0].WorkerType, "garbage_collection")
		eq(t, "worker_id", tasks[0].WorkerID, "proxmox-backups")
		eq(t, "starttime", tasks[0].StartTime, 1750867200)
		intp(t, "endtime", tasks[0].EndTime, 1750867413)
		eq(t, "status", tasks[0].Status, "OK")
	},
	"pbs-snapshot-encrypted-verified.json": func(t *testing.T, b []byte) {
		s := decodeSample[[]Snapshot](t, b)
		wantLen(t, s, 1)
		eq(t, "backup-id", s[0].BackupID, "152")
		eq(t, "backup-time", s[0].BackupTime, 1791087763)
		intp(t, "size", s[0].Size, 85904082241)
		if s[0].Verification == nil {
			t.Fatal("verification absent, want ok")
		}
		eq(t, "verification", s[0].Verification.State, "ok")
		eq(t, "encryption key fingerprint", normFP(t, s[0].Fingerprint), s[0].Fingerprint)
		eq(t, "protected", s[0].Protected, false)
		eq(t, "files absent", len(s[0].Files), 0)
	},
	"pbs-snapshots.json": func(t *testing.T, b []byte) {
		s := decodeSample[[]Snapshot](t, b)
		wantLen(t, s, 2)
		eq(t, "backup-type", s[0].BackupType, "vm")
		eq(t, "backup-id", s[0].BackupID, "103")
		eq(t, "backup-time", s[0].BackupTime, 1742890730)
		intp(t, "size", s[0].Size, 34359739269)
		absent(t, "verification of a never-verified snapshot", s[0].Verification)
		eq(t, "protected", s[0].Protected, false)
		eq(t, "comment", s[0].Comment, "pfsense01")
		eq(t, "encryption fingerprint absent", s[0].Fingerprint, "")
		wantLen(t, s[0].Files, 4)
		absent(t, "client.log.blob size", s[0].Files[3].Size)
		eq(t, "client.log.blob crypt-mode", s[0].Files[3].CryptMode, "")
		intp(t, "file size", s[0].Files[1].Size, 34359738368)
		if s[1].Verification == nil {
			t.Fatal("verification absent, want ok")
		}
		eq(t, "verification", s[1].Verification.State, "ok")
	},
	"pbs-status-datastore-usage.json": func(t *testing.T, b []byte) {
		u := decodeSample[[]DatastoreUsage](t, b)
		wantLen(t, u, 2)
		intp(t, "total", u[0].Total, 3998639849472)
		intp(t, "used", u[0].Used, 1899354112000)
		intp(t, "estimated-full-date", u[0].EstimatedFullDate, 1749000000)
		wantLen(t, u[0].History, 8)
		absent(t, "history[0] (null)", u[0].History[0])
		if h := u[0].History[1]; h == nil || *h != 0.4721 {
			t.Errorf("history[1] = %v, want 0.4721", h)
		}
		eq(t, "history-delta", u[0].HistoryDelta, 1800)
		if u[0].GCStatus == nil || !strings.HasPrefix(string(u[0].GCStatus.UPID), "UPID:pbs1:") {
			t.Errorf("gc-status = %+v", u[0].GCStatus)
		}
		absent(t, "total of an unmounted datastore", u[1].Total)
		absent(t, "estimated-full-date of an unmounted datastore", u[1].EstimatedFullDate)
		absent(t, "gc-status of an unmounted datastore", u[1].GCStatus)
		eq(t, "error", u[1].Error, "datastore 'usb-offsite' is not mounted")
		eq(t, "mount-status", u[1].MountStatus, "notmounted")
	},
	"pbs-task-status.json": func(t *testing.T, b []byte) {
		s := decodeSample[TaskStatus](t, b)
		eq(t, "type (not worker_type here)", s.Type, "verificationjob")
		eq(t, "id", s.ID, "main:v-3f2a1b7c-9d41")
		eq(t, "status", s.Status, "stopped")
		eq(t, "exitstatus", s.ExitStatus, "verification failed - please check the log for details")
		eq(t, "node (real hostname)", s.Node, "pbs1")
	},
	"pbs-version.json": func(t *testing.T, b []byte) {
		v := decodeSample[PBSVersion](t, b)
		eq(t, "version", v.Version, "3.2")
		eq(t, "release", v.Release, "4")
		eq(t, "repoid", v.RepoID, "4940514b0f05d6cd6a5f711edfdd47c1fa41b537")
	},

	// ---- PVE ----
	"pve-access-ticket.json": func(t *testing.T, b []byte) {
		// We use API tokens, never tickets (REFERENCE.md §1.3); the sample
		// only has to be a valid envelope.
		v := decodeSample[struct {
			Username string `json:"username"`
			Ticket   string `json:"ticket"`
		}](t, b)
		eq(t, "username", v.Username, "snapshot@pve")
	},
	"pve-cluster-backup-info-not-backed-up.json": func(t *testing.T, b []byte) {
		g := decodeSample[[]NotBackedUpGuest](t, b)
		wantLen(t, g, 1)
		eq(t, "vmid", g[0].VMID, 100)
		eq(t, "type", g[0].Type, "qemu")
		eq(t, "name", g[0].Name, "server1")
	},
	"pve-cluster-backup-jobscfg.json": func(t *testing.T, b []byte) {
		j := decodeSample[[]BackupJob](t, b)
		wantLen(t, j, 2)
		eq(t, "id", j[0].ID, "backup-83831498-c631")
		eq(t, "vmid (one id, string)", j[0].VMID, "100")
		eq(t, "vmid list", j[1].VMID, "100,101,102")
		eq(t, "enabled", j[1].IsEnabled(), true)
		eq(t, "next-run", j[1].NextRun, 1735385400)
		eq(t, "storage", j[1].Storage, "local")
		eq(t, "schedule", j[0].Schedule, "06,18:30")
	},
	"pve-cluster-backup.json": func(t *testing.T, b []byte) {
		j := decodeSample[[]BackupJob](t, b)
		wantLen(t, j, 2)
		eq(t, "legacy id", j[0].ID, "6e3db65d0e925f0314fbbdadf9c8808801be0c85:2")
		eq(t, "enabled: 0", j[0].IsEnabled(), false)
		eq(t, "vmid", j[0].VMID, "102")
		eq(t, "node", j[0].Node, "pve-1")
		eq(t, "pool", j[1].Pool, "backup-24h")
		eq(t, "vmid absent for pool job", j[1].VMID, "")
		eq(t, "all", j[1].All, false)
		eq(t, "enabled: 1", j[1].IsEnabled(), true)
		eq(t, "storage", j[1].Storage, "pve-backup")
	},
	"pve-pools.json": func(t *testing.T, b []byte) {
		p := decodeSample[[]Pool](t, b)
		wantLen(t, p, 2)
		eq(t, "poolid", p[0].PoolID, "media")
		eq(t, "comment", p[0].Comment, "Media servers")
		eq(t, "comment absent", p[1].Comment, "")
	},
	"pve-cluster-resources-storage-nfs.json": func(t *testing.T, b []byte) {
		r := decodeSample[[]ClusterResource](t, b)
		wantLen(t, r, 3)
		eq(t, "storage", r[0].Storage, "truenas-backups")
		eq(t, "plugintype", r[0].PluginType, "nfs")
		eq(t, "shared", r[0].Shared, true)
		eq(t, "node", r[0].Node, "enterprise")
		eq(t, "disk", r[0].Disk, 180708442112)
		eq(t, "shared: 0", r[1].Shared, false)
		eq(t, "content", r[1].Content, "iso,vztmpl,snippets,import,backup")
	},
	"pve-cluster-resources-storage-shared-pbs.json": func(t *testing.T, b []byte) {
		r := decodeSample[[]ClusterResource](t, b)
		wantLen(t, r, 6)
		nodes := map[string][]string{}
		for _, row := range r {
			eq(t, row.ID+" plugintype", row.PluginType, "pbs")
			eq(t, row.ID+" shared", row.Shared, true)
			nodes[row.Storage] = append(nodes[row.Storage], row.Node)
		}
		// One row per node for a shared storage (REFERENCE.md §5).
		eq(t, "PBS01 rows", len(nodes["PBS01"]), 3)
		eq(t, "PBS02 rows", len(nodes["PBS02"]), 3)
	},
	"pve-cluster-resources.json": func(t *testing.T, b []byte) {
		r := decodeSample[[]ClusterResource](t, b)
		wantLen(t, r, 20)
		eq(t, "type", r[0].Type, "qemu")
		eq(t, "vmid", r[0].VMID, 100)
		eq(t, "name", r[0].Name, "server1")
		eq(t, "node", r[0].Node, "node2")
		eq(t, "template: 0", r[0].Template != nil && !bool(*r[0].Template), true)
		eq(t, "template: 1", r[1].Template != nil && bool(*r[1].Template), true)
		eq(t, "tags", r[2].Tags, "go-proxmox+cloud-init")
		eq(t, "tags absent", r[0].Tags, "")
		eq(t, "node row", r[4].Type, "node")
		eq(t, "storage row", r[12].Storage, "local")
		eq(t, "storage plugintype", r[12].PluginType, "dir")
		eq(t, "storage content", r[12].Content, "backup,vztmpl,iso")
	},
	"pve-cluster-tasks.json": func(t *testing.T, b []byte) {
		tasks := decodeSample[[]Task](t, b)
		wantLen(t, tasks, 3)
		eq(t, `running: saved "0"`, tasks[0].Saved, "0")
		eq(t, "running: status", tasks[0].Status, "")
		eq(t, "running: endtime", tasks[0].EndTime, 0)
		eq(t, "running: pid", tasks[0].PID, 2233445)
		eq(t, `saved "1"`, tasks[1].Saved, "1")
		eq(t, "status", tasks[1].Status, "OK")
		eq(t, "tokenid", tasks[1].TokenID, "mon")
		eq(t, "id", tasks[1].ID, "101")
		eq(t, "endtime", tasks[1].EndTime, 1705281655)
		eq(t, "multi-guest id", tasks[2].ID, "")
		eq(t, "status", tasks[2].Status, "job errors")
	},
	"pve-error-400-param.json": func(t *testing.T, b []byte) {
		var v []Node
		if err := DecodeEnvelope(b, &v); err == nil || !strings.Contains(err.Error(), "null") {
			t.Errorf("DecodeEnvelope of an error body = %v, want a data-is-null error", err)
		}
		msg := proxmoxMessage(b, "Parameter verification failed.")
		eq(t, "message", msg, "Parameter verification failed. (limit: type check ('integer') failed - got 'abc')")
		class, _ := classifyStatus(400, msg)
		eq(t, "class", class, ClassBadResponse)
	},
	"pve-error-403.json": func(t *testing.T, b []byte) {
		msg := proxmoxMessage(b, "Forbidden")
		eq(t, "message", msg, "Permission check failed (/storage/pbs-main, Datastore.Audit|Datastore.AllocateSpace)")
		class, failover := classifyStatus(403, msg)
		eq(t, "class", class, ClassPermission)
		eq(t, "failover", failover, false)
		hint := Hint(&Error{Kind: "pve", Class: class, Status: 403, Message: msg, Endpoint: "/nodes/pve1/storage/pbs-main/content"})
		if !strings.Contains(hint, "Datastore.Audit or Datastore.AllocateSpace on /storage/pbs-main") {
			t.Errorf("hint %q does not name the privilege", hint)
		}
	},
	"pve-node-storage.json": func(t *testing.T, b []byte) {
		s := decodeSample[[]NodeStorage](t, b)
		wantLen(t, s, 4)
		eq(t, "active", s[0].Active, true)
		eq(t, "enabled", s[0].Enabled, true)
		eq(t, "total", s[0].Total, 100861726720)
		eq(t, "type", s[1].Type, "pbs")
		eq(t, "shared", s[1].Shared, true)
		eq(t, "inactive", s[2].Active, false)
		eq(t, "disabled", s[3].Enabled, false)
	},
	"pve-node-tasks-vzdump.json": func(t *testing.T, b []byte) {
		tasks := decodeSample[[]Task](t, b)
		wantLen(t, tasks, 3)
		eq(t, "type", tasks[0].Type, "vzdump")
		eq(t, "single-guest id", tasks[0].ID, "101")
		eq(t, "user without token", tasks[0].User, "exporter@pve")
		eq(t, "tokenid", tasks[0].TokenID, "mon")
		eq(t, "status", tasks[0].Status, "OK")
		eq(t, "pstart", tasks[0].PStart, 169552957)
		eq(t, "multi-guest id", tasks[1].ID, "")
		eq(t, "status", tasks[1].Status, "job errors")
		eq(t, "status", tasks[2].Status, "WARNINGS: 1")
		eq(t, "starttime", tasks[2].StartTime, 1705194002)
	},
	"pve-node-tasks.json": func(t *testing.T, b []byte) {
		tasks := decodeSample[[]Task](t, b)
		wantLen(t, tasks, 3)
		eq(t, "type", tasks[0].Type, "srvreload")
		eq(t, "id", tasks[0].ID, "networking")
		eq(t, "error status", tasks[1].Status, "command 'ifreload -a' failed: exit code 1")
		eq(t, "tokenid absent", tasks[0].TokenID, "")
	},
	"pve-nodes.json": func(t *testing.T, b []byte) {
		n := decodeSample[[]Node](t, b)
		wantLen(t, n, 4)
		eq(t, "node", n[0].Node, "node1")
		eq(t, "online", n[0].Online(), true)
		eq(t, "uptime", n[0].Uptime, 2236708)
		eq(t, "ssl_fingerprint normalises", normFP(t, n[0].SSLFingerprint), strings.ToLower(n[0].SSLFingerprint))
	},
	"pve-storage-config-pbs.json": func(t *testing.T, b []byte) {
		s := decodeSample[[]StorageConfig](t, b)
		wantLen(t, s, 3)
		eq(t, "type", s[0].Type, "pbs")
		eq(t, "server", s[0].Server, "pbs1.example.com")
		eq(t, "port", s[0].Port, 8007)
		eq(t, "datastore", s[0].Datastore, "main")
		eq(t, "namespace", s[0].Namespace, "cluster-a/prod")
		eq(t, "username", s[0].Username, "pve-backup@pbs!pve")
		// PVE upper-cases the fingerprint; it must match PBS's lower case.
		eq(t, "fingerprint", normFP(t, s[0].Fingerprint), samplePBSFingerprint)
		eq(t, "shared", s[0].Shared, true)
		eq(t, "nfs export", s[1].Export, "/mnt/tank/pve")
		eq(t, "nfs server", s[1].Server, "10.0.0.20")
		eq(t, "nodes", s[2].Nodes, "pve2")
		eq(t, "disable", s[2].Disable, true)
		eq(t, "shared absent", s[2].Shared, false)
	},
	"pve-storage-config.json": func(t *testing.T, b []byte) {
		s := decodeSample[[]StorageConfig](t, b)
		wantLen(t, s, 2)
		eq(t, "storage named backup", s[0].Storage, "backup")
		eq(t, "type", s[0].Type, "pbs")
		eq(t, "port absent (default 8007 is applied by routing)", s[0].Port, 0)
		eq(t, "namespace absent = root", s[0].Namespace, "")
		eq(t, "fingerprint", normFP(t, s[0].Fingerprint), samplePBSFingerprint)
		eq(t, "datastore", s[0].Datastore, "Backup-Pool")
		eq(t, "nodes", s[1].Nodes, "node1,node2,node3")
		eq(t, "disable absent", s[1].Disable, false)
	},
	"pve-storage-content-backup-dir.json": func(t *testing.T, b []byte) {
		v := decodeSample[[]BackupVolume](t, b)
		wantLen(t, v, 4)
		for i, want := range []int64{105, 101, 101, 120} {
			eq(t, "vmid", int64(v[i].VMID), want)
			absent(t, "verification of a file backup", v[i].Verification)
		}
		eq(t, "ctime", v[0].CTime, 1705280681)
		eq(t, "size", v[0].Size, 734003200)
		eq(t, "format", v[0].Format, "tar.zst")
		eq(t, "subtype", v[0].Subtype, "lxc")
		eq(t, "protected: 1", v[1].Protected, true)
		eq(t, "protected absent", v[0].Protected, false)
		eq(t, "notes absent", v[3].Notes, "")
		eq(t, "volid", v[3].VolID, "nfs-backup:backup/vzdump-qemu-120-before-upgrade.vma.zst")
	},
	"pve-storage-content-backup-pbs-full.json": func(t *testing.T, b []byte) {
		v := decodeSample[[]BackupVolume](t, b)
		wantLen(t, v, 3)
		if v[0].Verification == nil || v[1].Verification == nil {
			t.Fatal("verification absent")
		}
		eq(t, "verification", v[0].Verification.State, "ok")
		eq(t, "verification", v[1].Verification.State, "failed")
		eq(t, "protected", v[1].Protected, true)
		eq(t, "encrypted", normFP(t, string(v[1].Encrypted)), string(v[1].Encrypted))
		eq(t, "format", v[1].Format, "pbs-vm")
		eq(t, "size of an in-progress snapshot (PVE reports 1)", v[2].Size, 1)
		absent(t, "verification of an in-progress snapshot", v[2].Verification)
		eq(t, "ctime = backup-time", v[2].CTime, 1705280405)
		eq(t, "volid", v[2].VolID, "pbs-main:backup/vm/101/2024-01-15T01:00:05Z")
	},
	"pve-storage-content-backup-pbs.json": func(t *testing.T, b []byte) {
		v := decodeSample[[]BackupVolume](t, b)
		wantLen(t, v, 2)
		eq(t, "vmid", v[0].VMID, 931)
		eq(t, "ctime", v[0].CTime, 1702528474)
		eq(t, "size (> 2^32)", v[0].Size, 273804166061)
		eq(t, "volid", v[0].VolID, "datastore:backup/vm/931/2023-12-14T04:34:34Z")
		eq(t, "encrypted absent", v[0].Encrypted, "")
	},
	"pve-task-log-vzdump-pbs-error.json": func(t *testing.T, b []byte) {
		l := decodeSample[[]TaskLogLine](t, b)
		wantLen(t, l, 10)
		for i, line := range l {
			eq(t, "n", int(line.N), i+1)
		}
		eq(t, "error line", strings.HasPrefix(l[4].T, "ERROR: Backup of VM 101 failed - "), true)
		eq(t, "last line", l[9].T, "TASK ERROR: job errors")
	},
	"pve-task-log-vzdump.json": func(t *testing.T, b []byte) {
		l := decodeSample[[]TaskLogLine](t, b)
		wantLen(t, l, 7)
		eq(t, "n", l[1].N, 2)
		eq(t, "n after the gap", l[2].N, 23)
		eq(t, "t", l[1].T, "INFO: Starting Backup of VM 100 (lxc)")
		eq(t, "last line", l[6].T, "TASK OK")
	},
	"pve-task-status-running-token.json": func(t *testing.T, b []byte) {
		s := decodeSample[TaskStatus](t, b)
		eq(t, "status", s.Status, "running")
		eq(t, "exitstatus absent while running", s.ExitStatus, "")
		eq(t, "tokenid", s.TokenID, "api_token")
		eq(t, "user", s.User, "root@pam")
		eq(t, "starttime", s.StartTime, 1675584165)
	},
	"pve-task-status-vzdump.json": func(t *testing.T, b []byte) {
		s := decodeSample[TaskStatus](t, b)
		eq(t, "status", s.Status, "stopped")
		eq(t, "exitstatus", s.ExitStatus, "OK")
		eq(t, "type", s.Type, "vzdump")
		eq(t, "id", s.ID, "110")
		eq(t, "node", s.Node, "node1")
	},
	"pve-version.json": func(t *testing.T, b []byte) {
		v := decodeSample[PVEVersion](t, b)
		eq(t, "version", v.Version, "7.2-3")
		eq(t, "release", v.Release, "7.2")
		eq(t, "repoid", v.RepoID, "c743d6c1")
	},
}

// sampleFiles lists the sample directory; a missing directory fails.
func sampleFiles(tb testing.TB) []string {
	tb.Helper()
	entries, err := os.ReadDir(samplesDir)
	if err != nil {
		tb.Fatalf("samples: %v (testdata/samples is tracked in git; the samples are required)", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		tb.Fatalf("samples: %s is empty", samplesDir)
	}
	return names
}

// TestSamplesHaveSources keeps every sample traceable: SOURCES.md names
// where each file came from, and names no file that is not there.
func TestSamplesHaveSources(t *testing.T) {
	sources, err := os.ReadFile(filepath.Join(samplesDir, "SOURCES.md"))
	if err != nil {
		t.Fatalf("samples: %v", err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(sources), "\n") {
		if rest, ok := strings.CutPrefix(line, "| `"); ok {
			if name, _, ok := strings.Cut(rest, "`"); ok && strings.HasSuffix(name, ".json") {
				listed[name] = true
			}
		}
	}
	for _, name := range sampleFiles(t) {
		if !listed[name] {
			t.Errorf("sample %s has no row in SOURCES.md: say where it came from", name)
		}
		delete(listed, name)
	}
	for name := range listed {
		t.Errorf("SOURCES.md lists %s, which is not in %s", name, samplesDir)
	}
}

func TestSamplesDecode(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range sampleFiles(t) {
		seen[name] = true
		check, ok := sampleChecks[name]
		if !ok {
			t.Errorf("sample %s has no entry in sampleChecks: map it to its model", name)
			continue
		}
		body, err := os.ReadFile(filepath.Join(samplesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) { check(t, body) })
	}
	for name := range sampleChecks {
		if !seen[name] {
			t.Errorf("sampleChecks names %s, which is not in %s", name, samplesDir)
		}
	}
}

// TestBackupJobEnabledDefault covers what no sample shows: a job without an
// "enabled" field runs (REFERENCE.md §2.7).
func TestBackupJobEnabledDefault(t *testing.T) {
	for _, tc := range []struct {
		body string
		want bool
	}{
		{`{"data":[{"id":"backup-1"}]}`, true},
		{`{"data":[{"id":"backup-1","enabled":1}]}`, true},
		{`{"data":[{"id":"backup-1","enabled":"0"}]}`, false},
		{`{"data":[{"id":"backup-1","enabled":false}]}`, false},
	} {
		jobs := decodeSample[[]BackupJob](t, []byte(tc.body))
		if got := jobs[0].IsEnabled(); got != tc.want {
			t.Errorf("%s: IsEnabled() = %v, want %v", tc.body, got, tc.want)
		}
	}
}
