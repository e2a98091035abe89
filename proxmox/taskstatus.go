package proxmox

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// Task end-state classes (pve-common UPID.pm normalize_status_type, plus
// running and PBS's "unknown").
const (
	TaskOK      = "ok"
	TaskWarning = "warning"
	TaskError   = "error"
	TaskRunning = "running"
	TaskUnknown = "unknown"
)

var warningsRe = regexp.MustCompile(`^WARNINGS: ([0-9]{1,9})$`)

// ClassifyTaskStatus classifies a task's status text: "OK", "WARNINGS: n"
// (n returned), "RUNNING"/"running", PBS's "unknown" (the end state was
// lost); any other text is an error message. An empty status is an error
// of the caller (running tasks in the archive have none), so it is
// reported as such.
func ClassifyTaskStatus(s string) (class string, warnings int, err error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return "", 0, errors.New("empty task status")
	case t == "OK":
		return TaskOK, 0, nil
	case strings.EqualFold(t, "running") || t == "stopped: running":
		return TaskRunning, 0, nil
	case t == "unknown":
		return TaskUnknown, 0, nil
	}
	if m := warningsRe.FindStringSubmatch(t); m != nil {
		n, _ := strconv.Atoi(m[1]) // at most 9 digits
		return TaskWarning, n, nil
	}
	return TaskError, 0, nil
}

// TaskSucceeded reports whether a task status means the work was done:
// OK or WARNINGS (REFERENCE.md: WARNINGS means all guests done).
func TaskSucceeded(status string) bool {
	c, _, err := ClassifyTaskStatus(status)
	return err == nil && (c == TaskOK || c == TaskWarning)
}
