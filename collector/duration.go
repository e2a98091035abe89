package collector

// durationDesc is how long a guest's newest backup took. Together with
// guest_expected_interval_seconds it tells a backup window overrun (the
// mixin's alert): a backup that takes longer than its job's interval runs
// into the next run.
var durationDesc = newDesc("guest_last_task_duration_seconds",
	"How long the guest's backup in its newest finished vzdump task took; absent when that backup failed or its log gives no duration.",
	guestLabels...)

// transferredDesc is what a guest's newest backup transferred, as its
// task log states it. Divided by guest_last_task_duration_seconds it is
// the backup's throughput; a series of its own would cost every user a
// series per guest for a division PromQL does.
var transferredDesc = newDesc("guest_last_task_transferred_bytes",
	"Bytes the guest's backup in its newest finished vzdump task transferred, as qemu's \"transferred\" log line states; absent when that backup failed or its log states no amount (lxc backups never do). Throughput: divide by guest_last_task_duration_seconds.",
	guestLabels...)

// emitGuestDuration exports t's duration when the task's judgement
// (dedup.GuestTaskResults) could time the guest's backup, and the amount
// it transferred when the log states one.
func emitGuestDuration(e *emitter, t guestTask, l *labelSet) {
	if t.Timed {
		e.gauge(durationDesc, float64(t.Seconds), l)
	}
	if t.Transferred {
		e.gauge(transferredDesc, float64(t.Bytes), l)
	}
}
