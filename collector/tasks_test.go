package collector

import (
	"fmt"
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// TestTaskLogCacheBounded: finished job logs are cached, but never more than
// the bound, and the least recently used go first.
func TestTaskLogCacheBounded(t *testing.T) {
	c := newTaskLogCache(3)
	for i := range 5 {
		c.put(fmt.Sprintf("UPID:%d", i), []proxmox.TaskLogLine{{N: 1, T: fmt.Sprint(i)}})
		if i == 2 {
			// Touch the oldest so it survives the next two insertions.
			if _, ok := c.get("UPID:0"); !ok {
				t.Fatal("UPID:0 missing before eviction")
			}
		}
	}
	if n := c.len(); n != 3 {
		t.Fatalf("cache holds %d logs, want 3", n)
	}
	for upid, want := range map[string]bool{"UPID:0": true, "UPID:1": false, "UPID:2": false, "UPID:3": true, "UPID:4": true} {
		if _, ok := c.get(upid); ok != want {
			t.Errorf("get(%s) present=%v, want %v", upid, ok, want)
		}
	}
	if got := newTaskLogCache(0).max; got != DefaultTaskLogCacheSize {
		t.Errorf("default bound %d, want %d", got, DefaultTaskLogCacheSize)
	}
}
