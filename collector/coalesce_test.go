package collector

import (
	"context"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCoalescerSharesOneFetch: N concurrent callers, one fetch, one result.
func TestCoalescerSharesOneFetch(t *testing.T) {
	var c coalescer[int]
	var calls atomic.Int64
	release := make(chan struct{})
	started := make(chan struct{})
	fn := func(context.Context) int {
		if calls.Add(1) == 1 {
			close(started)
		}
		<-release
		return 42
	}
	const n = 20
	results := make(chan int, n)
	var wg sync.WaitGroup
	wg.Go(func() { v, _, _ := c.do(context.Background(), fn); results <- v })
	<-started
	for range n - 1 {
		wg.Go(func() { v, _, _ := c.do(context.Background(), fn); results <- v })
	}
	deadline := time.After(5 * time.Second)
	for c.joined.Load() < n-1 {
		select {
		case <-deadline:
			t.Fatalf("only %d of %d callers joined", c.joined.Load(), n-1)
		default:
			runtime.Gosched()
		}
	}
	close(release)
	wg.Wait()
	close(results)
	for v := range results {
		if v != 42 {
			t.Fatalf("got %d", v)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("%d fetches for %d concurrent callers, want 1", calls.Load(), n)
	}
	// After the flight, a new caller fetches afresh: nothing is cached.
	c.do(context.Background(), func(context.Context) int { calls.Add(1); return 1 })
	if calls.Load() != 2 {
		t.Fatal("a finished fetch was reused")
	}
}

// TestCoalescerCallerDeadline: a caller whose deadline passes gets ok=false
// while the fetch goes on (bounded by the first caller's deadline).
func TestCoalescerCallerDeadline(t *testing.T) {
	var c coalescer[int]
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, ok := c.do(ctx, func(fctx context.Context) int {
		if fctx.Err() != nil {
			t.Error("the fetch inherited the caller's cancellation")
		}
		<-release
		return 1
	})
	if ok {
		t.Fatal("a cancelled caller got ok")
	}
	close(release)
}

// TestScrapeTimeout: the header minus the offset, else the default.
func TestScrapeTimeout(t *testing.T) {
	cases := []struct {
		header string
		offset time.Duration
		want   time.Duration
	}{
		{"", 500 * time.Millisecond, 30 * time.Second},
		{"10", 500 * time.Millisecond, 9500 * time.Millisecond},
		{"2.5", 0, 2500 * time.Millisecond},
		{"0.2", 500 * time.Millisecond, 200 * time.Millisecond},
		{"junk", 500 * time.Millisecond, 30 * time.Second},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/metrics", nil)
		if tc.header != "" {
			r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", tc.header)
		}
		if got := ScrapeTimeout(r, tc.offset, 30*time.Second); got != tc.want {
			t.Errorf("header %q offset %v: %v, want %v", tc.header, tc.offset, got, tc.want)
		}
	}
}
