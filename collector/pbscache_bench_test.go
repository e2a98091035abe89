package collector

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// genNamespace is a PBS namespace of groups groups with perGroup daily
// snapshots each, generated on every call so that only what the cache
// keeps stays on the heap.
type genNamespace struct {
	groups, perGroup int
}

const genT0 = 1_700_000_000

func (g genNamespace) Groups(context.Context, string, string) ([]proxmox.BackupGroup, error) {
	out := make([]proxmox.BackupGroup, g.groups)
	for i := range out {
		out[i] = proxmox.BackupGroup{BackupType: "vm", BackupID: proxmox.String(strconv.Itoa(100 + i)),
			BackupCount: proxmox.Int(g.perGroup), LastBackup: proxmox.Int(genT0 + int64(g.perGroup-1)*86400)}
	}
	return out, nil
}

func (g genNamespace) Snapshots(_ context.Context, _, _, typ, id string) ([]proxmox.Snapshot, error) {
	out := make([]proxmox.Snapshot, g.perGroup)
	for k := range out {
		size := proxmox.Int(8 << 30)
		out[k] = proxmox.Snapshot{BackupType: typ, BackupID: proxmox.String(id), BackupTime: proxmox.Int(genT0 + int64(k)*86400),
			Size: &size, Verification: &proxmox.Verification{State: "ok"}}
	}
	return out, nil
}

func (g genNamespace) EachSnapshot(ctx context.Context, store, ns string, fn func(proxmox.Snapshot)) error {
	for i := range g.groups {
		snaps, _ := g.Snapshots(ctx, store, ns, "vm", strconv.Itoa(100+i))
		for _, s := range snaps {
			fn(s)
		}
	}
	return nil
}

// BenchmarkCacheMemory measures what the PBS group cache keeps per group:
// the heap after a forced GC with the cache filled, minus before, divided
// by the groups cached (5,000 groups, as in issue 5's estate).
//
//	go test -run '^$' -bench BenchmarkCacheMemory ./collector/
func BenchmarkCacheMemory(b *testing.B) {
	for _, per := range []int{1, 50, 200} {
		b.Run(strconv.Itoa(per)+"_per_group", func(b *testing.B) {
			api := genNamespace{groups: 5000, perGroup: per}
			var perGroup float64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				c := newPBSCache(time.Hour, 0)
				if _, _, _, err := c.read(context.Background(), api, direct, "pbs1", "store1", "ns", time.Unix(genT0, 0)); err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				if c.size() != api.groups {
					b.Fatalf("%d groups cached", c.size())
				}
				perGroup = float64(after.HeapAlloc-before.HeapAlloc) / float64(api.groups)
				runtime.KeepAlive(c)
			}
			b.ReportMetric(perGroup, "bytes/group")
			b.ReportMetric(perGroup/float64(per), "bytes/point")
		})
	}
}
