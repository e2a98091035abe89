package dedup

// This file parses the calendar-event schedules of PVE backup jobs and PBS
// jobs (a systemd.time-like format, see the PBS "Calendar Events" chapter)
// and computes the shortest time between two consecutive runs, which
// becomes a guest's expected backup interval.
//
// Format: [WEEKDAY] [[YEARS-]MONTHS-DAYS] [HOURS:MINUTES[:SECONDS]]
// Each field takes comma lists of values, ranges (a..b), repetitions (a/r,
// a..b/r, */r) and *. A time with one field is minutes (every hour), as in
// PVE's parser ("0/15" = every 15 minutes). A missing time means 00:00.
// Keywords: minutely, hourly, daily, weekly, monthly, yearly/annually,
// quarterly, semiannually/semi-annually.
//
// The interval is computed by walking calendar days (no clock is read):
// a schedule's runs on one matching day are its times of day, so the
// shortest gap is either between two times on one day or between the last
// run of a matching day and the first run of the next matching day. Times
// are taken as UTC wall clock, so daylight-saving shifts are ignored: the
// result is the nominal interval (24 h for "daily"), which is what an
// alert threshold wants.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Schedule is a parsed calendar event.
type Schedule struct {
	// weekdays: bit 0 = Monday ... bit 6 = Sunday (proxmox-time order).
	weekdays uint8
	// years restricts the year when not nil.
	years   map[int]bool
	months  [13]bool // 1..12
	days    [32]bool // 1..31
	hours   [24]bool
	minutes [60]bool
	seconds [60]bool
}

var scheduleKeywords = map[string]string{
	"minutely":      "*-*-* *:*:00",
	"hourly":        "*-*-* *:00:00",
	"daily":         "*-*-* 00:00:00",
	"weekly":        "mon *-*-* 00:00:00",
	"monthly":       "*-*-01 00:00:00",
	"yearly":        "*-01-01 00:00:00",
	"annually":      "*-01-01 00:00:00",
	"quarterly":     "*-01,04,07,10-01 00:00:00",
	"semiannually":  "*-01,07-01 00:00:00",
	"semi-annually": "*-01,07-01 00:00:00",
}

var weekdayNames = map[string]int{"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}

// ParseSchedule parses a calendar event.
func ParseSchedule(s string) (Schedule, error) {
	text := strings.ToLower(strings.TrimSpace(s))
	if text == "" {
		return Schedule{}, errors.New("empty schedule")
	}
	if len(text) > 256 {
		return Schedule{}, errors.New("schedule too long")
	}
	if kw, ok := scheduleKeywords[text]; ok {
		text = kw
	}
	fields := strings.Fields(text)
	var sc Schedule
	// Weekdays.
	if len(fields) > 0 && fields[0] != "" && fields[0][0] >= 'a' && fields[0][0] <= 'z' {
		wd, err := parseWeekdays(fields[0])
		if err != nil {
			return Schedule{}, fmt.Errorf("schedule %q: %w", s, err)
		}
		sc.weekdays = wd
		fields = fields[1:]
	} else {
		sc.weekdays = 0x7f
	}
	// Date.
	for i := 1; i <= 12; i++ {
		sc.months[i] = true
	}
	for i := 1; i <= 31; i++ {
		sc.days[i] = true
	}
	if len(fields) > 0 && strings.Contains(fields[0], "-") {
		if err := sc.parseDate(fields[0]); err != nil {
			return Schedule{}, fmt.Errorf("schedule %q: %w", s, err)
		}
		fields = fields[1:]
	}
	// Time.
	if len(fields) > 0 {
		if err := sc.parseTime(fields[0]); err != nil {
			return Schedule{}, fmt.Errorf("schedule %q: %w", s, err)
		}
		fields = fields[1:]
	} else {
		sc.hours[0], sc.minutes[0], sc.seconds[0] = true, true, true
	}
	if len(fields) > 0 {
		return Schedule{}, fmt.Errorf("schedule %q: unexpected %q", s, fields[0])
	}
	return sc, nil
}

func parseWeekdays(spec string) (uint8, error) {
	var bits uint8
	for _, item := range strings.Split(spec, ",") {
		a, b, isRange := strings.Cut(item, "..")
		start, ok := weekdayNames[a]
		if !ok {
			return 0, fmt.Errorf("unknown weekday %q", a)
		}
		end := start
		if isRange {
			if end, ok = weekdayNames[b]; !ok {
				return 0, fmt.Errorf("unknown weekday %q", b)
			}
		}
		// Ranges wrap around the end of the week as in proxmox-time
		// ("sat..mon" = sat, sun, mon).
		for d := start; ; d = (d + 1) % 7 {
			bits |= 1 << d
			if d == end {
				break
			}
		}
	}
	return bits, nil
}

func (sc *Schedule) parseDate(spec string) error {
	parts := strings.Split(spec, "-")
	switch len(parts) {
	case 2:
	case 3:
		years := map[int]bool{}
		all, err := parseComponent(parts[0], 1970, 9999, func(v int) { years[v] = true })
		if err != nil {
			return fmt.Errorf("years: %w", err)
		}
		if !all {
			sc.years = years
		}
		parts = parts[1:]
	default:
		return fmt.Errorf("invalid date %q", spec)
	}
	sc.months = [13]bool{}
	if _, err := parseComponent(parts[0], 1, 12, func(v int) { sc.months[v] = true }); err != nil {
		return fmt.Errorf("months: %w", err)
	}
	sc.days = [32]bool{}
	if _, err := parseComponent(parts[1], 1, 31, func(v int) { sc.days[v] = true }); err != nil {
		return fmt.Errorf("days: %w", err)
	}
	return nil
}

func (sc *Schedule) parseTime(spec string) error {
	parts := strings.Split(spec, ":")
	hours, minutes, seconds := "*", "", "0"
	switch len(parts) {
	case 1: // minutes only, every hour (PVE CalendarEvent.pm)
		minutes = parts[0]
	case 2:
		hours, minutes = parts[0], parts[1]
	case 3:
		hours, minutes, seconds = parts[0], parts[1], parts[2]
	default:
		return fmt.Errorf("invalid time %q", spec)
	}
	if _, err := parseComponent(hours, 0, 23, func(v int) { sc.hours[v] = true }); err != nil {
		return fmt.Errorf("hours: %w", err)
	}
	if _, err := parseComponent(minutes, 0, 59, func(v int) { sc.minutes[v] = true }); err != nil {
		return fmt.Errorf("minutes: %w", err)
	}
	if _, err := parseComponent(seconds, 0, 59, func(v int) { sc.seconds[v] = true }); err != nil {
		return fmt.Errorf("seconds: %w", err)
	}
	return nil
}

// parseComponent parses one field (comma list of *, v, a..b, v/r, a..b/r,
// */r) within [min, max], calling set for every value. It reports whether
// the field is a plain "*".
func parseComponent(spec string, min, max int, set func(int)) (all bool, err error) {
	if spec == "" {
		return false, errors.New("empty field")
	}
	num := func(s string) (int, error) {
		if s == "" || len(s) > 4 {
			return 0, fmt.Errorf("invalid number %q", s)
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || s[0] == '+' || s[0] == '-' {
			return 0, fmt.Errorf("invalid number %q", s)
		}
		if v < min || v > max {
			return 0, fmt.Errorf("value %d out of range %d..%d", v, min, max)
		}
		return v, nil
	}
	for _, item := range strings.Split(spec, ",") {
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			s, err := strconv.Atoi(stepText)
			if err != nil || s < 1 || s > max-min+1 || len(stepText) > 4 {
				return false, fmt.Errorf("invalid repetition %q", item)
			}
			step = s
		}
		var start, end int
		switch {
		case rng == "*":
			start, end = min, max
			if !hasStep {
				all = true
			}
		case strings.Contains(rng, ".."):
			a, b, _ := strings.Cut(rng, "..")
			if start, err = num(a); err != nil {
				return false, err
			}
			if end, err = num(b); err != nil {
				return false, err
			}
			if end < start {
				return false, fmt.Errorf("range %q ends before it starts", rng)
			}
		default:
			if start, err = num(rng); err != nil {
				return false, err
			}
			end = start
			if hasStep {
				end = max
			}
		}
		for v := start; v <= end; v += step {
			set(v)
		}
	}
	return all, nil
}

// Window of the day walk: the Gregorian weekday/date pattern repeats every
// 28 years between 1901 and 2099, so 29 years from 2000 show every gap of
// an unrestricted schedule. Schedules restricted to years are walked over
// their years (clamped to 1970..2199).
const (
	walkFirstYear = 2000
	walkYears     = 29
)

// ShortestInterval returns the shortest time in seconds between two
// consecutive runs of the schedule. It is an error when the schedule runs
// fewer than twice.
func (sc Schedule) ShortestInterval() (int64, error) {
	var tod []int64 // seconds since midnight, ascending
	for h := 0; h < 24; h++ {
		for m := 0; m < 60; m++ {
			for s := 0; s < 60; s++ {
				if sc.hours[h] && sc.minutes[m] && sc.seconds[s] {
					tod = append(tod, int64(h*3600+m*60+s))
				}
			}
		}
	}
	if len(tod) == 0 {
		return 0, errors.New("schedule has no time of day")
	}
	best := int64(math.MaxInt64)
	for i := 1; i < len(tod); i++ {
		best = min(best, tod[i]-tod[i-1])
	}
	first, last := walkFirstYear, walkFirstYear+walkYears-1
	if sc.years != nil {
		first, last = 9999, 0
		for y := range sc.years {
			if y >= 1970 && y <= 2199 {
				first, last = min(first, y), max(last, y)
			}
		}
	}
	matchingDays := 0
	prevDay := int64(-1)
	// dayIndex counts days from first-01-01; weekday of 1970-01-01 was a
	// Thursday (index 3 with Monday = 0).
	dayIndex := int64(0)
	wd := (daysFromEpoch(first) + 3) % 7
	for y := first; y <= last; y++ {
		for m := 1; m <= 12; m++ {
			n := daysIn(y, m)
			for d := 1; d <= n; d++ {
				if (sc.years == nil || sc.years[y]) && sc.months[m] && sc.days[d] && sc.weekdays&(1<<wd) != 0 {
					matchingDays++
					if prevDay >= 0 {
						best = min(best, (dayIndex-prevDay)*86400+tod[0]-tod[len(tod)-1])
					}
					prevDay = dayIndex
				}
				dayIndex++
				wd = (wd + 1) % 7
			}
		}
	}
	if matchingDays == 0 || (matchingDays == 1 && len(tod) == 1) {
		return 0, errors.New("schedule runs fewer than twice")
	}
	return best, nil
}

// ShortestInterval parses a schedule and returns its shortest interval
// between runs in seconds.
func ShortestInterval(schedule string) (int64, error) {
	sc, err := ParseSchedule(schedule)
	if err != nil {
		return 0, err
	}
	return sc.ShortestInterval()
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromEpoch returns the number of days from 1970-01-01 to y-01-01.
func daysFromEpoch(y int) int {
	n := 0
	for i := 1970; i < y; i++ {
		n += 365
		if isLeap(i) {
			n++
		}
	}
	return n
}
