package proxmox

import (
	"testing"
)

func TestParseMaintenance(t *testing.T) {
	tests := []struct {
		in      string
		want    Maintenance
		blocks  bool
		wantErr bool
	}{
		{in: "", want: Maintenance{}},
		{in: "type=read-only,message=disk%20swap", want: Maintenance{Type: "read-only", Message: "disk swap"}},
		{in: "type=unmount", want: Maintenance{Type: "unmount"}, blocks: true},
		{in: "offline", want: Maintenance{Type: "offline"}, blocks: true},
		{in: "message=m%2Cx,type=delete", want: Maintenance{Type: "delete", Message: "m,x"}, blocks: true},
		{in: "type=offline,future=1", want: Maintenance{Type: "offline"}, blocks: true},
		{in: "type=offline,type=read-only", wantErr: true},
		{in: "message=only", wantErr: true},
		{in: "type=read-only,message=%zz", wantErr: true},
		{in: "type=read-only,message=%2", wantErr: true},
		{in: "type=Bad Type", wantErr: true},
		{in: "type=offline,garbage", wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParseMaintenance(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && (got != tc.want || got.BlocksReads() != tc.blocks) {
			t.Errorf("%q: got %+v blocks=%v", tc.in, got, got.BlocksReads())
		}
	}
}

func FuzzParseMaintenance(f *testing.F) {
	for _, s := range []string{"type=read-only,message=disk%20swap", "type=unmount", "offline", "", "type=", "message=%", ",,", "type=a,type=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMaintenance(s)
		if err != nil {
			return
		}
		if s != "" && m.Type == "" {
			t.Fatalf("accepted %q without a type", s)
		}
	})
}
