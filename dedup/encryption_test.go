package dedup

import (
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

func TestGuestEncryption(t *testing.T) {
	guest := GuestAggregate{Cluster: "c", BackupType: "vm", BackupID: "100", Known: true, Snapshots: 3, Last: 300}
	group := func(repo string, last int64, enc bool) GroupAggregate {
		return GroupAggregate{Repository: repo, Cluster: "c", BackupType: "vm", BackupID: "100", Snapshots: 2, Last: last, LastEncrypted: enc}
	}
	cases := []struct {
		name   string
		g      GuestAggregate
		groups []GroupAggregate
		want   string
	}{
		{"one encrypted copy", guest, []GroupAggregate{group("pbs:a", 300, true)}, EncryptionYes},
		{"every copy encrypted", guest, []GroupAggregate{group("pbs:a", 300, true), group("pbs:b", 300, true)}, EncryptionYes},
		{"a plain copy of the newest point", guest, []GroupAggregate{group("pbs:a", 300, true), group("nfs", 300, false)}, EncryptionNo},
		{"an older plain point elsewhere does not matter", guest, []GroupAggregate{group("pbs:a", 300, true), group("nfs", 200, false)}, EncryptionYes},
		{"plain newest point", guest, []GroupAggregate{group("nfs", 300, false), group("pbs:a", 200, true)}, EncryptionNo},
		{"unknown count", GuestAggregate{Cluster: "c", BackupType: "vm", BackupID: "100", Last: 300}, []GroupAggregate{group("pbs:a", 300, true)}, ""},
		{"no recovery point", GuestAggregate{Cluster: "c", BackupType: "vm", BackupID: "100", Known: true}, nil, ""},
		{"newest point in no group of the cluster", guest, []GroupAggregate{group("pbs:a", 200, true)}, ""},
	}
	for _, tc := range cases {
		if got := GuestEncryption(tc.g, tc.groups); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestMarkGuestEncryption: from summarised snapshots, a guest whose newest
// point is an encrypted PBS snapshot is encrypted, one whose newest point
// is a vzdump archive is not.
func TestMarkGuestEncryption(t *testing.T) {
	enc := snapshot("vm", "100", t0+day)
	enc.Fingerprint = "8d:80"
	plain := snapshot("vm", "101", t0+day)
	groups := SummarizeSnapshots([]proxmox.Snapshot{snapshot("vm", "100", t0), enc, plain})
	if len(groups) != 2 || !groups[0].LastEncrypted || groups[0].Unencrypted != 1 || groups[1].LastEncrypted {
		t.Fatalf("summaries: %+v", groups)
	}
	guests := []GuestAggregate{
		{Cluster: "c", BackupType: "vm", BackupID: "100", Known: true, Snapshots: 2, Last: t0 + day},
		{Cluster: "c", BackupType: "vm", BackupID: "101", Known: true, Snapshots: 1, Last: t0 + day},
		{Cluster: "c", BackupType: "vm", BackupID: "102", Known: true},
	}
	var aggs []GroupAggregate
	for _, g := range groups {
		aggs = append(aggs, GroupAggregate{Repository: "pbs:main", Cluster: "c", BackupType: g.BackupType, BackupID: g.BackupID,
			Snapshots: len(g.Times), Last: g.Times[len(g.Times)-1], LastEncrypted: g.LastEncrypted, Unencrypted: g.Unencrypted})
	}
	markGuestEncryption(guests, aggs)
	for i, want := range []string{EncryptionYes, EncryptionNo, ""} {
		if guests[i].LastEncryption != want {
			t.Errorf("guest %s: %q, want %q", guests[i].BackupID, guests[i].LastEncryption, want)
		}
	}
}
