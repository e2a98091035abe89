package collector

import (
	"fmt"
	"maps"
	"math/rand"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// The soak (issue 8): many scrapes against a homelab that keeps changing
// (backups added and pruned, verification results flipping, guests
// created and deleted, NFS files coming and going), with the metrics
// compared after every scrape to a ground truth computed from the
// emulator's model, independently of dedup, and heap and goroutines
// measured for flatness.
//
// The normal suite runs soakHeapScrapes scrapes, the fewest with which the
// heap check runs (about 4 s); PBE_SOAK=1 (or PBE_SOAK=<scrapes>) runs
// 1,000 scrapes:
//
//	PBE_SOAK=1 go test -run TestSoak -v ./collector/

func soakScrapes(t *testing.T) int {
	switch v := os.Getenv("PBE_SOAK"); v {
	case "":
		return soakHeapScrapes
	case "1":
		return 1000
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("PBE_SOAK=%q: want 1 or a number of scrapes", v)
		}
		return n
	}
}

// soakHeapScrapes is the fewest scrapes over which the heap check is
// meaningful: 90 scrapes past the warm-up, so that a leak of about 50 KiB
// per scrape (a forgotten listing, a cache that never drops a group)
// passes the check's margin of half the heap plus 4 MiB. Fewer scrapes (a
// PBE_SOAK=<n> below it) check the metrics and goroutines only.
const soakHeapScrapes = 100

// soakRefresh is the verification refresh of the soak: the odd iterations
// flip verification results and advance the clock by this much, so the
// cache must show them; the even ones change counts only and keep the
// clock, so the cache must notice the changed groups by itself.
const soakRefresh = 10 * time.Minute

func TestSoak(t *testing.T) {
	n := soakScrapes(t)
	e := startEnv(t, envSpec{opts: Options{Logger: quietLogger(), VerificationRefresh: soakRefresh}})
	// The emulator's request log grows with every request: off, so the
	// heap measures the exporter (and a model of constant size).
	e.srv.SetRequestLog(false)
	w := &soakWorld{e: e, rnd: rand.New(rand.NewSource(8)), nextVMID: 200}

	var heapStart, goStart, snapsStart int
	for i := 0; i < n; i++ {
		w.mutate(i)
		a := e.mustScrape(10 * time.Second)
		if problems := w.verify(parseExposition(a.body)); len(problems) > 0 {
			t.Fatalf("scrape %d: metrics differ from the model:\n%s", i, strings.Join(problems, "\n"))
		}
		if i == min(10, n-1) {
			// Warm: caches filled, the model at its working size.
			heapStart, goStart = measure(e)
			snapsStart = w.snapshotCount()
		}
	}
	heapEnd, goEnd := measure(e)
	t.Logf("%d scrapes: heap in use %.1f MiB after the warm-up, %.1f MiB at the end; goroutines %d -> %d; %d guests, %d PBS groups, %d cached groups, backups in the model %d -> %d",
		n, mib(heapStart), mib(heapEnd), goStart, goEnd, len(w.guestKeys()), w.groupCount(), e.coll.pbsCache.size(), snapsStart, w.snapshotCount())
	if goEnd > goStart {
		t.Errorf("goroutines grew from %d to %d", goStart, goEnd)
	}
	// The model itself stays the same size (adds and prunes balance), so
	// the heap must too; the margin absorbs allocator and GC noise.
	if n >= soakHeapScrapes && heapEnd > heapStart*3/2+4<<20 {
		t.Errorf("heap grew from %.1f MiB to %.1f MiB", mib(heapStart), mib(heapEnd))
	}
}

func mib(b int) float64 { return float64(b) / (1 << 20) }

// measure returns the live heap after a full GC and the settled number of
// goroutines, idle connections closed.
func measure(e *env) (heap, goroutines int) {
	e.closeIdle()
	goroutines = settledGoroutines()
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int(ms.HeapAlloc), goroutines
}

// soakWorld changes the running homelab and knows what the exporter must
// then say.
type soakWorld struct {
	e        *env
	rnd      *rand.Rand
	nextVMID int
	created  []int // guests the soak created, oldest first
	orphans  []soakGroup
}

type soakGroup struct{ typ, id string }

func (w *soakWorld) homelabNS(m *emulator.Model) *emulator.Namespace {
	return m.PBSServer(pbsTarget).Datastore("store1").Namespace("homelab")
}

// stamp is the time of a backup made now, like every real one: newer than
// any before it (the clock moves between count-changing iterations), so
// the groups listing's last-backup changes with it.
func (w *soakWorld) stamp(k int) time.Time {
	return w.e.clock().Add(-time.Minute + time.Duration(k)*time.Second)
}

func (w *soakWorld) mutate(i int) {
	if i == 0 {
		return // the first scrape checks the homelab as it is
	}
	w.e.srv.Update(func(m *emulator.Model) {
		c := m.Clusters[0]
		ns := w.homelabNS(m)
		if i%2 == 1 {
			// Verification results flip; the clock moves past the
			// refresh interval so cached details expire.
			for k := 0; k < 3; k++ {
				g := ns.Groups[w.rnd.Intn(len(ns.Groups))]
				s := &g.Snapshots[w.rnd.Intn(len(g.Snapshots))]
				if s.InProgress {
					continue
				}
				switch s.Verification {
				case "ok":
					s.Verification = "failed"
				case "failed":
					s.Verification = ""
				default:
					s.Verification = "ok"
				}
				s.VerifyUPID = ""
			}
			return
		}
		// A new backup in a random group, the oldest one pruned from
		// another group that has enough.
		g := ns.Groups[w.rnd.Intn(len(ns.Groups))]
		g.Snapshots = append(g.Snapshots, emulator.Snapshot{Time: w.stamp(0), Size: int64(1+w.rnd.Intn(9)) << 30, Verification: "ok"})
		prune := ns.Groups[w.rnd.Intn(len(ns.Groups))]
		if completed(prune) > 5 {
			oldest := -1
			for j, s := range prune.Snapshots {
				if !s.InProgress && (oldest < 0 || s.Time.Before(prune.Snapshots[oldest].Time)) {
					oldest = j
				}
			}
			prune.Snapshots = append(prune.Snapshots[:oldest], prune.Snapshots[oldest+1:]...)
		}
		// NFS: a new file for a pool guest, the oldest file of one pruned.
		nfs := c.Storage("nfs-backup")
		vmid := []int{104, 110}[w.rnd.Intn(2)]
		nfs.Files = append(nfs.Files, &emulator.BackupFile{VMID: vmid, Type: "lxc", Time: w.stamp(1), Size: 1 << 28})
		w.pruneFile(nfs, []int{104, 110}[w.rnd.Intn(2)])

		// Every 10th: a guest is created (with a first backup); every
		// 10th + 4: the oldest created guest is deleted, its group left
		// as an orphan (forgotten after a while, as an admin would).
		switch i % 10 {
		case 0:
			id := w.nextVMID
			w.nextVMID++
			typ, btype := "qemu", "vm"
			if w.rnd.Intn(2) == 0 {
				typ, btype = "lxc", "ct"
			}
			c.Guests = append(c.Guests, &emulator.Guest{VMID: id, Type: typ, Name: fmt.Sprintf("soak%d", id), Node: c.Nodes[w.rnd.Intn(len(c.Nodes))].Name})
			ng := ns.Group(btype, strconv.Itoa(id))
			ng.Snapshots = append(ng.Snapshots, emulator.Snapshot{Time: w.stamp(2), Size: 1 << 30})
			w.created = append(w.created, id)
		case 4:
			if len(w.created) == 0 {
				break
			}
			id := w.created[0]
			w.created = w.created[1:]
			g := c.Guest(id)
			c.RemoveGuest(id)
			w.orphans = append(w.orphans, soakGroup{dedupType(g.Type), strconv.Itoa(id)})
			if len(w.orphans) > 3 {
				ns.RemoveGroup(w.orphans[0].typ, w.orphans[0].id)
				w.orphans = w.orphans[1:]
			}
		}
	})
	if i%2 == 1 {
		w.e.advance(soakRefresh)
	}
}

func dedupType(guestType string) string {
	if guestType == "lxc" {
		return "ct"
	}
	return "vm"
}

func completed(g *emulator.Group) int {
	n := 0
	for _, s := range g.Snapshots {
		if !s.InProgress {
			n++
		}
	}
	return n
}

func (w *soakWorld) pruneFile(st *emulator.Storage, vmid int) {
	oldest, count := -1, 0
	for j, f := range st.Files {
		if f.VMID != vmid {
			continue
		}
		count++
		if oldest < 0 || f.Time.Before(st.Files[oldest].Time) {
			oldest = j
		}
	}
	if count > 5 {
		st.Files = append(st.Files[:oldest], st.Files[oldest+1:]...)
	}
}

func (w *soakWorld) guestKeys() []string {
	var out []string
	w.e.srv.Update(func(m *emulator.Model) {
		for _, g := range m.Clusters[0].Guests {
			out = append(out, dedupType(g.Type)+"/"+strconv.Itoa(g.VMID))
		}
	})
	return out
}

// snapshotCount counts every backup in the model (PBS snapshots and
// files), to show the model keeps its size.
func (w *soakWorld) snapshotCount() int {
	n := 0
	w.e.srv.Update(func(m *emulator.Model) {
		for _, ds := range m.PBSServer(pbsTarget).Datastores {
			for _, ns := range ds.Namespaces {
				for _, g := range ns.Groups {
					n += len(g.Snapshots)
				}
			}
		}
		for _, st := range m.Clusters[0].Storages {
			n += len(st.Files)
		}
	})
	return n
}

func (w *soakWorld) groupCount() int {
	n := 0
	w.e.srv.Update(func(m *emulator.Model) { n = len(w.homelabNS(m).Groups) })
	return n
}

// truth is what the exporter must export, computed from the model alone:
// per guest the distinct completed backup times over every place the
// cluster reaches (its PBS namespace, the NFS share, every node's local
// storage, the usb disk), and per group of the PBS namespace and the NFS
// share their own figures.
type truth struct {
	series map[string]string
	// families whose series must be exactly the truth's, none more.
	families map[string]bool
}

func (w *soakWorld) truth() truth {
	tr := truth{series: map[string]string{}, families: map[string]bool{}}
	set := func(name, labels, v string) {
		tr.series[name+"{"+labels+"}"] = v
		tr.families[name] = true
	}
	f := func(t time.Time) string { return strconv.FormatFloat(float64(t.Unix()), 'g', -1, 64) }
	w.e.srv.Update(func(m *emulator.Model) { // read under the model's lock
		c := m.Clusters[0]
		times := map[string]map[int64]bool{} // "vm/100" -> backup times
		add := func(key string, t time.Time) {
			if times[key] == nil {
				times[key] = map[int64]bool{}
			}
			times[key][t.Unix()] = true
		}
		inventory := map[string]bool{}
		for _, g := range c.Guests {
			inventory[dedupType(g.Type)+"/"+strconv.Itoa(g.VMID)] = true
		}
		for _, g := range w.homelabNS(m).Groups {
			key := g.Type + "/" + g.ID
			labels := fmt.Sprintf(`backup_id=%q,backup_type=%q,cluster="homelab",repository="pbs1:store1/homelab"`, g.ID, g.Type)
			var first, last time.Time
			n, failed, protected, inProgress := 0, 0, 0, false
			lastState := "none"
			for _, s := range g.Snapshots {
				if s.InProgress {
					inProgress = true
					continue
				}
				add(key, s.Time)
				n++
				if s.Verification == "failed" {
					failed++
				}
				if s.Protected {
					protected++
				}
				if first.IsZero() || s.Time.Before(first) {
					first = s.Time
				}
				if last.IsZero() || s.Time.After(last) {
					last = s.Time
					lastState = map[string]string{"": "none", "ok": "ok", "failed": "failed"}[s.Verification]
				}
			}
			set("proxmox_backup_snapshots", labels, strconv.Itoa(n))
			set("proxmox_backup_verify_failed_snapshots", labels, strconv.Itoa(failed))
			set("proxmox_backup_protected_snapshots", labels, strconv.Itoa(protected))
			set("proxmox_backup_in_progress", labels, map[bool]string{true: "1", false: "0"}[inProgress])
			if n > 0 {
				set("proxmox_backup_last_timestamp_seconds", labels, f(last))
				set("proxmox_backup_first_timestamp_seconds", labels, f(first))
			}
			for _, st := range []string{"failed", "none", "ok"} {
				set("proxmox_backup_last_verification", labels+fmt.Sprintf(",state=%q", st), map[bool]string{true: "1", false: "0"}[st == lastState])
			}
			if !inventory[key] && (g.Type == "vm" || g.Type == "ct") {
				set("proxmox_backup_group_orphaned", labels, "1")
			}
		}
		nfsGroups := map[string][]time.Time{}
		nfsProtected := map[string]int{}
		for _, st := range c.Storages {
			if !st.HasContent("backup") || st.Type == "pbs" {
				continue
			}
			for _, file := range st.Files {
				if file.InProgress {
					continue
				}
				key := dedupType(file.Type) + "/" + strconv.Itoa(file.VMID)
				add(key, file.Time)
				if st.ID == "nfs-backup" {
					nfsGroups[key] = append(nfsGroups[key], file.Time)
					if file.Protected {
						nfsProtected[key]++
					}
				}
			}
		}
		for key, ts := range nfsGroups {
			typ, id, _ := strings.Cut(key, "/")
			sort.Slice(ts, func(a, b int) bool { return ts[a].Before(ts[b]) })
			labels := fmt.Sprintf(`backup_id=%q,backup_type=%q,cluster="homelab",repository="homelab:nfs-backup"`, id, typ)
			set("proxmox_backup_snapshots", labels, strconv.Itoa(len(ts)))
			set("proxmox_backup_last_timestamp_seconds", labels, f(ts[len(ts)-1]))
			set("proxmox_backup_first_timestamp_seconds", labels, f(ts[0]))
			set("proxmox_backup_protected_snapshots", labels, strconv.Itoa(nfsProtected[key]))
			set("proxmox_backup_verify_failed_snapshots", labels, "0")
			set("proxmox_backup_in_progress", labels, "0")
			// File backups are never verified.
			for _, st := range []string{"failed", "none", "ok"} {
				set("proxmox_backup_last_verification", labels+fmt.Sprintf(",state=%q", st), map[bool]string{true: "1", false: "0"}[st == "none"])
			}
		}
		for key := range inventory {
			typ, id, _ := strings.Cut(key, "/")
			labels := fmt.Sprintf(`backup_id=%q,backup_type=%q,cluster="homelab"`, id, typ)
			set("proxmox_backup_guest_snapshots", labels, strconv.Itoa(len(times[key])))
			var newest int64
			for ts := range times[key] {
				newest = max(newest, ts)
			}
			if newest > 0 {
				set("proxmox_backup_guest_last_timestamp_seconds", labels, strconv.FormatFloat(float64(newest), 'g', -1, 64))
			}
		}
	})
	return tr
}

// verify compares the exposition with the truth: every truth series with
// its value, and no other series of the compared families in the compared
// repositories.
func (w *soakWorld) verify(x exposition) []string {
	tr := w.truth()
	var bad []string
	for k, v := range tr.series {
		if got, ok := x[k]; !ok {
			bad = append(bad, "missing "+k+" "+v)
		} else if got != v {
			bad = append(bad, fmt.Sprintf("%s = %s, want %s", k, got, v))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(x)) {
		name, l := splitSeries(k)
		if !tr.families[name] {
			continue
		}
		if repo := l["repository"]; repo != "" && repo != "pbs1:store1/homelab" && repo != "homelab:nfs-backup" {
			continue
		}
		if _, ok := tr.series[k]; !ok {
			bad = append(bad, "unexpected "+k+" "+x[k])
		}
	}
	sort.Strings(bad)
	return bad
}
