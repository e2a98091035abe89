package dedup

import (
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

func TestDeduplicationFactor(t *testing.T) {
	cases := []struct {
		name        string
		index, disk proxmox.Int
		want        float64
		ok          bool
	}{
		{"five to one", 500, 100, 5, true},
		{"no sharing", 100, 100, 1, true},
		// The pbs-admin-gc.json sample: 575554027520 / 115363386675.
		{"real sample", 575554027520, 115363386675, 575554027520.0 / 115363386675.0, true},
		{"never ran: nothing on disk", 0, 0, 0, false},
		{"index files but no chunk on disk", 1000, 0, 0, false},
		{"broken negative", -1, 100, 0, false},
	}
	for _, c := range cases {
		got, ok := DeduplicationFactor(proxmox.GCStatus{IndexDataBytes: c.index, DiskBytes: c.disk})
		if ok != c.ok || got != c.want {
			t.Errorf("%s: DeduplicationFactor = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}
