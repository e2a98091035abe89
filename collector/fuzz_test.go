package collector

import (
	"math"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// FuzzScrapeTimeout: whatever a client sends as
// X-Prometheus-Scrape-Timeout-Seconds, the scrape gets a positive budget no
// longer than what the header asked for (or the default when the header is
// unusable), so a hostile or broken header can neither make a scrape
// unbounded nor zero.
func FuzzScrapeTimeout(f *testing.F) {
	for _, s := range []string{"10", "0.5", "9.75", "0", "-1", "NaN", "Inf", "1e309", "1e-9", "abc", "", " 10", "0x10", "30s"} {
		f.Add(s, int64(500*time.Millisecond))
	}
	f.Fuzz(func(t *testing.T, header string, offsetNanos int64) {
		const def = 30 * time.Second
		// Options.applyDefaults makes the offset non-negative.
		offset := max(time.Duration(offsetNanos), 0)
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.Header["X-Prometheus-Scrape-Timeout-Seconds"] = []string{header}
		got := ScrapeTimeout(r, offset, def)
		if got <= 0 {
			t.Fatalf("header %q offset %v: budget %v", header, offset, got)
		}
		secs, err := strconv.ParseFloat(header, 64)
		if err != nil || !(secs > 0) || math.IsInf(secs, 0) {
			if got != def {
				t.Fatalf("unusable header %q: budget %v, want the default %v", header, got, def)
			}
			return
		}
		if got > MaxScrapeTimeout || float64(got) > secs*float64(time.Second)+1 {
			t.Fatalf("header %q: budget %v exceeds what was asked or the cap", header, got)
		}
	})
}

// TestScrapeTimeoutHostileHeaders pins the cases the fuzzer found: "NaN"
// made the budget about 292 years, a huge number overflowed it.
func TestScrapeTimeoutHostileHeaders(t *testing.T) {
	const def, offset = 30 * time.Second, 500 * time.Millisecond
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"NaN", def}, {"Inf", def}, {"-Inf", def}, {"1e309", def}, {"-3", def}, {"", def},
		{"1e12", MaxScrapeTimeout - offset}, {"601", MaxScrapeTimeout - offset},
		{"10", 9500 * time.Millisecond}, {"0.25", 250 * time.Millisecond},
	} {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", tc.header)
		if got := ScrapeTimeout(r, offset, def); got != tc.want {
			t.Errorf("header %q: %v, want %v", tc.header, got, tc.want)
		}
	}
}
