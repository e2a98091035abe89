package collector

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// sourceFamilies are the families this file emits:
// the exporter and its sources.
var sourceFamilies = struct {
	// Exporter and sources.
	targetUp          *family
	targetDuration    *family
	targetRequests    *family
	targetErrors      *family
	targetInfo        *family
	targetLastSuccess *family
	scrapeDuration    *family
}{
	targetUp: newDesc("target_up",
		"1 if every request to the target in this scrape succeeded, else 0.", targetLabels...),
	targetDuration: newDesc("target_scrape_duration_seconds",
		"Wall time spent on the target in this scrape.", targetLabels...),
	targetRequests: newDesc("target_api_requests",
		"API requests issued to the target in this scrape.", targetLabels...),
	targetErrors: newFamily(prometheus.CounterValue, "target_errors_total",
		"Failed requests to the target since the exporter started, by reason.",
		"target", "kind", "reason"),
	targetInfo: newDesc("target_info",
		"Version and cluster of every target that answered (value 1).",
		"target", "kind", "version", "cluster"),
	targetLastSuccess: newDesc("target_last_success_timestamp_seconds",
		"Last time every request to the target succeeded; absent before the first success.",
		targetLabels...),
	scrapeDuration: newDesc("scrape_duration_seconds",
		"Wall time of the whole collection."),
}

// emit turns one scrape's result into fresh series (series.go). It is
// pure: the same result always gives the same series, so concurrent scrapes
// sharing a fetch export the same numbers.
func (c *Collector) emit(e *emitter, res *scrapeResult) {
	c.emitTargets(e, res)
	emitRouting(e, res)
	emitGuests(e, res, c.enabled(CollectorTasks))
	if c.enabled(CollectorRepository) {
		emitGroups(e, res)
	}
	if c.enabled(CollectorDatastores) {
		emitDatastores(e, res, c.opts.Now())
		emitDatastoreState(e, res)
		emitVerification(e, res)
		emitSyncJobs(e, res)
	}
	if c.enabled(CollectorStorages) {
		emitStorages(e, res)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// emitTargets exports the health of every source and of the exporter.
func (c *Collector) emitTargets(e *emitter, res *scrapeResult) {
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
		e.values(sourceFamilies.targetUp, boolFloat(r.up()), r.name, r.kind)
		e.values(sourceFamilies.targetDuration, r.duration.Seconds(), r.name, r.kind)
		e.values(sourceFamilies.targetRequests, float64(r.requests), r.name, r.kind)
		if v := versionOf[k]; v != "" {
			e.values(sourceFamilies.targetInfo, 1, r.name, r.kind, v, clusterOf[r.name])
		}
		if t, ok := res.lastSuccess[k]; ok {
			e.values(sourceFamilies.targetLastSuccess, float64(t.UnixNano())/float64(time.Second), r.name, r.kind)
		}
	}
	for k, v := range res.errorCounts {
		e.values(sourceFamilies.targetErrors, v, k.target, k.kind, k.reason)
	}
	e.values(sourceFamilies.scrapeDuration, res.duration.Seconds())
}
