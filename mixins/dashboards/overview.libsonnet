// Overview: is every guest protected? Coverage per cluster, every guest by
// backup age, every backup group by repository, failed tasks and
// verifications. All panels use instant values or short ranges, so they show
// data minutes after Prometheus starts.
local g = import '../lib/grafana.libsonnet';
local q = import '../lib/promql.libsonnet';

{
  local c = $._config,
  // Every query is limited to the selected estates (g.estateVariable).
  local S = q.joinMatchers([c.proxmoxBackupSelector, 'estate=~"$estate"']),
  local sc = q.joinMatchers([S, 'cluster=~"$cluster"']),
  local ageThresholds = g.thresholds('green', [[c.staleWarningSeconds, 'orange'], [c.staleCriticalSeconds, 'red']]),
  local okFailed = g.valueMap([[1, 'OK', 'green'], [0, 'Failed', 'red']]),
  local yesNo = g.valueMap([[1, 'yes', 'green'], [0, 'no', 'red']]),
  local verification = g.valueMap([[0, 'none', 'text'], [1, 'ok', 'green'], [2, 'failed', 'red']]),

  // guest adds name and node to a per-guest expression, for every guest of
  // the inventory but templates (excluded guests stay visible here).
  local guest(expr) = |||
    (
      %s
    )
    * ignoring (name, node, template, tags) group_left (name, node)
      proxmox_backup_guest_info{%s, template="0"}
  ||| % [expr, sc],

  // verificationCode encodes a group's newest verification state as one
  // number, 0 none / 1 ok / 2 failed, so tables can show it as a column.
  local verificationCode = |||
    2 * sum without (state) (proxmox_backup_last_verification{%(sc)s, state="failed"})
    + sum without (state) (proxmox_backup_last_verification{%(sc)s, state="ok"})
  ||| % { sc: sc },

  local count(state) = 'sum(cluster:proxmox_backup_guests:count{estate=~"$estate", cluster=~"$cluster", state="%s"})' % state,
  local countBy(state) = 'sum by (cluster) (cluster:proxmox_backup_guests:count{estate=~"$estate", cluster=~"$cluster", state="%s"})' % state,
  local alarm = g.thresholds('green', [[1, 'red']]),
  local warn = g.thresholds('green', [[1, 'orange']]),

  grafanaDashboards+:: {
    'proxmox-backup-overview.json': g.dashboard(
      c, 'overview', 'Overview',
      'Backup coverage of every Proxmox VE guest, deduplicated across PBS and PVE storages.',
      [g.estateVariable(c.proxmoxBackupSelector), g.queryVariable('cluster', 'Cluster', 'label_values(proxmox_backup_guest_info{%s}, cluster)' % S)],
      [
        g.stat(
          'Protected', 'Share of guests (templates and excluded guests left out) whose newest recovery point is within their schedule. Guests whose state is unknown because a source is down are not counted.',
          [g.target('%s / %s' % [count('fresh'), 'sum(cluster:proxmox_backup_guests:count{estate=~"$estate", cluster=~"$cluster", state=~"fresh|stale|missing"})'], instant=true)],
          unit='percentunit', thresholds=g.thresholds('red', [[0.9, 'orange'], [1, 'green']]),
        ),
        g.stat('Fresh', 'Guests whose newest recovery point is within their backup schedule (or the fixed threshold when no job covers them).', [g.target(count('fresh'), instant=true)]),
        g.stat('Stale', 'Guests whose newest recovery point is older than their schedule allows.', [g.target(count('stale'), instant=true)], thresholds=alarm),
        g.stat('No backup', 'Guests with no recovery point in any repository (known to be none, not unknown).', [g.target(count('missing'), instant=true)], thresholds=alarm),
        g.stat('Not in a job', 'Guests covered by no enabled backup job (they may still have older backups).', [g.target(count('not_in_job'), instant=true)], thresholds=warn),
        g.stat('Unknown', 'Guests whose backups cannot be counted because a repository that could hold them failed to list: see the Sources and routing dashboard.', [g.target(count('unknown'), instant=true)], thresholds=warn),

        g.table(
          'Coverage per cluster', 'Guests per cluster by backup state. Fresh + stale + no backup + unknown = guests the alerts watch; not in a job overlaps them; excluded (tag or config) and templates are not alerted on.',
          g.tableTargets([
            'cluster:proxmox_backup_guests_fresh:ratio{estate=~"$estate", cluster=~"$cluster"}',
            countBy('fresh'),
            countBy('stale'),
            countBy('missing'),
            countBy('unknown'),
            countBy('not_in_job'),
            countBy('excluded'),
            countBy('template'),
          ]),
          [
            ['cluster', 'Cluster', null],
            ['Value #A', 'Protected', 'percentunit', g.cellColor + [{ id: 'thresholds', value: g.thresholds('red', [[0.9, 'orange'], [1, 'green']]) }]],
            ['Value #B', 'Fresh', 'none'],
            ['Value #C', 'Stale', 'none'],
            ['Value #D', 'No backup', 'none'],
            ['Value #E', 'Unknown', 'none'],
            ['Value #F', 'Not in a job', 'none'],
            ['Value #G', 'Excluded', 'none'],
            ['Value #H', 'Templates', 'none'],
          ],
          w=12, h=8, sortBy='Cluster', sortDesc=false,
        ),
        g.timeseries(
          'Guests by state', 'Guests the alerts watch, by backup state, over time.',
          [g.target('sum by (state) (cluster:proxmox_backup_guests:count{estate=~"$estate", cluster=~"$cluster", state=~"fresh|stale|missing|unknown"})', '{{state}}')],
          'none', w=12, h=8, stack=true, min=0,
        ),

        g.table(
          'Guests by backup age', 'Every guest (templates left out), oldest newest-backup first. Age is that of the newest completed recovery point in any repository; recovery points are counted once however many paths lead to them. Verification is the worst newest-point state over the guest\'s repositories.',
          g.tableTargets([
            guest('proxmox_backup:guest_backup_age_seconds{%s}' % sc),
            guest('proxmox_backup_guest_snapshots{%s}' % sc),
            guest('count without (repository) (proxmox_backup_snapshots{%s} > 0)' % sc),
            guest('proxmox_backup_guest_last_copies{%s}' % sc),
            guest('max without (repository) (%s)' % q.indent(verificationCode, 2)),
            guest('proxmox_backup_guest_last_task_success{%s}' % sc),
            guest('proxmox_backup_guest_in_job{%s}' % sc),
            guest('proxmox_backup_guest_expected_interval_seconds{%s}' % sc),
            guest('proxmox_backup_guest_last_encrypted{%s}' % sc),
          ]),
          [
            ['cluster', 'Cluster', null],
            ['backup_type', 'Type', null],
            ['backup_id', 'ID', null],
            ['name', 'Name', null],
            ['node', 'Node', null],
            ['Value #A', 'Backup age', 's', g.cellColor + [{ id: 'thresholds', value: ageThresholds }]],
            ['Value #B', 'Recovery points', 'none'],
            ['Value #C', 'Repositories', 'none'],
            ['Value #D', 'Copies of newest', 'none'],
            ['Value #E', 'Verification', 'none', g.cellText + [{ id: 'mappings', value: verification }]],
            ['Value #F', 'Last task', 'none', g.cellText + [{ id: 'mappings', value: okFailed }]],
            ['Value #G', 'In a job', 'none', g.cellText + [{ id: 'mappings', value: yesNo }]],
            ['Value #H', 'Schedule interval', 's'],
            ['Value #I', 'Encrypted', 'none', g.cellText + [{ id: 'mappings', value: yesNo }]],
          ],
          unit='s', h=12, sortBy='Backup age',
        ),

        g.timeseries(
          'Backup duration per guest', "How long each guest's newest backup took (its own part of a multi-guest job run), over time. Blank where the newest backup failed.",
          [g.target(guest('proxmox_backup_guest_last_task_duration_seconds{%s}' % sc), '{{backup_type}}/{{backup_id}} {{name}}')],
          's', min=0,
        ),
        g.table(
          'Backup window', "Every guest's newest backup duration against the interval of its shortest job (above 100 % it runs into the next run: the GuestBackupWindowOverrun alert), and its throughput: the bytes the backup transferred, as its task log states them, per second of backup. Blank where the log states no amount (lxc guests, guests backed up by a task of their own).",
          g.tableTargets([
            guest('proxmox_backup_guest_last_task_duration_seconds{%s}' % sc),
            guest('proxmox_backup_guest_last_task_duration_seconds{%(sc)s} / proxmox_backup_guest_expected_interval_seconds{%(sc)s}' % { sc: sc }),
            guest('proxmox_backup_guest_last_task_transferred_bytes{%(sc)s} / (proxmox_backup_guest_last_task_duration_seconds{%(sc)s} > 0)' % { sc: sc }),
          ]),
          [
            ['cluster', 'Cluster', null],
            ['backup_type', 'Type', null],
            ['backup_id', 'ID', null],
            ['name', 'Name', null],
            ['Value #A', 'Duration', 's'],
            ['Value #B', 'Share of window', 'percentunit', g.cellColor + [{ id: 'thresholds', value: g.thresholds('green', [[0.5, 'orange'], [1, 'red']]) }]],
            ['Value #C', 'Throughput', 'Bps'],
          ],
          unit='s', w=12, h=8, sortBy='Share of window',
        ),

        g.table(
          'Backup groups by repository', 'Every backup group in every repository, including orphans (groups of deleted guests, which no alert covers). Retention depth is the age of the oldest recovery point.',
          g.tableTargets([
            'time() - proxmox_backup_last_timestamp_seconds{%s}' % sc,
            'proxmox_backup_snapshots{%s}' % sc,
            'time() - proxmox_backup_first_timestamp_seconds{%s}' % sc,
            'proxmox_backup_last_size_bytes{%s}' % sc,
            verificationCode,
            'proxmox_backup_verify_failed_snapshots{%s}' % sc,
            'proxmox_backup_protected_snapshots{%s}' % sc,
            'proxmox_backup_in_progress{%s}' % sc,
            'proxmox_backup_last_encrypted{%s}' % sc,
            'proxmox_backup_unencrypted_snapshots{%s}' % sc,
          ]),
          [
            ['repository', 'Repository', null],
            ['cluster', 'Cluster', null],
            ['backup_type', 'Type', null],
            ['backup_id', 'ID', null],
            ['Value #A', 'Newest age', 's', g.cellColor + [{ id: 'thresholds', value: ageThresholds }]],
            ['Value #B', 'Recovery points', 'none'],
            ['Value #C', 'Retention depth', 's'],
            ['Value #D', 'Newest size', 'bytes'],
            ['Value #E', 'Newest verification', 'none', g.cellText + [{ id: 'mappings', value: verification }]],
            ['Value #F', 'Failed verifications', 'none', g.cellText + [{ id: 'thresholds', value: alarm }]],
            ['Value #G', 'Protected', 'none'],
            ['Value #H', 'In progress', 'none', [{ id: 'mappings', value: g.valueMap([[1, 'running', 'blue'], [0, '', 'text']]) }]],
            ['Value #I', 'Newest encrypted', 'none', g.cellText + [{ id: 'mappings', value: yesNo }]],
            ['Value #J', 'Unencrypted', 'none'],
          ],
          unit='s', h=10, sortBy='Newest age',
        ),

        g.table(
          'Failed backup tasks', 'Guests whose newest vzdump task failed for them (multi-guest job runs are resolved per guest), with how long ago that task ended.',
          [g.target(guest(|||
            time() - proxmox_backup_guest_last_task_timestamp_seconds{%(sc)s}
              and
              proxmox_backup_guest_last_task_success{%(sc)s} == 0
          ||| % { sc: sc }), instant=true, format='table')],
          [
            ['cluster', 'Cluster', null],
            ['backup_type', 'Type', null],
            ['backup_id', 'ID', null],
            ['name', 'Name', null],
            ['node', 'Node', null],
            ['Value', 'Task ended', 's'],
          ],
          unit='s', w=12, h=8, sortBy='Task ended', sortDesc=false,
        ),
        g.table(
          'Failed verifications', 'Backup groups with recovery points whose last verification failed, and whether the newest one is among them. Never-verified points are not failures and are not listed.',
          g.tableTargets([
            'proxmox_backup_verify_failed_snapshots{%s} > 0' % sc,
            |||
              sum without (state) (proxmox_backup_last_verification{%(sc)s, state="failed"})
                and
                proxmox_backup_verify_failed_snapshots{%(sc)s} > 0
            ||| % { sc: sc },
          ]),
          [
            ['repository', 'Repository', null],
            ['cluster', 'Cluster', null],
            ['backup_type', 'Type', null],
            ['backup_id', 'ID', null],
            ['Value #A', 'Failed recovery points', 'none'],
            ['Value #B', 'Newest failed', 'none', g.cellText + [{ id: 'mappings', value: g.valueMap([[1, 'yes', 'red'], [0, 'no', 'green']]) }]],
          ],
          w=12, h=8, sortBy='Failed recovery points',
        ),

        g.bargauge(
          'Recovery points per repository', 'Completed recovery points stored in each repository (a point copied to two repositories counts in both here, once per guest elsewhere).',
          [g.target('sort_desc(proxmox_backup:repository_snapshots:sum{estate=~"$estate", cluster=~"$cluster"})', '{{repository}}', instant=true)],
          'none', w=12, h=8, min=0,
        ),
        g.bargauge(
          'Newest backup size per repository', 'Sum of the sizes of the newest recovery point of every group in each repository: roughly what one full backup round writes there before deduplication.',
          [g.target('sort_desc(proxmox_backup:repository_last_size_bytes:sum{estate=~"$estate", cluster=~"$cluster"})', '{{repository}}', instant=true)],
          'bytes', w=12, h=8, min=0,
        ),
      ],
    ),
  },
}
