package collector

import (
	"context"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
	"maps"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// The shapes of newer Proxmox versions (issue 16, point 7), served by the
// emulator per target version and read through the real clients.

// providerLab is the lab estate with a shared storage of an external
// backup provider (PVE 8.4's backup-provider plugins) holding a newer
// backup of vm/100 and a copy of ct/101's point in time, under archive
// names no vzdump or PBS pattern parses.
func providerLab(version string, newest time.Time) *emulator.Model {
	m := labModel()
	c := m.Clusters[0]
	c.Version = version
	var ct101 time.Time
	for _, f := range c.Storage("nfs").Files {
		if f.VMID == 101 {
			ct101 = f.Time
		}
	}
	c.Storages = append(c.Storages, &emulator.Storage{ID: "borg", Type: "borg", BackupProvider: true, Shared: true,
		Files: []*emulator.BackupFile{
			{VMID: 100, Type: "qemu", Time: newest, Size: 7 << 30},
			{VMID: 101, Type: "lxc", Time: ct101, Size: 3 << 30, Name: "ct/101/nightly"},
		}})
	return m
}

// TestLabBackupProviderStorage: on PVE 8.4 and later a backup provider's
// storage is read like any other through PVE: vm/100's newer backup there
// is one more recovery point and its newest, with the listing's time;
// ct/101's copy of a point the nfs storage holds counts once. On PVE 8.3
// the plugin does not load: the storage is in no series, and the guests
// keep what the other storages hold (not zero, not the provider's).
func TestLabBackupProviderStorage(t *testing.T) {
	newest := labNow.Add(-2 * time.Hour).Truncate(time.Second)
	for _, tc := range []struct {
		version      string
		loaded       bool
		vm100, ct101 string
	}{
		{"8.3.5", false, "3", "1"},
		{"8.4.1", true, "4", "1"},
		{"9.1.3", true, "4", "1"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			l := startLab(t, providerLab(tc.version, newest), Options{Enabled: map[string]bool{CollectorStorages: true}})
			x := parseExposition(l.scrape(t, 10*time.Second))
			guest := func(name, typ, id string) (string, bool) {
				return x.get(name, "cluster", "lab", "backup_type", typ, "backup_id", id)
			}
			if v, _ := guest("proxmox_backup_guest_snapshots", "vm", "100"); v != tc.vm100 {
				t.Errorf("vm/100 guest_snapshots = %q, want %s", v, tc.vm100)
			}
			if v, _ := guest("proxmox_backup_guest_snapshots", "ct", "101"); v != tc.ct101 {
				t.Errorf("ct/101 guest_snapshots = %q, want %s (one point in time on nfs and borg)", v, tc.ct101)
			}
			route, routed := x.get("proxmox_backup_storage_route_info", "cluster", "lab", "storage", "borg")
			repoSnaps, listed := x.get("proxmox_backup_snapshots", "repository", "lab:borg", "backup_type", "vm", "backup_id", "100")
			if !tc.loaded {
				if routed || listed {
					t.Errorf("PVE %s loads no backup-provider plugin, yet borg is routed (%v) or listed (%v)", tc.version, routed, listed)
				}
				if v, _ := guest("proxmox_backup_guest_last_timestamp_seconds", "vm", "100"); v == "0" || v == "" {
					t.Errorf("vm/100 last timestamp %q: the other storages' backups stand", v)
				}
				return
			}
			if route != "1" || repoSnaps != "1" {
				t.Errorf("borg: route_info %q, vm/100 snapshots %q; want routed, 1 snapshot", route, repoSnaps)
			}
			if v, _ := guest("proxmox_backup_guest_last_timestamp_seconds", "vm", "100"); !sameNumber(v, newest.Unix()) {
				t.Errorf("vm/100 last timestamp = %q, want %d (the provider's ctime)", v, newest.Unix())
			}
			if v, _ := x.get("proxmox_backup_last_timestamp_seconds", "repository", "lab:borg", "backup_type", "vm", "backup_id", "100"); !sameNumber(v, newest.Unix()) {
				t.Errorf("borg vm/100 last timestamp = %q, want %d", v, newest.Unix())
			}
			if v, _ := x.get("proxmox_backup_last_size_bytes", "repository", "lab:borg", "backup_type", "vm", "backup_id", "100"); !sameNumber(v, 7<<30) {
				t.Errorf("borg vm/100 last size = %q, want %d", v, 7<<30)
			}
			if v, ok := x.get("proxmox_backup_snapshots", "repository", "lab:borg", "backup_type", "ct", "backup_id", "101"); v != "1" {
				t.Errorf("borg ct/101 snapshots = %q (present %v), want 1: the name does not parse, the listing says", v, ok)
			}
		})
	}
}

// sameNumber reports whether an exposition value is the integer want.
func sameNumber(v string, want int64) bool {
	f, err := strconv.ParseFloat(v, 64)
	return err == nil && f == float64(want)
}

// movesLab is the lab estate on PBS 4 with a second pbs storage of the
// cluster on namespace lab/archive, where groups of namespace lab move.
func movesLab() *emulator.Model {
	m := labModel()
	p := m.PBS[0]
	p.Version, p.Release = "4.1", "2"
	p.Datastores[0].Namespace("lab/archive")
	m.Clusters[0].Storages = append(m.Clusters[0].Storages,
		&emulator.Storage{ID: "backup-archive", Type: "pbs", PBS: "pbs1", Datastore: "store1", Namespace: "lab/archive"})
	return m
}

// guestView is what a move must not change: every guest's recovery points
// and newest time, and the orphaned groups by id.
func guestView(x exposition) map[string]string {
	out := map[string]string{}
	for k, v := range x {
		name, l := splitSeries(k)
		switch name {
		case "proxmox_backup_guest_snapshots", "proxmox_backup_guest_last_timestamp_seconds":
			out[name+" "+l["backup_type"]+"/"+l["backup_id"]] = v
		case "proxmox_backup_group_orphaned":
			out[name+" "+l["backup_type"]+"/"+l["backup_id"]+" "+l["cluster"]] = v
		}
	}
	return out
}

// TestLabMovedGroupAcrossScrapes: a group PBS 4 moves to another
// namespace between scrapes is the same recovery points. The guest keeps
// its count and newest time, no group turns orphaned or new, and the
// per-repository series follow the group: gone from the old namespace,
// present once in the new one, on the scrape that sees the move and after
// the cache refreshed.
func TestLabMovedGroupAcrossScrapes(t *testing.T) {
	const refresh = time.Hour
	l := startLab(t, movesLab(), Options{VerificationRefresh: refresh})
	repoSnaps := func(x exposition, repo string) (string, bool) {
		return x.get("proxmox_backup_snapshots", "repository", repo, "backup_type", "vm", "backup_id", "100")
	}
	before := parseExposition(l.scrape(t, 10*time.Second))
	want := guestView(before)
	if v, _ := repoSnaps(before, "pbs1:store1/lab"); v != "2" {
		t.Fatalf("before the move: vm/100 in pbs1:store1/lab = %q, want 2", v)
	}
	if want["proxmox_backup_guest_snapshots vm/100"] != "3" {
		t.Fatalf("before the move: %v", want)
	}
	l.srv.Update(func(m *emulator.Model) {
		if err := m.PBS[0].MoveGroup("store1", "lab", "vm", "100", "lab/archive"); err != nil {
			t.Fatal(err)
		}
	})
	for _, step := range []struct {
		name    string
		advance time.Duration
	}{{"the scrape that sees the move", time.Minute}, {"a warm scrape", time.Minute}, {"past the refresh", refresh + time.Minute}} {
		l.advance(step.advance)
		x := parseExposition(l.scrape(t, 10*time.Second))
		if got := guestView(x); !maps.Equal(got, want) {
			t.Errorf("%s: guest view changed:\n got %v\nwant %v", step.name, got, want)
		}
		if v, ok := repoSnaps(x, "pbs1:store1/lab"); ok {
			t.Errorf("%s: vm/100 still in the old namespace (%s)", step.name, v)
		}
		if v, _ := repoSnaps(x, "pbs1:store1/lab/archive"); v != "2" {
			t.Errorf("%s: vm/100 in pbs1:store1/lab/archive = %q, want 2", step.name, v)
		}
		if v, _ := x.get("proxmox_backup_guest_last_copies", "backup_type", "vm", "backup_id", "100"); v != "1" {
			t.Errorf("%s: vm/100's newest point has %q copies, want 1", step.name, v)
		}
	}
}

// moveMidScrape is a PBS client that lets a move happen inside a scrape:
// right after the first listing of namespace from, and before any listing
// of namespace to, so the scrape reads the group in both.
type moveMidScrape struct {
	pbsAPI
	from, to string
	move     func()
	once     sync.Once
	moved    chan struct{}
}

func (p *moveMidScrape) listed(ns string) {
	if ns == p.from {
		p.once.Do(func() { p.move(); close(p.moved) })
	}
}

func (p *moveMidScrape) wait(ctx context.Context, ns string) error {
	if ns != p.to {
		return nil
	}
	select {
	case <-p.moved:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *moveMidScrape) Groups(ctx context.Context, store, ns string) ([]proxmox.BackupGroup, error) {
	if err := p.wait(ctx, ns); err != nil {
		return nil, err
	}
	defer p.listed(ns)
	return p.pbsAPI.Groups(ctx, store, ns)
}

func (p *moveMidScrape) EachSnapshot(ctx context.Context, store, ns string, fn func(proxmox.Snapshot)) error {
	if err := p.wait(ctx, ns); err != nil {
		return err
	}
	defer p.listed(ns)
	return p.pbsAPI.EachSnapshot(ctx, store, ns, fn)
}

// TestLabMovedGroupMidScrape: the move happens while a scrape reads the
// datastore, after it listed the old namespace and before the new one, so
// that one scrape lists the group in both. The guest's recovery points
// still count once (same count and newest time, no orphan), and the next
// scrape settles to the new namespace alone with one copy of the newest
// point. Within the scrape that straddles the move, the two listings show
// the same points in two namespaces, as a local sync between namespaces
// would: that scrape reports two copies of vm/100's newest point (the
// listings alone cannot tell a move in flight from a copy).
func TestLabMovedGroupMidScrape(t *testing.T) {
	const refresh = time.Hour
	l := startLab(t, movesLab(), Options{VerificationRefresh: refresh})
	want := guestView(parseExposition(l.scrape(t, 10*time.Second)))
	mover := &moveMidScrape{from: "lab", to: "lab/archive", moved: make(chan struct{}), move: func() {
		l.srv.Update(func(m *emulator.Model) {
			if err := m.PBS[0].MoveGroup("store1", "lab", "vm", "100", "lab/archive"); err != nil {
				t.Error(err)
			}
		})
	}}
	l.wrap(nil, func(api pbsAPI) pbsAPI { mover.pbsAPI = api; return mover })
	for i, step := range []string{"the scrape that straddles the move", "the next scrape"} {
		l.advance(time.Minute)
		x := parseExposition(l.scrape(t, 10*time.Second))
		if got := guestView(x); !maps.Equal(got, want) {
			t.Errorf("%s: guest view changed:\n got %v\nwant %v", step, got, want)
		}
		moved, _ := x.get("proxmox_backup_snapshots", "repository", "pbs1:store1/lab/archive", "backup_type", "vm", "backup_id", "100")
		if moved != "2" {
			t.Errorf("%s: vm/100 in pbs1:store1/lab/archive = %q, want 2", step, moved)
		}
		if i == 0 {
			select {
			case <-mover.moved:
			default:
				t.Fatal("the scrape listed no namespace lab: no move happened")
			}
			continue
		}
		if v, ok := x.get("proxmox_backup_snapshots", "repository", "pbs1:store1/lab", "backup_type", "vm", "backup_id", "100"); ok {
			t.Errorf("%s: vm/100 still in the old namespace (%s)", step, v)
		}
		if v, _ := x.get("proxmox_backup_guest_last_copies", "backup_type", "vm", "backup_id", "100"); v != "1" {
			t.Errorf("%s: vm/100's newest point has %q copies, want 1", step, v)
		}
	}
}

// TestLabMovedNamespace: PBS 4 moves the namespace behind a pbs storage,
// with its groups. When storage.cfg follows the move, the groups are the
// same recovery points under the new namespace: the guests keep their
// counts and newest times. When it does not, PVE's storage names a
// namespace that no longer exists, and the cluster's guests are unknown
// (absent), never zero, until it is fixed.
func TestLabMovedNamespace(t *testing.T) {
	for _, follow := range []bool{true, false} {
		t.Run(map[bool]string{true: "storage follows", false: "storage left behind"}[follow], func(t *testing.T) {
			m := movesLab()
			if err := m.PBS[0].MoveGroup("store1", "lab", "vm", "100", "lab/archive"); err != nil {
				t.Fatal(err)
			}
			l := startLab(t, m, Options{VerificationRefresh: time.Hour})
			want := guestView(parseExposition(l.scrape(t, 10*time.Second)))
			if want["proxmox_backup_guest_snapshots vm/100"] != "3" {
				t.Fatalf("before the move: %v", want)
			}
			l.srv.Update(func(m *emulator.Model) {
				if err := m.PBS[0].MoveNamespace("store1", "lab/archive", "lab/kept"); err != nil {
					t.Fatal(err)
				}
				if follow {
					m.Clusters[0].Storage("backup-archive").Namespace = "lab/kept"
				}
			})
			l.advance(time.Minute)
			x := parseExposition(l.scrape(t, 10*time.Second))
			if _, ok := x.get("proxmox_backup_snapshots", "repository", "pbs1:store1/lab/archive"); ok {
				t.Error("the moved namespace is still listed")
			}
			if !follow {
				if v, ok := x.get("proxmox_backup_guest_snapshots", "cluster", "lab"); ok {
					t.Errorf("a repository of the cluster cannot be read, yet a guest has %s recovery points", v)
				}
				if v, _ := x.get("proxmox_backup_storage_route_info", "storage", "backup-archive", "reason", "namespace_missing"); v != "1" {
					t.Errorf("backup-archive's route reason is not namespace_missing (%q)", v)
				}
				return
			}
			if got := guestView(x); !maps.Equal(got, want) {
				t.Errorf("guest view changed:\n got %v\nwant %v", got, want)
			}
			if v, _ := x.get("proxmox_backup_snapshots", "repository", "pbs1:store1/lab/kept", "backup_type", "vm", "backup_id", "100"); v != "2" {
				t.Errorf("vm/100 in pbs1:store1/lab/kept = %q, want 2", v)
			}
		})
	}
}
