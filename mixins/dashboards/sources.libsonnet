// Sources and routing: is the exporter able to read everything, how much it
// costs the sources, and where each PVE storage's backups are read from.
// The page to open when a number looks wrong or a guest shows "unknown".
local g = import '../lib/grafana.libsonnet';
local q = import '../lib/promql.libsonnet';

{
  local c = $._config,
  // Every query is limited to the selected estates (g.estateVariable).
  local S = q.joinMatchers([c.proxmoxBackupSelector, 'estate=~"$estate"']),
  local st = q.joinMatchers([S, 'target=~"$target"']),
  local sc = q.joinMatchers([S, 'cluster=~"$cluster"']),
  local upDown = g.valueMap([[1, 'up', 'green'], [0, 'down', 'red']]),
  local alarm = g.thresholds('green', [[1, 'red']]),
  local repoLabels = 'kind, target, datastore, namespace, cluster, storage, node',

  grafanaDashboards+:: {
    'proxmox-backup-sources.json': g.dashboard(
      c, 'sources', 'Sources and routing',
      'Health and cost of every PVE and PBS source, errors by reason, duplicates suppressed, and the routing of each PVE storage to the repository it is read from.',
      [
        g.estateVariable(c.proxmoxBackupSelector),
        g.queryVariable('cluster', 'Cluster', 'label_values(proxmox_backup_guest_info{%s}, cluster)' % S),
        g.queryVariable('target', 'Source', 'label_values(proxmox_backup_target_up{%s}, target)' % S),
      ],
      [
        g.stat(
          'Exporter', 'Whether Prometheus can scrape the exporter (the lowest `up` over its instances).',
          [g.target('min(up{%s})' % S, instant=true)],
          mappings=upDown, thresholds=g.thresholds('red', [[1, 'green']]), colorMode='background',
        ),
        g.stat(
          'Sources', 'Each configured PVE cluster and PBS: up when every API request of the last scrape succeeded.',
          [g.target('proxmox_backup_target_up{%s}' % st, '{{target}} ({{kind}})', instant=true)],
          mappings=upDown, thresholds=g.thresholds('red', [[1, 'green']]), colorMode='background', w=12,
        ),
        g.stat(
          'Repositories down', 'Repositories whose last listing failed: the guests that may have backups there show as unknown.',
          [g.target('count(proxmox_backup_repository_up{%s} == 0) or vector(0)' % S, instant=true)],
          thresholds=alarm,
        ),
        g.stat(
          'Duplicates suppressed', 'Recovery points seen through more than one path in the last scrape and counted once.',
          [g.target('sum(proxmox_backup_duplicates_suppressed{%s})' % S, instant=true)],
        ),

        g.timeseries(
          'Scrape duration', 'Wall time per source, the whole collection, and the scrape as Prometheus measured it (compare with your scrape_timeout).',
          [
            g.target('proxmox_backup_target_scrape_duration_seconds{%s}' % st, '{{target}}'),
            g.target('proxmox_backup_scrape_duration_seconds{%s}' % S, 'collection (exporter)', refId='B'),
            g.target('scrape_duration_seconds{%s}' % S, 'scrape (Prometheus) {{instance}}', refId='C'),
          ],
          's', min=0,
        ),
        g.timeseries(
          'API requests per scrape', 'API requests the exporter issued to each source in the last scrape; low values mean the caches work.',
          [g.target('proxmox_backup_target_api_requests{%s}' % st, '{{target}}')],
          'none', min=0,
        ),
        g.timeseries(
          'Errors by reason', 'Failed requests per source and reason (auth, permission, tls, timeout, unreachable, bad_response, not_found) in each interval; 0 when there were none.',
          [g.target(|||
            sum by (target, kind, reason) (increase(proxmox_backup_target_errors_total{%(st)s}[$__rate_interval]))
            or
            sum by (target, kind) (0 * proxmox_backup_target_up{%(st)s})
          ||| % { st: st }, '{{target}} {{reason}}')],
          'none', min=0,
        ),
        g.timeseries(
          'Duplicates suppressed by reason', 'Why recovery points were seen more than once: a PBS storage also read through PVE, a shared storage seen from several nodes, the same repository through two storages.',
          [g.target('sum by (reason) (proxmox_backup_duplicates_suppressed{%s})' % S, '{{reason}}')],
          'none', min=0,
        ),

        g.table(
          'Routing', "Every PVE storage with backup content, how it is read (pbs: from the PBS API; pve: PVE's content API; pve_fallback: a pbs storage read through PVE, with the reason: a stale pin, no configured PBS matches, it or its datastore is down, a config route; ignored; disabled), the repository it maps to and whether that repository's last listing succeeded.",
          [g.target(|||
            proxmox_backup_storage_route_info{%(sc)s}
              * ignoring (cluster, storage, storage_type, route, pbs_target, reason) group_left ()
              proxmox_backup_repository_up{%(S)s}
            or
            proxmox_backup_storage_route_info{%(sc)s} - 2
          ||| % { sc: sc, S: S }, instant=true, format='table')],
          [
            ['cluster', 'Cluster', null],
            ['storage', 'Storage', null],
            ['storage_type', 'Type', null],
            ['route', 'Route', null],
            ['reason', 'Why through PVE', null],
            ['repository', 'Repository', null],
            ['Value', 'Repository status', 'none', g.cellText + [{ id: 'mappings', value: g.valueMap([[1, 'up', 'green'], [0, 'down', 'red'], [-1, 'not read', 'text']]) }]],
          ],
          h=10, sortBy='Cluster', sortDesc=false,
        ),
        g.table(
          'Repositories', 'Every repository the exporter reads, where it lives, whether its last listing succeeded and how many recovery points and backup groups it holds.',
          g.tableTargets([
            |||
              proxmox_backup_repository_up{%(S)s}
                * ignoring (%(labels)s) group_left (%(labels)s)
                proxmox_backup_repository_info{%(sc)s}
            ||| % { S: S, sc: sc, labels: repoLabels },
            |||
              sum without (cluster, backup_type, backup_id) (proxmox_backup_snapshots{%(S)s})
                * ignoring (%(labels)s) group_left (%(labels)s)
                proxmox_backup_repository_info{%(sc)s}
            ||| % { S: S, sc: sc, labels: repoLabels },
          ]),
          [
            ['repository', 'Repository', null],
            ['kind', 'Kind', null],
            ['target', 'Source', null],
            ['cluster', 'Cluster', null],
            ['datastore', 'Datastore', null],
            ['namespace', 'Namespace', null],
            ['storage', 'Storage', null],
            ['node', 'Node', null],
            ['Value #A', 'Status', 'none', g.cellText + [{ id: 'mappings', value: upDown }]],
            ['Value #B', 'Recovery points', 'none'],
          ],
          h=10, sortBy='Repository', sortDesc=false,
        ),
        g.table(
          'Sources', 'Each configured source with its kind, the cluster it reports and its Proxmox version.',
          [g.target('proxmox_backup_target_info{%s}' % st, instant=true, format='table')],
          [
            ['target', 'Source', null],
            ['kind', 'Kind', null],
            ['cluster', 'Cluster', null],
            ['version', 'Version', null],
          ],
          w=24, h=6, sortBy='Source', sortDesc=false,
        ),
      ],
    ),
  },
}
