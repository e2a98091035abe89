// Configuration of the proxmox-backup-exporter mixin.
//
// Every field is overridable from the outside, monitoring-mixins style:
//
//   (import 'mixin.libsonnet') + { _config+:: { staleWarningSeconds: 36 * 3600 } }
//
// Selectors are PromQL label matchers WITHOUT braces, so they can be combined
// with the matchers each expression needs.
{
  _config+:: {
    // Selects the series of the exporter's scrape job. Keep it an equality
    // matcher: ProxmoxBackupExporterAbsent uses absent(up{...}), which only
    // keeps labels from equality matchers (a regex would leave the alert
    // without a `job` label to route on).
    proxmoxBackupSelector: 'job="proxmox-backup"',

    // --- Which guests the guest alerts look at -------------------------------
    // A guest carrying one of these PVE tags is excluded from every guest alert
    // (and counted as "excluded" on the dashboards). PVE stores tags sorted
    // and ';'-joined in proxmox_backup_guest_info{tags}.
    excludeTags: ['nobackup'],
    // Extra label matchers on proxmox_backup_guest_info for guests to exclude
    // by configuration instead of by tag, e.g. 'name!~"scratch-.*"'.
    // Empty = no extra exclusion.
    guestExtraSelector: '',

    // Backup-group alerts (verification) need the guest inventory to tell a
    // deleted guest's group (an orphan: no alert) from a live one. Groups that
    // no PVE cluster claims have cluster="" and no inventory to join; this
    // selector says which group series are alerted on without inventory.
    // Widen it (e.g. 'cluster=~"|offsite"') for clusters you attribute through
    // config routes but do not scrape a PVE inventory for.
    unattributedGroupSelector: 'cluster=""',

    // Repositories where verification is expected: a matcher on
    // proxmox_backup_repository_info. File backups are never verified, so
    // only PBS repositories by default.
    verificationExpectedSelector: 'kind="pbs"',

    // Extra matchers on proxmox_backup_datastore_verify_covered for
    // ProxmoxBackupDatastoreNotVerified, e.g. 'datastore!="scratch"' for a
    // datastore you deliberately do not verify. Empty = every datastore.
    verifyCoverageExtraSelector: '',

    // --- Opt-in alerts -------------------------------------------------------
    // ProxmoxBackupGuestBackupNotEncrypted: a guest whose newest recovery
    // point is not encrypted everywhere. Off by default: many estates do
    // not encrypt on purpose (vzdump archives never are). The rendered
    // prometheus_alerts_opt_in.yaml has it switched on.
    guestNotEncryptedAlert: false,

    // Extra matchers on proxmox_backup_target_up for ProxmoxBackupSourceDown,
    // e.g. 'target!="pbs-offsite"' for a PBS that is powered on only for its
    // backup window. Empty = every target.
    sourceDownExtraSelector: '',

    // --- Thresholds ----------------------------------------------------------
    // Fixed staleness thresholds, used only for guests whose backup schedule is
    // unknown (no proxmox_backup_guest_expected_interval_seconds: in no job, or
    // a schedule the exporter cannot parse).
    staleWarningSeconds: 26 * 3600,
    staleCriticalSeconds: 48 * 3600,
    // Schedule-aware staleness, for guests with a known job interval:
    //   warning  when age > interval + slack
    //   critical when age > missedRuns * interval + slack
    // A daily job therefore warns at 26h and is critical at 50h.
    staleScheduleSlackSeconds: 2 * 3600,
    staleCriticalMissedRuns: 2,

    // Datastore used ratio, computed as 1 - available/size.
    datastoreAlmostFullWarningRatio: 0.85,
    datastoreAlmostFullCriticalRatio: 0.95,
    // "Filling up": full within this horizon, by PBS's own estimate when it
    // gives one (a timestamp in the future), else by predict_linear over
    // datastoreFillingUpPredictWindow, only once less than
    // datastoreFillingUpPredictMaxFreeRatio of the datastore is free (a
    // linear prediction on a mostly empty datastore is noise).
    datastoreFillingUpSeconds: 7 * 24 * 3600,
    datastoreFillingUpPredictWindow: '6h',
    datastoreFillingUpPredictMaxFreeRatio: 0.4,

    // A PBS job is late when its next scheduled run is this far in the past.
    pbsJobOverdueSeconds: 3600,
    // ... or when a scheduled job's last run is older than this, per job type.
    // A GC "job" with no schedule gets no PBSJobNotRunOnSchedule: it is
    // ProxmoxBackupGarbageCollectionNotRun's, with pbsJobMaxAgeSeconds.gc as
    // its maximum age.
    pbsJobMaxAgeSeconds: {
      gc: 8 * 24 * 3600,
      prune: 8 * 24 * 3600,
      sync: 8 * 24 * 3600,
      verify: 32 * 24 * 3600,
    },

    // Average Prometheus scrape_duration_seconds of the exporter over 10m
    // above which ProxmoxBackupScrapeSlow fires. Set it to about 80 % of your
    // scrape_timeout.
    scrapeSlowSeconds: 20,

    // Gap bridging for the long-running NeverVerified alert: a failed listing
    // makes a group's series disappear for a scrape, which would restart a
    // multi-day `for`. last_over_time over this window keeps it going.
    groupGapBridgeWindow: '30m',

    // --- `for` durations -----------------------------------------------------
    // A guest with no recovery point at all: the grace a new guest gets before
    // its first backup. Raise it if you create guests faster than your jobs run.
    guestNoBackupFor: '3h',
    guestNotInJobFor: '1h',
    guestBackupStaleFor: '10m',
    guestBackupTaskFailedFor: '5m',
    verificationFailedFor: '5m',
    // How long the newest recovery point of a group may stay unverified
    // (state "none") before ProxmoxBackupNeverVerified fires. Daily backups
    // replace the newest point every day, so this must exceed the interval of
    // your verify job (default: weekly verify job plus a day).
    neverVerifiedFor: '8d',
    datastoreAlmostFullFor: '15m',
    datastoreFillingUpFor: '1h',
    datastoreDownFor: '10m',
    // How long a datastore may stay in a maintenance mode (read-only,
    // offline, unmount, ...) before ProxmoxBackupDatastoreInMaintenance: a
    // disk swap or an unmount takes minutes to hours; a mode left on for
    // longer was forgotten.
    datastoreMaintenanceFor: '6h',
    // How long a datastore's GC may have never run (PBS reports no run at
    // all) before ProxmoxBackupGarbageCollectionNeverRun; like the GC
    // maximum age above.
    garbageCollectionNeverRunFor: '8d',
    // A guest whose newest backup took longer than its job's interval.
    guestBackupWindowOverrunFor: '5m',
    pbsJobFailedFor: '5m',
    pbsJobNotRunOnScheduleFor: '15m',
    guestNotEncryptedFor: '1h',
    syncJobsHiddenFor: '1h',
    // A new datastore gets its first verify run within a week.
    datastoreNotVerifiedFor: '8d',
    sourceDownFor: '10m',
    repositoryDownFor: '15m',
    exporterDownFor: '5m',
    exporterAbsentFor: '15m',
    scrapeSlowFor: '15m',

    // --- keep_firing_for: riding out a source outage ------------------------
    // Unknown is never zero: while a PVE cluster or PBS cannot be read (or
    // the exporter cannot be scraped), the series its alerts read are absent.
    // Without keep_firing_for every alert firing on them would resolve
    // (Alertmanager sends "resolved") and fire again on recovery, although
    // nothing was fixed. With it, an alert that was firing keeps firing for
    // this long after its expression stops returning it; an alert that was
    // only pending is dropped as before, so an outage never raises one.
    // The price: an alert whose problem is really fixed also resolves this
    // much later. Needs Prometheus >= 2.42; '0s' renders rules without
    // keep_firing_for (for older Prometheus). Not set on the alerts about
    // availability itself (SourceDown, RepositoryDown, DatastoreDown,
    // Exporter*): they say what is unreadable right now, and SourceDown
    // speaks for a datastore whose PBS is off.
    //
    // Guest and backup-group alerts (GuestNoBackup, GuestNotInJob,
    // GuestBackupStale, GuestBackupTaskFailed, VerificationFailed,
    // NeverVerified): 6h rides out a PBS or PVE upgrade and reboot, an
    // exporter host restart or a night's network trouble. These facts change
    // at backup cadence (daily or weekly), so an alert clearing up to 6h
    // after its fix costs little, while a resolve/re-fire pair per outage
    // pages people for nothing.
    guestKeepFiringFor: '6h',
    // Datastore and PBS job alerts (DatastoreAlmostFull, DatastoreFillingUp,
    // PBSJobFailed, PBSJobNotRunOnSchedule), whose data vanish with their
    // PBS: 2h rides out a reboot or update; shorter than the guest one
    // because freeing space or rerunning a job should show sooner.
    //
    // A PBS powered on only for its backup window is off for most of the day:
    // prefer the exporter's offline.keep_last_known (e.g. 36h), which keeps
    // its last known series, so alerts and dashboards carry on; or raise both
    // values above the off period (e.g. '26h') and accept the slow resolve.
    keepFiringFor: '2h',

    // --- Runbooks ------------------------------------------------------------
    // %s is replaced by the lower-cased alert name, which is the GitHub anchor
    // of that alert's section in mixins/README.md.
    runbookURLPattern: 'https://github.com/proxmox-backup-exporter/proxmox-backup-exporter/blob/main/mixins/README.md#%s',

    // --- Dashboards ----------------------------------------------------------
    dashboardTags: ['proxmox', 'backup', 'proxmox-backup-exporter'],
    dashboardUIDPrefix: 'proxmox-backup-',
    dashboardTitlePrefix: 'Proxmox Backup / ',
    dashboardRefresh: '1m',
    dashboardTimeFrom: 'now-24h',
    dashboardTimezone: '',
    // Window of the growth trend panels (deriv); short enough to show data
    // soon after Prometheus starts, long enough to smooth GC dips.
    dashboardGrowthWindow: '6h',
  },
}
