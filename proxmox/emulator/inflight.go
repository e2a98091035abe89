package emulator

// flightBegin and flightEnd track the requests a target is answering at
// once; MaxInFlight reports the peak, so tests can assert that a client
// never has more requests in flight to one target than its bound.
func (s *Server) flightBegin(target string) {
	s.flightMu.Lock()
	defer s.flightMu.Unlock()
	if s.inFlight == nil {
		s.inFlight, s.maxFlight = map[string]int{}, map[string]int{}
	}
	s.inFlight[target]++
	s.maxFlight[target] = max(s.maxFlight[target], s.inFlight[target])
}

func (s *Server) flightEnd(target string) {
	s.flightMu.Lock()
	defer s.flightMu.Unlock()
	s.inFlight[target]--
}

// MaxInFlight returns the highest number of requests to target (a cluster,
// over all its nodes' listeners, or a PBS) answered at the same time since
// Start or the last ResetMaxInFlight.
func (s *Server) MaxInFlight(target string) int {
	s.flightMu.Lock()
	defer s.flightMu.Unlock()
	return s.maxFlight[target]
}

// ResetMaxInFlight restarts the peak count from the requests in flight now.
func (s *Server) ResetMaxInFlight() {
	s.flightMu.Lock()
	defer s.flightMu.Unlock()
	for k := range s.maxFlight {
		s.maxFlight[k] = s.inFlight[k]
	}
}
