package collector

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// coalescer makes concurrent scrapes share one upstream fetch: while a fetch
// is in flight, every further scrape waits for its result instead of
// starting another. Nothing is cached beyond the in-flight window, so every
// scrape that starts after a fetch finished sees fresh data.
type coalescer[T any] struct {
	mu     sync.Mutex
	flight *flight[T]
	// joined counts callers that shared another's fetch (for tests and
	// debugging).
	joined atomic.Int64
	// exact runs fn with the first caller's deadline as it is, for work
	// that ends with the answer (gathering): the fetch's margin is taken
	// once, by the fetch.
	exact bool
}

type flight[T any] struct {
	done chan struct{}
	val  T
}

// fetchMargin is how much earlier than the caller's deadline the fetch
// must end: the time to merge the results and encode the answer. A tenth of
// the budget, at most 250 ms.
func fetchMargin(budget time.Duration) time.Duration {
	return min(budget/10, 250*time.Millisecond)
}

// do returns the result of the fetch in flight, or starts fn when none is.
// fn runs detached from the caller's cancellation (a Prometheus that hangs
// up must not abort the fetch other scrapes wait for) but keeps the first
// caller's deadline, so it never runs past the scrape timeout. shared is
// true when the caller joined another caller's fetch. A caller whose own
// context ends before the fetch does gets ok=false.
func (c *coalescer[T]) do(ctx context.Context, fn func(context.Context) T) (val T, shared, ok bool) {
	c.mu.Lock()
	f := c.flight
	if f == nil {
		f = &flight[T]{done: make(chan struct{})}
		c.flight = f
		c.mu.Unlock()
		fctx := context.WithoutCancel(ctx)
		cancel := context.CancelFunc(func() {})
		if dl, has := ctx.Deadline(); has {
			if !c.exact {
				dl = dl.Add(-fetchMargin(time.Until(dl)))
			}
			fctx, cancel = context.WithDeadline(fctx, dl)
		}
		go func() {
			defer cancel()
			f.val = fn(fctx)
			c.mu.Lock()
			c.flight = nil
			c.mu.Unlock()
			close(f.done)
		}()
	} else {
		shared = true
		c.joined.Add(1)
		c.mu.Unlock()
	}
	select {
	case <-f.done:
		return f.val, shared, true
	case <-ctx.Done():
		var zero T
		return zero, shared, false
	}
}
