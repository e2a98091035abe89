package emulator

import (
	"fmt"
	"runtime"
	"testing"
)

func TestGenerateSizes(t *testing.T) {
	m := Generate(GenOptions{Clusters: 2, NodesPerCluster: 4, Guests: 30, SnapshotsPerGuest: 5, FilesPerGuest: 2,
		LocalFilesPerGuest: 1, PBS: 1, Seed: 7})
	if len(m.Clusters) != 2 || len(m.PBS) != 1 || m.Snapshots() != 2*30*5 {
		t.Fatalf("clusters %d, PBS %d, snapshots %d", len(m.Clusters), len(m.PBS), m.Snapshots())
	}
	s, err := Start(m)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []string{"cluster1", "cluster2"} {
		if got := len(s.PVEURLs(c)); got != 4 {
			t.Errorf("%s: %d node URLs", c, got)
		}
		vols := pve(t, s, c, "pve2", "/nodes/pve2/storage/backup-server/content", nil).rows(t)
		if len(vols) != 150 {
			t.Errorf("%s backup-server: %d volumes, want 150", c, len(vols))
		}
		if n := len(pve(t, s, c, "pve1", "/nodes/pve1/storage/nfs-backup/content", nil).rows(t)); n != 60 {
			t.Errorf("%s nfs: %d files, want 60", c, n)
		}
		if n := len(pve(t, s, c, "pve1", "/nodes/pve1/storage/local/content", nil).rows(t)); n != 8 {
			t.Errorf("%s local@pve1: %d files, want 8 (guests 0,4,..,28)", c, n)
		}
		groups := pbs(t, s, "pbs1", "/admin/datastore/store1/groups", qv("ns", c)).rows(t)
		if len(groups) != 30 {
			t.Errorf("%s: %d groups", c, len(groups))
		}
		if n := len(pve(t, s, c, "pve1", "/nodes/pve1/tasks", qv("typefilter", "vzdump")).rows(t)); n != 2 {
			t.Errorf("%s: %d vzdump tasks on pve1", c, n)
		}
	}
	// Same seed, same estate.
	a := Generate(GenOptions{Guests: 20, SnapshotsPerGuest: 3, Seed: 1})
	b := Generate(GenOptions{Guests: 20, SnapshotsPerGuest: 3, Seed: 1})
	ga, gb := a.PBS[0].Datastores[0].Namespaces[1].Groups, b.PBS[0].Datastores[0].Namespaces[1].Groups
	if fmt.Sprint(ga[5].Snapshots) != fmt.Sprint(gb[5].Snapshots) {
		t.Error("Generate is not deterministic")
	}
}

// benchEstate is issue 5's case (b): 4 nodes, 5,000 guests, 200 snapshots
// each = 1,000,000 snapshots, 2 NFS files per guest.
var benchOpts = GenOptions{NodesPerCluster: 4, Guests: 5000, SnapshotsPerGuest: 200, FilesPerGuest: 2, Seed: 1}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	var m *Model
	for b.Loop() {
		m = Generate(benchOpts)
	}
	b.StopTimer()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(m.Snapshots()), "snapshots")
	b.ReportMetric(float64(ms.HeapAlloc)/float64(1<<20), "heap-MiB")
	runtime.KeepAlive(m)
}

func benchServer(b *testing.B) *Server {
	b.Helper()
	s, err := Start(Generate(benchOpts))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	s.SetRequestLog(false)
	return s
}

// BenchmarkGroupsListing: the 5,000-group listing of a 1M-snapshot
// datastore (O(groups)).
func BenchmarkGroupsListing(b *testing.B) {
	s := benchServer(b)
	q := qv("ns", "cluster1")
	pbs(b, s, "pbs1", "/admin/datastore/store1/groups", q) // warm the index
	b.ResetTimer()
	for b.Loop() {
		if r := pbs(b, s, "pbs1", "/admin/datastore/store1/groups", q); r.status != 200 {
			b.Fatal(r.status)
		}
	}
}

// BenchmarkGroupSnapshots: one group's 200 snapshots out of 1M (O(group)).
func BenchmarkGroupSnapshots(b *testing.B) {
	s := benchServer(b)
	q := qv("ns", "cluster1", "backup-type", "vm", "backup-id", "4000")
	pbs(b, s, "pbs1", "/admin/datastore/store1/snapshots", q)
	b.ResetTimer()
	for b.Loop() {
		if r := pbs(b, s, "pbs1", "/admin/datastore/store1/snapshots", q); r.status != 200 {
			b.Fatal(r.status)
		}
	}
}
