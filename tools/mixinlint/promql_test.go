package mixinlint

import (
	"reflect"
	"testing"
)

func TestMetricNames(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want []string
	}{
		{"plain selector", `up{job="proxmox-backup"}`, []string{"up"}},
		{"label values are not metrics", `foo{a="bar baz", b=~"x|y"}`, []string{"foo"}},
		{"braces inside strings", `foo{a="}bar{"} + baz`, []string{"baz", "foo"}},
		{"functions and durations", `predict_linear(avail_bytes[6h], 7 * 86400) < 0`, []string{"avail_bytes"}},
		{"grouping lists", `sum by (cluster, state) (a) / on (cluster) group_left (name) b`, []string{"a", "b"}},
		{"set operators and bool", `a and on(x) b or c unless d == bool 1`, []string{"a", "b", "c", "d"}},
		{"recording rule names", `cluster:proxmox_backup_guests:count{state="fresh"}`, []string{"cluster:proxmox_backup_guests:count"}},
		{"grafana variables", `increase(x_total{target=~"$target"}[$__rate_interval]) * $scale`, []string{"x_total"}},
		{"label_values", `label_values(proxmox_backup_guest_info{job="j"}, cluster)`, []string{"proxmox_backup_guest_info"}},
		{"label_values with matchers", `label_values(ds_size{job="j", target=~"$pbs"}, datastore)`, []string{"ds_size"}},
		{"numbers with exponents and hex", `a > 1e3 and b < 0x1F and c > .5`, []string{"a", "b", "c"}},
		{"time and vector are functions", `time() - ts or vector(0)`, []string{"ts"}},
		{"offset keyword", `a offset 1d`, []string{"a"}},
		{"newline before paren", "sum\n(a)", []string{"a"}},
		{"keywords case-insensitive", `a AND b`, []string{"a", "b"}},
		{"nothing", `vector(1)`, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MetricNames(tt.expr)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("MetricNames(%q) = %q, want %q", tt.expr, got, tt.want)
			}
		})
	}
}
