package collector

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// emit turns one scrape's result into fresh const metrics. It is pure: the
// same result always gives the same metrics, so concurrent scrapes sharing
// a fetch export the same numbers.
func (c *Collector) emit(ch chan<- prometheus.Metric, res *scrapeResult) {
	c.emitTargets(ch, res)
	emitRouting(ch, res)
	b := newSeriesBuilder()
	emitGuests(ch, b, res, c.enabled(CollectorTasks))
	if c.enabled(CollectorRepository) {
		emitGroups(ch, b, res)
	}
	if c.enabled(CollectorDatastores) {
		emitDatastores(ch, res, c.opts.Now())
	}
	if c.enabled(CollectorStorages) {
		emitStorages(ch, res)
	}
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// emitTargets exports the health of every source and of the exporter.
func (c *Collector) emitTargets(ch chan<- prometheus.Metric, res *scrapeResult) {
	clusterOf := map[string]string{}
	versionOf := map[runKey]string{}
	for _, cd := range res.clusters {
		clusterOf[cd.run.name] = cd.name
		versionOf[runKey{cd.run.name, cd.t.kind}] = cd.version
	}
	for _, pd := range res.pbs {
		versionOf[runKey{pd.t.name, pd.t.kind}] = pd.version
	}
	for _, r := range res.runs {
		k := runKey{r.name, r.kind}
		gauge(ch, descs.targetUp, boolFloat(r.up()), r.name, r.kind)
		gauge(ch, descs.targetDuration, r.duration.Seconds(), r.name, r.kind)
		gauge(ch, descs.targetRequests, float64(r.requests), r.name, r.kind)
		if v := versionOf[k]; v != "" {
			gauge(ch, descs.targetInfo, 1, r.name, r.kind, v, clusterOf[r.name])
		}
		if t, ok := res.lastSuccess[k]; ok {
			gauge(ch, descs.targetLastSuccess, float64(t.UnixNano())/float64(time.Second), r.name, r.kind)
		}
	}
	for k, v := range res.errorCounts {
		ch <- prometheus.MustNewConstMetric(descs.targetErrors, prometheus.CounterValue, v, k.target, k.kind, k.reason)
	}
	gauge(ch, descs.scrapeDuration, res.duration.Seconds())
}
