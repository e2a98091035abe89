package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// stateResult is one PBS with a datastore of each kind the state families
// tell apart: a healthy one with a GC, a removable one being unmounted
// whose GC never ran, an s3 one in read-only maintenance with a GC
// running, one whose GC failed and whose PBS sends no mount status, and
// one with a maintenance string we cannot parse.
func stateResult() *scrapeResult {
	end := proxmox.Int(1_699_000_000)
	ok := proxmox.GCJobStatus{Store: "main", LastRunState: "OK", LastRunEndtime: &end, GCStatus: proxmox.GCStatus{
		UPID: "UPID:a", PendingBytes: 10, RemovedBytes: 20, DiskBytes: 100, IndexDataBytes: 450}}
	pd := &pbsData{
		t: &target{name: "pbs1", kind: "pbs"}, up: true, run: &targetRun{name: "pbs1", kind: "pbs"},
		datastores: []proxmox.Datastore{
			{Store: "main", MountStatus: "nonremovable", BackendType: "filesystem"},
			{Store: "usb", MountStatus: "notmounted", BackendType: "filesystem", Maintenance: "type=unmount"},
			{Store: "cloud", MountStatus: "nonremovable", BackendType: "s3", Maintenance: "type=read-only,message=disk%20swap"},
			{Store: "old", Maintenance: "flooded"},
			{Store: "bad", Maintenance: "type=x,type=y"},
		},
		gc: map[string]proxmox.GCJobStatus{
			"main":  ok,
			"usb":   {Store: "usb"},
			"cloud": {Store: "cloud", GCStatus: proxmox.GCStatus{UPID: "UPID:b", DiskBytes: 0, IndexDataBytes: 0}},
			"old":   {Store: "old", LastRunState: "datastore is in maintenance mode", LastRunEndtime: &end, GCStatus: proxmox.GCStatus{UPID: "UPID:c", DiskBytes: 5, IndexDataBytes: 5}},
		},
	}
	down := &pbsData{t: &target{name: "pbs2", kind: "pbs"}, run: &targetRun{name: "pbs2", kind: "pbs"},
		datastores: []proxmox.Datastore{{Store: "x", BackendType: "filesystem"}}}
	return &scrapeResult{start: time.Unix(1_700_000_000, 0), pbs: []*pbsData{pd, down}, runs: []*targetRun{pd.run, down.run}}
}

func TestEmitDatastoreState(t *testing.T) {
	c := newTestCollector(Options{})
	rc := resultCollector{c: c, res: stateResult()}
	want := `
# HELP proxmox_backup_datastore_info 1 per PBS datastore, with its backend (filesystem, s3). For s3 the capacity figures cover only the local cache.
# TYPE proxmox_backup_datastore_info gauge
proxmox_backup_datastore_info{backend="filesystem",datastore="main",target="pbs1"} 1
proxmox_backup_datastore_info{backend="filesystem",datastore="usb",target="pbs1"} 1
proxmox_backup_datastore_info{backend="s3",datastore="cloud",target="pbs1"} 1
# HELP proxmox_backup_datastore_maintenance State set of the datastore's maintenance mode: 1 for the current mode (none when not in maintenance), 0 for the others.
# TYPE proxmox_backup_datastore_maintenance gauge
proxmox_backup_datastore_maintenance{datastore="cloud",mode="delete",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="cloud",mode="none",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="cloud",mode="offline",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="cloud",mode="read-only",target="pbs1"} 1
proxmox_backup_datastore_maintenance{datastore="cloud",mode="s3-refresh",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="cloud",mode="unmount",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="main",mode="delete",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="main",mode="none",target="pbs1"} 1
proxmox_backup_datastore_maintenance{datastore="main",mode="offline",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="main",mode="read-only",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="main",mode="s3-refresh",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="main",mode="unmount",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="old",mode="delete",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="old",mode="flooded",target="pbs1"} 1
proxmox_backup_datastore_maintenance{datastore="old",mode="none",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="old",mode="offline",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="old",mode="read-only",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="old",mode="s3-refresh",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="old",mode="unmount",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="usb",mode="delete",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="usb",mode="none",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="usb",mode="offline",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="usb",mode="read-only",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="usb",mode="s3-refresh",target="pbs1"} 0
proxmox_backup_datastore_maintenance{datastore="usb",mode="unmount",target="pbs1"} 1
# HELP proxmox_backup_datastore_mount_status State set of the datastore's mount status (mounted, notmounted, nonremovable): 1 for the current one.
# TYPE proxmox_backup_datastore_mount_status gauge
proxmox_backup_datastore_mount_status{datastore="cloud",status="mounted",target="pbs1"} 0
proxmox_backup_datastore_mount_status{datastore="cloud",status="nonremovable",target="pbs1"} 1
proxmox_backup_datastore_mount_status{datastore="cloud",status="notmounted",target="pbs1"} 0
proxmox_backup_datastore_mount_status{datastore="main",status="mounted",target="pbs1"} 0
proxmox_backup_datastore_mount_status{datastore="main",status="nonremovable",target="pbs1"} 1
proxmox_backup_datastore_mount_status{datastore="main",status="notmounted",target="pbs1"} 0
proxmox_backup_datastore_mount_status{datastore="usb",status="mounted",target="pbs1"} 0
proxmox_backup_datastore_mount_status{datastore="usb",status="nonremovable",target="pbs1"} 0
proxmox_backup_datastore_mount_status{datastore="usb",status="notmounted",target="pbs1"} 1
# HELP proxmox_backup_datastore_gc_state State set of the datastore's garbage collection (never, running, ok, failed): 1 for the current one.
# TYPE proxmox_backup_datastore_gc_state gauge
proxmox_backup_datastore_gc_state{datastore="cloud",state="failed",target="pbs1"} 0
proxmox_backup_datastore_gc_state{datastore="cloud",state="never",target="pbs1"} 0
proxmox_backup_datastore_gc_state{datastore="cloud",state="ok",target="pbs1"} 0
proxmox_backup_datastore_gc_state{datastore="cloud",state="running",target="pbs1"} 1
proxmox_backup_datastore_gc_state{datastore="main",state="failed",target="pbs1"} 0
proxmox_backup_datastore_gc_state{datastore="main",state="never",target="pbs1"} 0
proxmox_backup_datastore_gc_state{datastore="main",state="ok",target="pbs1"} 1
proxmox_backup_datastore_gc_state{datastore="main",state="running",target="pbs1"} 0
proxmox_backup_datastore_gc_state{datastore="old",state="failed",target="pbs1"} 1
proxmox_backup_datastore_gc_state{datastore="old",state="never",target="pbs1"} 0
proxmox_backup_datastore_gc_state{datastore="old",state="ok",target="pbs1"} 0
proxmox_backup_datastore_gc_state{datastore="old",state="running",target="pbs1"} 0
proxmox_backup_datastore_gc_state{datastore="usb",state="failed",target="pbs1"} 0
proxmox_backup_datastore_gc_state{datastore="usb",state="never",target="pbs1"} 1
proxmox_backup_datastore_gc_state{datastore="usb",state="ok",target="pbs1"} 0
proxmox_backup_datastore_gc_state{datastore="usb",state="running",target="pbs1"} 0
# HELP proxmox_backup_datastore_gc_pending_bytes Bytes of chunks the last garbage collection found unused but kept for safety (removed by the next one).
# TYPE proxmox_backup_datastore_gc_pending_bytes gauge
proxmox_backup_datastore_gc_pending_bytes{datastore="cloud",target="pbs1"} 0
proxmox_backup_datastore_gc_pending_bytes{datastore="main",target="pbs1"} 10
proxmox_backup_datastore_gc_pending_bytes{datastore="old",target="pbs1"} 0
# HELP proxmox_backup_datastore_gc_disk_bytes Bytes of chunks on disk as the last garbage collection counted them.
# TYPE proxmox_backup_datastore_gc_disk_bytes gauge
proxmox_backup_datastore_gc_disk_bytes{datastore="cloud",target="pbs1"} 0
proxmox_backup_datastore_gc_disk_bytes{datastore="main",target="pbs1"} 100
proxmox_backup_datastore_gc_disk_bytes{datastore="old",target="pbs1"} 5
# HELP proxmox_backup_datastore_deduplication_ratio Index data bytes per disk byte of the last garbage collection: how many times the stored chunks are used.
# TYPE proxmox_backup_datastore_deduplication_ratio gauge
proxmox_backup_datastore_deduplication_ratio{datastore="main",target="pbs1"} 4.5
proxmox_backup_datastore_deduplication_ratio{datastore="old",target="pbs1"} 1
`
	names := []string{"proxmox_backup_datastore_info", "proxmox_backup_datastore_maintenance",
		"proxmox_backup_datastore_mount_status", "proxmox_backup_datastore_gc_state",
		"proxmox_backup_datastore_gc_pending_bytes", "proxmox_backup_datastore_gc_disk_bytes",
		"proxmox_backup_datastore_deduplication_ratio"}
	if err := testutil.CollectAndCompare(rc, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	// Removed and index data bytes follow the same rule as pending bytes.
	if n := testutil.CollectAndCount(rc, "proxmox_backup_datastore_gc_removed_bytes", "proxmox_backup_datastore_gc_index_data_bytes"); n != 6 {
		t.Errorf("removed and index data bytes: %d series, want 3 each", n)
	}
}
