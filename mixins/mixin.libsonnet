// The proxmox-backup-exporter monitoring mixin: alerts, recording rules and
// dashboards for the metrics in the exporter's metrics contract.
//
// Render it with `cd tools && go run ./cmd/mixin ../mixins` (see README.md);
// the rendered files are committed, so users need no jsonnet.
(import 'config.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'dashboards/dashboards.libsonnet') +
{
  // The alerts with every opt-in alert switched on (see "Opt-in alerts" in
  // config.libsonnet): rendered as prometheus_alerts_opt_in.yaml, which the
  // promtool tests load, so an alert that is off by default is tested too.
  prometheusAlertsOptIn:: (self + { _config+:: { guestNotEncryptedAlert: true } }).prometheusAlerts,
}
