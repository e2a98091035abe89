package proxmox

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// TestFailoverLogsOnce: requests in flight together when the first URL
// dies all fail over, but the switch is logged once, not once per request
// (issue 8: one log line per failure).
func TestFailoverLogsOnce(t *testing.T) {
	srv := newServer(t, nil, okHandler(`{"data":[{"node":"pve2","status":"online"}]}`))
	tg := pinned(t, "pve", refusedURL(t), srv.URL)
	tg.MaxConcurrency = 16
	c := mustPVE(t, tg)
	const n = 16
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			if _, err := c.Nodes(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if got := strings.Count(logOf(t).String(), "failed over to another URL"); got != 1 {
		t.Errorf("%d fail-over log lines for one switch, want 1:\n%s", got, logOf(t).String())
	}
	if c.ActiveURL() != srv.URL {
		t.Errorf("active URL %s, want %s", c.ActiveURL(), srv.URL)
	}
	// Later requests go straight to the working URL and log nothing more.
	if _, err := c.Nodes(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(logOf(t).String(), "failed over to another URL"); got != 1 {
		t.Errorf("%d fail-over log lines after a request on the new URL, want 1", got)
	}
}
