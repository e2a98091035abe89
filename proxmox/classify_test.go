package proxmox

import "testing"

// TestNotFoundWording: only a message saying an object does not exist is
// not_found; PVE's storage activation error, which says a mount point
// "does not exist or is unreachable" for a storage that very much exists
// (an NFS export gone), is a server-side failure (found by the fault
// matrix: it was reported as not_found with a "renamed or removed?" hint).
func TestNotFoundWording(t *testing.T) {
	for _, tc := range []struct {
		status int
		msg    string
		want   ErrorClass
	}{
		{500, "storage 'nope' does not exist", ClassNotFound},
		{400, "namespace 'x' does not exist", ClassNotFound},
		{500, "storage 'x' does not exist (storage: invalid)", ClassNotFound},
		{500, "unable to activate storage 'nfs-backup' - directory '/mnt/pve/nfs-backup' does not exist or is unreachable", ClassBadResponse},
		{500, "storage 'nfs-backup' is not online", ClassBadResponse},
	} {
		if got, _ := classifyStatus(tc.status, tc.msg); got != tc.want {
			t.Errorf("%d %q: %s, want %s", tc.status, tc.msg, got, tc.want)
		}
	}
}
