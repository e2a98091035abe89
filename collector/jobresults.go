package collector

import (
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// jobResultFamily tells a PBS job's success, warnings and failure apart:
// pbs_job_last_run_success counts warnings as success (the work was done),
// which hides them from a dashboard.
var jobResultFamily = newDesc("pbs_job_last_run_result",
	"Result of the PBS job's last run: 1 for the current state (ok, warning = done with warnings, failed = PBS's error text), 0 for the others; absent while it never ran, runs, or PBS lost the end state.",
	append(append([]string{}, pbsJobLabels...), "state")...)

// emitJobResult exports one job's last result, as success (a run with
// warnings did its work) and as the state-set; l are the job's
// pbsJobLabels values. A state that says nothing of the outcome (PBS's
// "unknown": the end state was lost) exports neither: unknown is not a
// failure.
func emitJobResult(e *emitter, j pbsJob, l []string) {
	result := proxmox.JobResult(j.LastState)
	if result == "" {
		return
	}
	e.values(datastoreFamilies.pbsJobLastSuccess, boolFloat(result != proxmox.JobResultFailed), l...)
	for _, s := range proxmox.JobResults {
		e.values(jobResultFamily, boolFloat(s == result), append(l[:len(l):len(l)], s)...)
	}
}
