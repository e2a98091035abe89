package dedup

import "testing"

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
	} {
		if v, err := ShortestInterval(s); err == nil {
			t.Errorf("%q: want an error, got %d", s, v)
		}
	}
}
