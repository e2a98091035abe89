// Alerting rules. Each alert has a static summary, a templated description
// and a runbook_url pointing at its section in mixins/README.md.
//
// Rules of the house, enforced by the expressions below and proven by
// mixins/tests/alerts_test.yaml:
//   * guest alerts join the eligible inventory (lib/promql.libsonnet), so
//     templates, excluded guests (tag or config) and orphans never fire;
//   * unknown is not zero: guest_* series are absent when a source failed,
//     so no guest alert fires on missing data; ProxmoxBackupSourceDown and
//     ProxmoxBackupRepositoryDown are the only alerts for that;
//   * a repository warming after a restart (repository_warming 1) has no
//     repository_up and its guests no counts: nothing fires for it, and
//     ProxmoxBackupScrapeSlow leaves its long scrapes alone
//     (mixins/tests/warming_test.yaml);
//   * "never verified" (state="none") is never "failed";
//   * an alert on data that vanish while a source is down keeps firing
//     through the outage (keep_firing_for, see keepFiringFor in
//     config.libsonnet) instead of resolving and firing again.
local q = import '../lib/promql.libsonnet';

{
  local c = $._config,
  local S = c.proxmoxBackupSelector,
  local sel(extra) = q.joinMatchers([S] + extra),

  // alert builds one alerting rule with the common annotations.
  // keepFiringFor is set on alerts whose data vanish while a source is
  // down; '0s' (the default) leaves keep_firing_for out.
  local alert(name, severity, forDuration, expr, summary, description, keepFiringFor='0s') = {
    alert: 'ProxmoxBackup' + name,
    expr: expr,
    'for': forDuration,
    labels: { severity: severity },
    annotations: {
      summary: summary,
      description: description,
      runbook_url: c.runbookURLPattern % std.asciiLower('ProxmoxBackup' + name),
    },
  } + (if keepFiringFor == '0s' || keepFiringFor == '' then {} else { keep_firing_for: keepFiringFor }),

  // staleExpr selects eligible guests whose newest recovery point is older
  // than their own schedule allows (interval * missedRuns + slack) or, for
  // guests with no known schedule, older than the fixed threshold.
  local staleExpr(missedRuns, fixedSeconds) = q.withGuestName(c, |||
    (
      time() - proxmox_backup_guest_last_timestamp_seconds{%(S)s}
      > %(runs)sproxmox_backup_guest_expected_interval_seconds{%(S)s} + %(slack)d
    )
    or
    (
      time() - proxmox_backup_guest_last_timestamp_seconds{%(S)s} > %(fixed)d
      unless
      proxmox_backup_guest_expected_interval_seconds{%(S)s}
    )
  ||| % {
    S: S,
    runs: if missedRuns == 1 then '' else '%d * ' % missedRuns,
    slack: c.staleScheduleSlackSeconds,
    fixed: fixedSeconds,
  }),

  local staleDescription =
    'The newest recovery point of guest {{ $labels.backup_type }}/{{ $labels.backup_id }} ({{ $labels.name }}) in cluster {{ $labels.cluster }} is {{ $value | humanizeDuration }} old, more than its backup schedule allows (or the fixed threshold when no schedule covers it).',

  // usedRatio is the datastore's used fraction as PBS sees it for new data.
  local usedRatio =
    '1 - proxmox_backup_datastore_available_bytes{%(S)s} / (proxmox_backup_datastore_size_bytes{%(S)s} > 0)' % { S: S },

  local almostFullDescription =
    'PBS {{ $labels.target }} datastore {{ $labels.datastore }} is {{ $value | humanizePercentage }} full.',

  // jobMaxAge selects scheduled PBS jobs of one type whose last run is older
  // than that type's maximum age.
  local jobMaxAge(jobType) = |||
    (
      time() - proxmox_backup_pbs_job_last_run_timestamp_seconds{%(sel)s} > %(max)d
      and proxmox_backup_pbs_job_last_run_timestamp_seconds{%(sel)s} > 0
      and proxmox_backup_pbs_job_next_run_timestamp_seconds{%(sel)s} > 0
    )
  ||| % { sel: sel(['job_type="%s"' % jobType]), max: c.pbsJobMaxAgeSeconds[jobType] },

  // jobLate selects PBS jobs (of the given selector's types) that have not
  // run on schedule: the next scheduled run is overdue, or the last run is
  // older than its type's maximum age.
  local jobLate(extra, types) = |||
    (
      time() - proxmox_backup_pbs_job_next_run_timestamp_seconds{%(sel)s} > %(overdue)d
      and proxmox_backup_pbs_job_next_run_timestamp_seconds{%(sel)s} > 0
    )
    or
    %(maxAge)s
  ||| % {
    sel: sel(extra),
    overdue: c.pbsJobOverdueSeconds,
    maxAge: std.rstripChars(std.join('or\n', [jobMaxAge(t) for t in types]), '\n'),
  },

  // syncJobLabels are the labels pbs_sync_job_info adds to a sync job's
  // pbs_job_* series (joined on every other label).
  local syncJobLabels = 'job_type, direction, remote, remote_store',

  prometheusAlerts+:: {
    groups+: [
      {
        name: 'proxmox-backup-guests',
        rules: [
          alert(
            'GuestNoBackup', 'warning', c.guestNoBackupFor,
            q.withGuestName(c, 'proxmox_backup_guest_snapshots{%s} == 0' % S),
            'A guest has no recovery point in any repository.',
            'Guest {{ $labels.backup_type }}/{{ $labels.backup_id }} ({{ $labels.name }}) in cluster {{ $labels.cluster }} has no completed recovery point in any repository, and every repository that could hold one was read successfully.',
            c.guestKeepFiringFor,
          ),
          alert(
            'GuestNotInJob', 'warning', c.guestNotInJobFor,
            q.withGuestName(c, 'proxmox_backup_guest_in_job{%s} == 0' % S),
            'A guest is not covered by any enabled backup job.',
            'Guest {{ $labels.backup_type }}/{{ $labels.backup_id }} ({{ $labels.name }}) in cluster {{ $labels.cluster }} is in no enabled backup job, so it will not be backed up automatically.',
            c.guestKeepFiringFor,
          ),
          alert(
            'GuestBackupStale', 'warning', c.guestBackupStaleFor,
            staleExpr(1, c.staleWarningSeconds),
            'The newest backup of a guest is older than its schedule allows.',
            staleDescription,
            c.guestKeepFiringFor,
          ),
          alert(
            'GuestBackupStale', 'critical', c.guestBackupStaleFor,
            staleExpr(c.staleCriticalMissedRuns, c.staleCriticalSeconds),
            'The newest backup of a guest is much older than its schedule allows.',
            staleDescription,
            c.guestKeepFiringFor,
          ),
        ] + (if c.guestNotEncryptedAlert then [
          alert(
            'GuestBackupNotEncrypted', 'warning', c.guestNotEncryptedFor,
            q.withGuestName(c, 'proxmox_backup_guest_last_encrypted{%s} == 0' % S),
            'The newest backup of a guest is not encrypted.',
            'The newest recovery point of guest {{ $labels.backup_type }}/{{ $labels.backup_id }} ({{ $labels.name }}) in cluster {{ $labels.cluster }} is not encrypted in every repository holding it: whoever can read such a repository can read the guest\'s data.',
            c.guestKeepFiringFor,
          ),
        ] else []) + [
          alert(
            'GuestBackupTaskFailed', 'warning', c.guestBackupTaskFailedFor,
            q.withGuestName(c, 'proxmox_backup_guest_last_task_success{%s} == 0' % S),
            'The newest backup task of a guest failed.',
            'The newest vzdump task that included guest {{ $labels.backup_type }}/{{ $labels.backup_id }} ({{ $labels.name }}) in cluster {{ $labels.cluster }} failed for this guest.',
            c.guestKeepFiringFor,
          ),
          alert(
            'GuestBackupWindowOverrun', 'warning', c.guestBackupWindowOverrunFor,
            q.withGuestName(c, |||
              proxmox_backup_guest_last_task_duration_seconds{%(S)s}
              > proxmox_backup_guest_expected_interval_seconds{%(S)s}
            ||| % { S: S }),
            'The newest backup of a guest took longer than its backup job interval.',
            'The newest backup of guest {{ $labels.backup_type }}/{{ $labels.backup_id }} ({{ $labels.name }}) in cluster {{ $labels.cluster }} took {{ $value | humanizeDuration }}, longer than the interval of the shortest job covering it: it runs into the next run, which vzdump then skips or delays.',
            c.guestKeepFiringFor,
          ),
        ],
      },
      {
        name: 'proxmox-backup-groups',
        rules: [
          alert(
            'VerificationFailed', 'critical', c.verificationFailedFor,
            q.alertableGroups(c, function(s) 'proxmox_backup_last_verification{%s, state="failed"} == 1' % s),
            'The newest recovery point of a backup group failed verification.',
            'The newest recovery point of backup group {{ $labels.backup_type }}/{{ $labels.backup_id }} (cluster "{{ $labels.cluster }}") in repository {{ $labels.repository }} failed verification: restoring it may fail.',
            c.guestKeepFiringFor,
          ),
          alert(
            'NeverVerified', 'warning', c.neverVerifiedFor,
            q.alertableGroups(c, function(s) |||
              last_over_time(proxmox_backup_last_verification{%(s)s, state="none"}[%(w)s]) == 1
                and on (estate, repository)
                last_over_time(proxmox_backup_repository_info{%(r)s}[%(w)s])
            ||| % { s: s, w: c.groupGapBridgeWindow, r: q.joinMatchers([S, c.verificationExpectedSelector]) }),
            'The newest recovery point of a backup group has not been verified.',
            'The newest recovery point of backup group {{ $labels.backup_type }}/{{ $labels.backup_id }} (cluster "{{ $labels.cluster }}") in repository {{ $labels.repository }} has not been verified for %s, although verification is expected there.' % c.neverVerifiedFor,
            c.guestKeepFiringFor,
          ),
        ],
      },
      {
        name: 'proxmox-backup-datastores',
        rules: [
          alert(
            'DatastoreAlmostFull', 'warning', c.datastoreAlmostFullFor,
            '%s > %g' % [usedRatio, c.datastoreAlmostFullWarningRatio],
            'A PBS datastore is almost full.',
            almostFullDescription,
            c.keepFiringFor,
          ),
          alert(
            'DatastoreAlmostFull', 'critical', c.datastoreAlmostFullFor,
            '%s > %g' % [usedRatio, c.datastoreAlmostFullCriticalRatio],
            'A PBS datastore is nearly out of space.',
            almostFullDescription,
            c.keepFiringFor,
          ),
          alert(
            'DatastoreFillingUp', 'warning', c.datastoreFillingUpFor,
            |||
              (
                proxmox_backup_datastore_estimated_full_timestamp_seconds{%(S)s} - time() > 0
                and
                proxmox_backup_datastore_estimated_full_timestamp_seconds{%(S)s} - time() < %(h)d
              )
              or
              (
                (
                  proxmox_backup_datastore_available_bytes{%(S)s}
                  / -deriv(proxmox_backup_datastore_available_bytes{%(S)s}[%(w)s])
                  and
                  predict_linear(proxmox_backup_datastore_available_bytes{%(S)s}[%(w)s], %(h)d) < 0
                  and
                  proxmox_backup_datastore_available_bytes{%(S)s} / (proxmox_backup_datastore_size_bytes{%(S)s} > 0) < %(free)g
                )
                unless
                proxmox_backup_datastore_estimated_full_timestamp_seconds{%(S)s} > time()
              )
            ||| % {
              S: S,
              h: c.datastoreFillingUpSeconds,
              w: c.datastoreFillingUpPredictWindow,
              free: c.datastoreFillingUpPredictMaxFreeRatio,
            },
            'A PBS datastore will be full soon.',
            'PBS {{ $labels.target }} datastore {{ $labels.datastore }} is expected to be full in {{ $value | humanizeDuration }} (PBS estimate, or the linear trend where PBS gives none).',
            c.keepFiringFor,
          ),
          alert(
            'DatastoreDown', 'warning', c.datastoreDownFor,
            'proxmox_backup_datastore_up{%s} == 0' % S,
            'A PBS datastore is unavailable.',
            'PBS {{ $labels.target }} datastore {{ $labels.datastore }} is unavailable (maintenance mode, unmounted or in error); backups to it will fail and its recovery points are unknown.',
          ),
          alert(
            'PBSJobFailed', 'warning', c.pbsJobFailedFor,
            'proxmox_backup_pbs_job_last_run_success{%s} == 0' % S,
            'The last run of a PBS job failed.',
            'The last run of PBS {{ $labels.job_type }} job {{ $labels.job_id }} on {{ $labels.target }} (datastore {{ $labels.datastore }}) failed.',
            c.keepFiringFor,
          ),
          // Sync jobs the exporter describes (pbs_sync_job_info) have
          // their own alert, with their direction.
          alert(
            'PBSJobNotRunOnSchedule', 'warning', c.pbsJobNotRunOnScheduleFor,
            |||
              (
              %(late)s
              )
              unless ignoring (%(l)s)
                proxmox_backup_pbs_sync_job_info{%(S)s}
            ||| % { late: q.indent(jobLate([], std.objectFields(c.pbsJobMaxAgeSeconds)), 2), l: syncJobLabels, S: S },
            'A PBS job has not run on schedule.',
            'PBS {{ $labels.job_type }} job {{ $labels.job_id }} on {{ $labels.target }} (datastore {{ $labels.datastore }}) is late: {{ $value | humanizeDuration }} since its scheduled run was due, or since its last run.',
            c.keepFiringFor,
          ),
          alert(
            'DatastoreInMaintenance', 'warning', c.datastoreMaintenanceFor,
            'proxmox_backup_datastore_maintenance{%s, mode!="none"} == 1' % S,
            'A PBS datastore has been in maintenance mode for long.',
            'PBS {{ $labels.target }} datastore {{ $labels.datastore }} has been in {{ $labels.mode }} maintenance mode for more than %s; backups to it fail (read-only, offline) or it cannot be read at all.' % c.datastoreMaintenanceFor,
            c.keepFiringFor,
          ),
          // A GC that failed is PBSJobFailed's, a scheduled GC that is late
          // PBSJobNotRunOnSchedule's; these two alerts cover what they miss:
          // a GC without a schedule, and one that never ran (PBS then
          // computes its next run from now, so it is never late).
          alert(
            'GarbageCollectionNotRun', 'warning', c.pbsJobNotRunOnScheduleFor,
            |||
              time() - proxmox_backup_pbs_job_last_run_timestamp_seconds{%(gc)s} > %(max)d
              unless on (job, instance, estate, target, datastore, job_type, job_id)
              proxmox_backup_pbs_job_next_run_timestamp_seconds{%(gc)s} > 0
            ||| % { gc: sel(['job_type="gc"']), max: c.pbsJobMaxAgeSeconds.gc },
            'Garbage collection of a PBS datastore has not run for long.',
            'The last garbage collection of PBS {{ $labels.target }} datastore {{ $labels.datastore }} ended {{ $value | humanizeDuration }} ago and none is scheduled: space of pruned backups is not given back.',
            c.keepFiringFor,
          ),
          // last_over_time bridges a failed scrape, which would restart
          // the days-long `for`.
          alert(
            'GarbageCollectionNeverRun', 'warning', c.garbageCollectionNeverRunFor,
            'last_over_time(proxmox_backup_datastore_gc_state{%s, state="never"}[%s]) == 1' % [S, c.groupGapBridgeWindow],
            'Garbage collection has never run on a PBS datastore.',
            'Garbage collection has not run on PBS {{ $labels.target }} datastore {{ $labels.datastore }} for %s, since it was created or PBS last lost its GC state: space of pruned backups is not given back, and its deduplication figures are unknown.' % c.garbageCollectionNeverRunFor,
            c.keepFiringFor,
          ),
          alert(
            'SyncJobNotRunOnSchedule', 'warning', c.pbsJobNotRunOnScheduleFor,
            |||
              (
              %(late)s
              )
              * ignoring (%(l)s) group_left (direction, remote)
                proxmox_backup_pbs_sync_job_info{%(S)s}
            ||| % { late: q.indent(jobLate(['job_type="sync"'], ['sync']), 2), l: syncJobLabels, S: S },
            'A PBS sync job has not run on schedule.',
            'PBS {{ $labels.direction }} sync job {{ $labels.job_id }} on {{ $labels.target }} (datastore {{ $labels.datastore }}, remote "{{ $labels.remote }}") is late: {{ $value | humanizeDuration }} since its scheduled run was due, or since its last run. The copy it keeps is getting older.',
            c.keepFiringFor,
          ),
          alert(
            'SyncJobsHidden', 'warning', c.syncJobsHiddenFor,
            'proxmox_backup_pbs_sync_jobs_visible{%s} == 0' % S,
            'The exporter may not see every PBS sync job.',
            'The token of PBS {{ $labels.target }} lacks Remote.Audit on /remote: PBS leaves the sync jobs of remotes it may not audit out of the list, so a late or failing sync job there raises no alert.',
          ),
          alert(
            'DatastoreNotVerified', 'warning', c.datastoreNotVerifiedFor,
            'proxmox_backup_datastore_verify_covered{%s} == 0' % sel([c.verifyCoverageExtraSelector]),
            'No verify job covers a PBS datastore.',
            'No scheduled verify job covers all of PBS {{ $labels.target }} datastore {{ $labels.datastore }} and has run: damaged chunks in it go unnoticed until a restore fails.',
            c.keepFiringFor,
          ),
        ],
      },
      {
        name: 'proxmox-backup-sources',
        rules: [
          alert(
            'SourceDown', 'warning', c.sourceDownFor,
            'proxmox_backup_target_up{%s} == 0' % q.joinMatchers([S, c.sourceDownExtraSelector]),
            'A Proxmox source cannot be read.',
            'The exporter cannot fully read {{ $labels.kind }} target {{ $labels.target }}. Backup series that depend on it are absent (unknown), so no guest alert starts firing for it until it recovers, and those already firing keep firing for a while. See the exporter /status page for the error.',
          ),
          // A pbs storage read through PVE because its PBS is down carries
          // that PBS as `target`, so the PBS's SourceDown holds it back
          // (examples/alertmanager.yml): one page per outage.
          alert(
            'RepositoryDown', 'warning', c.repositoryDownFor,
            |||
              (
                proxmox_backup_repository_up{%(S)s} == 0
                unless on (job, instance, estate, repository) %(fallback)s
              )
              or
              (
                (proxmox_backup_repository_up{%(S)s} == 0)
                * on (job, instance, estate, repository) group_left (target)
                  max by (job, instance, estate, repository, target) (
                    label_replace(%(fallback)s, "target", "$1", "pbs_target", "(.+)")
                  )
              )
            ||| % { S: S, fallback: 'proxmox_backup_storage_route_info{%s, route="pve_fallback", pbs_target!=""}' % S },
            'A backup repository cannot be listed.',
            'The last listing of repository {{ $labels.repository }} failed. Recovery points in it are unknown, so guests that may have backups there get no guest alerts. See the exporter /status page for the error.',
          ),
          alert(
            'ExporterDown', 'warning', c.exporterDownFor,
            'up{%s} == 0' % S,
            'Prometheus cannot scrape the Proxmox backup exporter.',
            'Prometheus has failed to scrape {{ $labels.instance }} of job {{ $labels.job }}: no backup alert can fire while it is down.',
          ),
          alert(
            'ExporterAbsent', 'warning', c.exporterAbsentFor,
            'absent(up{%s})' % S,
            'The Proxmox backup exporter has disappeared from Prometheus.',
            'Prometheus has no scrape target for {{ $labels.job }}: backup monitoring is off. Check the scrape configuration and service discovery.',
          ),
          alert(
            'ScrapeSlow', 'warning', c.scrapeSlowFor,
            // A warm-up (proxmox_backup_repository_warming) holds scrapes
            // to their deadline until the first read is done: expected
            // after a restart, not a slow exporter.
            |||
              avg_over_time(scrape_duration_seconds{%(S)s}[10m]) > %(slow)g
              unless on (job, instance, estate) max by (job, instance, estate) (max_over_time(proxmox_backup_repository_warming{%(S)s}[10m]))
            ||| % { S: S, slow: c.scrapeSlowSeconds },
            'Scrapes of the Proxmox backup exporter are slow.',
            'Scrapes of {{ $labels.instance }} took {{ $value | humanize }}s on average over 10 minutes; they risk hitting the scrape timeout. Check proxmox_backup_target_scrape_duration_seconds for the slow source.',
          ),
        ],
      },
    ],
  },
}
