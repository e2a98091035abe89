package emulator

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// The tests talk plain net/http to the emulator on purpose: they check the
// emulator against the real products' behaviour, independent of our client.

var testNow = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

func startHomelab(t testing.TB) *Server {
	t.Helper()
	s, err := Start(Homelab(testNow))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// resp is a raw answer.
type resp struct {
	status int
	reason string // status line text after the code
	ctype  string
	body   []byte
	err    error
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	if r.err != nil {
		t.Fatalf("request failed: %v", r.err)
	}
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("status %d: invalid JSON %q: %v", r.status, truncateStr(string(r.body), 200), err)
	}
	return v
}

// rows returns the "data" list of a 200 answer.
func (r resp) rows(t testing.TB) []map[string]any {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d %s: %s", r.status, r.reason, truncateStr(string(r.body), 300))
	}
	data, ok := r.json(t)["data"].([]any)
	if !ok {
		t.Fatalf("data is not a list: %s", truncateStr(string(r.body), 300))
	}
	out := make([]map[string]any, len(data))
	for i, d := range data {
		out[i], _ = d.(map[string]any)
	}
	return out
}

// obj returns the "data" object of a 200 answer.
func (r resp) obj(t testing.TB) map[string]any {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d %s: %s", r.status, r.reason, truncateStr(string(r.body), 300))
	}
	o, ok := r.json(t)["data"].(map[string]any)
	if !ok {
		t.Fatalf("data is not an object: %s", truncateStr(string(r.body), 300))
	}
	return o
}

func truncateStr(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func insecureClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test client; fingerprints are tested separately
			DisableKeepAlives: true,
		},
	}
}

func doGet(ctx context.Context, hc *http.Client, base, path string, q url.Values, auth string) resp {
	u := base + "/api2/json" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return resp{err: err}
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	r, err := hc.Do(req)
	if err != nil {
		return resp{err: err}
	}
	defer r.Body.Close()
	body, err := io.ReadAll(r.Body)
	reason := r.Status
	if len(reason) > 4 {
		reason = reason[4:]
	}
	return resp{status: r.StatusCode, reason: reason, ctype: r.Header.Get("Content-Type"), body: body, err: err}
}

func pveAuth(s *Server, cluster string) string {
	id, secret := s.PVEToken(cluster)
	return "PVEAPIToken=" + id + "=" + secret
}

func pbsAuth(s *Server, pbs string) string {
	id, secret := s.PBSToken(pbs)
	return "PBSAPIToken=" + id + ":" + secret
}

// pve GETs path on a node of a cluster.
func pve(t testing.TB, s *Server, cluster, node, path string, q url.Values) resp {
	t.Helper()
	base := s.PVEURL(cluster, node)
	if base == "" {
		t.Fatalf("no node %s/%s", cluster, node)
	}
	return doGet(context.Background(), insecureClient(20*time.Second), base, path, q, pveAuth(s, cluster))
}

// pbs GETs path on a PBS.
func pbs(t testing.TB, s *Server, name, path string, q url.Values) resp {
	t.Helper()
	return doGet(context.Background(), insecureClient(20*time.Second), s.PBSURL(name), path, q, pbsAuth(s, name))
}

func qv(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func num(m map[string]any, k string) int64 {
	f, _ := m[k].(float64)
	return int64(f)
}
