package emulator

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

var (
	pbsVolid  = regexp.MustCompile(`^backup-server:backup/(vm|ct)/(\d+)/(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$`)
	fileVolid = regexp.MustCompile(`^[a-z0-9-]+:backup/vzdump-(qemu|lxc)-(\d+)-(\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d)\.(vma|tar)\.(zst|gz)$`)
)

// A PBS snapshot shows up in the PBS API and, with the same facts, through
// every PVE node's view of the pbs storage on its datastore and namespace.
func TestPBSSnapshotVisibleThroughEveryPVENode(t *testing.T) {
	s := startHomelab(t)
	snaps := pbs(t, s, "pbs1", "/admin/datastore/store1/snapshots", qv("ns", "homelab")).rows(t)
	if len(snaps) != 60 {
		t.Fatalf("PBS homelab snapshots = %d, want 60", len(snaps))
	}
	want := map[string]map[string]any{}
	for _, sn := range snaps {
		tm := time.Unix(num(sn, "backup-time"), 0).UTC().Format("2006-01-02T15:04:05Z")
		want["backup-server:backup/"+str(sn, "backup-type")+"/"+str(sn, "backup-id")+"/"+tm] = sn
	}
	var first []byte
	for _, node := range []string{"pve1", "pve2", "pve3"} {
		r := pve(t, s, "homelab", node, "/nodes/"+node+"/storage/backup-server/content", qv("content", "backup"))
		vols := r.rows(t)
		if first == nil {
			first = r.body
		} else if !bytes.Equal(first, r.body) {
			t.Errorf("%s lists a different content than pve1", node)
		}
		if len(vols) != len(want) {
			t.Fatalf("%s: %d volumes, want %d", node, len(vols), len(want))
		}
		for _, v := range vols {
			volid := str(v, "volid")
			sn, ok := want[volid]
			if !ok || !pbsVolid.MatchString(volid) {
				t.Fatalf("%s: unexpected volid %q", node, volid)
			}
			if num(v, "ctime") != num(sn, "backup-time") {
				t.Errorf("%s: ctime %d != backup-time %d", volid, num(v, "ctime"), num(sn, "backup-time"))
			}
			wantSize := num(sn, "size")
			if _, has := sn["size"]; !has {
				wantSize = 1
			}
			if num(v, "size") != wantSize {
				t.Errorf("%s: size %d, want %d", volid, num(v, "size"), wantSize)
			}
			if str(v, "notes") != str(sn, "comment") {
				t.Errorf("%s: notes %q != comment %q", volid, str(v, "notes"), str(sn, "comment"))
			}
			if fmt.Sprint(v["verification"]) != fmt.Sprint(sn["verification"]) {
				t.Errorf("%s: verification %v != %v", volid, v["verification"], sn["verification"])
			}
			if str(v, "encrypted") != str(sn, "fingerprint") {
				t.Errorf("%s: encrypted %q != fingerprint %q", volid, str(v, "encrypted"), str(sn, "fingerprint"))
			}
			prot, _ := sn["protected"].(bool)
			if _, has := v["protected"]; has != prot || (prot && num(v, "protected") != 1) {
				t.Errorf("%s: protected %v, PBS says %v", volid, v["protected"], prot)
			}
			wantFmt, wantSub := "pbs-vm", "qemu"
			if str(sn, "backup-type") == "ct" {
				wantFmt, wantSub = "pbs-ct", "lxc"
			}
			if str(v, "format") != wantFmt || str(v, "subtype") != wantSub || fmt.Sprint(num(v, "vmid")) != str(sn, "backup-id") {
				t.Errorf("%s: format/subtype/vmid %v %v %v", volid, v["format"], v["subtype"], v["vmid"])
			}
		}
		assertSortedByVolid(t, node, vols)
	}
}

func assertSortedByVolid(t *testing.T, where string, vols []map[string]any) {
	t.Helper()
	if !sort.SliceIsSorted(vols, func(i, j int) bool {
		return strings.ToLower(str(vols[i], "volid")) < strings.ToLower(str(vols[j], "volid"))
	}) {
		t.Errorf("%s: content not sorted by lower-cased volid", where)
	}
}

// PVE does not recurse into child namespaces and hides host backups and
// other namespaces; PBS shows them.
func TestPVEHidesChildNamespacesAndHostBackups(t *testing.T) {
	s := startHomelab(t)
	vols := pve(t, s, "homelab", "pve1", "/nodes/pve1/storage/backup-server/content", nil).rows(t)
	seen := map[string]bool{}
	for _, v := range vols {
		seen[str(v, "volid")] = true
	}
	for _, ns := range []string{"homelab/archive", "lab2", ""} {
		for _, sn := range pbs(t, s, "pbs1", "/admin/datastore/store1/snapshots", qv("ns", ns)).rows(t) {
			tm := time.Unix(num(sn, "backup-time"), 0).UTC().Format("2006-01-02T15:04:05Z")
			volid := "backup-server:backup/" + str(sn, "backup-type") + "/" + str(sn, "backup-id") + "/" + tm
			if seen[volid] {
				t.Errorf("snapshot of namespace %q visible through PVE: %s", ns, volid)
			}
		}
	}
	// The namespace listing recurses, the groups listing does not.
	nss := pbs(t, s, "pbs1", "/admin/datastore/store1/namespace", nil).rows(t)
	var names []string
	for _, n := range nss {
		names = append(names, str(n, "ns"))
	}
	if got := strings.Join(names, ","); got != ",homelab,homelab/archive,lab2" {
		t.Errorf("namespaces = %q", got)
	}
	if got := pbs(t, s, "pbs1", "/admin/datastore/store1/namespace", qv("parent", "homelab", "max-depth", "0")).rows(t); len(got) != 1 || str(got[0], "ns") != "homelab" {
		t.Errorf("parent=homelab max-depth=0: %v", got)
	}
	root := pbs(t, s, "pbs1", "/admin/datastore/store1/groups", nil).rows(t)
	if len(root) != 1 || str(root[0], "backup-type") != "host" {
		t.Errorf("root groups = %v, want only host/pbs1", root)
	}
}

func TestSharedStorageSameFromEveryNodeLocalOnlyItsOwn(t *testing.T) {
	s := startHomelab(t)
	var first []byte
	for _, node := range []string{"pve1", "pve2", "pve3"} {
		r := pve(t, s, "homelab", node, "/nodes/"+node+"/storage/nfs-backup/content", qv("content", "backup"))
		vols := r.rows(t)
		if len(vols) != 21 {
			t.Errorf("%s nfs-backup: %d files, want 21", node, len(vols))
		}
		if first != nil && !bytes.Equal(first, r.body) {
			t.Errorf("%s: shared storage differs from pve1", node)
		}
		first = r.body
		for _, v := range vols {
			m := fileVolid.FindStringSubmatch(str(v, "volid"))
			if m == nil {
				t.Fatalf("bad file volid %q", str(v, "volid"))
			}
			ct, _ := time.Parse("2006_01_02-15_04_05", m[3])
			if ct.Unix() != num(v, "ctime") {
				t.Errorf("%s: ctime %d, name says %d", str(v, "volid"), num(v, "ctime"), ct.Unix())
			}
			if str(v, "format") != m[4]+"."+m[5] || str(v, "subtype") != m[1] {
				t.Errorf("%s: format %q subtype %q", str(v, "volid"), str(v, "format"), str(v, "subtype"))
			}
		}
		assertSortedByVolid(t, node, vols)
	}
	for node, want := range map[string]int{"pve1": 0, "pve2": 7, "pve3": 2} {
		vols := pve(t, s, "homelab", node, "/nodes/"+node+"/storage/local/content", qv("content", "backup")).rows(t)
		if len(vols) != want {
			t.Errorf("local@%s: %d files, want %d", node, len(vols), want)
		}
		for _, v := range vols {
			vmid := num(v, "vmid")
			if (node == "pve2" && vmid != 108) || (node == "pve3" && vmid != 105) {
				t.Errorf("local@%s lists another node's file %s", node, str(v, "volid"))
			}
		}
	}
	// vmid filter.
	if got := pve(t, s, "homelab", "pve1", "/nodes/pve1/storage/nfs-backup/content", qv("vmid", "104")).rows(t); len(got) != 10 {
		t.Errorf("vmid=104: %d files, want 10", len(got))
	}
}

func TestNodesRestrictedAndDisabledStorage(t *testing.T) {
	s := startHomelab(t)
	if got := pve(t, s, "homelab", "pve3", "/nodes/pve3/storage/usb/content", nil).rows(t); len(got) != 2 {
		t.Errorf("usb@pve3: %d files, want 2", len(got))
	}
	r := pve(t, s, "homelab", "pve1", "/nodes/pve1/storage/usb/content", nil)
	if r.status != 500 || str(r.json(t), "message") != "storage 'usb' is not available on node 'pve1'\n" {
		t.Errorf("usb@pve1: %d %s", r.status, r.body)
	}
	if r.reason != "storage 'usb' is not available on node 'pve1'" {
		t.Errorf("reason phrase %q", r.reason)
	}
	has := func(rows []map[string]any, id string) map[string]any {
		for _, row := range rows {
			if str(row, "storage") == id {
				return row
			}
		}
		return nil
	}
	if has(pve(t, s, "homelab", "pve1", "/nodes/pve1/storage", qv("content", "backup")).rows(t), "usb") != nil {
		t.Error("content=backup lists usb on pve1 although nodes excludes it")
	}
	if row := has(pve(t, s, "homelab", "pve1", "/nodes/pve1/storage", nil).rows(t), "usb"); row == nil || num(row, "enabled") != 0 || num(row, "active") != 0 {
		t.Errorf("without content filter usb@pve1 should be listed disabled: %v", row)
	}
	if row := has(pve(t, s, "homelab", "pve3", "/nodes/pve3/storage", qv("content", "backup")).rows(t), "usb"); row == nil || num(row, "enabled") != 1 || num(row, "active") != 1 {
		t.Errorf("usb@pve3: %v", row)
	}
	var usbRows, pbsRows int
	for _, row := range pve(t, s, "homelab", "pve2", "/cluster/resources", qv("type", "storage")).rows(t) {
		switch str(row, "storage") {
		case "usb":
			usbRows++
			if str(row, "node") != "pve3" {
				t.Errorf("usb resource row on %s", str(row, "node"))
			}
		case "backup-server":
			pbsRows++
			if num(row, "shared") != 1 || str(row, "plugintype") != "pbs" {
				t.Errorf("pbs row %v", row)
			}
		}
	}
	if usbRows != 1 || pbsRows != 3 {
		t.Errorf("resource rows: usb %d (want 1), backup-server %d (want 3: one per node)", usbRows, pbsRows)
	}

	s.Update(func(m *Model) { m.Cluster("homelab").Storage("usb").Disabled = true })
	r = pve(t, s, "homelab", "pve3", "/nodes/pve3/storage/usb/content", nil)
	if r.status != 500 || str(r.json(t), "message") != "storage 'usb' is disabled\n" {
		t.Errorf("disabled usb: %d %s", r.status, r.body)
	}
	s.Update(func(m *Model) {
		st := m.Cluster("homelab").Storage("usb")
		st.Disabled, st.Offline = false, true
	})
	r = pve(t, s, "homelab", "pve3", "/nodes/pve3/storage/usb/content", nil)
	if r.status != 500 || !strings.Contains(string(r.body), "storage 'usb' is not online") {
		t.Errorf("offline usb: %d %s", r.status, r.body)
	}
	r = pve(t, s, "homelab", "pve3", "/nodes/pve3/storage/nope/content", nil)
	if r.status != 500 || !strings.Contains(string(r.body), "storage 'nope' does not exist") {
		t.Errorf("unknown storage: %d %s", r.status, r.body)
	}
}

func TestStorageConfigPointsAtRunningPBS(t *testing.T) {
	s := startHomelab(t)
	find := func() map[string]any {
		for _, row := range pve(t, s, "homelab", "pve1", "/storage", qv("type", "pbs")).rows(t) {
			if str(row, "storage") == "backup-server" {
				return row
			}
		}
		t.Fatal("backup-server not in /storage?type=pbs")
		return nil
	}
	row := find()
	if str(row, "server") != "127.0.0.1" || num(row, "port") != int64(s.PBSPort("pbs1")) || str(row, "datastore") != "store1" ||
		str(row, "namespace") != "homelab" || num(row, "shared") != 1 || str(row, "username") != "pve-backup@pbs!pve" {
		t.Errorf("storage config %v", row)
	}
	if str(row, "fingerprint") != strings.ToUpper(s.PBSFingerprint("pbs1")) {
		t.Errorf("fingerprint %q, PBS serves %q", str(row, "fingerprint"), s.PBSFingerprint("pbs1"))
	}
	if !strings.HasPrefix(s.PBSURL("pbs1"), fmt.Sprintf("https://127.0.0.1:%d", s.PBSPort("pbs1"))) {
		t.Errorf("PBSURL %s", s.PBSURL("pbs1"))
	}

	s.Update(func(m *Model) {
		st := m.Cluster("homelab").Storage("backup-server")
		st.ServerName, st.Fingerprint = "localhost", "none"
	})
	row = find()
	if _, has := row["fingerprint"]; has || str(row, "server") != "localhost" {
		t.Errorf("alias without fingerprint: %v", row)
	}
	// A stale fingerprint (PBS certificate replaced) breaks PVE's access.
	s.Update(func(m *Model) {
		m.Cluster("homelab").Storage("backup-server").Fingerprint = strings.Repeat("AB:", 31) + "AB"
	})
	r := pve(t, s, "homelab", "pve2", "/nodes/pve2/storage/backup-server/content", nil)
	if r.status != 500 || !strings.Contains(string(r.body), "fingerprint") {
		t.Errorf("stale fingerprint: %d %s", r.status, r.body)
	}
	for _, st := range pve(t, s, "homelab", "pve2", "/nodes/pve2/storage", qv("content", "backup")).rows(t) {
		if str(st, "storage") == "backup-server" && num(st, "active") != 0 {
			t.Errorf("backup-server active with a wrong fingerprint: %v", st)
		}
	}
}

func TestNotBackedUpCountsDisabledJobsAndTemplates(t *testing.T) {
	s := startHomelab(t)
	var got []int64
	for _, row := range pve(t, s, "homelab", "pve1", "/cluster/backup-info/not-backed-up", nil).rows(t) {
		got = append(got, num(row, "vmid"))
	}
	if fmt.Sprint(got) != "[105 107 109]" {
		t.Errorf("not backed up = %v, want [105 107 109] (106 and 108 are in a disabled job, 107 is a template)", got)
	}
	// Moving 100 away from the node a node-pinned job covers uncovers it.
	s.Update(func(m *Model) {
		c := m.Cluster("homelab")
		c.Job("backup-1a2b3c4d-0001").VMIDs = []int{101, 102, 103}
		c.Jobs = append(c.Jobs, &BackupJob{ID: "backup-pinned", Schedule: "daily", VMIDs: []int{100}, Node: "pve2"})
	})
	got = nil
	for _, row := range pve(t, s, "homelab", "pve1", "/cluster/backup-info/not-backed-up", nil).rows(t) {
		got = append(got, num(row, "vmid"))
	}
	if fmt.Sprint(got) != "[100 105 107 109]" {
		t.Errorf("with a job pinned to another node: %v", got)
	}
}

func TestHomelabScenario(t *testing.T) {
	s := startHomelab(t)
	guests := map[int64]map[string]any{}
	for _, row := range pve(t, s, "homelab", "pve1", "/cluster/resources", qv("type", "vm")).rows(t) {
		guests[num(row, "vmid")] = row
	}
	if len(guests) != 11 {
		t.Errorf("%d guests, want 11", len(guests))
	}
	if num(guests[107], "template") != 1 || !strings.Contains(str(guests[109], "tags"), "nobackup") || str(guests[104], "pool") != "media" {
		t.Errorf("template/tags/pool wrong: %v %v %v", guests[107], guests[109], guests[104])
	}
	var types = map[string]int{}
	for _, g := range guests {
		types[str(g, "type")]++
	}
	if types["qemu"] == 0 || types["lxc"] == 0 {
		t.Errorf("guest types %v", types)
	}
	st := pve(t, s, "homelab", "pve1", "/cluster/status", nil).rows(t)
	if str(st[0], "type") != "cluster" || str(st[0], "name") != "homelab" || len(st) != 4 {
		t.Errorf("cluster status %v", st)
	}

	// The failed job run: a multi-guest task with an ERROR line for 104.
	tk := failedJobTask(t, s)
	if tk.ID != "" || tk.Node != "pve3" {
		t.Errorf("failed task id %q node %s", tk.ID, tk.Node)
	}
	log := pve(t, s, "homelab", "pve3", "/nodes/pve3/tasks/"+tk.UPID()+"/log", qv("limit", "0"))
	lines := log.rows(t)
	text := ""
	for _, l := range lines {
		text += str(l, "t") + "\n"
	}
	for _, want := range []string{"ERROR: Backup of VM 104 failed - ", "INFO: Finished Backup of VM 110 (", "INFO: Backup job finished with errors\nTASK ERROR: job errors\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %q:\n%s", want, text)
		}
	}
	if num(log.json(t), "total") != int64(len(lines)) || num(lines[0], "n") != 1 {
		t.Errorf("log total/numbering wrong")
	}

	// PBS facts.
	groups := map[string]map[string]any{}
	for _, g := range pbs(t, s, "pbs1", "/admin/datastore/store1/groups", qv("ns", "homelab")).rows(t) {
		groups[str(g, "backup-type")+"/"+str(g, "backup-id")] = g
	}
	if len(groups) != 5 || groups["vm/120"] == nil {
		t.Errorf("homelab groups %v (want 5 incl. orphan vm/120)", groups)
	}
	// vm/102 is listed newest-first; last-backup is still its newest.
	snaps102 := pbs(t, s, "pbs1", "/admin/datastore/store1/snapshots", qv("ns", "homelab", "backup-type", "vm", "backup-id", "102")).rows(t)
	newest := snaps102[0]
	for _, sn := range snaps102 {
		if num(sn, "backup-time") > num(newest, "backup-time") {
			newest = sn
		}
	}
	if num(groups["vm/102"], "last-backup") != num(newest, "backup-time") {
		t.Errorf("vm/102 last-backup %d, newest %d", num(groups["vm/102"], "last-backup"), num(newest, "backup-time"))
	}
	if v, _ := newest["verification"].(map[string]any); str(v, "state") != "failed" {
		t.Errorf("vm/102 newest verification %v, want failed", newest["verification"])
	}
	for _, sn := range pbs(t, s, "pbs1", "/admin/datastore/store1/snapshots", qv("ns", "homelab", "backup-type", "ct", "backup-id", "103")).rows(t) {
		if _, has := sn["verification"]; has || str(sn, "fingerprint") == "" {
			t.Errorf("ct/103 should be encrypted and never verified: %v", sn)
		}
	}
	var inProgress int
	for _, sn := range pbs(t, s, "pbs1", "/admin/datastore/store1/snapshots", qv("ns", "homelab", "backup-id", "101")).rows(t) {
		if _, has := sn["size"]; !has {
			inProgress++
			if _, v := sn["verification"]; v {
				t.Error("in-progress snapshot has a verification")
			}
		}
	}
	if inProgress != 1 {
		t.Errorf("vm/101 in-progress snapshots = %d, want 1", inProgress)
	}
	// Stale 108: newest file 4+ days old.
	var newest108 int64
	for _, v := range pve(t, s, "homelab", "pve2", "/nodes/pve2/storage/local/content", nil).rows(t) {
		if num(v, "ctime") > newest108 {
			newest108 = num(v, "ctime")
		}
	}
	if age := testNow.Sub(time.Unix(newest108, 0)); age < 96*time.Hour {
		t.Errorf("108's newest backup is %v old, want > 4 days", age)
	}
	// Datastore filling up; archive has too little history for an estimate.
	for _, u := range pbs(t, s, "pbs1", "/status/datastore-usage", nil).rows(t) {
		est, has := u["estimated-full-date"]
		switch str(u, "store") {
		case "store1":
			e := time.Unix(int64(est.(float64)), 0)
			if !has || e.Before(testNow) || e.After(testNow.Add(30*24*time.Hour)) {
				t.Errorf("store1 estimated full %v, want within a month", e)
			}
		case "archive":
			if has {
				t.Errorf("archive has an estimate with 5 points")
			}
		}
	}
	// Jobs: verify failed, GC of archive never ran.
	v := pbs(t, s, "pbs1", "/admin/verify", nil).rows(t)
	if !strings.HasPrefix(str(v[0], "last-run-state"), "verification failed") {
		t.Errorf("verify job %v", v[0])
	}
	for _, gc := range pbs(t, s, "pbs1", "/admin/gc", nil).rows(t) {
		if str(gc, "store") == "archive" && gc["upid"] != nil {
			t.Errorf("archive GC should never have run: %v", gc)
		}
		if str(gc, "store") == "store1" && str(gc, "last-run-state") != "OK" {
			t.Errorf("store1 GC %v", gc)
		}
	}
	// The running backup is visible on both sides.
	running := pve(t, s, "homelab", "pve1", "/nodes/pve1/tasks", qv("source", "active")).rows(t)
	if len(running) != 1 || str(running[0], "id") != "101" || str(running[0], "status") != "RUNNING" {
		t.Errorf("running PVE tasks %v", running)
	}
	pbsRunning := pbs(t, s, "pbs1", "/nodes/localhost/tasks", qv("running", "1")).rows(t)
	if len(pbsRunning) != 1 || str(pbsRunning[0], "worker_id") != "store1:vm/101" {
		t.Errorf("running PBS tasks %v", pbsRunning)
	}
}

// PBS's groups listing folds over directory order: an in-progress snapshot
// that comes last is reported as last-backup (with its partial files).
func TestGroupsLastBackupFoldLikePBS(t *testing.T) {
	for _, tc := range []struct {
		name  string
		snaps []Snapshot
		want  int
	}{
		{"ascending", []Snapshot{{Time: time.Unix(1, 0)}, {Time: time.Unix(3, 0)}, {Time: time.Unix(2, 0)}}, 1},
		{"descending", []Snapshot{{Time: time.Unix(3, 0)}, {Time: time.Unix(2, 0)}, {Time: time.Unix(1, 0)}}, 0},
		{"in-progress last", []Snapshot{{Time: time.Unix(1, 0)}, {Time: time.Unix(2, 0)}, {Time: time.Unix(3, 0), InProgress: true}}, 2},
		{"in-progress first", []Snapshot{{Time: time.Unix(3, 0), InProgress: true}, {Time: time.Unix(1, 0)}, {Time: time.Unix(2, 0)}}, 2},
	} {
		if got := lastBackup(&Group{Snapshots: tc.snaps}); got != tc.want {
			t.Errorf("%s: lastBackup = %d, want %d", tc.name, got, tc.want)
		}
	}
	s := startHomelab(t)
	for _, g := range pbs(t, s, "pbs1", "/admin/datastore/store1/groups", qv("ns", "homelab")).rows(t) {
		if str(g, "backup-id") == "101" {
			if num(g, "backup-count") != 15 || num(g, "last-backup") != testNow.Add(-5*time.Minute+2*time.Second).Unix() {
				t.Errorf("vm/101 group %v: want count 15 and the in-progress snapshot as last-backup", g)
			}
		}
	}
}

func TestEstimateFull(t *testing.T) {
	if _, ok := estimateFull([]float64{0.1, 0.2, 0.3, NaN, 0.4, 0.5, 0.6}, 0, 100); ok {
		t.Error("6 points must not give an estimate")
	}
	est, ok := estimateFull([]float64{0.1, 0.2, 0.3, NaN, 0.5, 0.6, 0.7, 0.8}, 1000, 100)
	if !ok || est != 1000+900 {
		t.Errorf("linear growth 0.1/100s from 0.1 at t=1000: got %d %v, want 1900", est, ok)
	}
	if est, ok := estimateFull([]float64{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}, 1000, 100); !ok || est != 0 {
		t.Errorf("flat usage: got %d %v, want 0", est, ok)
	}
	if est, _ := estimateFull([]float64{0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2}, 1000, 100); est >= 1000 {
		t.Errorf("shrinking usage must give a past date, got %d", est)
	}
}

func TestPVETaskQueries(t *testing.T) {
	s := startHomelab(t)
	count := func(node string, kv ...string) int {
		return len(pve(t, s, "homelab", node, "/nodes/"+node+"/tasks", qv(kv...)).rows(t))
	}
	if n := count("pve1", "typefilter", "vzdum"); n != 0 {
		t.Errorf("typefilter is exact in PVE: vzdum matched %d", n)
	}
	if n := count("pve1", "typefilter", "vzdump"); n != 14 {
		t.Errorf("pve1 finished vzdump tasks %d, want 14", n)
	}
	if n := count("pve1", "source", "all"); n != 15 {
		t.Errorf("source=all %d, want 15", n)
	}
	if n := count("pve1", "limit", "0"); n != 0 {
		t.Errorf("limit=0 on the task list returns nothing, got %d", n)
	}
	if n := count("pve1", "limit", "5"); n != 5 {
		t.Errorf("limit=5: %d", n)
	}
	if n := count("pve3", "vmid", "105"); n != 2 {
		t.Errorf("vmid=105 finds the single-guest tasks: %d", n)
	}
	if n := count("pve3", "vmid", "104"); n != 0 {
		t.Errorf("vmid=104 must not find multi-guest runs: %d", n)
	}
	since := testNow.Add(-3 * 24 * time.Hour).Unix()
	if n := count("pve1", "since", fmt.Sprint(since)); n != 3 {
		t.Errorf("since 3 days: %d, want 3", n)
	}
	r := pve(t, s, "homelab", "pve1", "/nodes/pve1/tasks", qv("limit", "abc"))
	if r.status != 400 || !strings.Contains(string(r.body), `"limit":"type check ('integer') failed - got 'abc'"`) {
		t.Errorf("bad limit: %d %s", r.status, r.body)
	}
	// Default limit 50.
	s.Update(func(m *Model) {
		c := m.Cluster("homelab")
		for i := 0; i < 60; i++ {
			c.Tasks = append(c.Tasks, &Task{Node: "pve2", Type: "qmstart", ID: "102", Start: testNow.Add(-time.Duration(i) * time.Hour),
				End: testNow.Add(-time.Duration(i)*time.Hour + time.Second), Status: "OK"})
		}
	})
	if n := count("pve2"); n != 50 {
		t.Errorf("default limit: %d, want 50", n)
	}
	tot := pve(t, s, "homelab", "pve2", "/nodes/pve2/tasks", nil).json(t)["total"]
	if tot.(float64) < 60 {
		t.Errorf("total %v", tot)
	}
	// /cluster/tasks keeps 25 finished per node plus running ones.
	perNode := map[string]int{}
	for _, tk := range pve(t, s, "homelab", "pve1", "/cluster/tasks", nil).rows(t) {
		perNode[str(tk, "node")]++
	}
	if perNode["pve2"] != 25 || perNode["pve1"] != 15 {
		t.Errorf("cluster tasks per node %v, want pve2 25 and pve1 15 (14 + 1 running)", perNode)
	}
	// Status and the whole log of a finished single-guest task.
	var single *Task
	for _, tk := range s.Model().Cluster("homelab").Tasks {
		if tk.ID == "105" {
			single = tk
		}
	}
	st := pve(t, s, "homelab", "pve3", "/nodes/pve3/tasks/"+single.UPID()+"/status", nil).obj(t)
	if str(st, "status") != "stopped" || str(st, "exitstatus") != "OK" || str(st, "user") != "admin@pve" || str(st, "tokenid") != "cli" {
		t.Errorf("task status %v", st)
	}
	if r := pve(t, s, "homelab", "pve1", "/nodes/pve1/tasks/"+single.UPID()+"/status", nil); r.status != 400 {
		t.Errorf("task of another node: %d", r.status)
	}
	lines := pve(t, s, "homelab", "pve3", "/nodes/pve3/tasks/"+single.UPID()+"/log", nil).rows(t)
	if str(lines[len(lines)-1], "t") != "TASK OK" {
		t.Errorf("last log line %v", lines[len(lines)-1])
	}
}

func TestPBSTaskQueries(t *testing.T) {
	s := startHomelab(t)
	rows := pbs(t, s, "pbs1", "/nodes/localhost/tasks", qv("typefilter", "verif")).rows(t)
	if len(rows) != 1 || str(rows[0], "worker_type") != "verificationjob" || str(rows[0], "worker_id") != "store1:v-homelab" {
		t.Errorf("typefilter is a substring in PBS: %v", rows)
	}
	if !strings.Contains(str(rows[0], "upid"), `:verificationjob:store1\x3av\x2dhomelab:root@pam:`) {
		t.Errorf("UPID escaping: %s", str(rows[0], "upid"))
	}
	st := pbs(t, s, "pbs1", "/nodes/localhost/tasks/"+str(rows[0], "upid")+"/status", nil).obj(t)
	if str(st, "type") != "verificationjob" || str(st, "exitstatus") == "OK" || str(st, "node") != "pbs1" {
		t.Errorf("status %v", st)
	}
	lg := pbs(t, s, "pbs1", "/nodes/localhost/tasks/"+str(rows[0], "upid")+"/log", qv("limit", "0")).json(t)
	if num(lg, "success") != 1 {
		t.Errorf("PBS task log lacks success: %v", lg)
	}
	if n := len(pbs(t, s, "pbs1", "/nodes/localhost/tasks", qv("store", "archive")).rows(t)); n != 1 {
		t.Errorf("store=archive: %d tasks, want the sync job", n)
	}
}

// Every guest a vzdump task log reports as finished has its backup where
// the log says: the PBS snapshot or the archive file, at the same time.
func TestTaskLogsMatchBackups(t *testing.T) {
	s := startHomelab(t)
	pbsArchive := regexp.MustCompile(`^INFO: creating Proxmox Backup Server archive '(.+)'$`)
	fileArchive := regexp.MustCompile(`^INFO: creating vzdump archive '.*/(vzdump-[^/]+)'$`)
	have := map[string]bool{}
	for _, sn := range pbs(t, s, "pbs1", "/admin/datastore/store1/snapshots", qv("ns", "homelab")).rows(t) {
		have[PBSSnapshotName(str(sn, "backup-type"), str(sn, "backup-id"), time.Unix(num(sn, "backup-time"), 0))] = true
	}
	for _, st := range []struct{ id, node string }{{"nfs-backup", "pve1"}, {"local", "pve2"}, {"local", "pve3"}, {"usb", "pve3"}} {
		for _, v := range pve(t, s, "homelab", st.node, "/nodes/"+st.node+"/storage/"+st.id+"/content", nil).rows(t) {
			have[strings.SplitN(str(v, "volid"), "/", 2)[1]] = true
		}
	}
	checked := 0
	for _, tk := range s.Model().Cluster("homelab").Tasks {
		lines := pve(t, s, "homelab", tk.Node, "/nodes/"+tk.Node+"/tasks/"+tk.UPID()+"/log", qv("limit", "0")).rows(t)
		var pending string
		for _, l := range lines {
			text := str(l, "t")
			if m := pbsArchive.FindStringSubmatch(text); m != nil {
				pending = m[1]
			}
			if m := fileArchive.FindStringSubmatch(text); m != nil {
				pending = m[1]
			}
			if strings.HasPrefix(text, "INFO: Finished Backup of VM ") {
				if !have[pending] {
					t.Errorf("task %s reports %s finished, but no such backup exists", tk.UPID(), pending)
				}
				checked++
			}
			if strings.HasPrefix(text, "ERROR: Backup of VM ") && have[pending] {
				t.Errorf("task %s reports %s failed, yet it exists", tk.UPID(), pending)
			}
		}
	}
	if checked < 80 {
		t.Errorf("only %d finished guests checked", checked)
	}
}
