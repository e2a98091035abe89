package collector

import (
	"context"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
)

// DefaultTargetConcurrency is how many API requests the exporter keeps in
// flight per target. Enough to make a scrape about as long as its slowest
// request, few enough that a 20-node cluster (whose node calls all go
// through one pveproxy) or a PBS serving backups is not hammered. It is the
// config's default, which the clients enforce too: one number, whichever
// way a target was built.
const DefaultTargetConcurrency = config.DefaultMaxConcurrency

// limiter bounds the requests in flight to one target. It is shared by every
// scrape of the collector, so even overlapping scrapes (a joiner whose
// coalesced fetch outlived it, a --check run) stay within the bound.
type limiter struct {
	sem chan struct{}
}

func newLimiter(n int) *limiter {
	if n < 1 {
		n = 1
	}
	return &limiter{sem: make(chan struct{}, n)}
}

// do runs fn once a slot is free, or returns the context's error when the
// deadline passes first: a request that never started must not outlive the
// scrape.
func (l *limiter) do(ctx context.Context, fn func() error) error {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l.sem }()
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn()
}
