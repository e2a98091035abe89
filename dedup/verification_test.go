package dedup

import (
	"reflect"
	"testing"
)

func TestVerifyCovered(t *testing.T) {
	depth := func(n int) *int { return &n }
	ran := VerifyJob{Store: "main", Schedule: "daily", LastEnd: 100}
	with := func(f func(*VerifyJob)) VerifyJob { j := ran; f(&j); return j }
	cases := []struct {
		name string
		jobs []VerifyJob
		want bool
	}{
		{"scheduled root job that ran", []VerifyJob{ran}, true},
		{"full depth given explicitly", []VerifyJob{with(func(j *VerifyJob) { j.MaxDepth = depth(7) })}, true},
		{"no job", nil, false},
		{"exists but never ran", []VerifyJob{with(func(j *VerifyJob) { j.LastEnd = 0 })}, false},
		{"no schedule (switched off)", []VerifyJob{with(func(j *VerifyJob) { j.Schedule = "" })}, false},
		{"one namespace only", []VerifyJob{with(func(j *VerifyJob) { j.Namespace = "prod" })}, false},
		{"root only, not below", []VerifyJob{with(func(j *VerifyJob) { j.MaxDepth = depth(0) })}, false},
		{"another datastore's job", []VerifyJob{with(func(j *VerifyJob) { j.Store = "other" })}, false},
		{"one good job among bad ones", []VerifyJob{with(func(j *VerifyJob) { j.LastEnd = 0 }), ran}, true},
	}
	for _, tc := range cases {
		got := VerifyCovered([]string{"main"}, tc.jobs)
		if got["main"] != tc.want || len(got) != 1 {
			t.Errorf("%s: %v, want main=%v", tc.name, got, tc.want)
		}
	}
}

func TestDatastoreVerification(t *testing.T) {
	p := Plan{Repositories: []Repository{
		{Name: "pbs1:main", Kind: KindPBS, Target: "pbs1", Datastore: "main"},
		{Name: "pbs1:main/prod", Kind: KindPBS, Target: "pbs1", Datastore: "main", Namespace: "prod"},
		{Name: "pbs1:empty", Kind: KindPBS, Target: "pbs1", Datastore: "empty"},
		{Name: "pbs1:half", Kind: KindPBS, Target: "pbs1", Datastore: "half"},
		{Name: "pbs1:half/ns", Kind: KindPBS, Target: "pbs1", Datastore: "half", Namespace: "ns"},
		{Name: "c:nfs", Kind: KindPVE, Target: "c", Storage: "nfs"},
	}}
	r := Result{
		RepositoryState: map[string]string{
			"pbs1:main": RepositoryStateUp, "pbs1:main/prod": RepositoryStateUp, "pbs1:empty": RepositoryStateUp,
			"pbs1:half": RepositoryStateUp, "pbs1:half/ns": RepositoryStateDown, "c:nfs": RepositoryStateUp,
		},
		Groups: []GroupAggregate{
			{Repository: "pbs1:main", BackupType: "vm", BackupID: "100", Snapshots: 5, Verified: 3, VerifyFailed: 1},
			{Repository: "pbs1:main/prod", BackupType: "vm", BackupID: "100", Snapshots: 2, Verified: 2},
			{Repository: "pbs1:half", BackupType: "vm", BackupID: "101", Snapshots: 2, Verified: 2},
			{Repository: "c:nfs", BackupType: "vm", BackupID: "100", Snapshots: 9},
		},
	}
	want := map[DatastoreKey]VerificationCounts{
		{"pbs1", "main"}:  {OK: 5, Failed: 1, None: 1},
		{"pbs1", "empty"}: {},
	}
	if got := DatastoreVerification(p, r); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}
