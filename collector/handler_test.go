package collector

import (
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// fixedHandler is Handler's pipeline serving res instead of a scrape.
func fixedHandler(c *Collector, res *scrapeResult, base []prometheus.Collector) http.Handler {
	g := newScrapeGatherer(func(context.Context) prometheus.Collector { return resultCollector{c, res} }, base...)
	opts := promhttp.HandlerOpts{ErrorLog: slogErrorLog{c.logger}, ErrorHandling: promhttp.ContinueOnError}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		promhttp.HandlerFor(g.forRequest(r.Context()), opts).ServeHTTP(w, r)
	})
}

// decodeFamilies decodes an answer in whatever format it negotiated.
func decodeFamilies(t *testing.T, rec *httptest.ResponseRecorder) map[string]*dto.MetricFamily {
	t.Helper()
	var body io.Reader = rec.Body
	if rec.Header().Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		body = zr
	}
	dec := expfmt.NewDecoder(body, expfmt.ResponseFormat(rec.Header()))
	out := map[string]*dto.MetricFamily{}
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decoding %s: %v", rec.Header().Get("Content-Type"), err)
		}
		for _, m := range mf.Metric {
			// Only protobuf carries a summary's creation time.
			if s := m.GetSummary(); s != nil {
				s.CreatedTimestamp = nil
			}
		}
		out[mf.GetName()] = &mf
	}
	return out
}

// TestHandlerFormats: /metrics answers every format and compression a
// scraper negotiates with the same families: the scrape's and the
// exporter's own, escaping, special values and invalid UTF-8 (repaired)
// included; a series emitted twice (a bug) is dropped and logged, and every
// other series is still served.
func TestHandlerFormats(t *testing.T) {
	logs := &logBuffer{}
	c := newTestCollector(Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	h := fixedHandler(c, oddResult(), fixedBase())
	serve := func(path string, headers ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s %v: HTTP %d: %s", path, headers, w.Code, w.Body)
		}
		return w
	}
	plain := serve("/metrics")
	if ct := plain.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want text", ct)
	}
	body := plain.Body.String()
	for _, want := range []string{
		`name="bad` + "\uFFFD" + `utf8` + "\uFFFD" + `"`,
		`name="quote\"back\\slash\nnewline"`,
		`tags="a\"b;c\\d"`,
		"# HELP go_goroutines Help with \\\\ and\\nnewline.",
		"proxmox_backup_last_size_bytes{backup_id=\"0\",backup_type=\"vm\",cluster=\"homelab\",repository=\"x\"} 9.007199254740992e+15",
		"proxmox_backup_target_scrape_duration_seconds{kind=\"pbs\",target=\"pbs1\"} 9.223372036854776e+09",
		"process_nan NaN",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("text exposition lacks %s", want)
		}
	}
	if !strings.Contains(logs.String(), "collected before with the same name and label values") {
		t.Errorf("the duplicate series was not logged: %s", logs)
	}
	want := decodeFamilies(t, plain)
	guests := want["proxmox_backup_guest_info"]
	if guests == nil || len(guests.Metric) != 22 {
		t.Fatalf("guest_info: %v, want 22 series (the duplicate dropped)", guests)
	}
	if want["go_gc_duration_seconds"].GetType() != dto.MetricType_SUMMARY || want["proxmox_backup_target_errors_total"].GetType() != dto.MetricType_COUNTER {
		t.Fatal("summary or counter lost its type")
	}

	for name, headers := range map[string][]string{
		"protobuf": {"Accept", string(expfmt.NewFormat(expfmt.TypeProtoDelim))},
		"gzip":     {"Accept-Encoding", "gzip"},
		"prometheus": {"Accept", "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
			"Accept-Encoding", "gzip"},
	} {
		t.Run(name, func(t *testing.T) {
			rec := serve("/metrics", headers...)
			got := decodeFamilies(t, rec)
			if len(got) != len(want) {
				t.Fatalf("%d families, text has %d", len(got), len(want))
			}
			for n, mf := range want {
				if got[n].String() != mf.String() {
					t.Fatalf("%s differs from the text exposition:\n%s\n%s", n, got[n], mf)
				}
			}
		})
	}

	t.Run("name filter", func(t *testing.T) {
		got := decodeFamilies(t, serve("/metrics?name[]=proxmox_backup_guest_info&name[]=go_goroutines"))
		if len(got) != 2 || got["proxmox_backup_guest_info"] == nil || got["go_goroutines"] == nil {
			t.Fatalf("families %v, want guest_info and go_goroutines", keysOf(got))
		}
	})
}

func keysOf(m map[string]*dto.MetricFamily) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
