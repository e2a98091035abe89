package proxmox

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

// listingModels returns one fresh *[]T per row type decodeListingFast
// handles.
func listingModels() []any {
	return []any{
		new([]BackupVolume), new([]ClusterResource), new([]BackupGroup), new([]Task), new([]PBSTask),
		new([]ClusterStatusItem), new([]Node), new([]StorageConfig), new([]NodeStorage), new([]BackupJob),
		new([]NotBackedUpGuest), new([]TaskLogLine), new([]Datastore), new([]Namespace), new([]GCJobStatus),
		new([]JobStatus), new([]PBSCertificateInfo),
	}
}

// generalDecode is DecodeEnvelope's general path: the envelope, then the
// data with json.Unmarshal. It reports whether that path succeeds.
func generalDecode(body []byte, out any) bool {
	d := &envelopeData{out: out}
	env := struct {
		Data *envelopeData `json:"data"`
	}{Data: d}
	return json.Unmarshal(body, &env) == nil && env.Data != nil && d.present
}

// agreesWithGeneral decodes body into a fresh value of model's type with
// the listing decoder and, when it accepts, fails tb unless the general
// path accepts too and decodes the same value. It reports acceptance.
func agreesWithGeneral(tb testing.TB, body []byte, model any) bool {
	tb.Helper()
	typ := reflect.TypeOf(model).Elem()
	fast := reflect.New(typ)
	if !decodeListingFast(body, fast.Interface()) {
		return false
	}
	general := reflect.New(typ)
	if !generalDecode(body, general.Interface()) {
		tb.Fatalf("%v: listing decoder accepted %q, the general path did not", typ, body)
	}
	if !reflect.DeepEqual(fast.Interface(), general.Interface()) {
		tb.Fatalf("%v: listing decoder %#v, general path %#v for %q", typ, fast.Elem().Interface(), general.Elem().Interface(), body)
	}
	return true
}

// checkAllModels runs agreesWithGeneral for every listing model.
func checkAllModels(tb testing.TB, body []byte) {
	tb.Helper()
	for _, m := range listingModels() {
		agreesWithGeneral(tb, body, m)
	}
}

// TestListingCases: tricky inputs are decoded exactly like encoding/json
// does, or declined; the cases say which, so a regression to declining
// common input fails too.
func TestListingCases(t *testing.T) {
	cr, bv, bg, job := new([]ClusterResource), new([]BackupVolume), new([]BackupGroup), new([]BackupJob)
	cases := []struct {
		name   string
		model  any
		body   string
		accept bool
	}{
		{"empty", cr, `{"data":[]}`, true},
		{"whitespace", cr, " \t\r\n{ \"data\" :\n[ { \"vmid\" : 1 ,\"id\":\"qemu/1\"} ,\tnull ] }\r\n ", true},
		{"other top-level members", cr, `{"total":2,"data":[{"vmid":1}],"message":"x","errors":{"a":[1,{"b":null}]},"success":1}`, true},
		{"members after data", cr, `{"data":[{"vmid":1}],"digest":"abc"}`, true},
		{"numbers as strings", cr, `{"data":[{"vmid":"100","template":"1","disk":"5","maxdisk":"1.0e3","shared":"yes"}]}`, true},
		{"integral floats", cr, `{"data":[{"vmid":1e2,"disk":-0,"maxdisk":12.0}]}`, true},
		{"booleans", cr, `{"data":[{"template":true,"shared":"off"},{"template":"TRUE","shared":0}]}`, true},
		{"null values", cr, `{"data":[{"id":null,"vmid":null,"template":null,"name":null}]}`, true},
		{"null row", cr, `{"data":[null,{"vmid":2},null]}`, true},
		{"escapes", cr, `{"data":[{"name":"a\"b\\c\/d\b\f\n\r\t\u00e9\u20ac\u0000"}]}`, true},
		{"surrogate pair", cr, `{"data":[{"name":"\ud83d\ude00 \uD83D\uDE00"}]}`, true},
		{"lone high surrogate", cr, `{"data":[{"name":"\ud83d"}]}`, true},
		{"lone low surrogate", cr, `{"data":[{"name":"\ude00x"}]}`, true},
		{"high surrogate then escape", cr, `{"data":[{"name":"\ud83d\u0041\ud83d\ud83d\ude00"}]}`, true},
		{"invalid UTF-8", cr, "{\"data\":[{\"name\":\"a\xffb\xe2\x82c\xed\xa0\x80\xf4\x90\x80\x80\"}]}", true},
		{"valid UTF-8", cr, "{\"data\":[{\"name\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd\"}]}", true},
		{"unknown nested members", cr, `{"data":[{"x":{"a":[1,{"b":null}],"c":"\u0000"},"cpu":0.0249e-1,"y":[[],{}],"vmid":3,"z":-1E+5}]}`, true},
		{"unknown key with escapes", cr, `{"data":[{"\u0078":1,"vmid":3}]}`, false},
		{"deep unknown nesting", cr, `{"data":[{"x":` + strings.Repeat("[", 50) + strings.Repeat("]", 50) + `}]}`, true},
		{"too deep for us", cr, `{"data":[{"x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}]}`, false},
		{"members in any order", cr, `{"data":[{"vmid":1,"id":"a"},{"id":"b","vmid":2}]}`, true},
		{"group files", bg, `{"data":[{"backup-id":101,"files":["a",null,"b\u00e9"]},{"backup-id":"x","files":null},{"files":[]}]}`, true},
		{"group files not strings", bg, `{"data":[{"files":[1]}]}`, false},
		{"group files a string", bg, `{"data":[{"files":"a"}]}`, false},
		{"group backup-id array", bg, `{"data":[{"backup-id":[1]}]}`, false},
		{"group backup-id escapes", bg, `{"data":[{"backup-id":"a\u0062"}]}`, true},
		{"volume verification", bv, `{"data":[{"verification":{"state":"ok","upid":"UPID:x\\x3a","extra":[1]}},{"verification":null},{"verification":{}}]}`, true},
		{"volume verification a string", bv, `{"data":[{"verification":"ok"}]}`, false},
		{"volume verification duplicate", bv, `{"data":[{"verification":{"state":"ok","state":"failed"}}]}`, false},
		{"volume encrypted", bv, `{"data":[{"encrypted":"8d:80"},{"encrypted":1},{"encrypted":null},{"encrypted":true}]}`, true},
		{"job enabled", job, `{"data":[{"enabled":0},{"enabled":null},{},{"enabled":"1"}]}`, true},
		{"job enabled bad", job, `{"data":[{"enabled":"maybe"}]}`, false},

		{"no data", cr, `{}`, false},
		{"null data", cr, `{"data":null}`, false},
		{"not an object", cr, `[]`, false},
		{"data an object", cr, `{"data":{}}`, false},
		{"row a number", cr, `{"data":[1]}`, false},
		{"row a string", cr, `{"data":["x"]}`, false},
		{"duplicate data", cr, `{"data":[{"vmid":1}],"data":[{"id":"y"}]}`, false},
		{"duplicate field", cr, `{"data":[{"vmid":1,"vmid":2}]}`, false},
		{"duplicate null string", cr, `{"data":[{"id":"a","id":null}]}`, false},
		{"case-insensitive field", cr, `{"data":[{"VMID":1}]}`, false},
		{"case-insensitive data", cr, `{"Data":[]}`, false},
		{"escaped key", cr, `{"data":[{"vm\u0069d":1}]}`, false},
		{"non-ASCII key folding to s", cr, `{"data":[{"` + "\u017ftorage" + `":"x"}]}`, false},
		{"trailing garbage", cr, `{"data":[]} x`, false},
		{"second value", cr, `{"data":[]}{}`, false},
		{"truncated", cr, `{"data":[{"vmid":1}]`, false},
		{"trailing comma in array", cr, `{"data":[{"vmid":1},]}`, false},
		{"trailing comma in object", cr, `{"data":[{"vmid":1,}]}`, false},
		{"missing colon", cr, `{"data":[{"vmid" 1}]}`, false},
		{"leading zero", cr, `{"data":[{"x":01}]}`, false},
		{"bare fraction", cr, `{"data":[{"x":1.}]}`, false},
		{"bare exponent", cr, `{"data":[{"x":1e}]}`, false},
		{"plus sign", cr, `{"data":[{"x":+1}]}`, false},
		{"lone minus", cr, `{"data":[{"x":-}]}`, false},
		{"bad literal", cr, `{"data":[{"x":tru}]}`, false},
		{"literal with tail", cr, `{"data":[{"x":nullx}]}`, false},
		{"bad unknown array", cr, `{"data":[{"x":[1,]}]}`, false},
		{"control character", cr, "{\"data\":[{\"name\":\"a\x01b\"}]}", false},
		{"bad escape", cr, `{"data":[{"name":"\x"}]}`, false},
		{"short unicode escape", cr, `{"data":[{"name":"\u12"}]}`, false},
		{"byte order mark", cr, "\xef\xbb\xbf{\"data\":[]}", false},
		{"fractional integer", cr, `{"data":[{"vmid":1.5}]}`, false},
		{"integer out of range", cr, `{"data":[{"vmid":1e19}]}`, false},
		{"padded number string", cr, `{"data":[{"disk":" 5 "}]}`, false},
		{"word for integer", cr, `{"data":[{"vmid":"abc"}]}`, false},
		{"word for boolean", cr, `{"data":[{"template":"maybe"}]}`, false},
		{"object for integer", cr, `{"data":[{"vmid":{}}]}`, false},
		{"number for string", cr, `{"data":[{"name":1}]}`, false},
		{"boolean for string", cr, `{"data":[{"name":true}]}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.body)
			if got := agreesWithGeneral(t, body, c.model); got != c.accept {
				t.Errorf("accepted %v, want %v", got, c.accept)
			}
			checkAllModels(t, body)
			// DecodeEnvelope as a whole still decodes what the general
			// path decodes.
			whole := reflect.New(reflect.TypeOf(c.model).Elem())
			general := reflect.New(reflect.TypeOf(c.model).Elem())
			err := DecodeEnvelope(body, whole.Interface())
			if ok := generalDecode(body, general.Interface()); (err == nil) != ok || ok && !reflect.DeepEqual(whole.Interface(), general.Interface()) {
				t.Errorf("DecodeEnvelope %#v, %v; general path %#v, %v", whole.Elem().Interface(), err, general.Elem().Interface(), ok)
			}
		})
	}
}

// TestListingStrings compares string decoding with encoding/json on random
// strings of escapes, surrogates and broken UTF-8.
func TestListingStrings(t *testing.T) {
	pieces := []string{
		`a`, `"`, `\`, `\\`, `\"`, `\/`, `\n`, `\u`, `\u0041`, `\ud83d`, `\ude00`, `\uDBFF`, `\udfff`, `\u00e9`, `\uFFFD`,
		"\xff", "\xed\xa0\x80", "\xe2\x82", "\xac", "\xc3\xa9", "\xf0\x9f\x98\x80", "\x01", "\x7f", " ", `u`, `0`, `d8`,
	}
	rng := rand.New(rand.NewPCG(7, 8))
	cr := new([]ClusterResource)
	accepted := 0
	for range 30000 {
		var sb strings.Builder
		for range rng.IntN(6) {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		body := []byte(`{"data":[{"name":"` + sb.String() + `","vmid":1}]}`)
		if agreesWithGeneral(t, body, cr) {
			accepted++
		}
	}
	if accepted < 1000 {
		t.Errorf("only %d random strings accepted: the test no longer exercises the decoder", accepted)
	}
}

// TestListingTablesCoverModels: every list model the decoder can describe
// is handled by decodeListingFast and the big three are among them; the
// others are named so a new model is a conscious choice.
func TestListingTablesCoverModels(t *testing.T) {
	var unsupported []string
	lists := 0
	for _, m := range fuzzModels() {
		typ := reflect.TypeOf(m).Elem()
		if typ.Kind() != reflect.Slice {
			continue
		}
		lists++
		tab := tableOf(typ.Elem())
		handled := decodeListingFast([]byte(`{"data":[]}`), reflect.New(typ).Interface())
		if handled != (tab != nil) {
			t.Errorf("%v: table %v but decodeListingFast handles it: %v", typ, tab != nil, handled)
		}
		if tab == nil {
			unsupported = append(unsupported, typ.Elem().Name())
		}
	}
	if got, want := strings.Join(unsupported, ","), "DatastoreUsage,Snapshot"; got != want {
		t.Errorf("list models without a table: %s, want %s", got, want)
	}
	if n := len(listingModels()); n != lists-len(unsupported) {
		t.Errorf("listingModels has %d types; keep it in step with decodeListingFast", n)
	}
}

// fill sets every field of the struct v points to to a distinct non-zero
// value, allocating pointers.
func fill(v reflect.Value, seed *int) {
	for i := range v.NumField() {
		f := v.Field(i)
		*seed++
		switch f.Interface().(type) {
		case string, String:
			f.SetString(fmt.Sprintf("s%d é\"\\", *seed))
		case Int:
			f.SetInt(int64(*seed) * 1_000_003)
		case Bool:
			f.SetBool(true)
		case []string:
			f.Set(reflect.ValueOf([]string{fmt.Sprint(*seed), "x"}))
		default:
			if f.Kind() == reflect.Pointer {
				p := reflect.New(f.Type().Elem())
				switch p.Elem().Kind() {
				case reflect.Struct:
					fill(p.Elem(), seed)
				case reflect.Bool:
					p.Elem().SetBool(true)
				case reflect.Int64:
					p.Elem().SetInt(int64(*seed))
				case reflect.String:
					p.Elem().SetString(fmt.Sprint(*seed))
				}
				f.Set(p)
			}
		}
	}
}

// TestListingEveryField: rows with every field set survive a round trip
// through encoding/json's encoder and the listing decoder, so every field
// of every table is wired to its own offset.
func TestListingEveryField(t *testing.T) {
	for _, m := range listingModels() {
		typ := reflect.TypeOf(m).Elem()
		rows := reflect.MakeSlice(typ, 3, 3)
		seed := 0
		for i := range 3 {
			fill(rows.Index(i), &seed)
		}
		body, err := json.Marshal(map[string]any{"data": rows.Interface()})
		if err != nil {
			t.Fatal(err)
		}
		got := reflect.New(typ)
		if !decodeListingFast(body, got.Interface()) {
			t.Fatalf("%v: declined %s", typ, body)
		}
		if !reflect.DeepEqual(got.Elem().Interface(), rows.Interface()) {
			t.Errorf("%v: decoded %#v, want %#v", typ, got.Elem().Interface(), rows.Interface())
		}
		agreesWithGeneral(t, body, m)
	}
}

// TestListingMutations: random edits of real answers (the kind of damage
// a fuzzer does, deterministic here) are decoded as encoding/json does or
// declined.
func TestListingMutations(t *testing.T) {
	var seeds [][]byte
	for _, l := range smallEmulatorListings(t) {
		if len(l.body) < 4<<10 {
			seeds = append(seeds, l.body)
		}
	}
	for _, name := range []string{"pbs-groups.json", "pve-storage-content-backup-pbs-full.json", "pve-cluster-resources-storage-nfs.json"} {
		body, err := os.ReadFile(filepath.Join(samplesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, body)
	}
	alphabet := []byte("{}[],:\"0123456789-+.eEtrufalsn \t\n\\u/dD8Cc\x00\x1f\x7f\xc3\xa9\xff")
	rng := rand.New(rand.NewPCG(11, 12))
	accepted := 0
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		body := slices.Clone(seeds[rng.IntN(len(seeds))])
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(body) + 1)
			c := alphabet[rng.IntN(len(alphabet))]
			switch rng.IntN(3) {
			case 0:
				body = slices.Insert(body, i, c)
			case 1:
				if i < len(body) {
					body = slices.Delete(body, i, i+1)
				}
			default:
				if i < len(body) {
					body[i] = c
				}
			}
		}
		for _, m := range listingModels() {
			if agreesWithGeneral(t, body, m) {
				accepted++
			}
		}
	}
	if accepted < n/10 {
		t.Errorf("only %d mutated bodies accepted: the test no longer exercises the decoder", accepted)
	}
}

// TestListingRowsDoNotAlias: rows with equal values share strings, never
// slices or pointers, so changing one row leaves the others alone.
func TestListingRowsDoNotAlias(t *testing.T) {
	var groups []BackupGroup
	if !decodeListingFast([]byte(`{"data":[{"backup-type":"vm","files":["a","b"]},{"backup-type":"vm","files":["a","b"]}]}`), &groups) {
		t.Fatal("declined")
	}
	groups[0].Files[0] = "changed"
	if groups[1].Files[0] != "a" || groups[1].BackupType != "vm" {
		t.Errorf("second row changed with the first: %+v", groups[1])
	}
	var vols []BackupVolume
	if !decodeListingFast([]byte(`{"data":[{"verification":{"state":"ok"}},{"verification":{"state":"ok"}}]}`), &vols) {
		t.Fatal("declined")
	}
	if vols[0].Verification == vols[1].Verification {
		t.Error("rows share a *Verification")
	}
}

// TestPlainRun: the eight-bytes-at-a-time scan stops where a byte-by-byte
// scan does.
func TestPlainRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			if rng.IntN(8) == 0 {
				b[i] = byte(rng.IntN(256))
			} else {
				b[i] = byte(0x20 + rng.IntN(0x60))
			}
		}
		start := 0
		if len(b) > 0 {
			start = rng.IntN(len(b))
		}
		want := start
		for want < len(b) && strSafe[b[want]] {
			want++
		}
		if got := plainRun(b, start); got != want {
			t.Fatalf("plainRun(%q, %d) = %d, want %d", b, start, got, want)
		}
	}
}

// listingBody is one answer of the emulator and the model it decodes into.
type listingBody struct {
	name  string
	body  []byte
	model func() any
}

// emulatorListings starts the emulator on m and GETs every listing the
// listing decoder handles, from the first node of each cluster.
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
				pbs("/admin/datastore/"+ds.Name+"/groups?ns="+url.QueryEscape(ns), func() any { return new([]BackupGroup) })
			}
		}
	}
	return out
}

var (
	smallListingsOnce sync.Once
	smallListings     []listingBody
)

// smallEmulatorListings is emulatorListings of the homelab and of a small
// generated estate, computed once per test binary.
func smallEmulatorListings(tb testing.TB) []listingBody {
	smallListingsOnce.Do(func() {
		now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		smallListings = append(emulatorListings(tb, emulator.Homelab(now)),
			emulatorListings(tb, emulator.Generate(emulator.GenOptions{Guests: 12, SnapshotsPerGuest: 2,
				FilesPerGuest: 2, LocalFilesPerGuest: 1, Seed: 3}))...)
	})
	if smallListings == nil {
		tb.Fatal("emulator listings unavailable")
	}
	return smallListings
}

// TestListingEmulator: the listing decoder accepts every emulator answer
// and decodes it as encoding/json does.
func TestListingEmulator(t *testing.T) {
	listings := smallEmulatorListings(t)
	if len(listings) < 40 {
		t.Fatalf("only %d emulator listings", len(listings))
	}
	for _, l := range listings {
		if !agreesWithGeneral(t, l.body, l.model()) {
			t.Errorf("%s: declined", l.name)
		}
	}
}

// TestListingSamples: the captured Proxmox answers of covered types are
// accepted; every sample is decoded as encoding/json does for every model.
func TestListingSamples(t *testing.T) {
	want := map[string]any{
		"pve-storage-content-backup-dir.json":           new([]BackupVolume),
		"pve-storage-content-backup-pbs.json":           new([]BackupVolume),
		"pve-storage-content-backup-pbs-full.json":      new([]BackupVolume),
		"pve-cluster-resources.json":                    new([]ClusterResource),
		"pve-cluster-resources-storage-nfs.json":        new([]ClusterResource),
		"pve-cluster-resources-storage-shared-pbs.json": new([]ClusterResource),
		"pbs-groups.json":                               new([]BackupGroup),
	}
	for _, name := range sampleFiles(t) {
		body, err := os.ReadFile(filepath.Join(samplesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		checkAllModels(t, body)
		if m, ok := want[name]; ok && !agreesWithGeneral(t, body, m) {
			t.Errorf("%s: declined", name)
		}
	}
}

// FuzzFastListing: for any body and every listing model, the listing
// decoder either declines or decodes exactly what the general path
// decodes (which must then succeed).
func FuzzFastListing(f *testing.F) {
	for _, name := range sampleFiles(f) {
		body, err := os.ReadFile(filepath.Join(samplesDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	for _, l := range smallEmulatorListings(f) {
		if len(l.body) < 16<<10 { // larger inputs slow the fuzzer down
			f.Add(l.body)
		}
	}
	for _, s := range []string{
		`{"data":[{"name":"\ud83d\ude00\ud83d","vmid":"1e2","files":["a",null],"verification":{"state":"ok"}}],"total":1}`,
		`{"data":[{"VMID":1,"x":{"y":[1,-2.5e3,true,null]}}]}`, `{"data":[null]}`, "{\"data\":[{\"id\":\"\xff\"}]}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkAllModels(t, body) })
}

var (
	benchListingsOnce sync.Once
	benchListings     map[string][]byte
)

// benchmarkBodies are the three big listings of a 5,000-guest estate from
// the emulator: cluster resources (5,000 guests + nodes and storages),
// the PBS storage's content seen from PVE (10,000 snapshots, most with
// a verification) and the PBS groups (5,000, with their files).
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

// BenchmarkDecodeListings compares, per listing, the path before the
// listing decoder ("old": json.Unmarshal into struct{ Data *[]T }, what
// decodeDataFast did) with DecodeEnvelope now ("new"). Compare with
// benchstat -col /path.
func BenchmarkDecodeListings(b *testing.B) {
	bodies := benchmarkBodies(b)
	bench := func(name string, rows int, old, cur func(body []byte) int) {
		body := bodies[name]
		// path=old|new lets benchstat compare them: -col /path.
		b.Run(name+"/path=old", func(b *testing.B) { runListingBench(b, body, rows, old) })
		b.Run(name+"/path=new", func(b *testing.B) { runListingBench(b, body, rows, cur) })
	}
	bench("storage-content-pbs-10000", 10000, oldDecode[BackupVolume], newDecode[BackupVolume])
	bench("storage-content-nfs-10000", 10000, oldDecode[BackupVolume], newDecode[BackupVolume])
	bench("cluster-resources-5000", 5009+3, oldDecode[ClusterResource], newDecode[ClusterResource])
	bench("groups-5000", 5000, oldDecode[BackupGroup], newDecode[BackupGroup])
}

func runListingBench(b *testing.B, body []byte, rows int, decode func([]byte) int) {
	if n := decode(body); n != rows {
		b.Fatalf("decoded %d rows, want %d", n, rows)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		decode(body)
	}
}

// oldDecode is the decoding before the listing decoder.
func oldDecode[T any](body []byte) int {
	var env struct {
		Data *[]T `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Data == nil {
		panic(fmt.Sprint("old path failed: ", err))
	}
	return len(*env.Data)
}

// newDecode is DecodeEnvelope, which takes the listing decoder.
func newDecode[T any](body []byte) int {
	var out []T
	if err := DecodeEnvelope(body, &out); err != nil {
		panic(err)
	}
	return len(out)
}
