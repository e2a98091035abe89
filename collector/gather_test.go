package collector

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func familiesText(t *testing.T, mfs []*dto.MetricFamily) string {
	t.Helper()
	var sb strings.Builder
	for _, mf := range mfs {
		sb.WriteString(mf.String())
		sb.WriteString("\n")
	}
	return sb.String()
}

// TestMergedGatherer: the exporter's own metrics and a scrape's come out
// exactly as prometheus.Gatherers gives them, names apart or shared, with
// the same errors.
func TestMergedGatherer(t *testing.T) {
	gauge := func(reg *prometheus.Registry, name string, labels map[string]string) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "h", ConstLabels: labels})
		g.Set(1)
		reg.MustRegister(g)
	}
	broken := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		return nil, prometheus.MultiError{errors.New("boom")}
	})
	cases := []struct {
		name         string
		base, scrape func() prometheus.Gatherer
	}{
		{"disjoint", func() prometheus.Gatherer {
			r := prometheus.NewRegistry()
			gauge(r, "z_own", nil)
			gauge(r, "a_own", nil)
			return r
		}, func() prometheus.Gatherer {
			r := prometheus.NewRegistry()
			gauge(r, "m_scrape", map[string]string{"x": "1"})
			return r
		}},
		{"shared name", func() prometheus.Gatherer {
			r := prometheus.NewRegistry()
			gauge(r, "same", map[string]string{"x": "1"})
			return r
		}, func() prometheus.Gatherer {
			r := prometheus.NewRegistry()
			gauge(r, "same", map[string]string{"x": "2"})
			gauge(r, "other", nil)
			return r
		}},
		{"error", func() prometheus.Gatherer { return broken }, func() prometheus.Gatherer {
			r := prometheus.NewRegistry()
			gauge(r, "m", nil)
			return r
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, gotErr := mergedGatherer{tc.base(), tc.scrape()}.Gather()
			want, wantErr := prometheus.Gatherers{tc.base(), tc.scrape()}.Gather()
			if g, w := familiesText(t, got), familiesText(t, want); g != w {
				t.Errorf("families:\n%s\nprometheus.Gatherers:\n%s", g, w)
			}
			if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
				t.Errorf("error %v, prometheus.Gatherers %v", gotErr, wantErr)
			}
		})
	}
}
