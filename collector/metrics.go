package collector

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// namespace is the prefix of every metric the exporter exports
// (METRICS.md). Build info uses it too: proxmox_backup_exporter_build_info.
const namespace = "proxmox_backup"

// Label sets shared by several families. Keeping them in one place makes
// the contract of METRICS.md visible at a glance.
var (
	guestLabels      = []string{"cluster", "backup_type", "backup_id"}
	groupLabels      = []string{"repository", "cluster", "backup_type", "backup_id"}
	targetLabels     = []string{"target", "kind"}
	datastoreLabels  = []string{"target", "datastore"}
	pbsJobLabels     = []string{"target", "datastore", "job_type", "job_id"}
	pveStorageLabels = []string{"cluster", "storage", "node"}
)

// family is one metric family of the collector: its client_golang
// descriptor, for Describe and Collect, and what the emitter needs to build
// its series' label pairs once for every family sharing them (series.go).
type family struct {
	desc      *prometheus.Desc
	name      string
	valueType prometheus.ValueType
	// labels are the variable label names in the order values are given.
	labels []string
	// sorted are the label names sorted, the order client_golang keeps
	// label pairs in, and order[i] is the index in labels of sorted[i].
	sorted []string
	order  []int
}

// allFamilies lists every family, in the order they are declared, for
// Describe. newFamily adds to it, so a family cannot be left out.
var allFamilies []*family

func newFamily(valueType prometheus.ValueType, name, help string, labels ...string) *family {
	fq := prometheus.BuildFQName(namespace, "", name)
	f := &family{
		desc: prometheus.NewDesc(fq, help, labels, nil),
		name: fq, valueType: valueType, labels: labels,
		order: make([]int, len(labels)),
	}
	for i := range f.order {
		f.order[i] = i
	}
	slices.SortFunc(f.order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	for _, i := range f.order {
		f.sorted = append(f.sorted, labels[i])
	}
	allFamilies = append(allFamilies, f)
	return f
}

func newDesc(name, help string, labels ...string) *family {
	return newFamily(prometheus.GaugeValue, name, help, labels...)
}
