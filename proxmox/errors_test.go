package proxmox

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
)

func TestClassifyStatus(t *testing.T) {
	for _, tc := range []struct {
		status   int
		message  string
		class    ErrorClass
		failover bool
	}{
		{401, "Authentication failed!", ClassAuth, false},
		{403, "Permission check failed (/, Sys.Audit)", ClassPermission, false},
		{404, "Path '/x' not found.", ClassNotFound, false},
		{400, "Parameter verification failed.", ClassBadResponse, false},
		{400, "datastore 'x' does not exist", ClassNotFound, false},
		{500, "storage 'x' does not exist", ClassNotFound, false},
		{500, "storage 'x' is not online", ClassBadResponse, false},
		{501, "Method not implemented", ClassBadResponse, false},
		{502, "Bad Gateway", ClassUnreachable, true},
		{503, "Service Unavailable", ClassUnreachable, true},
		{504, "Gateway Timeout", ClassTimeout, true},
		{595, "Errors during connection establishment", ClassUnreachable, true},
		{596, "Broken pipe", ClassUnreachable, true},
		{597, "", ClassUnreachable, true},
		{599, "", ClassUnreachable, true},
		{429, "Too Many Requests", ClassBadResponse, false},
		{302, "Found", ClassBadResponse, false},
	} {
		class, failover := classifyStatus(tc.status, tc.message)
		if class != tc.class || failover != tc.failover {
			t.Errorf("classifyStatus(%d, %q) = %s, %v; want %s, %v", tc.status, tc.message, class, failover, tc.class, tc.failover)
		}
	}
}

func TestClassOf(t *testing.T) {
	apiErr := &Error{Target: "pbs1", Endpoint: "/version", Class: ClassAuth, Status: 401}
	for _, tc := range []struct {
		err  error
		want ErrorClass
	}{
		{nil, ""},
		{apiErr, ClassAuth},
		{fmt.Errorf("scrape: %w", apiErr), ClassAuth},
		{context.DeadlineExceeded, ClassTimeout},
		{fmt.Errorf("x: %w", context.Canceled), ClassTimeout},
		{x509.UnknownAuthorityError{}, ClassTLS},
		{&CertificateError{Reason: "fingerprint mismatch"}, ClassTLS},
		{&net.DNSError{Err: "no such host", Name: "pve.invalid"}, ClassUnreachable},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, ClassUnreachable},
		{errors.New("something else"), ClassBadResponse},
	} {
		if got := ClassOf(tc.err); got != tc.want {
			t.Errorf("ClassOf(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{&Error{Target: "homelab", Endpoint: "/nodes", Class: ClassAuth, Status: 401, Message: "Authentication failed!"},
			"homelab: GET /nodes: auth: 401 Authentication failed!"},
		{&Error{Target: "pbs1", Endpoint: "/version", Class: ClassUnreachable, Message: "dial tcp 10.0.0.1:8007: connect: connection refused"},
			"pbs1: GET /version: unreachable: dial tcp 10.0.0.1:8007: connect: connection refused"},
		{&Error{Target: "pbs1", Endpoint: "/version", Class: ClassBadResponse, Status: 500},
			"pbs1: GET /version: bad_response: 500"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	inner := errors.New("inner")
	if !errors.Is(&Error{Err: inner}, inner) {
		t.Error("Unwrap does not reach the underlying error")
	}
}

func TestProxmoxMessage(t *testing.T) {
	for _, tc := range []struct {
		body, reason, want string
	}{
		{`{"data":null,"message":"storage 'x' is not online\n"}`, "storage 'x' is not online", "storage 'x' is not online"},
		{`{"data":null,"errors":{"b":"2","a":"1"},"message":"Parameter verification failed.\n"}`, "", "Parameter verification failed. (a: 1; b: 2)"},
		{"permission check failed", "Forbidden", "permission check failed"},
		{"", "Authentication failed!", "Authentication failed!"},
		{`<html><body>502</body></html>`, "Bad Gateway", "Bad Gateway"},
		{`{"data":[]}`, "Not Found", "Not Found"},
		{"line one\nline two\r\n\tend", "", "line one line two end"},
		{strings.Repeat("é", 400), "", strings.Repeat("é", maxMessage/2) + "…"},
	} {
		if got := proxmoxMessage([]byte(tc.body), tc.reason); got != tc.want {
			t.Errorf("proxmoxMessage(%.40q, %q) = %q, want %q", tc.body, tc.reason, got, tc.want)
		}
	}
}

func TestPoolAuditPrivilege(t *testing.T) {
	if got, want := PoolAuditPrivilege("media"), "Pool.Audit on /pool/media"; got != want {
		t.Errorf("PoolAuditPrivilege = %q, want %q", got, want)
	}
}

func TestHint(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"pve auth", &Error{Kind: "pve", Class: ClassAuth}, "PVEAPIToken=ID=SECRET"},
		{"pbs auth", &Error{Kind: "pbs", Class: ClassAuth}, "PBSAPIToken=ID:SECRET"},
		{"pve 403 message", &Error{Kind: "pve", Class: ClassPermission, Message: "Permission check failed (/vms/101, VM.Audit)"},
			"grant VM.Audit on /vms/101 to the token"},
		{"pve storage content", &Error{Kind: "pve", Class: ClassPermission, Endpoint: "/nodes/pve1/storage/nfs-backup/content"},
			"Datastore.Audit or Datastore.AllocateSpace on /storage/nfs-backup (and Datastore.Allocate, or Datastore.AllocateSpace + VM.Backup"},
		{"pve node tasks", &Error{Kind: "pve", Class: ClassPermission, Endpoint: "/nodes/pve2/tasks"}, "Sys.Audit on /nodes/pve2"},
		{"pve pool", &Error{Kind: "pve", Class: ClassPermission, Endpoint: "/pools/prod"}, "grant Pool.Audit on /pool/prod (without it PVE leaves the pool out"},
		{"pve not-backed-up", &Error{Kind: "pve", Class: ClassPermission, Endpoint: "/cluster/backup-info/not-backed-up"}, "Sys.Audit on /"},
		{"pve unknown endpoint", &Error{Kind: "pve", Class: ClassPermission, Endpoint: "/cluster/ha"}, "PVEAuditor"},
		{"pbs node status", &Error{Kind: "pbs", Class: ClassPermission, Endpoint: "/nodes/localhost/status"}, "Sys.Audit on /system/status"},
		{"pbs tasks", &Error{Kind: "pbs", Class: ClassPermission, Endpoint: "/nodes/localhost/tasks"}, "Sys.Audit on /system/tasks"},
		{"pbs groups", &Error{Kind: "pbs", Class: ClassPermission, Endpoint: "/admin/datastore/store%201/groups"}, "Datastore.Audit on /datastore/store 1"},
		{"pbs gc", &Error{Kind: "pbs", Class: ClassPermission, Endpoint: "/admin/gc"}, "Datastore.Audit on /datastore"},
		{"pin mismatch", fmt.Errorf("wrapped: %w", &Error{Class: ClassTLS, Err: &CertificateError{Reason: "fingerprint mismatch", Seen: "aa:bb", Pinned: "cc:dd"}}),
			"fingerprint mismatch: server presented aa:bb"},
		{"expired", &CertificateError{Reason: "certificate expired or not yet valid", Seen: "aa:bb"}, "expired"},
		{"595", &Error{Kind: "pve", Class: ClassUnreachable, Status: 595}, "proxied"},
		{"pve refused", &Error{Kind: "pve", Class: ClassUnreachable}, "8006"},
		{"timeout", context.DeadlineExceeded, "did not finish in time"},
		{"not found", &Error{Class: ClassNotFound}, "does not exist"},
		{"bad response 500", &Error{Class: ClassBadResponse, Status: 500}, "server reported an error"},
		{"bad response 200", &Error{Class: ClassBadResponse, Status: 200}, "unexpected answer"},
	} {
		got := Hint(tc.err)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s: Hint = %q, want it to contain %q", tc.name, got, tc.want)
		}
	}
	for _, c := range Classes {
		if Hint(&Error{Class: c}) == "" {
			t.Errorf("no hint for class %s", c)
		}
	}
}

// TestPrivilegeHint: the hint for a listing that succeeded but looks
// filtered names the privilege and ACL path of its endpoint, as the hint of
// a refused request does, whether the path names the node or the API
// template's {node}.
func TestPrivilegeHint(t *testing.T) {
	for _, tc := range []struct {
		kind, endpoint, want string
	}{
		{"pve", "/nodes/{node}/storage/nfs-backup/content", "Datastore.Audit or Datastore.AllocateSpace on /storage/nfs-backup (and Datastore.Allocate"},
		{"pve", "/nodes/pve1/storage/nfs-backup/content", "on /storage/nfs-backup"},
		{"pve", "/nodes/pve1/tasks", "only the token's own tasks"},
		{"pbs", "/admin/datastore/store1/groups", "Datastore.Audit on /datastore/store1 (without it the token sees only the backup groups it owns)"},
		{"pbs", "/nodes/localhost/tasks", "Sys.Audit on /system/tasks"},
		{"pbs", "/somewhere/else", "Audit role on /"},
		{"pve", "/somewhere/else", "PVEAuditor on /"},
	} {
		got := PrivilegeHint(tc.kind, tc.endpoint)
		if !strings.Contains(got, tc.want) || !strings.Contains(got, tokenNote) {
			t.Errorf("PrivilegeHint(%s, %s) = %q, want it to contain %q", tc.kind, tc.endpoint, got, tc.want)
		}
		// A refused request on the same endpoint gets the same hint.
		if e := (&Error{Kind: tc.kind, Class: ClassPermission, Endpoint: tc.endpoint}); Hint(e) != got {
			t.Errorf("%s %s: Hint %q differs from PrivilegeHint %q", tc.kind, tc.endpoint, Hint(e), got)
		}
	}
}
