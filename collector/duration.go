package collector

// durationDesc is how long a guest's newest backup took. Together with
// guest_expected_interval_seconds it tells a backup window overrun (the
// mixin's alert): a backup that takes longer than its job's interval runs
// into the next run.
var durationDesc = newDesc("guest_last_task_duration_seconds",
	"How long the guest's backup in its newest finished vzdump task took; absent when that backup failed or its log gives no duration.",
	guestLabels...)

// emitGuestDuration exports t's duration when the task's judgement
// (dedup.GuestTaskResults) could time the guest's backup.
func emitGuestDuration(e *emitter, t guestTask, l *labelSet) {
	if t.Timed {
		e.gauge(durationDesc, float64(t.Seconds), l)
	}
}
