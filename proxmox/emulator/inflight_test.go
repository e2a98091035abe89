package emulator

import (
	"sync"
	"testing"
	"time"
)

// TestMaxInFlight: concurrent slow requests to one target are counted at
// their peak, per target, over every node's listener of a cluster.
func TestMaxInFlight(t *testing.T) {
	s := startHomelab(t)
	s.SetFault(Fault{Target: "homelab", Kind: Slow, Delay: 200 * time.Millisecond})
	var wg sync.WaitGroup
	for _, node := range []string{"pve1", "pve2", "pve3"} {
		wg.Go(func() { pve(t, s, "homelab", node, "/version", nil) })
	}
	wg.Wait()
	if got := s.MaxInFlight("homelab"); got != 3 {
		t.Errorf("MaxInFlight(homelab) = %d, want 3", got)
	}
	if got := s.MaxInFlight("pbs1"); got != 0 {
		t.Errorf("MaxInFlight(pbs1) = %d, want 0", got)
	}
	s.ResetMaxInFlight()
	pbs(t, s, "pbs1", "/version", nil)
	if got, hl := s.MaxInFlight("pbs1"), s.MaxInFlight("homelab"); got != 1 || hl != 0 {
		t.Errorf("after reset: pbs1 %d, homelab %d; want 1 and 0", got, hl)
	}
}
