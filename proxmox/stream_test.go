package proxmox

import (
	"context"
	"strings"
	"testing"
)

// TestEachSnapshotDecodesLikeSnapshots: the streamed listing yields the
// same snapshots, in the same order, as the buffered one, and skips the
// envelope's other members wherever they stand.
func TestEachSnapshotDecodesLikeSnapshots(t *testing.T) {
	body := `{"total":3,"data":[` +
		`{"backup-type":"vm","backup-id":"101","backup-time":1700000000,"size":10,"verification":{"state":"ok","upid":"u"}},` +
		`{"backup-type":"vm","backup-id":101,"backup-time":"1700086400"},` +
		`{"backup-type":"ct","backup-id":"105","backup-time":1700000000,"size":5,"protected":true}` +
		`],"success":1,"changes":{"a":[1,2,{"b":null}]}}`
	srv := newServer(t, nil, okHandler(body))
	c := mustPBS(t, pinned(t, "pbs", srv.URL))
	want, err := c.Snapshots(context.Background(), "main", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []Snapshot
	if err := c.EachSnapshot(context.Background(), "main", "", func(s Snapshot) { got = append(got, s) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) != 3 {
		t.Fatalf("got %d snapshots, buffered %d, want 3", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.BackupType != w.BackupType || g.BackupID != w.BackupID || g.BackupTime != w.BackupTime ||
			(g.Size == nil) != (w.Size == nil) || (g.Size != nil && *g.Size != *w.Size) ||
			g.Protected != w.Protected || (g.Verification == nil) != (w.Verification == nil) {
			t.Errorf("snapshot %d: streamed %+v, buffered %+v", i, g, w)
		}
	}
	// A row without a size must not inherit the previous row's.
	if got[1].Size != nil {
		t.Errorf("row 2 has size %d, want none (in progress)", *got[1].Size)
	}
}

// TestEachSnapshotBadAnswers: every malformed answer is a bad_response
// error naming what is wrong, never a panic or a silent empty listing.
func TestEachSnapshotBadAnswers(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"empty", ``, "empty response body"},
		{"not an object", `[1,2]`, "not a JSON object"},
		{"no data", `{"success":1}`, `no "data" member`},
		{"null data", `{"data":null}`, `"data" is null`},
		{"data not a list", `{"data":{"a":1}}`, `"data" is not a list`},
		{"truncated", `{"data":[{"backup-type":"vm","backup-id":"1","backup-time":1},{"backup-ty`, "malformed JSON"},
		{"wrong field type", `{"data":[{"backup-type":"vm","backup-id":"1","backup-time":{}}]}`, "integer"},
		{"broken JSON", `{"data":[}`, "malformed JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, nil, okHandler(tc.body))
			c := mustPBS(t, pinned(t, "pbs", srv.URL))
			err := c.EachSnapshot(context.Background(), "main", "ns1", func(Snapshot) {})
			e := checkErr(t, err, ClassBadResponse, 200)
			if e != nil && !strings.Contains(e.Message, tc.want) {
				t.Errorf("message %q, want it to say %q", e.Message, tc.want)
			}
		})
	}
}

// TestEachSnapshotLimitsEachItem: the response size limit applies to each
// listed snapshot, not to the listing, which may be far larger.
func TestEachSnapshotLimitsEachItem(t *testing.T) {
	row := `{"backup-type":"vm","backup-id":"101","backup-time":1700000000,"size":10}`
	rows := strings.Repeat(row+",", 999) + row
	srv := newServer(t, nil, okHandler(`{"data":[`+rows+`]}`))
	tg := pinned(t, "pbs", srv.URL)
	tg.MaxResponseBytes = 8 << 10 // the listing is about 70 KiB
	c := mustPBS(t, tg)
	n := 0
	if err := c.EachSnapshot(context.Background(), "main", "", func(Snapshot) { n++ }); err != nil {
		t.Fatalf("a listing larger than the limit, of small items: %v", err)
	}
	if n != 1000 {
		t.Errorf("got %d snapshots, want 1000", n)
	}
	if _, err := c.Snapshots(context.Background(), "main", "", "", ""); err == nil {
		t.Error("the buffered listing passed the limit")
	}
	huge := `{"data":[{"backup-type":"vm","backup-id":"101","backup-time":1,"comment":"` + strings.Repeat("x", 64<<10) + `"}]}`
	srv2 := newServer(t, nil, okHandler(huge))
	tg2 := pinned(t, "pbs", srv2.URL)
	tg2.MaxResponseBytes = 8 << 10
	err := mustPBS(t, tg2).EachSnapshot(context.Background(), "main", "", func(Snapshot) {})
	if e := checkErr(t, err, ClassBadResponse, 200); e != nil && !strings.Contains(e.Message, "larger than 8192 bytes") {
		t.Errorf("message %q", e.Message)
	}
}
