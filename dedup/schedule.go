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
// Times are taken as UTC wall clock, so daylight-saving shifts are ignored:
// the result is the nominal interval (24 h for "daily"), which is what an
// alert threshold wants. No clock is read.
//
// Schedules come from PVE and PBS API answers, i.e. untrusted input, so the
// work per schedule is bounded whatever the text says: the text is at most
// maxScheduleLen bytes, every field is a fixed-size bit set (a range is set
// word-wise, a repetition in at most 115 steps, years past lastYear are
// not stored), and the interval is computed from the bit sets (times of day
// analytically, days once per kind of year) instead of by enumerating
// runs. The worst schedules cost microseconds and a few small allocations
// (BenchmarkShortestInterval, TestShortestIntervalBoundedWork); before,
// "*:*:*" built an 86,400-entry slice and every dated schedule an
// 8,030-entry year map, milliseconds per call.

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// maxScheduleLen bounds the schedule text. Real schedules are a few dozen
// bytes; the limit leaves room for long comma lists while bounding the
// parsing work and the size of error messages, which quote the text.
const maxScheduleLen = 256

// The years a schedule's runs are looked for in. Year values up to 9999
// parse (as in proxmox-time) but only this window is walked: a schedule
// restricted to years outside it runs fewer than twice as far as the
// interval is concerned. The Gregorian weekday/date pattern repeats every
// 28 years between 1901 and 2099, so 29 years from walkFirstYear show
// every gap of a schedule without a year restriction.
const (
	firstYear     = 1970
	lastYear      = 2199
	walkFirstYear = 2000
	walkYears     = 29
)

// valueSet is a bit set of a field's values, bit i standing for the
// field's smallest value + i: room for the 230 years firstYear..lastYear,
// and the other fields use the first word.
type valueSet [(lastYear - firstYear + 64) / 64]uint64

// addRange adds every step-th bit from lo to hi (bit indexes, hi at most
// the set's last bit): word-wise for step 1, else at most 230/2 steps.
func (s *valueSet) addRange(lo, hi, step int) {
	if step > 1 {
		for i := lo; i <= hi; i += step {
			s[i/64] |= 1 << (i % 64)
		}
		return
	}
	for w := lo / 64; w <= hi/64; w++ {
		a, b := max(lo, w*64)-w*64, min(hi, w*64+63)-w*64 // bits a..b of word w
		s[w] |= (^uint64(0) >> (63 - b)) &^ (1<<a - 1)
	}
}

func (s *valueSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }

// Schedule is a parsed calendar event. Every field is a bit set, so a
// Schedule is a small comparable value whatever the text was.
type Schedule struct {
	// weekdays: bit 0 = Monday ... bit 6 = Sunday (proxmox-time order).
	weekdays uint8
	// restrictYears is set when the schedule names years; years then
	// holds those within firstYear..lastYear.
	restrictYears bool
	years         valueSet // bit y-firstYear
	months        uint16   // bits 1..12
	days          uint32   // bits 1..31
	hours         uint32   // bits 0..23
	minutes       uint64   // bits 0..59
	seconds       uint64   // bits 0..59
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

// ParseSchedule parses a calendar event. Text longer than maxScheduleLen
// bytes (after trimming spaces) is rejected without being looked at.
func ParseSchedule(s string) (Schedule, error) {
	text := strings.TrimSpace(s)
	if text == "" {
		return Schedule{}, errors.New("empty schedule")
	}
	if len(text) > maxScheduleLen {
		return Schedule{}, fmt.Errorf("schedule too long: %d bytes, at most %d", len(text), maxScheduleLen)
	}
	s, text = text, strings.ToLower(text) // errors quote the bounded text
	if kw, ok := scheduleKeywords[text]; ok {
		text = kw
	}
	fields := strings.Fields(text)
	sc := Schedule{months: 0x1ffe, days: 0xfffffffe}
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
		sc.hours, sc.minutes, sc.seconds = 1, 1, 1
	}
	if len(fields) > 0 {
		return Schedule{}, fmt.Errorf("schedule %q: unexpected %q", s, fields[0])
	}
	return sc, nil
}

func parseWeekdays(spec string) (uint8, error) {
	var set uint8
	for item := range strings.SplitSeq(spec, ",") {
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
			set |= 1 << d
			if d == end {
				break
			}
		}
	}
	return set, nil
}

func (sc *Schedule) parseDate(spec string) error {
	parts := strings.Split(spec, "-")
	switch len(parts) {
	case 2:
	case 3:
		years, all, err := parseComponent(parts[0], firstYear, 9999, lastYear)
		if err != nil {
			return fmt.Errorf("years: %w", err)
		}
		if !all {
			sc.restrictYears, sc.years = true, years
		}
		parts = parts[1:]
	default:
		return fmt.Errorf("invalid date %q", spec)
	}
	months, _, err := parseComponent(parts[0], 1, 12, 12)
	if err != nil {
		return fmt.Errorf("months: %w", err)
	}
	days, _, err := parseComponent(parts[1], 1, 31, 31)
	if err != nil {
		return fmt.Errorf("days: %w", err)
	}
	sc.months, sc.days = uint16(months[0]<<1), uint32(days[0]<<1) // bit v = value v
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
	h, _, err := parseComponent(hours, 0, 23, 23)
	if err != nil {
		return fmt.Errorf("hours: %w", err)
	}
	m, _, err := parseComponent(minutes, 0, 59, 59)
	if err != nil {
		return fmt.Errorf("minutes: %w", err)
	}
	sec, _, err := parseComponent(seconds, 0, 59, 59)
	if err != nil {
		return fmt.Errorf("seconds: %w", err)
	}
	sc.hours, sc.minutes, sc.seconds = uint32(h[0]), m[0], sec[0]
	return nil
}

// parseComponent parses one field (comma list of *, v, a..b, v/r, a..b/r,
// */r) whose values must lie within [lowest, highest] and returns the set of its
// values up to limit (bit v-lowest for value v): values above limit are valid
// but never looked at (years after lastYear), so no item costs more than
// a few word operations or (limit-lowest)/2 steps. It reports whether the
// field is a plain "*".
func parseComponent(spec string, lowest, highest, limit int) (set valueSet, all bool, err error) {
	if spec == "" {
		return set, false, errors.New("empty field")
	}
	num := func(s string) (int, error) {
		if s == "" || len(s) > 4 {
			return 0, fmt.Errorf("invalid number %q", s)
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || s[0] == '+' || s[0] == '-' {
			return 0, fmt.Errorf("invalid number %q", s)
		}
		if v < lowest || v > highest {
			return 0, fmt.Errorf("value %d out of range %d..%d", v, lowest, highest)
		}
		return v, nil
	}
	for item := range strings.SplitSeq(spec, ",") {
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			s, err := strconv.Atoi(stepText)
			if err != nil || s < 1 || s > highest-lowest+1 || len(stepText) > 4 {
				return set, false, fmt.Errorf("invalid repetition %q", item)
			}
			step = s
		}
		var start, end int
		switch {
		case rng == "*":
			start, end = lowest, highest
			if !hasStep {
				all = true
			}
		case strings.Contains(rng, ".."):
			a, b, _ := strings.Cut(rng, "..")
			if start, err = num(a); err != nil {
				return set, false, err
			}
			if end, err = num(b); err != nil {
				return set, false, err
			}
			if end < start {
				return set, false, fmt.Errorf("range %q ends before it starts", rng)
			}
		default:
			if start, err = num(rng); err != nil {
				return set, false, err
			}
			end = start
			if hasStep {
				end = highest
			}
		}
		if start <= limit {
			set.addRange(start-lowest, min(end, limit)-lowest, step)
		}
	}
	return set, all, nil
}

// ShortestInterval returns the shortest time in seconds between two
// consecutive runs of the schedule. It is an error when the schedule runs
// fewer than twice.
//
// A schedule's runs on one matching day are its times of day, so the
// shortest gap is either between two times on one day or between the last
// run of a matching day and the first run of the next matching day: the
// latter is shortest where matching days are closest. Both are computed
// from the bit sets without enumerating runs.
func (sc Schedule) ShortestInterval() (int64, error) {
	tod, ok := sc.timesOfDay()
	if !ok {
		return 0, errors.New("schedule has no time of day")
	}
	first, last := walkFirstYear, walkFirstYear+walkYears-1
	if sc.restrictYears {
		first, last = lastYear+1, firstYear-1
		for y := firstYear; y <= lastYear; y++ {
			if sc.years.has(y - firstYear) {
				first, last = min(first, y), max(last, y)
			}
		}
	}
	gap, matching := sc.closestDays(first, last)
	if matching == 0 || (matching == 1 && tod.count == 1) {
		return 0, errors.New("schedule runs fewer than twice")
	}
	best := tod.minGap // 0 when the day has a single run
	if matching > 1 {
		if cross := gap*86400 + tod.first - tod.last; best == 0 || cross < best {
			best = cross
		}
	}
	return best, nil
}

// dayTimes summarises a schedule's times of day.
type dayTimes struct {
	first, last int64 // seconds since midnight of the first and last run
	minGap      int64 // shortest gap between two runs on one day, 0 with a single run
	count       int   // runs per day
}

// timesOfDay computes the times of day analytically. The runs of a day are
// the product hours x minutes x seconds in lexicographic (= numeric) order,
// so consecutive runs differ in the seconds only, or step from the last
// second of one minute to the first of the next matching minute, or from
// the last minute:second of one hour to the first of the next hour.
func (sc Schedule) timesOfDay() (dayTimes, bool) {
	if sc.hours == 0 || sc.minutes == 0 || sc.seconds == 0 {
		return dayTimes{}, false
	}
	h0, h1, hGap := bitSpan(uint64(sc.hours))
	m0, m1, mGap := bitSpan(sc.minutes)
	s0, s1, sGap := bitSpan(sc.seconds)
	t := dayTimes{
		first: h0*3600 + m0*60 + s0,
		last:  h1*3600 + m1*60 + s1,
		count: bits.OnesCount32(sc.hours) * bits.OnesCount64(sc.minutes) * bits.OnesCount64(sc.seconds),
	}
	consider := func(g int64) {
		if t.minGap == 0 || g < t.minGap {
			t.minGap = g
		}
	}
	if sGap > 0 {
		consider(sGap)
	}
	if mGap > 0 {
		consider(mGap*60 - (s1 - s0))
	}
	if hGap > 0 {
		consider(hGap*3600 - (m1*60 + s1 - m0*60 - s0))
	}
	return t, true
}

// bitSpan returns the lowest and highest set bit of a non-zero set and the
// smallest distance between two set bits (0 with one bit): the smallest g
// for which the set overlaps itself shifted by g, at most 63 steps and one
// for a dense set.
func bitSpan(set uint64) (lo, hi, gap int64) {
	lo, hi = int64(bits.TrailingZeros64(set)), int64(63-bits.LeadingZeros64(set))
	for g := int64(1); g <= hi-lo; g++ {
		if set&(set>>g) != 0 {
			return lo, hi, g
		}
	}
	return lo, hi, 0
}

// yearDays summarises the matching days of one kind of year.
type yearDays struct {
	first, last int64 // day of the year (0-based) of the first and last matching day
	minGap      int64 // shortest distance in days between matching days, 0 with one
	count       int
}

// closestDays returns the shortest distance in days between two
// consecutive matching days in the years first..last (of those the
// schedule allows) and how many days match, capped at 2 once a distance
// is known (the caller only tells 0, 1 and more apart). Which days of a
// year match depends only on whether it is a leap year and on the weekday
// of its 1 January, so each of those 14 kinds of year is scanned once (a
// month at a time, with bit masks) and the walk over the years is one step
// per year: at most 230 steps and 14 x 12 month scans whatever the
// schedule. It stops early at a distance of one day, the shortest there is.
func (sc Schedule) closestDays(first, last int) (gap int64, matching int) {
	var kinds [14]yearDays
	var scanned [14]bool
	prevDay := int64(-1) // days since first-01-01 of the last matching day
	start := int64(0)    // days since first-01-01 of this year's 1 January
	// Weekday of first-01-01, Monday = 0: 1970-01-01 was a Thursday (3).
	wd := (daysFromEpoch(first) + 3) % 7
	for y := first; y <= last; y++ {
		length := int64(365)
		kind := wd
		if isLeap(y) {
			length, kind = 366, 7+wd
		}
		if !sc.restrictYears || sc.years.has(y-firstYear) {
			if !scanned[kind] {
				kinds[kind], scanned[kind] = sc.scanYear(isLeap(y), wd), true
			}
			k := kinds[kind]
			if k.count > 0 {
				if prevDay >= 0 {
					if d := start + k.first - prevDay; gap == 0 || d < gap {
						gap = d
					}
				}
				if k.minGap > 0 && (gap == 0 || k.minGap < gap) {
					gap = k.minGap
				}
				matching = min(matching+k.count, 2)
				prevDay = start + k.last
				if gap == 1 {
					return gap, matching // no two days are closer
				}
			}
		}
		start += length
		wd = (wd + int(length)) % 7
	}
	return gap, matching
}

// scanYear finds the matching days of a year with the given leap-ness and
// weekday of 1 January (Monday = 0), a month at a time with bit masks.
func (sc Schedule) scanYear(leap bool, wd int) yearDays {
	// week has bit i set when weekday i%7 matches (i in 0..41): shifted
	// right by a month's first weekday and left by one, it is the mask of
	// the month's days (bit d = day d) falling on a matching weekday.
	w := uint64(sc.weekdays)
	week := w | w<<7 | w<<14 | w<<21 | w<<28 | w<<35
	var r yearDays
	y := 2001 // any common year; a leap year for leap ones
	if leap {
		y = 2000
	}
	dayOfYear := int64(0)
	for m := 1; m <= 12; m++ {
		n := daysIn(y, m)
		if sc.months&(1<<m) != 0 {
			monthDays := uint64(1)<<(n+1) - 2 // bits 1..n
			if match := uint64(sc.days) & (week >> wd << 1) & monthDays; match != 0 {
				lo, hi, gap := bitSpan(match)
				if r.count > 0 && (r.minGap == 0 || dayOfYear+lo-1-r.last < r.minGap) {
					r.minGap = dayOfYear + lo - 1 - r.last
				}
				if gap > 0 && (r.minGap == 0 || gap < r.minGap) {
					r.minGap = gap
				}
				if r.count == 0 {
					r.first = dayOfYear + lo - 1
				}
				r.last = dayOfYear + hi - 1
				r.count += bits.OnesCount64(match)
			}
		}
		dayOfYear += int64(n)
		wd = (wd + n) % 7
	}
	return r
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
