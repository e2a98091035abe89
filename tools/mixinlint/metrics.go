package mixinlint

import (
	"bufio"
	"io"
	"regexp"
	"strings"
)

// PrometheusMetrics are series Prometheus itself writes for every target or
// rule; the mixin may use them without the exporter exporting them.
var PrometheusMetrics = []string{
	"up", "scrape_duration_seconds", "scrape_samples_scraped",
	"scrape_samples_post_metric_relabeling", "scrape_series_added",
	"ALERTS", "ALERTS_FOR_STATE",
}

var expositionName = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)`)

// MetricsFromExposition returns the metric names in a Prometheus text
// exposition (the exporter's golden file): sample names plus the names in
// # HELP / # TYPE lines, so a family whose samples the golden test filters
// out as non-deterministic still counts as exported.
func MetricsFromExposition(r io.Reader) (map[string]bool, error) {
	names := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			f := strings.Fields(line)
			if len(f) >= 3 && (f[1] == "HELP" || f[1] == "TYPE") {
				names[f[2]] = true
			}
			continue
		}
		if m := expositionName.FindString(line); m != "" {
			names[m] = true
		}
	}
	return names, sc.Err()
}

var (
	backticked = regexp.MustCompile("`([a-zA-Z_:][a-zA-Z0-9_:]*)`")
)

// MetricsFromContract returns the metric names of the metrics contract
// (METRICS.md): every backticked name with the given prefix. A shorthand
// like "`proxmox_backup_datastore_size_bytes`, `_used_bytes`" on the same
// line expands against the preceding full name: the shorthand's underscore
// components replace as many trailing components of that name.
func MetricsFromContract(r io.Reader, prefix string) (map[string]bool, error) {
	names := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		last := ""
		for _, m := range backticked.FindAllStringSubmatch(sc.Text(), -1) {
			w := m[1]
			switch {
			case strings.HasPrefix(w, prefix) && !strings.HasSuffix(w, "_") && len(w) > len(prefix):
				names[w] = true
				last = w
			case strings.HasPrefix(w, "_") && last != "":
				suffix := strings.Split(strings.TrimPrefix(w, "_"), "_")
				parts := strings.Split(last, "_")
				if len(parts) > len(suffix) {
					names[strings.Join(parts[:len(parts)-len(suffix)], "_")+w] = true
				}
			}
		}
	}
	return names, sc.Err()
}
