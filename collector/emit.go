package collector

import (
	"time"
)

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
		e.values(descs.targetUp, boolFloat(r.up()), r.name, r.kind)
		e.values(descs.targetDuration, r.duration.Seconds(), r.name, r.kind)
		e.values(descs.targetRequests, float64(r.requests), r.name, r.kind)
		if v := versionOf[k]; v != "" {
			e.values(descs.targetInfo, 1, r.name, r.kind, v, clusterOf[r.name])
		}
		if t, ok := res.lastSuccess[k]; ok {
			e.values(descs.targetLastSuccess, float64(t.UnixNano())/float64(time.Second), r.name, r.kind)
		}
	}
	for k, v := range res.errorCounts {
		e.values(descs.targetErrors, v, k.target, k.kind, k.reason)
	}
	e.values(descs.scrapeDuration, res.duration.Seconds())
}
