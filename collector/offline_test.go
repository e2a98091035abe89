package collector

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// Offline PBS (issue 8): a PBS that is powered on only for the backup
// window. The default is safe for alerting: while it is off its data is
// unknown (absent), never "no backups", and only the source-down alert has
// something to fire on. offline.keep_last_known keeps its last known
// groups, marked stale by its up series and last-success time.

// pbsGroupSeries returns the per-group series of the PBS's repositories.
func pbsGroupSeries(x exposition) exposition {
	out := exposition{}
	for k, v := range x {
		name, l := splitSeries(k)
		if strings.HasPrefix(l["repository"], "pbs1:") && name != "proxmox_backup_repository_up" &&
			name != "proxmox_backup_repository_info" && name != "proxmox_backup_storage_route_info" {
			out[k] = v
		}
	}
	return out
}

// guestCounts returns the per-guest counts and newest times.
func guestCounts(x exposition) exposition {
	out := exposition{}
	for k, v := range x {
		switch name, _ := splitSeries(k); name {
		case "proxmox_backup_guest_snapshots", "proxmox_backup_guest_last_timestamp_seconds", "proxmox_backup_guest_last_copies":
			out[k] = v
		}
	}
	return out
}

func TestOfflinePBSDefaultIsUnknown(t *testing.T) {
	e := startEnv(t, envSpec{opts: Options{Logger: quietLogger()}})
	e.mustScrape(10 * time.Second)
	lastGood := e.clock()

	e.advance(8 * time.Hour) // the PBS is switched off after the backup window
	e.srv.SetFault(emulator.Fault{Target: pbsTarget, Kind: emulator.Down})
	x := parseExposition(e.mustScrape(10 * time.Second).body)

	if v, _ := x.get("proxmox_backup_target_up", "target", pbsTarget); v != "0" {
		t.Errorf("target_up{pbs1} = %q, want 0 (the source-down alert's series)", v)
	}
	if v, _ := x.get("proxmox_backup_target_last_success_timestamp_seconds", "target", pbsTarget); v != fmtFloat(float64(lastGood.Unix())) {
		t.Errorf("last success = %q, want the last good scrape %d", v, lastGood.Unix())
	}
	if g := pbsGroupSeries(x); len(g) != 0 {
		t.Errorf("the PBS's groups are still exported by default: %v", slices.Sorted(maps.Keys(g)))
	}
	// Unknown, never zero: no guest of the cluster has a count, so "no
	// backup" cannot fire; the inventory is still there.
	if c := guestCounts(x); len(c) != 0 {
		t.Errorf("guest counts exported while a repository they depend on is unknown: %v", slices.Sorted(maps.Keys(c)))
	}
	if n := countSeries(x, "proxmox_backup_guest_info"); n != 11 {
		t.Errorf("%d guest_info series, want 11", n)
	}
}

func TestOfflinePBSKeepLastKnown(t *testing.T) {
	keep := func(e *env, cfg *config.Config) { cfg.PBS[0].Offline.KeepLastKnown = 36 * time.Hour }
	e := startEnv(t, envSpec{opts: Options{Logger: quietLogger()}, tweak: keep})
	base := parseExposition(e.mustScrape(10 * time.Second).body)
	lastGood := e.clock()

	// Off for the night: the last known groups and the guest counts they
	// give stay, the PBS and its repositories say they are not up, and the
	// last success time shows the data's age.
	e.advance(20 * time.Hour)
	e.srv.SetFault(emulator.Fault{Target: pbsTarget, Kind: emulator.Down})
	x := parseExposition(e.mustScrape(10 * time.Second).body)
	if d := diffExpositions(pbsGroupSeries(base), pbsGroupSeries(x)); len(d) > 0 {
		t.Errorf("last known groups differ from the last read:\n%s", strings.Join(d, "\n"))
	}
	if d := diffExpositions(guestCounts(base), guestCounts(x)); len(d) > 0 {
		t.Errorf("guest counts differ from the last read:\n%s", strings.Join(d, "\n"))
	}
	if v, _ := x.get("proxmox_backup_target_up", "target", pbsTarget); v != "0" {
		t.Errorf("target_up{pbs1} = %q, want 0 while it is off", v)
	}
	for k, v := range x {
		if name, l := splitSeries(k); name == "proxmox_backup_repository_up" && strings.HasPrefix(l["repository"], "pbs1:") && v != "0" {
			t.Errorf("%s = %s: last known data is not up", k, v)
		}
	}
	if v, _ := x.get("proxmox_backup_target_last_success_timestamp_seconds", "target", pbsTarget); v != fmtFloat(float64(lastGood.Unix())) {
		t.Errorf("last success = %q, want %d (dashboards show the data's age from it)", v, lastGood.Unix())
	}

	// A reload that keeps the PBS's definition keeps its last known data;
	// the last known data is memory only, so a restart starts without it
	// (documented).
	if err := e.coll.ApplyConfig(e.cfg); err != nil {
		t.Fatal(err)
	}
	x = parseExposition(e.mustScrape(10 * time.Second).body)
	if d := diffExpositions(pbsGroupSeries(base), pbsGroupSeries(x)); len(d) > 0 {
		t.Errorf("a reload dropped the last known groups:\n%s", strings.Join(d, "\n"))
	}

	// Older than keep_last_known: dropped, as in the default.
	e.advance(17 * time.Hour)
	x = parseExposition(e.mustScrape(10 * time.Second).body)
	if g := pbsGroupSeries(x); len(g) != 0 {
		t.Errorf("last known groups exported past keep_last_known: %d series", len(g))
	}
	if c := guestCounts(x); len(c) != 0 {
		t.Errorf("guest counts exported from expired data: %v", slices.Sorted(maps.Keys(c)))
	}

	// Back on: live data, up again, and last success moves.
	e.srv.ClearFaults()
	x = parseExposition(e.mustScrape(10 * time.Second).body)
	if d := diffExpositions(pbsGroupSeries(base), pbsGroupSeries(x)); len(d) > 0 {
		t.Errorf("live groups after the PBS is back differ:\n%s", strings.Join(d, "\n"))
	}
	if v, _ := x.get("proxmox_backup_target_last_success_timestamp_seconds", "target", pbsTarget); v != strconv.FormatFloat(float64(e.clock().Unix()), 'g', -1, 64) {
		t.Errorf("last success = %q after recovery, want now", v)
	}
}
