package proxmox

import (
	"testing"
)

func TestParseUPID(t *testing.T) {
	tests := []struct {
		in      string
		want    UPID
		wantErr bool
	}{
		{in: "UPID:pve1:0013D68F:0A1B2C3D:65A48840:vzdump:101:exporter@pve!mon:", want: UPID{Product: "pve", Node: "pve1", PID: 0x13D68F, PStart: 0x0A1B2C3D, StartTime: 0x65A48840, Type: "vzdump", ID: "101", User: "exporter@pve!mon"}},
		{in: "UPID:pve1:0012D687:0A1B2C3D:65A48393:vzdump::root@pam:", want: UPID{Product: "pve", Node: "pve1", PID: 0x12D687, PStart: 0x0A1B2C3D, StartTime: 0x65A48393, Type: "vzdump", User: "root@pam"}},
		{in: `UPID:pbs1:000003E8:0000A1B2:00000005:65A48395:backup:main\x3avm-101:pve-backup@pbs!pve:`, want: UPID{Product: "pbs", Node: "pbs1", PID: 1000, PStart: 0xA1B2, TaskID: 5, StartTime: 0x65A48395, Type: "backup", ID: "main:vm/101", User: "pve-backup@pbs!pve"}},
		{in: `UPID:pbs1:000003E8:0000A1B2:00000004:65A48840:verificationjob:main\x3av\x2d3f2a1b7c\x2d9d41:root@pam:`, want: UPID{Product: "pbs", Node: "pbs1", PID: 1000, PStart: 0xA1B2, TaskID: 4, StartTime: 0x65A48840, Type: "verificationjob", ID: "main:v-3f2a1b7c-9d41", User: "root@pam"}},
		{in: "UPID:pve1:0013D68F:0A1B2C3D:65A48840:vzdump:101:root@pam", wantErr: true},               // no trailing colon
		{in: "UPID:-bad:0013D68F:0A1B2C3D:65A48840:vzdump:101:root@pam:", wantErr: true},              // node
		{in: "UPID:pve1:13D68F:0A1B2C3D:65A48840:vzdump:101:root@pam:", wantErr: true},                // short pid
		{in: "UPID:pve1:0013D68F:0A1B2C3D:65A4884G:vzdump:101:root@pam:", wantErr: true},              // hex
		{in: "UPID:pve1:0013D68F:0A1B2C3D:65A48840::101:root@pam:", wantErr: true},                    // no type
		{in: `UPID:pbs1:000003E8:0000A1B2:00000005:65A48395:backup:main\x3:root@pam:`, wantErr: true}, // bad escape
		{in: "PID:pve1:0013D68F:0A1B2C3D:65A48840:vzdump:101:root@pam:", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseUPID(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func FuzzParseUPID(f *testing.F) {
	for _, s := range []string{
		"UPID:pve1:0013D68F:0A1B2C3D:65A48840:vzdump:101:exporter@pve!mon:",
		"UPID:pve1:0012D687:0A1B2C3D:65A48393:vzdump::root@pam:",
		"UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:",
		"UPID:proxmox2:000D7AA2:08D5A17C:63DF62A5:vzclone:200:root@pam!api_token:",
		`UPID:pbs1:000003E8:0000A1B2:00000005:65A48395:backup:main\x3avm-101:pve-backup@pbs!pve:`,
		`UPID:pbs1:000003E8:0000A1B2:00000006:65A489D0:syncjob:offsite\x3amain\x3amain\x3a\x3as\x2d6c1e2f3a\x2d77b0:root@pam:`,
		`UPID:golem:000030B1:000082AF:0000000F:6AC223A0:verificationjob:erebor\x3aweekly:root@pam:`,
		`UPID:pbs:00000243:0000025C:0000063A:685C1D00:garbage_collection:proxmox\x2dbackups:root@pam:`,
		"UPID:", "UPID:a:b:c:d:e:f:g:h:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUPID(s)
		if err != nil {
			return
		}
		if u.Product != "pve" && u.Product != "pbs" || u.Node == "" || u.Type == "" || u.User == "" || u.StartTime < 0 {
			t.Fatalf("accepted %q as %+v", s, u)
		}
	})
}

func FuzzUnescapeSystemd(f *testing.F) {
	for _, s := range []string{`main\x3avm-101`, `a\x2db`, `\x`, `\x4`, `\xzz`, `---`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := UnescapeSystemd(s)
		if err == nil && len(out) > len(s) {
			t.Fatalf("unescaping %q grew it to %q", s, out)
		}
	})
}
