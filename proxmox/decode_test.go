package proxmox

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

func TestDecodeEnvelope(t *testing.T) {
	for _, tc := range []struct {
		body string
		want string // error substring, "" = ok
	}{
		{`{"data":[]}`, ""},
		{`{"data":[{"node":"a"}],"total":1}`, ""},
		{` {"total":1, "data":[] } `, ""},
		{`{"data":null}`, `"data" is null`},
		{`{}`, `no "data"`},
		{`{"total":1}`, `no "data"`},
		{`null`, `no "data"`},
		{``, "empty response body"},
		{" \n", "empty response body"},
		{`[]`, "not a JSON object"},
		{`"data"`, "not a JSON object"},
		{`{"data":{}}`, "unexpected data"},
		{`{"data":[1]}`, "unexpected data"},
		{`{"data":[{"uptime":"abc"}]}`, `unexpected data: cannot decode "abc" as an integer`},
		{`{"data":[]} trailing`, "malformed JSON"},
		{`{"data":[`, "malformed JSON"},
		{"\xef\xbb\xbf{\"data\":[]}", "malformed JSON"},
	} {
		var out []Node
		err := DecodeEnvelope([]byte(tc.body), &out)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.body, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want %q", tc.body, err, tc.want)
		}
	}
}

// TestDecodeEnvelopeObject: an object model tells an empty object (data,
// all zero) from an absent or null one (an error), and nil out only checks
// the envelope.
func TestDecodeEnvelopeObject(t *testing.T) {
	for _, tc := range []struct {
		body string
		want string
	}{
		{`{"data":{}}`, ""},
		{`{"data":{"version":"8.1"}}`, ""},
		{`{}`, `no "data"`},
		{`{"data":null}`, `"data" is null`},
		{`{"data":[]}`, "unexpected data"},
		{`{"data":"8.1"}`, "unexpected data"},
	} {
		var v PVEVersion
		err := DecodeEnvelope([]byte(tc.body), &v)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q: error %v, want %q", tc.body, err, tc.want)
		}
		// nil out: the same verdict on the envelope, whatever the data.
		err = DecodeEnvelope([]byte(tc.body), nil)
		okEnvelope := tc.want == "" || strings.Contains(tc.want, "unexpected data")
		if okEnvelope != (err == nil) {
			t.Errorf("%q with nil out: %v", tc.body, err)
		}
	}
	var v PVEVersion
	if err := DecodeEnvelope([]byte(`{"data":{"version":"8.1.4","release":"8.1"},"success":1}`), &v); err != nil || v.Version != "8.1.4" || v.Release != "8.1" {
		t.Errorf("got %+v, %v", v, err)
	}
}

// TestDecodeAbsentStaysAbsent: optional fields are nil when absent or null
// and set when present, zero included (unknown is absent, never zero);
// fields of the models follow encoding/json (members in any order, the
// last duplicate wins, names matched without case).
func TestDecodeAbsentStaysAbsent(t *testing.T) {
	var usage []DatastoreUsage
	body := `{"data":[{"store":"a","total":0,"used":5,"estimated-full-date":0,"gc-status":{"disk-bytes":"7"}},` +
		`{"store":"b","total":null,"error":"cannot open"}]}`
	if err := DecodeEnvelope([]byte(body), &usage); err != nil {
		t.Fatal(err)
	}
	if len(usage) != 2 {
		t.Fatalf("%d rows", len(usage))
	}
	a, b := usage[0], usage[1]
	if a.Total == nil || *a.Total != 0 || a.Used == nil || *a.Used != 5 || a.Avail != nil {
		t.Errorf("a: total %v used %v avail %v", a.Total, a.Used, a.Avail)
	}
	if a.EstimatedFullDate == nil || *a.EstimatedFullDate != 0 || a.GCStatus == nil || a.GCStatus.DiskBytes != 7 {
		t.Errorf("a: estimated %v gc %+v", a.EstimatedFullDate, a.GCStatus)
	}
	if b.Total != nil || b.Used != nil || b.EstimatedFullDate != nil || b.GCStatus != nil || b.Error != "cannot open" {
		t.Errorf("b: %+v", b)
	}

	var jobs []BackupJob
	if err := DecodeEnvelope([]byte(`{"data":[{"enabled":0},{"enabled":null},{},{"enabled":"1"},{"id":"x","ID":"y"}]}`), &jobs); err != nil {
		t.Fatal(err)
	}
	if jobs[0].Enabled == nil || bool(*jobs[0].Enabled) || jobs[0].IsEnabled() {
		t.Errorf("enabled 0: %v", jobs[0].Enabled)
	}
	if jobs[1].Enabled != nil || jobs[2].Enabled != nil || !jobs[2].IsEnabled() {
		t.Errorf("enabled null/absent: %v %v", jobs[1].Enabled, jobs[2].Enabled)
	}
	if jobs[3].Enabled == nil || !bool(*jobs[3].Enabled) {
		t.Errorf(`enabled "1": %v`, jobs[3].Enabled)
	}
	if jobs[4].ID != "y" {
		t.Errorf("duplicate id: %q", jobs[4].ID)
	}

	var snaps []Snapshot
	if err := DecodeEnvelope([]byte(`{"data":[{"backup-id":101,"size":0,"verification":{"state":"ok"}},{"backup-id":"ct-1"}]}`), &snaps); err != nil {
		t.Fatal(err)
	}
	if snaps[0].BackupID != "101" || snaps[0].Size == nil || *snaps[0].Size != 0 || snaps[0].Verification == nil || snaps[0].Verification.State != "ok" {
		t.Errorf("first snapshot %+v", snaps[0])
	}
	if snaps[1].BackupID != "ct-1" || snaps[1].Size != nil || snaps[1].Verification != nil {
		t.Errorf("second snapshot %+v", snaps[1])
	}
}

// TestDecodeCopiesStrings: response buffers are reused (http.go), so no
// decoded string may share the body's memory. Overwriting the body after
// decoding must leave every value as decoded: plain strings, escaped ones,
// lenient String values (quoted and numeric), string lists and nested
// objects.
func TestDecodeCopiesStrings(t *testing.T) {
	body := []byte(`{"data":[{"backup-type":"vm","backup-id":"web\u00e9","owner":"root@pam","files":["index.json.blob","drive-scsi0.img.fidx"]},` +
		`{"backup-type":"ct","backup-id":1234,"comment":"a\"b","files":["x"]}]}`)
	var groups []BackupGroup
	if err := DecodeEnvelope(body, &groups); err != nil {
		t.Fatal(err)
	}
	want := []BackupGroup{
		{BackupType: "vm", BackupID: "webé", Owner: "root@pam", Files: []string{"index.json.blob", "drive-scsi0.img.fidx"}},
		{BackupType: "ct", BackupID: "1234", Comment: `a"b`, Files: []string{"x"}},
	}
	copy(body, bytes.Repeat([]byte("#"), len(body)))
	if !reflect.DeepEqual(groups, want) {
		t.Errorf("after overwriting the body: %+v", groups)
	}

	vbody := []byte(`{"data":[{"volid":"pbs:backup/vm/100/2025-06-01T00:00:00Z","verification":{"state":"ok","upid":"UPID:pbs:1"},"encrypted":"8d:80"}]}`)
	var vols []BackupVolume
	if err := DecodeEnvelope(vbody, &vols); err != nil {
		t.Fatal(err)
	}
	copy(vbody, bytes.Repeat([]byte("#"), len(vbody)))
	v := vols[0]
	if v.VolID != "pbs:backup/vm/100/2025-06-01T00:00:00Z" || v.Verification.UPID != "UPID:pbs:1" || v.Encrypted != "8d:80" {
		t.Errorf("after overwriting the body: %+v %+v", v, v.Verification)
	}
}

// fuzzModels are fresh pointers to every response model.
func fuzzModels() []any {
	return []any{
		new(PVEVersion), new([]ClusterStatusItem), new([]Node), new([]ClusterResource), new([]StorageConfig),
		new([]NodeStorage), new([]BackupVolume), new([]BackupJob), new([]NotBackedUpGuest), new([]Task),
		new(TaskStatus), new([]TaskLogLine),
		new(PBSVersion), new([]Datastore), new([]DatastoreUsage), new(DatastoreStatus), new([]Namespace),
		new([]BackupGroup), new([]Snapshot), new([]GCJobStatus), new([]JobStatus), new([]PBSTask),
		new(PBSNodeStatus), new([]PBSCertificateInfo),
	}
}

// envelopeErrors are the beginnings of DecodeEnvelope's errors: each says
// which way the body is wrong.
var envelopeErrors = []string{
	"empty response body", "malformed JSON: ", "response is not a JSON object: ", "unexpected data: ",
	`response "data" is null`, `response has no "data" member`,
}

// FuzzDecodeEnvelope: no input makes decoding into any model, or message
// extraction, panic; decoding errors say which way the body is wrong, and
// a body valid for one model is valid as an envelope (nil out);
// extracted messages are single clean lines.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, name := range sampleFiles(f) {
		b, err := os.ReadFile(filepath.Join(samplesDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"data":null}`, `{"data":[{"vmid":"1e400"}]}`, `{"data":[{"vmid":1e19}]}`, `{"data":[{"template":"maybe"}]}`,
		`{"data":[{"backup-id":[1]}]}`, `{"data":{"info":null}}`, `{"message":"x\u0000y","errors":{"a":"b"}}`,
		`{"data":[{"name":"\ud83d\ude00\ud83d","vmid":"1e2","files":["a",null],"verification":{"state":"ok"}}],"total":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		envErr := DecodeEnvelope(body, nil)
		if envErr != nil && !hasPrefix(envErr.Error(), envelopeErrors) {
			t.Errorf("envelope error %q says not what is wrong", envErr)
		}
		for _, m := range fuzzModels() {
			err := DecodeEnvelope(body, m)
			if err == nil && envErr != nil {
				t.Errorf("%T decoded, yet the envelope is bad: %v", m, envErr)
			}
			if err != nil && !hasPrefix(err.Error(), envelopeErrors) {
				t.Errorf("%T: error %q says not what is wrong", m, err)
			}
		}
		msg := proxmoxMessage(body, "Reason")
		if strings.ContainsAny(msg, "\n\r\t\x00") || len(msg) > maxMessage+len("…") {
			t.Errorf("message %q is not one clean, bounded line", msg)
		}
		class, _ := classifyStatus(500, msg)
		if class == "" {
			t.Error("empty class")
		}
	})
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// listingBody is one emulator answer and the model it is read into.
type listingBody struct {
	name  string
	body  []byte
	model func() any
}

// emulatorListings starts the emulator on m and GETs every listing the
// clients read, from the first node of each cluster.
func emulatorListings(tb testing.TB, m *emulator.Model) []listingBody {
	tb.Helper()
	srv, err := emulator.Start(m)
	if err != nil {
		tb.Fatal(err)
	}
	defer srv.Close()
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // a local test emulator
	}}
	defer hc.CloseIdleConnections()
	get := func(base, auth, path string) []byte {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, base+"/api2/json"+path, nil)
		if err != nil {
			tb.Fatal(err)
		}
		req.Header.Set("Authorization", auth)
		resp, err := hc.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			tb.Fatalf("GET %s: %s %v %.200s", path, resp.Status, err, body)
		}
		return body
	}
	var out []listingBody
	add := func(name string, body []byte, model func() any) {
		out = append(out, listingBody{name, body, model})
	}
	for _, c := range m.Clusters {
		id, secret := srv.PVEToken(c.Name)
		auth := "PVEAPIToken=" + id + "=" + secret
		node := c.Nodes[0].Name
		base := srv.PVEURL(c.Name, node)
		pve := func(path string, model func() any) { add(c.Name+path, get(base, auth, path), model) }
		pve("/cluster/resources", func() any { return new([]ClusterResource) })
		pve("/cluster/status", func() any { return new([]ClusterStatusItem) })
		pve("/nodes", func() any { return new([]Node) })
		pve("/storage", func() any { return new([]StorageConfig) })
		pve("/nodes/"+node+"/storage", func() any { return new([]NodeStorage) })
		pve("/cluster/backup", func() any { return new([]BackupJob) })
		pve("/cluster/backup-info/not-backed-up", func() any { return new([]NotBackedUpGuest) })
		pve("/cluster/tasks", func() any { return new([]Task) })
		pve("/nodes/"+node+"/tasks", func() any { return new([]Task) })
		for _, st := range c.Storages {
			if st.OnNode(node) && !st.Disabled && !st.Offline {
				pve("/nodes/"+node+"/storage/"+st.ID+"/content?content=backup", func() any { return new([]BackupVolume) })
			}
		}
	}
	for _, p := range m.PBS {
		id, secret := srv.PBSToken(p.Name)
		auth := "PBSAPIToken=" + id + ":" + secret
		base := srv.PBSURL(p.Name)
		pbs := func(path string, model func() any) { add(p.Name+path, get(base, auth, path), model) }
		pbs("/admin/datastore", func() any { return new([]Datastore) })
		pbs("/nodes/localhost/tasks", func() any { return new([]PBSTask) })
		pbs("/nodes/localhost/certificates/info", func() any { return new([]PBSCertificateInfo) })
		pbs("/admin/gc", func() any { return new([]GCJobStatus) })
		for _, path := range []string{"/admin/verify", "/admin/prune", "/admin/sync"} {
			pbs(path, func() any { return new([]JobStatus) })
		}
		for _, ds := range p.Datastores {
			if ds.Maintenance != "" || ds.MountStatus == "notmounted" {
				continue
			}
			pbs("/admin/datastore/"+ds.Name+"/namespace", func() any { return new([]Namespace) })
			nss := []string{""}
			for _, ns := range ds.Namespaces {
				if ns.Path != "" {
					nss = append(nss, ns.Path)
				}
			}
			for _, ns := range nss {
				q := "?ns=" + url.QueryEscape(ns)
				pbs("/admin/datastore/"+ds.Name+"/groups"+q, func() any { return new([]BackupGroup) })
				pbs("/admin/datastore/"+ds.Name+"/snapshots"+q, func() any { return new([]Snapshot) })
			}
		}
	}
	return out
}

// TestDecodeEmulatorListings: every listing the emulator serves decodes
// into its model, and rows are not all zero (a model whose tags no longer
// match the answers would decode to zero rows; the root namespace alone
// is a zero row).
func TestDecodeEmulatorListings(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	listings := append(emulatorListings(t, emulator.Homelab(now)),
		emulatorListings(t, emulator.Generate(emulator.GenOptions{Guests: 12, SnapshotsPerGuest: 2,
			FilesPerGuest: 2, LocalFilesPerGuest: 1, Seed: 3}))...)
	if len(listings) < 40 {
		t.Fatalf("only %d emulator listings", len(listings))
	}
	for _, l := range listings {
		out := l.model()
		if err := DecodeEnvelope(l.body, out); err != nil {
			t.Errorf("%s: %v", l.name, err)
			continue
		}
		rows := reflect.ValueOf(out).Elem()
		zero := 0
		for i := range rows.Len() {
			if rows.Index(i).IsZero() {
				zero++
			}
		}
		if zero > 0 && zero == rows.Len() && !strings.HasSuffix(l.name, "/namespace") {
			t.Errorf("%s: all %d rows decoded to zero from %.200s", l.name, zero, l.body)
		}
	}
}

var (
	benchListingsOnce sync.Once
	benchListings     map[string][]byte
)

// benchmarkBodies are the big listings of a 5,000-guest estate from the
// emulator: cluster resources (5,000 guests + nodes and storages), the PBS
// and NFS storages' content seen from PVE (10,000 snapshots each) and the
// PBS groups (5,000, with their files).
func benchmarkBodies(b *testing.B) map[string][]byte {
	benchListingsOnce.Do(func() {
		m := emulator.Generate(emulator.GenOptions{Guests: 5000, SnapshotsPerGuest: 2, FilesPerGuest: 2, Seed: 1})
		benchListings = map[string][]byte{}
		for _, l := range emulatorListings(b, m) {
			switch l.name {
			case "cluster1/cluster/resources":
				benchListings["cluster-resources-5000"] = l.body
			case "cluster1/nodes/pve1/storage/backup-server/content?content=backup":
				benchListings["storage-content-pbs-10000"] = l.body
			case "cluster1/nodes/pve1/storage/nfs-backup/content?content=backup":
				benchListings["storage-content-nfs-10000"] = l.body
			case "pbs1/admin/datastore/store1/groups?ns=cluster1":
				benchListings["groups-5000"] = l.body
			}
		}
	})
	if len(benchListings) != 4 {
		b.Fatalf("benchmark bodies: got %d of 4", len(benchListings))
	}
	return benchListings
}

// BenchmarkDecodeList decodes the big listings as the clients do: element
// by element from a stream (getList). DecodeEnvelope, which decodes a whole
// body at once, is what objects go through.
func BenchmarkDecodeList(b *testing.B) {
	bodies := benchmarkBodies(b)
	b.Run("storage-content-pbs-10000", benchDecode[BackupVolume](bodies["storage-content-pbs-10000"], 10000))
	b.Run("storage-content-nfs-10000", benchDecode[BackupVolume](bodies["storage-content-nfs-10000"], 10000))
	b.Run("cluster-resources-5000", benchDecode[ClusterResource](bodies["cluster-resources-5000"], 5009+3))
	b.Run("groups-5000", benchDecode[BackupGroup](bodies["groups-5000"], 5000))
}

func benchDecode[T any](body []byte, rows int) func(*testing.B) {
	return func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			out := []T{}
			dec := json.NewDecoder(bytes.NewReader(body))
			into := func() *T { out = append(out, *new(T)); return &out[len(out)-1] }
			if err := decodeEach(dec, elements[T]{into: into}); err != nil {
				b.Fatal(err)
			}
			if len(out) != rows {
				b.Fatalf("decoded %d rows, want %d", len(out), rows)
			}
		}
	}
}
