//go:build e2e

package main

// The /status page as a user sees it: the demo exporter's page rendered by
// a real headless Chromium, its guest table checked against the emulated
// homelab's model. Run with
//
//	go test -tags e2e -run E2EStatus -count=1 -v .
//
// PBE_WRITE_SCREENSHOT=1 also writes the rendered page to
// docs/images/status.png (the picture the README shows).

import (
	"context"
	"html"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/dedup"
	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// chromiumInstall is what to run when the browser is missing.
const chromiumInstall = "apt-get install chromium"

// statusGuest is one guest row of the rendered page.
type statusGuest struct {
	state, also, guest, name, node, cluster, age string
}

func TestE2EStatusPage(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found (%v): install it with `%s`", err, chromiumInstall)
	}
	dir := t.TempDir()
	bin, err := goBuild(dir, ".", "proxmox_backup_exporter")
	if err != nil {
		t.Fatal(err)
	}
	base, logs := startExporter(t, bin, "--demo")
	// The exporter built its homelab around its own start; this model, a
	// moment later, has the same guests, jobs and backups.
	m := emulator.Homelab(time.Now())

	dom := chromium(t, browser, "--dump-dom", base+"/status")
	watched, exempt := renderedGuests(t, dom)
	want, wantExempt := expectedGuests(t, m)

	// Every guest the alerts watch is listed once, in the state the
	// model's backups, jobs and tasks give it, worst first.
	var got []string
	for _, r := range watched {
		got = append(got, r.guest)
		w, ok := want[r.guest]
		if !ok {
			t.Errorf("row %s is not a watched guest of the homelab", r.guest)
			continue
		}
		if r.state != w.state || r.also != w.also || r.name != w.name || r.node != w.node || r.cluster != w.cluster {
			t.Errorf("row %s: %q (%q) %s on %s in %s; want %q (%q) %s on %s in %s", r.guest, r.state, r.also, r.name, r.node,
				r.cluster, w.state, w.also, w.name, w.node, w.cluster)
		}
		if (w.age == "") != (r.age == "none") {
			t.Errorf("row %s: newest backup %q, but the model has %s", r.guest, r.age, map[bool]string{true: "none", false: "one"}[w.age == ""])
		}
	}
	if len(got) != len(want) {
		t.Errorf("watched rows %v, want the %d guests %v", got, len(want), slices.Sorted(maps.Keys(want)))
	}
	rank := func(state string) int {
		for s := dedup.GuestNoBackup; s <= dedup.GuestOK; s++ {
			if s.String() == state {
				return int(s)
			}
		}
		t.Fatalf("unknown state %q on the page", state)
		return 0
	}
	if !slices.IsSortedFunc(watched, func(a, b statusGuest) int { return rank(a.state) - rank(b.state) }) {
		t.Errorf("rows are not worst first: %v", watched)
	}
	// The demo shows every kind of guest the page sorts: the check above
	// is not vacuous.
	states := map[string]bool{}
	for _, w := range want {
		states[w.state] = true
	}
	if len(states) < 3 {
		t.Errorf("the homelab model gives only the states %v", states)
	}

	// Templates and excluded guests apart, with the reason.
	var gotExempt []string
	for _, r := range exempt {
		gotExempt = append(gotExempt, r.guest+" "+r.state)
	}
	if !slices.Equal(gotExempt, wantExempt) {
		t.Errorf("not-watched rows %v, want %v", gotExempt, wantExempt)
	}

	png := filepath.Join(dir, "status.png")
	if os.Getenv("PBE_WRITE_SCREENSHOT") != "" {
		png, _ = filepath.Abs(filepath.Join("docs", "images", "status.png"))
	}
	chromium(t, browser, "--screenshot="+png, "--window-size=1280,1600", base+"/status")
	if b, err := os.ReadFile(png); err != nil || len(b) < 10_000 || string(b[1:4]) != "PNG" {
		t.Errorf("screenshot %s: %d bytes, err %v", png, len(b), err)
	}
	if t.Failed() {
		t.Logf("exporter log:\n%s", logs.String())
	}
}

// chromium runs headless Chromium with a fresh profile and returns what it
// prints (the DOM for --dump-dom).
func chromium(t *testing.T, browser string, args ...string) string {
	t.Helper()
	profile, err := os.MkdirTemp("", "pbe-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	// Chromium's helper processes may still write the profile as it exits;
	// leftovers are harmless, a failed removal is not the test's concern.
	t.Cleanup(func() { _ = os.RemoveAll(profile) })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, append([]string{"--headless", "--no-sandbox", "--disable-gpu",
		"--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--user-data-dir=" + profile}, args...)...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

var (
	rowRE  = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellRE = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	tagRE  = regexp.MustCompile(`<[^>]*>`)
)

// renderedGuests reads the two guest tables of the rendered page. A cell's
// text is without markup; the state cell's "also ..." lines are split off.
func renderedGuests(t *testing.T, dom string) (watched, exempt []statusGuest) {
	t.Helper()
	start := strings.Index(dom, "<h2>Guests</h2>")
	mid := strings.Index(dom, "<h3>Not watched by the alerts</h3>")
	end := strings.Index(dom, "<h2>Sources</h2>")
	if start < 0 || mid < start || end < mid {
		t.Fatalf("the rendered page lacks the guest tables:\n%s", dom)
	}
	rows := func(part string) (out []statusGuest) {
		for _, r := range rowRE.FindAllStringSubmatch(part, -1) {
			var cells []string
			for _, c := range cellRE.FindAllStringSubmatch(r[1], -1) {
				cells = append(cells, c[1])
			}
			if len(cells) == 0 {
				continue // the header
			}
			if len(cells) < 6 {
				t.Fatalf("guest row with %d cells: %s", len(cells), r[0])
			}
			text := func(s string) string { return strings.TrimSpace(html.UnescapeString(tagRE.ReplaceAllString(s, " "))) }
			state, also, _ := strings.Cut(cells[0], "<br>")
			out = append(out, statusGuest{state: text(state), also: strings.Join(strings.Fields(text(also)), " "),
				guest: text(cells[1]), name: text(cells[2]), node: text(cells[3]), cluster: text(cells[4]), age: text(cells[5])})
		}
		return out
	}
	return rows(dom[start:mid]), rows(dom[mid:end])
}

// taskFailed are the homelab guests whose part of their newest vzdump task
// failed (emulator.Homelab: 104's part of last night's "job errors" run).
// The model keeps that only as task log text, which the exporter's own
// parser reads; the test does not parse it a second time.
var taskFailed = map[int]bool{104: true}

// expectedGuests derives each guest's row from the model: the watched
// guests by "type/vmid" and the not-watched ones as "type/vmid reason" in
// VMID order. The newest backup is the newest file on a storage or
// snapshot in the PBS namespace of a pbs storage; the job interval is the
// shortest of the enabled jobs selecting the guest.
func expectedGuests(t *testing.T, m *emulator.Model) (map[string]statusGuest, []string) {
	t.Helper()
	now := time.Now()
	want := map[string]statusGuest{}
	var exempt []string
	for _, c := range m.Clusters {
		for _, g := range c.Guests {
			btype := map[string]string{"qemu": "vm", "lxc": "ct"}[g.Type]
			key := btype + "/" + strconv.Itoa(g.VMID)
			if reason := exemptReason(g); reason != "" {
				exempt = append(exempt, key+" "+reason)
				continue
			}
			var newest time.Time
			for _, st := range c.Storages {
				for _, f := range st.Files {
					if f.VMID == g.VMID && !f.InProgress && f.Time.After(newest) {
						newest = f.Time
					}
				}
				if st.Type != "pbs" {
					continue
				}
				if ns := m.PBSServer(st.PBS).Datastore(st.Datastore).FindNamespace(st.Namespace); ns != nil {
					if grp := ns.FindGroup(btype, strconv.Itoa(g.VMID)); grp != nil && grp.Newest() >= 0 {
						if s := grp.Snapshots[grp.Newest()].Time; s.After(newest) {
							newest = s
						}
					}
				}
			}
			var interval int64
			inJob := false
			for _, j := range c.Jobs {
				if j.Disabled || !j.Selects(g) {
					continue
				}
				inJob = true
				if s, err := dedup.ShortestInterval(j.Schedule); err == nil && (interval == 0 || s < interval) {
					interval = s
				}
			}
			staleAfter := dedup.StaleFixedSeconds
			if interval > 0 {
				staleAfter = interval + dedup.StaleSlackSeconds
			}
			var problems []string
			switch {
			case newest.IsZero():
				problems = append(problems, dedup.GuestNoBackup.String())
			case now.Sub(newest) > time.Duration(staleAfter)*time.Second:
				problems = append(problems, dedup.GuestStale.String())
			}
			if taskFailed[g.VMID] {
				problems = append(problems, dedup.GuestTaskFailed.String())
			}
			if !inJob {
				problems = append(problems, dedup.GuestNotInJob.String())
			}
			w := statusGuest{state: dedup.GuestOK.String(), guest: key, name: g.Name, node: g.Node, cluster: c.Name}
			if len(problems) > 0 {
				w.state = problems[0]
				for _, p := range problems[1:] {
					w.also = strings.TrimSpace(w.also + " also " + p)
				}
			}
			if !newest.IsZero() {
				w.age = newest.String()
			}
			want[key] = w
		}
	}
	return want, exempt
}

// exemptReason is why the alerts leave a guest out, as the page words it.
func exemptReason(g *emulator.Guest) string {
	if g.Template {
		return "template"
	}
	for _, tag := range dedup.ExcludeTags {
		if slices.Contains(g.Tags, tag) {
			return "tag " + tag
		}
	}
	return ""
}
