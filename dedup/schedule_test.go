package dedup

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestShortestInterval(t *testing.T) {
	const (
		minute = 60
		hour   = 3600
	)
	tests := []struct {
		schedule string
		want     int64
	}{
		// Samples from /cluster/backup and PBS job configs.
		{"daily", day},
		{"hourly", hour},
		{"minutely", minute},
		{"weekly", 7 * day},
		{"monthly", 28 * day}, // February
		{"yearly", 365 * day},
		{"quarterly", 90 * day}, // Jan 1 -> Apr 1 in a common year
		{"semiannually", 181 * day},
		{"21:00", day},
		{"21:04", day},
		{"06,18:30", 12 * hour},
		{"mon..fri 22:30", day},
		{"sat 03:00", 7 * day},
		{"fri 09:00", 7 * day},
		{"sun 01:00", 7 * day},
		{"sat,sun 02:00", day},
		{"mon,thu 02:00", 3 * day},
		{"*/6:00", 6 * hour},
		{"*:0/15", 15 * minute},
		{"0/15", 15 * minute}, // minutes only: every hour
		{"5", hour},
		{"8..17:00", hour},
		{"8..17/3:00", 3 * hour},
		{"0,12:00,30", 30 * minute},
		{"02:00:00", day},
		{"*:*:0/20", 20},
		{"sat..mon 03:00", day}, // wraps over the weekend
		{"*-*-01 00:00", 28 * day},
		{"*-*-01,15 03:00", 14 * day},    // 1st -> 15th; Feb 15 -> Mar 1 in a common year
		{"mon *-*-1..7 02:00", 28 * day}, // first Monday of the month
		{"2024..2025-01-01", 366 * day},
		{"*-01,12-01,03,31 00:00", day},               // Dec 31 -> Jan 1 across the year, after Jan 1 -> 3 within it
		{"mon,wed,fri 06:00", 2 * day},                // no two consecutive days
		{"*-02-29 00:00", (4*365 + 1) * day},          // leap days: 2000 -> 2004
		{"2096..2104-02-29 00:00", (8*365 + 1) * day}, // 2100 is no leap year
		{"0,23:59:59", hour},                          // 23:59:59 -> 00:59:59 across midnight
		{"  Daily  ", day},
		{"MON..FRI 22:30", day},
	}
	for _, tc := range tests {
		t.Run(tc.schedule, func(t *testing.T) {
			got, err := ShortestInterval(tc.schedule)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if got != tc.want {
				t.Errorf("got %d s, want %d s", got, tc.want)
			}
		})
	}
}

func TestShortestIntervalErrors(t *testing.T) {
	for _, s := range []string{
		"", "every tuesday", "25:00", "12:60", "mon..funday 02:00", "*/0:00", "1..0:00",
		"2024-01-01 00:00", // runs once
		"*-02-30",          // never
		"12:00 13:00", "*-*-*-* 00:00", "-5:00", "+5:00", "mon,,tue", "12::00", "1/:00",
		"2200..9999-*-* 00:00",          // parses, but no run within the years looked at
		"0" + strings.Repeat(",0", 128), // 257 bytes: too long
		strings.Repeat("*:*:* ", 1<<20), // 6 MiB
	} {
		v, err := ShortestInterval(s)
		if err == nil {
			t.Errorf("%.40q: want an error, got %d", s, v)
			continue
		}
		// Errors end up in logs and on /status: they quote at most the
		// bounded schedule text, never a huge input.
		if len(err.Error()) > maxScheduleErrorLen {
			t.Errorf("%.40q: error of %d bytes", s, len(err.Error()))
		}
	}
	// The length limit applies after trimming: padding is no error.
	if v, err := ShortestInterval(strings.Repeat(" ", 1<<20) + "daily" + strings.Repeat("\t", 1<<20)); err != nil || v != day {
		t.Errorf("padded daily: %d, %v", v, err)
	}
}

// TestShortestIntervalBoundedWork pins what makes adversarial schedules
// cheap, deterministically (BenchmarkShortestInterval shows the time):
// parsing fills fixed-size bit sets, so no call allocates more than a few
// small objects however many values, years or runs the schedule names.
// Before, "daily" built an 8,030-entry year map (592 KB) and "*:*:*" an
// 86,400-entry slice of run times (3.2 MB) on every call.
func TestShortestIntervalBoundedWork(t *testing.T) {
	for _, bc := range scheduleBenchCases {
		t.Run(bc.name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(10, func() { _, _ = ShortestInterval(bc.schedule) })
			if allocs > 6 {
				t.Errorf("%d allocations per call", int(allocs))
			}
		})
	}
}

// TestShortestIntervalMatchesEnumeration checks the analytical interval
// against the obvious algorithm (enumerate every run second of the day and
// every day of the years looked at, take the smallest gap between
// consecutive runs) on the table cases, the benchmark cases and random
// schedules drawn from the whole grammar.
func TestShortestIntervalMatchesEnumeration(t *testing.T) {
	var schedules []string
	for _, bc := range scheduleBenchCases {
		schedules = append(schedules, bc.schedule)
	}
	schedules = append(schedules, "daily", "weekly", "monthly", "yearly", "quarterly", "semiannually",
		"mon,thu 02:00", "*-*-01,15 03:00", "2024..2025-01-01", "2199-12-31 23:59:59", "1970-01-01 00:00:00,30",
		"fri 1970,2199-*-13 12:00", "2000/28-02-29 00:00", "sat..mon 03:00")
	rng := rand.New(rand.NewPCG(1, 2))
	n := 300
	if testing.Short() {
		n = 50
	}
	for range n {
		schedules = append(schedules, randomSchedule(rng))
	}
	valid := 0
	for _, s := range schedules {
		sc, err := ParseSchedule(s)
		if err != nil {
			continue
		}
		got, gotErr := sc.ShortestInterval()
		want, wantOK := enumeratedInterval(sc)
		if wantOK {
			valid++
		}
		if (gotErr == nil) != wantOK || got != want {
			t.Errorf("%q: got %d (%v), enumeration %d (runs twice: %v)", s, got, gotErr, want, wantOK)
		}
	}
	// The generator must mostly produce schedules that run: else the
	// comparison would hardly compare.
	if valid < len(schedules)/2 {
		t.Errorf("only %d of %d schedules run twice", valid, len(schedules))
	}
	t.Logf("%d of %d schedules run twice", valid, len(schedules))
}

// enumeratedInterval is the reference, the obvious algorithm: list every
// run second of a day, walk every day of the years looked at, and take the
// smallest gap between consecutive runs (within a matching day, or from
// one matching day's last run to the next one's first).
func enumeratedInterval(sc Schedule) (int64, bool) {
	var tod []int64
	for t := range 86400 {
		h, m, s := t/3600, t/60%60, t%60
		if sc.hours&(1<<h) != 0 && sc.minutes&(1<<m) != 0 && sc.seconds&(1<<s) != 0 {
			tod = append(tod, int64(t))
		}
	}
	if len(tod) == 0 {
		return 0, false
	}
	best := int64(-1)
	for i := 1; i < len(tod); i++ {
		if best < 0 || tod[i]-tod[i-1] < best {
			best = tod[i] - tod[i-1]
		}
	}
	first, last := walkFirstYear, walkFirstYear+walkYears-1
	if sc.restrictYears {
		first, last = firstYear, lastYear
	}
	matching, prev, day := 0, int64(-1), int64(0)
	wd := (daysFromEpoch(first) + 3) % 7
	for y := first; y <= last; y++ {
		for m := 1; m <= 12; m++ {
			for d := 1; d <= daysIn(y, m); d++ {
				if (!sc.restrictYears || sc.years.has(y-firstYear)) && sc.months&(1<<m) != 0 &&
					sc.days&(1<<d) != 0 && sc.weekdays&(1<<wd) != 0 {
					matching++
					if gap := (day-prev)*86400 + tod[0] - tod[len(tod)-1]; prev >= 0 && (best < 0 || gap < best) {
						best = gap
					}
					prev = day
				}
				day++
				wd = (wd + 1) % 7
			}
		}
	}
	if matching == 0 || best < 0 {
		return 0, false
	}
	return best, true
}

// randomSchedule draws a schedule from the calendar-event grammar, mostly
// valid, with values near the fields' edges.
func randomSchedule(r *rand.Rand) string {
	field := func(lo, hi int) string {
		var items []string
		for range 1 + r.IntN(3) {
			a := lo + r.IntN(hi-lo+1)
			b := a + r.IntN(hi-a+1)
			switch r.IntN(6) {
			case 0:
				items = append(items, "*")
			case 1:
				items = append(items, fmt.Sprintf("*/%d", 1+r.IntN(hi-lo+1)))
			case 2:
				items = append(items, fmt.Sprintf("%d..%d", a, b))
			case 3:
				items = append(items, fmt.Sprintf("%d..%d/%d", a, b, 1+r.IntN(hi-lo+1)))
			case 4:
				items = append(items, fmt.Sprintf("%d/%d", a, 1+r.IntN(hi-lo+1)))
			default:
				items = append(items, fmt.Sprint(a))
			}
		}
		return strings.Join(items, ",")
	}
	var parts []string
	if r.IntN(3) == 0 {
		days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
		w := days[r.IntN(7)]
		if r.IntN(2) == 0 {
			w += ".." + days[r.IntN(7)]
		}
		if r.IntN(3) == 0 {
			w += "," + days[r.IntN(7)]
		}
		parts = append(parts, w)
	}
	switch r.IntN(4) {
	case 0:
		years := field(1970, 2210)
		if r.IntN(4) == 0 {
			years = fmt.Sprint(1970 + r.IntN(240))
		}
		parts = append(parts, years+"-"+field(1, 12)+"-"+field(1, 31))
	case 1:
		parts = append(parts, field(1, 12)+"-"+field(1, 31))
	}
	switch r.IntN(4) {
	case 0:
		parts = append(parts, field(0, 59))
	case 1:
		parts = append(parts, field(0, 23)+":"+field(0, 59))
	case 2:
		parts = append(parts, field(0, 23)+":"+field(0, 59)+":"+field(0, 59))
	}
	if len(parts) == 0 {
		return "daily"
	}
	return strings.Join(parts, " ")
}

// TestValueSetAddRange checks the word-wise range fill against setting the
// bits one by one, for every range of the years' set.
func TestValueSetAddRange(t *testing.T) {
	const bits = lastYear - firstYear + 1
	for _, step := range []int{1, 2, 7, 64, 229} {
		for lo := range bits {
			for hi := lo; hi < bits; hi++ {
				var got, want valueSet
				got.addRange(lo, hi, step)
				for i := lo; i <= hi; i += step {
					want[i/64] |= 1 << (i % 64)
				}
				if got != want {
					t.Fatalf("addRange(%d, %d, %d) = %x, want %x", lo, hi, step, got, want)
				}
			}
		}
	}
}

// maxScheduleErrorLen bounds a schedule error: it quotes the schedule and
// the offending part, at most maxScheduleLen bytes each, and %q writes a
// byte as at most 4 ("\x18").
const maxScheduleErrorLen = 2*4*maxScheduleLen + 100

// scheduleBenchCases are realistic schedules (from PVE backup jobs and PBS
// job configs) and adversarial ones (the worst a hostile or broken API
// answer can send within the length limit).
var scheduleBenchCases = []struct{ name, schedule string }{
	{"daily", "daily"},
	{"weekdays", "mon..fri 22:30"},
	{"every15min", "*:0/15"},
	{"firstMonday", "mon *-*-1..7 02:00"},
	{"everySecond", "*:*:*"},
	{"everySecondStep", "*:*:0/1"},
	{"allYears", "1970..9999-*-* 00:00"},
	{"allYearsStep", "1970/1-*-* *:*:*"},
	{"leapDaysAllYears", "1970..9999-02-29 00:00"},
	{"sparseAllYears", "sun 1970..9999-02-29 00:00"},
	{"yearRanges", "1970..9999" + strings.Repeat(",1970..9999", 21) + "-*-* 00:00"},
	{"manyItems", strings.TrimSuffix(strings.Repeat("0..59,", 42), ",")},
	{"never", "1970..9999-02-30 00:00"},
}

func BenchmarkShortestInterval(b *testing.B) {
	for _, bc := range scheduleBenchCases {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_, _ = ShortestInterval(bc.schedule)
			}
		})
	}
}

func FuzzShortestInterval(f *testing.F) {
	for _, s := range []string{
		"daily", "hourly", "weekly", "monthly", "21:00", "21:04", "06,18:30", "mon..fri 22:30", "sat 03:00",
		"sat 15:00", "sun 03:00", "fri 09:00", "*/6:00", "*:0/15", "sun 01:00", "0/15", "8..17/3:00",
		"*-*-01 00:00", "2024..2025-01-01", "sat..mon", "", "*:*:*", "mon,,", "1..",
		"1970..9999-*-* *:*:*", "sun 1970..9999-02-29", "*:*:0/1", // adversarial: see testdata/fuzz/FuzzShortestInterval
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Past the length limit every input takes the same path (rejected
		// before parsing; TestShortestIntervalErrors covers huge ones), and
		// the fuzzer's minimization of an "interesting" input is quadratic
		// in its length: a 1.3 KB one kept both workers minimizing, not
		// fuzzing, for most of a run, and made the run end inside a
		// minimization ("context deadline exceeded").
		if !utf8.ValidString(s) || len(s) > maxScheduleLen+8 {
			return
		}
		v, err := ShortestInterval(s)
		if err == nil && (v < 1 || v > 231*366*day) { // years are walked within 1970..2199
			t.Fatalf("%q -> %d s", s, v)
		}
		// Errors quote at most the bounded schedule text, whatever the input.
		if err != nil && len(err.Error()) > maxScheduleErrorLen {
			t.Fatalf("%.40q: error of %d bytes", s, len(err.Error()))
		}
	})
}
