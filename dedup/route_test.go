package dedup

import (
	"reflect"
	"strings"
	"testing"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// oneCluster is a 3-node cluster "c1" (target "pve-c1") with the given
// storages and one configured PBS "pbs1" (pbs.example.org:8007, fpPBS1)
// with datastore "store1" holding namespaces "", "c1", "c1/prod".
func oneCluster(storages ...proxmox.StorageConfig) Estate {
	return Estate{
		Clusters: []Cluster{{Target: "pve-c1", Name: "c1", Up: true, Nodes: nodes("n1", "n2", "n3"),
			Guests: []proxmox.ClusterResource{vm(100, "n1")}, Storages: storages}},
		PBS: []PBS{pbsTarget("pbs1", "pbs.example.org:8007", strings.ToLower(fpPBS1), ds("store1", "c1", "c1/prod"))},
	}
}

func TestBuildPlanRoutes(t *testing.T) {
	type check func(t *testing.T, p Plan)
	route := func(storage, wantRoute, wantRepo, wantBy string) check {
		return func(t *testing.T, p Plan) {
			t.Helper()
			r := findStorage(t, p, "c1", storage)
			if r.Route != wantRoute || r.Repository != wantRepo || r.MatchedBy != wantBy {
				t.Errorf("%s: got route=%s repo=%q by=%q (%s), want %s %q %q", storage, r.Route, r.Repository, r.MatchedBy, r.Reason, wantRoute, wantRepo, wantBy)
			}
		}
	}
	warns := func(kind string) check {
		return func(t *testing.T, p Plan) {
			t.Helper()
			if !hasWarning(p.Warnings, kind) {
				t.Errorf("want a %s warning, got %+v", kind, p.Warnings)
			}
		}
	}
	noWarnings := func(t *testing.T, p Plan) {
		t.Helper()
		if len(p.Warnings) != 0 {
			t.Errorf("want no warnings, got %+v", p.Warnings)
		}
	}
	pveListed := func(storage string, wantNodes ...string) check {
		return func(t *testing.T, p Plan) {
			t.Helper()
			var got [][]string
			for _, l := range p.PVEListings {
				if l.Storage == storage {
					got = append(got, l.Nodes)
				}
			}
			if len(wantNodes) == 0 {
				if len(got) != 0 {
					t.Errorf("%s must not be listed through PVE, got %v", storage, got)
				}
				return
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0], wantNodes) {
				t.Errorf("%s: want one listing with candidates %v, got %v", storage, wantNodes, got)
			}
		}
	}
	tests := []struct {
		name   string
		estate Estate
		checks []check
	}{
		{
			name:   "pbs storage named backup-server is a PBS storage",
			estate: oneCluster(pbsStorage("backup-server", "pbs.example.org", "store1", "", "")),
			checks: []check{route("backup-server", RoutePBS, "pbs1:store1", MatchHostPort), pveListed("backup-server"), noWarnings},
		},
		{
			name:   "dir storage named pbs-backups is a file storage",
			estate: oneCluster(dirStorage("pbs-backups", "backup")),
			checks: []check{route("pbs-backups", RoutePVE, "c1/n1:pbs-backups", ""), noWarnings},
		},
		{
			name:   "nfs storage named pbs is shared file storage",
			estate: oneCluster(nfsStorage("pbs", "nas", "/export")),
			checks: []check{route("pbs", RoutePVE, "c1:pbs", ""), pveListed("pbs", "n1", "n2", "n3")},
		},
		{
			name:   "fingerprint matches although the storage names the PBS by IP",
			estate: oneCluster(pbsStorage("offsite", "192.0.2.7", "store1", "", fpPBS1)),
			checks: []check{route("offsite", RoutePBS, "pbs1:store1", MatchFingerprint), noWarnings},
		},
		{
			name:   "fingerprint without colons in upper case still matches",
			estate: oneCluster(pbsStorage("offsite", "192.0.2.7", "store1", "", strings.ReplaceAll(fpPBS1, ":", ""))),
			checks: []check{route("offsite", RoutePBS, "pbs1:store1", MatchFingerprint)},
		},
		{
			name: "default port 8007 on both sides, host case ignored",
			estate: func() Estate {
				e := oneCluster(pbsStorage("s", "PBS.Example.org", "store1", "", ""))
				e.PBS[0].Endpoints = []string{"pbs.example.org"}
				e.PBS[0].Fingerprint = ""
				return e
			}(),
			checks: []check{route("s", RoutePBS, "pbs1:store1", MatchHostPort)},
		},
		{
			name: "another port is another server",
			estate: func() Estate {
				s := pbsStorage("s", "pbs.example.org", "store1", "", "")
				s.Port = 8008
				return oneCluster(s)
			}(),
			checks: []check{route("s", RoutePVEFallback, "c1:s", ""), warns(WarnUnknownPBS), pveListed("s", "n1", "n2", "n3")},
		},
		{
			name:   "nested namespace",
			estate: oneCluster(pbsStorage("prod", "pbs.example.org", "store1", "c1/prod", "")),
			checks: []check{route("prod", RoutePBS, "pbs1:store1/c1/prod", MatchHostPort), func(t *testing.T, p Plan) {
				if r := findRepo(t, p, "pbs1:store1/c1/prod"); r.Cluster != "c1" || r.Namespace != "c1/prod" {
					t.Errorf("nested namespace repository: %+v", r)
				}
				// Every namespace is read, mapped or not; unmapped ones
				// belong to no cluster.
				if got := joinNames(p.Repositories); got != "pbs1:store1,pbs1:store1/c1,pbs1:store1/c1/prod" {
					t.Errorf("repositories: %s", got)
				}
				for _, n := range []string{"pbs1:store1", "pbs1:store1/c1"} {
					if r := findRepo(t, p, n); r.Cluster != "" || len(r.Clusters) != 0 {
						t.Errorf("%s: unmapped namespace attributed: %+v", n, r)
					}
				}
			}},
		},
		{
			name:   "root namespace",
			estate: oneCluster(pbsStorage("root", "pbs.example.org", "store1", "", "")),
			checks: []check{route("root", RoutePBS, "pbs1:store1", MatchHostPort), func(t *testing.T, p Plan) {
				if r := findRepo(t, p, "pbs1:store1"); r.Cluster != "c1" {
					t.Errorf("root namespace attribution: %+v", r)
				}
				if r := findRepo(t, p, "pbs1:store1/c1"); r.Cluster != "" {
					t.Errorf("a child of a mapped namespace is not mapped: %+v", r)
				}
			}},
		},
		{
			name:   "unknown PBS falls back to PVE",
			estate: oneCluster(pbsStorage("far", "other.example.org", "store1", "", fpPBS2)),
			checks: []check{route("far", RoutePVEFallback, "c1:far", ""), warns(WarnUnknownPBS), pveListed("far", "n1", "n2", "n3")},
		},
		{
			name: "PBS down falls back to PVE and nothing of it is read directly",
			estate: func() Estate {
				e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "c1", fpPBS1))
				e.PBS[0].Up = false
				return e
			}(),
			checks: []check{route("s", RoutePVEFallback, "c1:s", MatchFingerprint), warns(WarnPBSDown), func(t *testing.T, p Plan) {
				if len(p.PBSListings) != 0 {
					t.Errorf("down PBS read directly: %+v", p.PBSListings)
				}
				// The fallback repository has the PBS namespace's identity.
				if r := findRepo(t, p, "c1:s"); r.Key != pbsKey("fp:"+strings.ToLower(fpPBS1), "store1", "c1") {
					t.Errorf("fallback key %q", r.Key)
				}
			}},
		},
		{
			// A pin no configured PBS presents is evidence that PVE reaches
			// another server (or none): never mapped by the matching
			// address, read through PVE as a place of its own, and flagged
			// with both fingerprints.
			name:   "stale pin is not mapped by address",
			estate: oneCluster(pbsStorage("s", "pbs.example.org", "store1", "c1", "AA:"+fpPBS1[3:])),
			checks: []check{route("s", RoutePVEFallback, "c1:s", ""), warns(WarnStalePin), pveListed("s", "n1", "n2", "n3"), func(t *testing.T, p Plan) {
				for _, sp := range p.Suppressed {
					if sp.Reason == "pbs_via_pve" {
						t.Errorf("a stale pin's PVE path is suppressed as a PBS path: %+v", sp)
					}
				}
				pbsIdentity := pbsKey("fp:"+strings.ToLower(fpPBS1), "store1", "c1")
				if r := findRepo(t, p, "c1:s"); r.Key == pbsIdentity {
					t.Errorf("stale pin keyed as the PBS it does not reach: %q", r.Key)
				}
				for _, w := range p.Warnings {
					if w.Kind == WarnStalePin && !(strings.Contains(w.Message, "pbs1") && strings.Contains(w.Message, "aa:fd:ac:e7") && strings.Contains(w.Message, "94:fd:ac:e7")) {
						t.Errorf("stale pin warning names not the PBS, the pin and the presented fingerprint: %q", w.Message)
					}
				}
			}},
		},
		{
			name:   "missing datastore falls back",
			estate: oneCluster(pbsStorage("s", "pbs.example.org", "nostore", "", "")),
			checks: []check{route("s", RoutePVEFallback, "c1:s", MatchHostPort), warns(WarnDatastoreMissing)},
		},
		{
			name:   "missing namespace falls back",
			estate: oneCluster(pbsStorage("s", "pbs.example.org", "store1", "c9", "")),
			checks: []check{route("s", RoutePVEFallback, "c1:s", MatchHostPort), warns(WarnNamespaceMissing)},
		},
		{
			name: "namespace outside the allow-list falls back and is not read directly",
			estate: func() Estate {
				e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "c1/prod", ""))
				e.PBS[0].Namespaces = []string{""}
				return e
			}(),
			checks: []check{route("s", RoutePVEFallback, "c1:s", MatchHostPort), warns(WarnNamespaceMissing), func(t *testing.T, p Plan) {
				if got := joinNames(p.Repositories); got != "c1:s,pbs1:store1" {
					t.Errorf("repositories %s", got)
				}
			}},
		},
		{
			name: "allow-list entry includes its children",
			estate: func() Estate {
				e := oneCluster()
				e.PBS[0].Namespaces = []string{"c1"}
				return e
			}(),
			checks: []check{func(t *testing.T, p Plan) {
				if got := joinNames(p.Repositories); got != "pbs1:store1/c1,pbs1:store1/c1/prod" {
					t.Errorf("repositories %s", got)
				}
			}},
		},
		{
			name: "datastore in maintenance falls back and is not read",
			estate: func() Estate {
				e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "", ""))
				e.PBS[0].Datastores[0].Up = false
				return e
			}(),
			checks: []check{route("s", RoutePVEFallback, "c1:s", MatchHostPort), warns(WarnDatastoreDown), func(t *testing.T, p Plan) {
				if len(p.PBSListings) != 0 {
					t.Errorf("datastore down but read: %+v", p.PBSListings)
				}
			}},
		},
		{
			name: "nodes restriction: shared storage listed from its nodes only",
			estate: func() Estate {
				s := nfsStorage("nfs", "nas", "/e")
				s.Nodes = "n3,n2"
				return oneCluster(s)
			}(),
			checks: []check{route("nfs", RoutePVE, "c1:nfs", ""), pveListed("nfs", "n2", "n3")},
		},
		{
			name: "nodes restriction: node-local storage only on its node",
			estate: func() Estate {
				s := dirStorage("usb", "backup")
				s.Nodes = "n2"
				return oneCluster(s)
			}(),
			checks: []check{route("usb", RoutePVE, "c1/n2:usb", ""), pveListed("usb", "n2"), func(t *testing.T, p Plan) {
				if got := findStorage(t, p, "c1", "usb").Repositories; !reflect.DeepEqual(got, []string{"c1/n2:usb"}) {
					t.Errorf("repositories %v", got)
				}
			}},
		},
		{
			name: "node storage rows exclude a node and order failover candidates",
			estate: func() Estate {
				e := oneCluster(nfsStorage("nfs", "nas", "/e"))
				e.Clusters[0].NodeStorages = map[string][]proxmox.NodeStorage{
					"n1": {{Storage: "nfs", Type: "nfs", Enabled: true, Active: false, Shared: true}},
					"n2": {}, // listed, without the storage: not on n2
					"n3": {{Storage: "nfs", Type: "nfs", Enabled: true, Active: true, Shared: true}},
				}
				return e
			}(),
			checks: []check{pveListed("nfs", "n3", "n1")},
		},
		{
			name: "offline node: shared storage skips it, node-local storage is planned unreadable",
			estate: func() Estate {
				e := oneCluster(nfsStorage("nfs", "nas", "/e"), dirStorage("local", "backup,iso"))
				e.Clusters[0].Nodes[0] = offlineNode("n1")
				return e
			}(),
			checks: []check{pveListed("nfs", "n2", "n3"), warns(WarnRepositoryUnreadable), func(t *testing.T, p Plan) {
				if r := findRepo(t, p, "c1/n1:local"); r.Unreadable == "" {
					t.Errorf("offline node's local storage must be unreadable: %+v", r)
				}
				for _, l := range p.PVEListings {
					if l.Repository == "c1/n1:local" || len(l.Nodes) == 0 {
						t.Errorf("listing for an offline node or without nodes: %+v", l)
					}
				}
			}},
		},
		{
			name: "dir storage marked shared is read once",
			estate: func() Estate {
				s := dirStorage("cluster-dir", "backup")
				s.Shared = true
				return oneCluster(s)
			}(),
			checks: []check{route("cluster-dir", RoutePVE, "c1:cluster-dir", ""), pveListed("cluster-dir", "n1", "n2", "n3")},
		},
		{
			name: "a node storage row saying shared is trusted",
			estate: func() Estate {
				e := oneCluster(dirStorage("d", "backup"))
				e.Clusters[0].NodeStorages = map[string][]proxmox.NodeStorage{"n1": {{Storage: "d", Enabled: true, Shared: true}}}
				return e
			}(),
			checks: []check{route("d", RoutePVE, "c1:d", "")},
		},
		{
			name: "disabled storages are not read",
			estate: func() Estate {
				a := pbsStorage("old-pbs", "pbs.example.org", "store1", "c1", "")
				a.Disable = true
				b := nfsStorage("old-nfs", "nas", "/e")
				b.Disable = true
				return oneCluster(a, b)
			}(),
			checks: []check{route("old-pbs", RouteDisabled, "", ""), route("old-nfs", RouteDisabled, "", ""), pveListed("old-nfs"), func(t *testing.T, p Plan) {
				if r := findRepo(t, p, "pbs1:store1/c1"); r.Cluster != "" {
					t.Errorf("a disabled storage attributes its namespace: %+v", r)
				}
			}},
		},
		{
			name:   "storages without backup content are not in the plan",
			estate: oneCluster(dirStorage("local", "iso,vztmpl"), proxmox.StorageConfig{Storage: "lvm", Type: "lvmthin", Content: "images,rootdir"}),
			checks: []check{func(t *testing.T, p Plan) {
				if len(p.Storages) != 0 || len(p.PVEListings) != 0 {
					t.Errorf("plan has storages without backup content: %+v", p.Storages)
				}
			}},
		},
		{
			name: "two storages on one datastore and namespace: one repository, read once",
			estate: oneCluster(pbsStorage("a", "pbs.example.org", "store1", "c1", ""),
				pbsStorage("b", "192.0.2.7", "store1", "c1", fpPBS1)),
			checks: []check{route("a", RoutePBS, "pbs1:store1/c1", MatchHostPort), route("b", RoutePBS, "pbs1:store1/c1", MatchFingerprint), func(t *testing.T, p Plan) {
				n := 0
				for _, l := range p.PBSListings {
					if l.Repository == "pbs1:store1/c1" {
						n++
					}
				}
				if n != 1 {
					t.Errorf("pbs1:store1/c1 listed %d times", n)
				}
			}},
		},
		{
			name: "two fallback storages on one unknown datastore are read once",
			estate: oneCluster(pbsStorage("a", "far.example.org", "x", "", fpPBS2),
				pbsStorage("b", "198.51.100.1", "x", "", fpPBS2)),
			checks: []check{route("a", RoutePVEFallback, "c1:a", ""), route("b", RoutePVEFallback, "c1:a", ""), pveListed("b"), func(t *testing.T, p Plan) {
				found := false
				for _, s := range p.Suppressed {
					if s.Reason == DuplicateSameRepository && s.Storage == "b" && s.Repository == "c1:a" {
						found = true
					}
				}
				if !found {
					t.Errorf("b's read is not recorded as suppressed: %+v", p.Suppressed)
				}
			}},
		},
		{
			name: "override ignore",
			estate: func() Estate {
				e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "c1", ""), nfsStorage("nfs", "nas", "/e"))
				e.Overrides = []Override{{Cluster: "c1", Storage: "s", To: "ignore"}, {Cluster: "pve-c1", Storage: "nfs", To: "ignore"}}
				return e
			}(),
			checks: []check{route("s", RouteIgnored, "", ""), route("nfs", RouteIgnored, "", ""), pveListed("nfs"), func(t *testing.T, p Plan) {
				if r := findRepo(t, p, "pbs1:store1/c1"); r.Cluster != "" {
					t.Errorf("an ignored storage attributes its namespace: %+v", r)
				}
			}},
		},
		{
			name: "override pve on an unconfigured server reads through PVE",
			estate: func() Estate {
				e := oneCluster(pbsStorage("s", "far.example.org", "x", "", ""))
				e.Overrides = []Override{{Cluster: "c1", Storage: "s", To: "pve"}}
				return e
			}(),
			checks: []check{route("s", RoutePVEFallback, "c1:s", ""), pveListed("s", "n1", "n2", "n3")},
		},
		{
			name: "override pve next to a direct read of the same namespace: read once, from the PBS",
			estate: func() Estate {
				e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "c1", ""))
				e.Overrides = []Override{{Cluster: "c1", Storage: "s", To: "pve"}}
				return e
			}(),
			checks: []check{route("s", RoutePVEFallback, "pbs1:store1/c1", MatchOverride), pveListed("s"), func(t *testing.T, p Plan) {
				if r := findRepo(t, p, "pbs1:store1/c1"); r.Cluster != "c1" {
					t.Errorf("attribution through a pve-routed storage: %+v", r)
				}
			}},
		},
		{
			name: "override to a PBS matches a storage nothing else would",
			estate: func() Estate {
				e := oneCluster(pbsStorage("s", "backup.internal", "store1", "c1", ""))
				e.Overrides = []Override{{Cluster: "c1", Storage: "s", To: "pbs1"}}
				return e
			}(),
			checks: []check{route("s", RoutePBS, "pbs1:store1/c1", MatchOverride), noWarnings},
		},
		{
			name: "override to a PBS still needs the datastore",
			estate: func() Estate {
				e := oneCluster(pbsStorage("s", "backup.internal", "nostore", "", ""))
				e.Overrides = []Override{{Cluster: "c1", Storage: "s", To: "pbs1"}}
				return e
			}(),
			checks: []check{route("s", RoutePVEFallback, "c1:s", MatchOverride), warns(WarnDatastoreMissing)},
		},
		{
			name: "a route for a storage the cluster does not have is reported",
			estate: func() Estate {
				e := oneCluster(nfsStorage("nfs", "nas", "/e"))
				e.Overrides = []Override{{Cluster: "c1", Storage: "nsf", To: "ignore"}}
				return e
			}(),
			checks: []check{route("nfs", RoutePVE, "c1:nfs", ""), warns(WarnOverrideConflict)},
		},
		{
			name: "override to an unknown PBS falls back with a warning",
			estate: func() Estate {
				e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "", ""))
				e.Overrides = []Override{{Cluster: "c1", Storage: "s", To: "pbs9"}}
				return e
			}(),
			checks: []check{route("s", RoutePVEFallback, "c1:s", ""), warns(WarnUnknownPBS)},
		},
		{
			name: "namespace attribution override",
			estate: func() Estate {
				e := oneCluster()
				e.Overrides = []Override{{PBS: "pbs1", Datastore: "store1", Namespace: "c1/prod", Cluster: "c1"}}
				return e
			}(),
			checks: []check{noWarnings, func(t *testing.T, p Plan) {
				if r := findRepo(t, p, "pbs1:store1/c1/prod"); r.Cluster != "c1" || !reflect.DeepEqual(r.Clusters, []string{"c1"}) {
					t.Errorf("attributed namespace: %+v", r)
				}
				if r := findRepo(t, p, "pbs1:store1/c1"); r.Cluster != "" {
					t.Errorf("attribution leaked to another namespace: %+v", r)
				}
			}},
		},
		{
			name: "contradictory attribution overrides are ignored",
			estate: func() Estate {
				e := oneCluster()
				e.Overrides = []Override{{PBS: "pbs1", Datastore: "store1", Namespace: "c1", Cluster: "c1"}, {PBS: "pbs1", Datastore: "store1", Namespace: "c1", Cluster: "c2"}}
				return e
			}(),
			checks: []check{warns(WarnOverrideConflict), func(t *testing.T, p Plan) {
				if r := findRepo(t, p, "pbs1:store1/c1"); r.Cluster != "" {
					t.Errorf("contradictory routes applied: %+v", r)
				}
			}},
		},
		{
			name: "host:port matching two servers is ambiguous: fall back",
			estate: func() Estate {
				e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "", ""))
				e.PBS = append(e.PBS, pbsTarget("pbs2", "pbs.example.org:8007", fpPBS2, ds("store1")))
				return e
			}(),
			checks: []check{route("s", RoutePVEFallback, "c1:s", ""), warns(WarnAmbiguousMapping)},
		},
		{
			name: "one server configured twice is read once and matched to the first",
			estate: func() Estate {
				e := oneCluster(pbsStorage("s", "pbs.example.org", "store1", "", fpPBS1))
				e.PBS = append(e.PBS, pbsTarget("pbs1-again", "10.0.0.5:8007", fpPBS1, ds("store1", "c1", "c1/prod")))
				return e
			}(),
			checks: []check{route("s", RoutePBS, "pbs1:store1", MatchFingerprint), warns(WarnAmbiguousMapping), func(t *testing.T, p Plan) {
				for _, l := range p.PBSListings {
					if l.PBSTarget != "pbs1" {
						t.Errorf("second target of one server read: %+v", l)
					}
				}
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := BuildPlan(tc.estate)
			for _, c := range tc.checks {
				c(t, p)
			}
			// Invariants of every plan.
			checkPlanInvariants(t, p)
		})
	}
}

// checkPlanInvariants holds for every plan: each repository key is planned
// once, each readable repository has exactly one listing, unreadable ones
// none, and the plan is deterministic.
func checkPlanInvariants(t *testing.T, p Plan) {
	t.Helper()
	keys := map[string]string{}
	listings := map[string]int{}
	for _, l := range p.PVEListings {
		listings[l.Repository]++
		if len(l.Nodes) == 0 {
			t.Errorf("PVE listing without nodes: %+v", l)
		}
	}
	for _, l := range p.PBSListings {
		listings[l.Repository]++
	}
	for _, r := range p.Repositories {
		if other, dup := keys[r.Key]; dup {
			t.Errorf("repositories %s and %s share key %s", other, r.Name, r.Key)
		}
		keys[r.Key] = r.Name
		want := 1
		if r.Unreadable != "" {
			want = 0
		}
		if listings[r.Name] != want {
			t.Errorf("repository %s has %d listings, want %d", r.Name, listings[r.Name], want)
		}
	}
	if len(listings) > len(p.Repositories) {
		t.Errorf("listings for unplanned repositories: %v", listings)
	}
}

func TestBuildPlanReadsASharedPlaceThroughAnyClusterThatCan(t *testing.T) {
	a := Cluster{Target: "pve-a", Name: "a", Up: true, Nodes: []proxmox.Node{offlineNode("a1")},
		Storages: []proxmox.StorageConfig{nfsStorage("nas", "nas.lan", "/pve")}}
	b := Cluster{Target: "pve-b", Name: "b", Up: true, Nodes: nodes("b1", "b2"),
		Storages: []proxmox.StorageConfig{nfsStorage("dumps", "nas.lan", "/pve")}}
	// One address in two clusters is no proof of one place: without a
	// declaration a's export is its own, and unreadable.
	p := BuildPlan(Estate{Clusters: []Cluster{a, b}})
	if r := findRepo(t, p, "a:nas"); r.Unreadable == "" || !reflect.DeepEqual(r.Clusters, []string{"a"}) {
		t.Errorf("undeclared: a's repository %+v", r)
	}
	if len(p.PVEListings) != 1 || p.PVEListings[0].Repository != "b:dumps" {
		t.Errorf("undeclared: b reads its own storage: %+v", p.PVEListings)
	}
	// Declared one place (a config route same_as), b reads it for both.
	p = BuildPlan(Estate{Clusters: []Cluster{a, b}, Overrides: []Override{{Cluster: "b", Storage: "dumps", SameAs: "a:nas"}}})
	if len(p.PVEListings) != 1 || p.PVEListings[0].ClusterTarget != "pve-b" || p.PVEListings[0].Storage != "dumps" || p.PVEListings[0].Repository != "a:nas" {
		t.Fatalf("the export must be read through b: %+v", p.PVEListings)
	}
	if r := findRepo(t, p, "a:nas"); r.Unreadable != "" || !reflect.DeepEqual(r.Clusters, []string{"a", "b"}) {
		t.Errorf("repository: %+v", r)
	}
	if hasWarning(p.Warnings, WarnRepositoryUnreadable) {
		t.Errorf("stale unreadable warning: %+v", p.Warnings)
	}
	checkPlanInvariants(t, p)
	// Without b, nothing can read it.
	p = BuildPlan(Estate{Clusters: []Cluster{a}})
	if r := findRepo(t, p, "a:nas"); r.Unreadable == "" || !hasWarning(p.Warnings, WarnRepositoryUnreadable) {
		t.Errorf("want unreadable with a warning: %+v %+v", r, p.Warnings)
	}
}

func TestBuildPlanIsDeterministic(t *testing.T) {
	e, _ := homelab()
	e.Clusters = append(e.Clusters, Cluster{Target: "pve-b", Name: "b", Up: true, Nodes: nodes("x2", "x1"),
		Storages: []proxmox.StorageConfig{nfsStorage("n", "10.0.0.20", "/mnt/tank/pve/"), pbsStorage("p", "pbs.example.org", "store1", "", "")}})
	want := BuildPlan(e)
	for i := 0; i < 20; i++ {
		// Reverse input orders: the plan must not depend on them.
		r := e
		r.Clusters = append([]Cluster(nil), e.Clusters...)
		for a, b := 0, len(r.Clusters)-1; a < b; a, b = a+1, b-1 {
			r.Clusters[a], r.Clusters[b] = r.Clusters[b], r.Clusters[a]
		}
		if got := BuildPlan(r); !reflect.DeepEqual(got, want) {
			t.Fatalf("plan differs between runs:\n%+v\n%+v", got, want)
		}
	}
}

// Two storages on one unconfigured PBS, one pinning its fingerprint and one
// naming only the server, are one place read through PVE once (found by
// the collector's end-to-end property test, seed 10).
func TestBuildPlanFallbackStoragesWithAndWithoutFingerprintAreOnePlace(t *testing.T) {
	const fp = "94:fd:ac:e7:d5:36:0e:11:5b:23:05:40:d2:a4:e1:8a:c1:52:41:01:07:28:c0:4d:c5:ee:df:7f:7c:03:ab:41"
	e := Estate{Clusters: []Cluster{{
		Target: "c1", Name: "c1", Up: true, Nodes: nodes("n1", "n2"),
		Storages: []proxmox.StorageConfig{
			pbsStorage("pbs", "10.0.0.5", "store1", "lab", fp),
			pbsStorage("nfs-pbs", "10.0.0.5", "store1", "lab", ""),
		},
	}}}
	p := BuildPlan(e)
	a, b := findStorage(t, p, "c1", "pbs"), findStorage(t, p, "c1", "nfs-pbs")
	if a.Route != RoutePVEFallback || b.Route != RoutePVEFallback {
		t.Fatalf("routes %s, %s; want both %s", a.Route, b.Route, RoutePVEFallback)
	}
	if a.Repository != b.Repository {
		t.Errorf("one place under two repositories: %q and %q", a.Repository, b.Repository)
	}
	if len(p.PVEListings) != 1 {
		t.Errorf("%d PVE listings, want 1: %+v", len(p.PVEListings), p.PVEListings)
	}
	// A server pinned with two different fingerprints is not guessed at.
	e.Clusters[0].Storages = append(e.Clusters[0].Storages,
		pbsStorage("other", "10.0.0.5", "store1", "lab", strings.ReplaceAll(fp, "94:fd", "00:00")))
	p = BuildPlan(e)
	if a, b := findStorage(t, p, "c1", "pbs"), findStorage(t, p, "c1", "nfs-pbs"); a.Repository == b.Repository {
		t.Errorf("conflicting pins: the unpinned storage was merged into %q", a.Repository)
	}
}

// TestPlanPBSCoversBuildPlan: the first planning phase names every PBS
// listing the plan of the scrape will name, whatever the clusters are, so
// the collector can start them before the PVE inventories are in; and it
// names each once, in repository order.
func TestPlanPBSCoversBuildPlan(t *testing.T) {
	for seed := int64(1); seed <= 200; seed++ {
		w := genWorldFrom(seed)
		early := PlanPBS(w.e.PBS)
		named := map[PBSListing]bool{}
		for i, l := range early {
			if named[l] {
				t.Fatalf("seed %d: PlanPBS names %+v twice", seed, l)
			}
			named[l] = true
			if i > 0 && early[i-1].Repository > l.Repository {
				t.Fatalf("seed %d: PlanPBS out of repository order at %d", seed, i)
			}
		}
		for _, l := range BuildPlan(w.e).PBSListings {
			if !named[l] {
				t.Errorf("seed %d: BuildPlan names %+v, which PlanPBS did not", seed, l)
			}
		}
	}
}
