// Recording rules: what the dashboards ask for on every refresh. Alerts do
// not depend on them (they stay correct when only the alerts are loaded).
local q = import '../lib/promql.libsonnet';

{
  local c = $._config,
  local S = c.proxmoxBackupSelector,
  local eligible = q.eligibleGuestInfo(c),
  local allGuests = 'proxmox_backup_guest_info{%s}' % S,

  // guestCount records the number of guests per cluster matching a per-guest
  // selection (labels cluster, backup_type, backup_id), as state=<state>.
  // Aggregations and joins keep the `estate` label: with several estates
  // (the exporter's /probe?estate=NAME, the estate set as a target label by
  // relabelling) two estates may each have a cluster of the same name.
  // Without estates the label is absent on every side and changes nothing.
  // A cluster with none gets 0, not "no data", so stat panels and ratios
  // always have a value for every cluster in the inventory.
  local guestCount(state, selection) = {
    record: 'cluster:proxmox_backup_guests:count',
    expr: |||
      count by (estate, cluster) (
      %s
      )
      or on (estate, cluster)
      0 * count by (estate, cluster) (%s)
    ||| % [q.indent(selection, 2), allGuests],
    labels: { state: state },
  },

  local eligibleOnly(expr) = |||
    %s
      and on (estate, cluster, backup_type, backup_id)
      %s
  ||| % [expr, eligible],

  prometheusRules+:: {
    groups+: [
      {
        name: 'proxmox-backup-guests.rules',
        rules: [
          {
            // Age of each guest's newest completed recovery point anywhere.
            record: 'proxmox_backup:guest_backup_age_seconds',
            expr: 'time() - proxmox_backup_guest_last_timestamp_seconds{%s}' % S,
          },
          {
            // The age at which a guest counts as stale (the warning threshold
            // of ProxmoxBackupGuestBackupStale): its schedule's interval plus
            // slack where known, the fixed threshold elsewhere.
            record: 'proxmox_backup:guest_stale_threshold_seconds',
            expr: |||
              proxmox_backup_guest_expected_interval_seconds{%(S)s} + %(slack)d
              or
              0 * proxmox_backup_guest_in_job{%(S)s} + %(fixed)d
            ||| % { S: S, slack: c.staleScheduleSlackSeconds, fixed: c.staleWarningSeconds },
          },
          // Coverage: fresh + stale + missing + unknown = eligible guests.
          // not_in_job overlaps them; excluded and template are the guests
          // the alerts leave out.
          guestCount('fresh', eligibleOnly(
            'proxmox_backup:guest_backup_age_seconds{%s} <= proxmox_backup:guest_stale_threshold_seconds{%s}' % [S, S]
          )),
          guestCount('stale', eligibleOnly(
            'proxmox_backup:guest_backup_age_seconds{%s} > proxmox_backup:guest_stale_threshold_seconds{%s}' % [S, S]
          )),
          guestCount('missing', eligibleOnly('proxmox_backup_guest_snapshots{%s} == 0' % S)),
          guestCount('unknown', |||
            %s
              unless on (estate, cluster, backup_type, backup_id)
              proxmox_backup_guest_snapshots{%s}
          ||| % [eligible, S]),
          guestCount('not_in_job', eligibleOnly('proxmox_backup_guest_in_job{%s} == 0' % S)),
          guestCount('excluded', |||
            proxmox_backup_guest_info{%s}
              unless on (estate, cluster, backup_type, backup_id)
              %s
          ||| % [q.joinMatchers([S, 'template="0"']), eligible]),
          // Templates, and guests whose template flag is unknown (their node
          // is offline and the exporter never saw it online): neither is
          // watched by the alerts.
          guestCount('template', 'proxmox_backup_guest_info{%s}' % q.joinMatchers([S, 'template!="0"'])),
          {
            // Share of eligible guests with a fresh backup, out of those whose
            // state is known (unknown guests are left out, not counted as bad).
            record: 'cluster:proxmox_backup_guests_fresh:ratio',
            expr: |||
              sum by (estate, cluster) (cluster:proxmox_backup_guests:count{state="fresh"})
              /
              (sum by (estate, cluster) (cluster:proxmox_backup_guests:count{state=~"fresh|stale|missing"}) > 0)
            |||,
          },
        ],
      },
      {
        name: 'proxmox-backup-repositories.rules',
        rules: [
          {
            record: 'proxmox_backup:repository_snapshots:sum',
            expr: 'sum by (estate, repository, cluster) (proxmox_backup_snapshots{%s})' % S,
          },
          {
            record: 'proxmox_backup:repository_groups:count',
            expr: 'count by (estate, repository, cluster) (proxmox_backup_snapshots{%s})' % S,
          },
          {
            record: 'proxmox_backup:repository_last_size_bytes:sum',
            expr: 'sum by (estate, repository, cluster) (proxmox_backup_last_size_bytes{%s})' % S,
          },
          {
            // Used fraction of each PBS datastore, as the alerts compute it.
            record: 'proxmox_backup:datastore_usage:ratio',
            expr: '1 - proxmox_backup_datastore_available_bytes{%(S)s} / (proxmox_backup_datastore_size_bytes{%(S)s} > 0)' % { S: S },
          },
        ],
      },
    ],
  },
}
