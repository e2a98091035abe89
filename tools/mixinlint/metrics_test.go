package mixinlint

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestMetricsFromExposition(t *testing.T) {
	const golden = `# HELP proxmox_backup_target_up 1 if every request succeeded.
# TYPE proxmox_backup_target_up gauge
proxmox_backup_target_up{kind="pbs",target="pbs1"} 1
# HELP proxmox_backup_scrape_duration_seconds Whole collection (samples filtered: non-deterministic).
# TYPE proxmox_backup_scrape_duration_seconds gauge
# HELP proxmox_backup_target_errors_total Failures.
# TYPE proxmox_backup_target_errors_total counter
proxmox_backup_target_errors_total{kind="pve",reason="auth",target="homelab"} 0
proxmox_backup_snapshots 3
`
	got, err := MetricsFromExposition(strings.NewReader(golden))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"proxmox_backup_scrape_duration_seconds",
		"proxmox_backup_snapshots",
		"proxmox_backup_target_errors_total",
		"proxmox_backup_target_up",
	}
	if !reflect.DeepEqual(slices.Sorted(maps.Keys(got)), want) {
		t.Errorf("got %q, want %q", slices.Sorted(maps.Keys(got)), want)
	}
}

func TestMetricsFromContract(t *testing.T) {
	const md = "Prefix `proxmox_backup_`. Labels `cluster`, `repository`.\n" +
		"| `proxmox_backup_guest_info` | cluster | 1 |\n" +
		"| `proxmox_backup_datastore_size_bytes`, `_used_bytes`, `_available_bytes` | target, datastore | capacity |\n" +
		"| `proxmox_backup_last_verification` (+ label `state` = `ok` / `failed` / `none`) | enum |\n" +
		"| `proxmox_backup_target_errors_total` (counter) | reason (`auth`) | failures |\n" +
		"a lone `_used_bytes` with no full name before it on its line is ignored\n"
	got, err := MetricsFromContract(strings.NewReader(md), "proxmox_backup_")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"proxmox_backup_datastore_available_bytes",
		"proxmox_backup_datastore_size_bytes",
		"proxmox_backup_datastore_used_bytes",
		"proxmox_backup_guest_info",
		"proxmox_backup_last_verification",
		"proxmox_backup_target_errors_total",
	}
	if !reflect.DeepEqual(slices.Sorted(maps.Keys(got)), want) {
		t.Errorf("got %q, want %q", slices.Sorted(maps.Keys(got)), want)
	}
}
