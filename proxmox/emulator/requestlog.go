package emulator

// The request log: what the emulator answered, for tests and benchmarks
// that count requests by route.

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// ResetRequests clears the request log and the counters.
func (s *Server) ResetRequests() {
	s.reqMu.Lock()
	s.reqs = nil
	s.counts = map[string]int{}
	s.total = 0
	s.reqMu.Unlock()
}

// CountRequests returns how many requests matched route (a pattern such as
// "/admin/datastore/{store}/snapshots") since the last reset; "" counts
// all. Counting is always on and cheap.
func (s *Server) CountRequests(route string) int {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	if route == "" {
		return s.total
	}
	return s.counts[route]
}

// RequestCounts returns the per-route counters.
func (s *Server) RequestCounts() map[string]int {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// SetRequestLog switches the detailed request log on (default) or off;
// benchmarks switch it off and use CountRequests.
func (s *Server) SetRequestLog(on bool) {
	s.reqMu.Lock()
	s.noLog = !on
	s.reqMu.Unlock()
}

func (s *Server) record(rq Request) {
	s.reqMu.Lock()
	s.total++
	s.counts[rq.Route]++
	if !s.noLog {
		s.reqs = append(s.reqs, rq)
	}
	s.reqMu.Unlock()
}
