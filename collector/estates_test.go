package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/collector/config"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// emulatedEstate starts a homelab emulator and returns it with the estate
// a user would configure for it.
func emulatedEstate(t *testing.T, name string) (*emulator.Server, config.Estate) {
	t.Helper()
	srv, err := emulator.Start(emulator.Homelab(homelabNow))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, dir: t.TempDir()}
	cfg := e.config(trustPin, trustPin)
	return srv, config.Estate{Name: name, PVE: cfg.PVE, PBS: cfg.PBS}
}

// probe serves one /probe request through h with Prometheus' timeout
// header, within ctx.
func probe(ctx context.Context, h http.Handler, query string, timeout time.Duration) *httptest.ResponseRecorder {
	r := httptest.NewRequestWithContext(ctx, "GET", "/probe?"+query, nil)
	r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", timeout.String()[:len(timeout.String())-1])
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

const pbsUp = `proxmox_backup_target_up{kind="pbs",target="pbs1"}`

// TestProbeIsolatesEstates: while estate a's PBS hangs (and a's probe
// waits for it), estate b's probe answers with b's sources up; a's probe
// ends only when Prometheus gives up on it, with its PBS down.
func TestProbeIsolatesEstates(t *testing.T) {
	srvA, a := emulatedEstate(t, "a")
	_, b := emulatedEstate(t, "b")
	es, err := NewEstates(&config.Config{Source: "test", Estates: []config.Estate{a, b}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := es.ProbeHandler()

	srvA.SetFault(emulator.Fault{Target: "pbs1", Kind: emulator.Hang})
	srvA.ResetMaxInFlight()
	ctxA, giveUp := context.WithCancel(context.Background())
	defer giveUp()
	doneA := make(chan *httptest.ResponseRecorder, 1)
	go func() { doneA <- probe(ctxA, h, "estate=a", 5*time.Minute) }()
	// Every request to a's PBS hangs: once one is in flight, a's scrape
	// is stuck on it until a's deadline or a's client gives up.
	for srvA.MaxInFlight("pbs1") == 0 {
		select {
		case w := <-doneA:
			t.Fatalf("probe a answered before its PBS was asked anything: HTTP %d", w.Code)
		case <-time.After(time.Millisecond):
		}
	}

	start := time.Now()
	wb := probe(context.Background(), h, "estate=b", 30*time.Second)
	tookB := time.Since(start)
	if wb.Code != http.StatusOK {
		t.Fatalf("probe b: HTTP %d: %s", wb.Code, wb.Body.String())
	}
	expectLines(t, wb.Body.String(), pbsUp, pbsUp+" 1")
	expectLines(t, wb.Body.String(), `proxmox_backup_target_up{kind="pve"`, `proxmox_backup_target_up{kind="pve",target="homelab"} 1`)
	select {
	case <-doneA:
		t.Fatal("probe a answered while its PBS hangs: the hang was not exercised")
	default:
	}
	t.Logf("probe of estate b took %v while estate a's PBS hung", tookB)

	giveUp()
	wa := <-doneA
	expectLines(t, wa.Body.String(), pbsUp, pbsUp+" 0")
	// The exporter's own metrics are on /metrics, not on /probe.
	if strings.Contains(wb.Body.String(), "go_goroutines") {
		t.Error("/probe carries the exporter's own Go metrics")
	}
}

// TestProbeUnknownEstate: a missing or unknown estate is a 400 that does
// not name the configured estates (acme's name is not in the answers); /metrics of a config without a default estate
// has the exporter's own metrics and no estate's series.
func TestProbeUnknownEstate(t *testing.T) {
	_, a := emulatedEstate(t, "acme")
	es, err := NewEstates(&config.Config{Source: "test", Estates: []config.Estate{a}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string]string{
		"":               "missing estate parameter: want /probe?estate=NAME, NAME an estate of the configuration file",
		"estate=initech": `unknown estate "initech": not an estate of the configuration file`,
		"estate=default": `unknown estate "default": not an estate of the configuration file`,
	} {
		w := probe(context.Background(), es.ProbeHandler(), query, time.Second)
		if w.Code != http.StatusBadRequest || strings.TrimSpace(w.Body.String()) != want {
			t.Errorf("/probe?%s: HTTP %d %q, want 400 %q", query, w.Code, w.Body.String(), want)
		}
	}
	w := httptest.NewRecorder()
	es.StatusHandler().ServeHTTP(w, httptest.NewRequest("GET", "/status", nil))
	if w.Code != http.StatusBadRequest {
		t.Errorf("/status without a default estate: HTTP %d, want 400", w.Code)
	}

	w = probe(context.Background(), es.Handler(promhttp.HandlerOpts{}, noCollector{}), "", 10*time.Second)
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "proxmox_backup_") {
		t.Errorf("/metrics without a default estate: HTTP %d, want 200 without estate series:\n%s", w.Code, w.Body.String())
	}
}

// TestEstatesReload: a reload adds, keeps and removes estates without a
// restart. A kept estate keeps its collector; a removed estate's collector
// and PBS cache become garbage; a default estate added by the reload is
// served on /metrics at the next scrape.
func TestEstatesReload(t *testing.T) {
	_, a := emulatedEstate(t, "a")
	_, b := emulatedEstate(t, "b")
	es, err := NewEstates(&config.Config{Source: "test", Estates: []config.Estate{a, b}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	metrics := es.Handler(promhttp.HandlerOpts{})
	if body := probe(context.Background(), metrics, "", 10*time.Second).Body.String(); strings.Contains(body, pbsUp) {
		t.Fatalf("/metrics serves an estate while none is the default:\n%s", body)
	}
	for _, name := range []string{"a", "b"} {
		w := probe(context.Background(), es.ProbeHandler(), "estate="+name, 10*time.Second)
		expectLines(t, w.Body.String(), pbsUp, pbsUp+" 1")
	}
	ca, _ := es.Get("a")
	cb, _ := es.Get("b")
	cb.pbsCache.mu.Lock()
	n := cb.pbsCache.groups
	cb.pbsCache.mu.Unlock()
	if n == 0 {
		t.Fatal("estate b's PBS cache is empty after a scrape; the test would prove nothing")
	}
	weakB, weakCache := weak.Make(cb), weak.Make(cb.pbsCache)
	cb = nil

	// b removed, a kept, the default estate added (b's sources).
	if err := es.ApplyConfig(&config.Config{Source: "test", PVE: b.PVE, PBS: b.PBS, Estates: []config.Estate{a}}); err != nil {
		t.Fatal(err)
	}
	if got, want := es.Names(), []string{config.DefaultEstate, "a"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if c, _ := es.Get("a"); c != ca {
		t.Error("estate a got a new collector although it stayed: its caches were lost")
	}
	if w := probe(context.Background(), es.ProbeHandler(), "estate=b", time.Second); w.Code != http.StatusBadRequest {
		t.Errorf("/probe?estate=b after b's removal: HTTP %d, want 400", w.Code)
	}
	expectLines(t, probe(context.Background(), metrics, "", 10*time.Second).Body.String(), pbsUp, pbsUp+" 1")

	for i := 0; i < 10 && (weakB.Value() != nil || weakCache.Value() != nil); i++ {
		runtime.GC()
	}
	if weakB.Value() != nil || weakCache.Value() != nil {
		t.Error("the removed estate's collector or PBS cache is still referenced after the reload")
	}

	// A config whose estate cannot be set up changes nothing.
	bad := a
	bad.PBS = []config.Target{{Name: "pbs1", URLs: []string{"https://pbs.example.org:8007"}, TLS: config.TLS{CAFile: "/nonexistent/ca.pem"}}}
	if err := es.ApplyConfig(&config.Config{Source: "test", Estates: []config.Estate{bad}}); err == nil {
		t.Error("ApplyConfig accepted an estate whose clients cannot be built")
	}
	if got := es.Names(); !slices.Equal(got, []string{config.DefaultEstate, "a"}) {
		t.Errorf("a failed reload changed the estates to %v", got)
	}
}
