package proxmox

import (
	"context"
	"net/http"
	"testing"
)

func TestSnapshotEncrypted(t *testing.T) {
	enc := SnapshotFile{Filename: "drive-scsi0.img.fidx", CryptMode: CryptModeEncrypt}
	plain := SnapshotFile{Filename: "drive-scsi0.img.fidx", CryptMode: CryptModeNone}
	signed := SnapshotFile{Filename: "qemu-server.conf.blob", CryptMode: CryptModeSignOnly}
	manifest := SnapshotFile{Filename: "index.json.blob", CryptMode: CryptModeSignOnly}
	log := SnapshotFile{Filename: "client.log.blob", CryptMode: CryptModeNone}
	cases := []struct {
		name string
		s    Snapshot
		want bool
	}{
		{"key fingerprint in the manifest", Snapshot{Fingerprint: "8d:80"}, true},
		{"every archive encrypted, blobs aside", Snapshot{Files: []SnapshotFile{manifest, enc, log}}, true},
		{"one archive plain", Snapshot{Files: []SnapshotFile{enc, plain}}, false},
		{"sign-only is not encrypted", Snapshot{Files: []SnapshotFile{manifest, signed}}, false},
		{"only manifest and log", Snapshot{Files: []SnapshotFile{manifest, log}}, false},
		{"no files (in progress)", Snapshot{}, false},
		{"crypt mode missing", Snapshot{Files: []SnapshotFile{{Filename: "root.pxar.didx"}}}, false},
	}
	for _, tc := range cases {
		if got := SnapshotEncrypted(&tc.s); got != tc.want {
			t.Errorf("%s: SnapshotEncrypted = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestVolumeEncrypted(t *testing.T) {
	for enc, want := range map[String]bool{"": false, "0": false, "1": true, "8d:80:00:ab": true} {
		if got := VolumeEncrypted(BackupVolume{Encrypted: enc}); got != want {
			t.Errorf("VolumeEncrypted(encrypted=%q) = %v, want %v", enc, got, want)
		}
	}
}

func TestJobResult(t *testing.T) {
	cases := map[string]string{
		"OK":          JobResultOK,
		"WARNINGS: 3": JobResultWarning,
		"WARNINGS: 1": JobResultWarning,
		// A failed PBS job's state is its bare error text.
		"verification failed - please check the log for details": JobResultFailed,
		"WARNINGS: x": JobResultFailed,
		"":            "",
		"unknown":     "",
		"running":     "",
	}
	for state, want := range cases {
		if got := JobResult(state); got != want {
			t.Errorf("JobResult(%q) = %q, want %q", state, got, want)
		}
	}
}

func TestSyncDirection(t *testing.T) {
	if d := (JobStatus{}).Direction(); d != SyncPull {
		t.Errorf("no sync-direction: %q, want pull", d)
	}
	if d := (JobStatus{SyncDirection: SyncPush}).Direction(); d != SyncPush {
		t.Errorf("push job: %q, want push", d)
	}
}

func TestSeesAllSyncJobs(t *testing.T) {
	cases := []struct {
		name  string
		perms map[string]map[string]bool
		want  bool
	}{
		{"propagated on /remote", map[string]map[string]bool{"/remote": {"Remote.Audit": true}}, true},
		{"propagated on /", map[string]map[string]bool{"/": {"Remote.Audit": true, "Sys.Audit": true}}, true},
		{"on /remote without propagation", map[string]map[string]bool{"/remote": {"Remote.Audit": false}}, false},
		{"on one remote only", map[string]map[string]bool{"/remote/offsite": {"Remote.Audit": true}}, false},
		{"datastore privileges only", map[string]map[string]bool{"/datastore": {"Datastore.Audit": true}}, false},
		{"nothing", nil, false},
	}
	for _, tc := range cases {
		if got := SeesAllSyncJobs(tc.perms); got != tc.want {
			t.Errorf("%s: SeesAllSyncJobs = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSyncJobsAllFallsBackBefore33: a PBS that refuses the sync-direction
// parameter (before 3.3) is asked again without it, and the answer says
// only pull jobs were listed; any other failure is returned as it is.
func TestSyncJobsAllFallsBackBefore33(t *testing.T) {
	var queries []string
	srv := newServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		if r.URL.Query().Has("sync-direction") {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte("parameter verification errors\n\nparameter 'sync-direction': schema does not allow additional properties."))
			return
		}
		_, _ = w.Write([]byte(`{"data":[{"id":"s1","store":"main","remote-store":"main"}]}`))
	})
	c := mustPBS(t, pinned(t, "pbs", srv.URL))
	jobs, all, err := c.SyncJobsAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if all || len(jobs) != 1 || len(queries) != 2 || queries[1] != "" {
		t.Fatalf("all=%v jobs=%d queries=%q, want the plain list read after the refusal", all, len(jobs), queries)
	}

	srv2 := newServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("permission check failed"))
	})
	c2 := mustPBS(t, pinned(t, "pbs", srv2.URL))
	if _, _, err := c2.SyncJobsAll(context.Background()); ClassOf(err) != ClassPermission {
		t.Fatalf("403: err %v, want a permission error", err)
	}
}

func TestSeesAllGroups(t *testing.T) {
	cases := []struct {
		name  string
		perms map[string]map[string]bool
		want  bool
	}{
		{"propagated from /", map[string]map[string]bool{"/": {"Datastore.Audit": true}}, true},
		{"propagated from /datastore", map[string]map[string]bool{"/datastore": {"Datastore.Audit": true}}, true},
		{"on the datastore itself", map[string]map[string]bool{"/datastore/main": {"Datastore.Audit": false}}, true},
		{"on / without propagation", map[string]map[string]bool{"/": {"Datastore.Audit": false}}, false},
		{"on another datastore", map[string]map[string]bool{"/datastore/other": {"Datastore.Audit": true}}, false},
		{"backup only", map[string]map[string]bool{"/datastore/main": {"Datastore.Backup": true}}, false},
	}
	for _, tc := range cases {
		if got := SeesAllGroups(tc.perms, "main"); got != tc.want {
			t.Errorf("%s: SeesAllGroups = %v, want %v", tc.name, got, tc.want)
		}
	}
}
