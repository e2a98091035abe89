// All dashboards; each file adds one entry to grafanaDashboards.
(import 'overview.libsonnet') +
(import 'datastores.libsonnet') +
(import 'sources.libsonnet')
