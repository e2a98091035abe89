// PBS datastores: capacity, growth, estimated full date, job health, and
// what each repository on them holds.
local g = import '../lib/grafana.libsonnet';
local q = import '../lib/promql.libsonnet';

{
  local c = $._config,
  // Every query is limited to the selected estates (g.estateVariable).
  local S = q.joinMatchers([c.proxmoxBackupSelector, 'estate=~"$estate"']),
  local ds = q.joinMatchers([S, 'target=~"$pbs"', 'datastore=~"$datastore"']),
  local okFailed = g.valueMap([[1, 'OK', 'green'], [0, 'Failed', 'red']]),
  local upDown = g.valueMap([[1, 'up', 'green'], [0, 'down', 'red']]),
  local usage = g.thresholds('green', [[c.datastoreAlmostFullWarningRatio, 'orange'], [c.datastoreAlmostFullCriticalRatio, 'red']]),
  local alarm = g.thresholds('green', [[1, 'red']]),
  // gcStateCode turns the GC state set into one number per datastore, so
  // the GC table's rows share one label set; gcStates maps it back.
  local gcStateNames = ['never', 'running', 'ok', 'failed'],
  local gcStateCode = std.join('\nor\n', [
    'max without (state) ((proxmox_backup_datastore_gc_state{%s, state="%s"} == 1) * %d)' % [ds, gcStateNames[i], i]
    for i in std.range(0, 3)
  ]),
  local gcStates = g.valueMap([[0, 'never', 'orange'], [1, 'running', 'blue'], [2, 'ok', 'green'], [3, 'failed', 'red']]),
  // pbsRepos keeps repository series that live on the selected PBS targets.
  local pbsRepos(expr) = |||
    %s
      and on (repository)
      proxmox_backup_repository_info{%s, kind="pbs", target=~"$pbs", datastore=~"$datastore"}
  ||| % [expr, S],

  grafanaDashboards+:: {
    'proxmox-backup-datastores.json': g.dashboard(
      c, 'datastores', 'PBS datastores',
      'Capacity, growth, estimated full date and GC / verify / prune / sync job health of every Proxmox Backup Server datastore.',
      [
        g.estateVariable(c.proxmoxBackupSelector),
        g.queryVariable('cluster', 'Cluster', 'label_values(proxmox_backup_guest_info{%s}, cluster)' % S),
        g.queryVariable('pbs', 'PBS', 'label_values(proxmox_backup_datastore_size_bytes{%s}, target)' % S),
        g.queryVariable('datastore', 'Datastore', 'label_values(proxmox_backup_datastore_size_bytes{%s, target=~"$pbs"}, datastore)' % S),
      ],
      [
        g.stat(
          'Datastores', 'Datastores the exporter reads on the selected PBS.',
          [g.target('count(proxmox_backup_datastore_up{%s})' % ds, instant=true)],
        ),
        g.stat(
          'Datastores down', 'Datastores in maintenance mode, unmounted or in error.',
          [g.target('count(proxmox_backup_datastore_up{%s} == 0) or vector(0)' % ds, instant=true)],
          thresholds=alarm,
        ),
        g.stat(
          'Fullest datastore', 'Highest used share (1 - available / size) of the selected datastores.',
          [g.target('max(proxmox_backup:datastore_usage:ratio{%s})' % ds, instant=true)],
          unit='percentunit', thresholds=usage,
        ),
        g.stat(
          'Failed jobs', 'GC, verify, prune and sync jobs whose last run failed.',
          [g.target('count(proxmox_backup_pbs_job_last_run_success{%s} == 0) or vector(0)' % ds, instant=true)],
          thresholds=alarm,
        ),
        g.stat(
          'Used', 'Space used on the selected datastores.',
          [g.target('sum(proxmox_backup_datastore_used_bytes{%s})' % ds, instant=true)],
          unit='bytes',
        ),
        g.stat(
          'Available', 'Space still available for new chunks on the selected datastores.',
          [g.target('sum(proxmox_backup_datastore_available_bytes{%s})' % ds, instant=true)],
          unit='bytes',
        ),

        g.table(
          'Capacity', "Capacity of every datastore, with PBS's own estimate of when it will be full (blank where PBS gives none) and the time left until then.",
          g.tableTargets([
            'proxmox_backup_datastore_up{%s}' % ds,
            'proxmox_backup_datastore_size_bytes{%s}' % ds,
            'proxmox_backup_datastore_used_bytes{%s}' % ds,
            'proxmox_backup_datastore_available_bytes{%s}' % ds,
            'proxmox_backup:datastore_usage:ratio{%s}' % ds,
            '1000 * (proxmox_backup_datastore_estimated_full_timestamp_seconds{%s} > 0)' % ds,
            '(proxmox_backup_datastore_estimated_full_timestamp_seconds{%s} > 0) - time()' % ds,
          ]),
          [
            ['target', 'PBS', null],
            ['datastore', 'Datastore', null],
            ['Value #A', 'Status', 'none', g.cellText + [{ id: 'mappings', value: upDown }]],
            ['Value #B', 'Size', 'bytes'],
            ['Value #C', 'Used', 'bytes'],
            ['Value #D', 'Available', 'bytes'],
            ['Value #E', 'Used %', 'percentunit', [{ id: 'custom.cellOptions', value: { type: 'gauge', mode: 'basic' } }, { id: 'thresholds', value: usage }, { id: 'min', value: 0 }, { id: 'max', value: 1 }]],
            ['Value #F', 'Estimated full', 'dateTimeAsIso'],
            ['Value #G', 'Time left', 's'],
          ],
          unit='bytes', h=8, sortBy='Used %',
        ),

        g.timeseries(
          'Used space', 'Used bytes per datastore.',
          [g.target('proxmox_backup_datastore_used_bytes{%s}' % ds, '{{target}}:{{datastore}}')],
          'bytes', min=0,
        ),
        g.timeseries(
          'Growth per day', 'Linear trend of used space over the last %s, scaled to a day. Garbage collection shows as dips.' % c.dashboardGrowthWindow,
          [g.target('86400 * deriv(proxmox_backup_datastore_used_bytes{%s}[%s])' % [ds, c.dashboardGrowthWindow], '{{target}}:{{datastore}}')],
          'bytes',
        ),
        g.bargauge(
          'Usage', 'Used share of each datastore (1 - available / size), against the DatastoreAlmostFull thresholds.',
          [g.target('proxmox_backup:datastore_usage:ratio{%s}' % ds, '{{target}}:{{datastore}}', instant=true)],
          'percentunit', min=0, max=1, thresholds=usage,
        ),
        g.timeseries(
          'Predicted available space in %d days' % (c.datastoreFillingUpSeconds / 86400), 'Available space extrapolated linearly from the last %s; below zero means the datastore fills up within the horizon of the DatastoreFillingUp alert.' % c.datastoreFillingUpPredictWindow,
          [g.target('predict_linear(proxmox_backup_datastore_available_bytes{%s}[%s], %d)' % [ds, c.datastoreFillingUpPredictWindow, c.datastoreFillingUpSeconds], '{{target}}:{{datastore}}')],
          'bytes',
        ),

        g.table(
          'Job health', 'Last run, result and next scheduled run of every GC, verify, prune and sync job. A negative "Next run in" means the job is overdue.',
          g.tableTargets([
            'proxmox_backup_pbs_job_last_run_success{%s}' % ds,
            'time() - proxmox_backup_pbs_job_last_run_timestamp_seconds{%s}' % ds,
            'proxmox_backup_pbs_job_next_run_timestamp_seconds{%s} - time()' % ds,
          ]),
          [
            ['target', 'PBS', null],
            ['datastore', 'Datastore', null],
            ['job_type', 'Type', null],
            ['job_id', 'Job', null],
            ['Value #A', 'Last result', 'none', g.cellColor + [{ id: 'mappings', value: okFailed }]],
            ['Value #B', 'Last run', 's'],
            ['Value #C', 'Next run in', 's'],
          ],
          unit='s', h=8, sortBy='Last result', sortDesc=false,
        ),

        // Garbage collection and deduplication.
        g.table(
          'Garbage collection and deduplication', "State of every datastore's garbage collection and what its last run counted: bytes on disk, bytes the backups refer to, their ratio (the deduplication factor), bytes removed and bytes pending removal (kept for safety, removed by the next GC). On an s3 datastore the figures are PBS's local view. Blank where GC never ran.",
          g.tableTargets([
            gcStateCode,
            'proxmox_backup_datastore_gc_disk_bytes{%s}' % ds,
            'proxmox_backup_datastore_gc_index_data_bytes{%s}' % ds,
            'proxmox_backup_datastore_deduplication_ratio{%s}' % ds,
            'proxmox_backup_datastore_gc_removed_bytes{%s}' % ds,
            'proxmox_backup_datastore_gc_pending_bytes{%s}' % ds,
          ]),
          [
            ['target', 'PBS', null],
            ['datastore', 'Datastore', null],
            ['Value #A', 'GC state', 'none', g.cellColor + [{ id: 'mappings', value: gcStates }]],
            ['Value #B', 'On disk', 'bytes'],
            ['Value #C', 'Referenced', 'bytes'],
            ['Value #D', 'Deduplication factor', 'none'],
            ['Value #E', 'Removed', 'bytes'],
            ['Value #F', 'Pending', 'bytes'],
          ],
          unit='bytes', h=8, sortBy='Deduplication factor', sortDesc=false,
        ),
        g.timeseries(
          'Deduplication factor', 'Bytes the backups refer to per byte on disk, as each garbage collection counted them. A sudden drop means new data that shares little with the old: a changed encryption key, a new large guest, a guest re-created from scratch. Not an alert: it is a trend to read.',
          [g.target('proxmox_backup_datastore_deduplication_ratio{%s}' % ds, '{{target}}:{{datastore}}')],
          'none', min=0,
        ),
        g.timeseries(
          'Space pending removal', 'Bytes the last garbage collection found unused but kept for safety; the next GC frees them.',
          [g.target('proxmox_backup_datastore_gc_pending_bytes{%s}' % ds, '{{target}}:{{datastore}}')],
          'bytes', min=0,
        ),
        g.table(
          'Datastore state', 'Backend and maintenance mode of every datastore. For an s3 backend the capacity panels show only the local cache.',
          g.tableTargets([
            |||
              proxmox_backup_datastore_info{%(ds)s}
              * ignoring (backend, mode) group_left (mode)
              (proxmox_backup_datastore_maintenance{%(ds)s} == 1)
            ||| % { ds: ds },
          ]),
          [
            ['target', 'PBS', null],
            ['datastore', 'Datastore', null],
            ['backend', 'Backend', null],
            ['mode', 'Maintenance', null],
          ],
          h=6,
        ),

        // Encryption and verification coverage: one row of stats, then
        // the coverage of every datastore.
        g.stat(
          'Datastores not verified', 'Datastores no verify job covers: none has a schedule, starts at the root namespace without a depth limit and has run.',
          [g.target('count(proxmox_backup_datastore_verify_covered{%s} == 0) or vector(0)' % ds, instant=true)],
          thresholds=alarm,
        ),
        g.stat(
          'Never verified', 'Recovery points on the selected datastores that were never verified.',
          [g.target('sum(proxmox_backup_datastore_snapshots{%s, state="none"})' % ds, instant=true)],
        ),
        g.stat(
          'Verification failed', 'Recovery points on the selected datastores whose last verification failed.',
          [g.target('sum(proxmox_backup_datastore_snapshots{%s, state="failed"}) or vector(0)' % ds, instant=true)],
          thresholds=alarm,
        ),
        g.stat(
          'Unencrypted on PBS', 'Completed recovery points on the selected PBS that are not encrypted.',
          [g.target('sum(%s) or vector(0)' % std.rstripChars(pbsRepos('proxmox_backup_unencrypted_snapshots{%s, cluster=~"$cluster"}' % S), '\n'), instant=true)],
        ),
        g.stat(
          'Guests not encrypted', 'Guests of the selected clusters whose newest recovery point is not encrypted in every repository holding it.',
          [g.target('count(proxmox_backup_guest_last_encrypted{%s, cluster=~"$cluster"} == 0) or vector(0)' % S, instant=true)],
        ),
        g.stat(
          'Sync jobs hidden', 'PBS targets whose token may not see every sync job (no Remote.Audit on /remote): their missing sync jobs raise no alert.',
          [g.target('count(proxmox_backup_pbs_sync_jobs_visible{%s, target=~"$pbs"} == 0) or vector(0)' % S, instant=true)],
          thresholds=alarm,
        ),
        g.table(
          'Verification coverage', 'Per datastore: whether a verify job covers it, and its recovery points by the state of their last verification.',
          g.tableTargets([
            'proxmox_backup_datastore_verify_covered{%s}' % ds,
            'sum without (state) (proxmox_backup_datastore_snapshots{%s, state="ok"})' % ds,
            'sum without (state) (proxmox_backup_datastore_snapshots{%s, state="failed"})' % ds,
            'sum without (state) (proxmox_backup_datastore_snapshots{%s, state="none"})' % ds,
          ]),
          [
            ['target', 'PBS', null],
            ['datastore', 'Datastore', null],
            ['Value #A', 'Verify job', 'none', g.cellColor + [{ id: 'mappings', value: g.valueMap([[1, 'covered', 'green'], [0, 'none', 'red']]) }]],
            ['Value #B', 'Verified', 'none'],
            ['Value #C', 'Failed', 'none'],
            ['Value #D', 'Never verified', 'none'],
          ],
          h=8, sortBy='Verify job', sortDesc=false,
        ),

        g.timeseries(
          'Recovery points per repository', 'Completed recovery points in each PBS repository (datastore or namespace) on the selected PBS.',
          [g.target(pbsRepos('proxmox_backup:repository_snapshots:sum{estate=~"$estate", cluster=~"$cluster"}'), '{{repository}}')],
          'none', min=0,
        ),
        g.bargauge(
          'Backup groups per repository', 'Backup groups (one per guest or host) in each PBS repository on the selected PBS.',
          [g.target(pbsRepos('proxmox_backup:repository_groups:count{estate=~"$estate", cluster=~"$cluster"}'), '{{repository}}', instant=true)],
          'none', min=0,
        ),
      ],
    ),
  },
}
