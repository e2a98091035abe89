package proxmox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"unicode"
)

// ErrorClass is the coarse reason a request failed. The values are the
// `reason` label of proxmox_backup_target_errors_total (METRICS.md), so the
// set is closed: add a class only together with the metrics contract.
type ErrorClass string

// The error classes. How HTTP statuses and transport failures map onto them:
//
//	condition                                         class         next URL?
//	------------------------------------------------  ------------  ---------
//	401                                               auth          no
//	403                                               permission    no
//	404; 400/500 whose message says "does not exist"  not_found     no
//	other 4xx (400 parameter error, 405, 429, ...)    bad_response  no
//	500, 501, other 5xx not listed below              bad_response  no
//	502 Bad Gateway, 503 Service Unavailable          unreachable   yes
//	504 Gateway Timeout                               timeout       yes
//	595-599 (pveproxy could not reach the node the    unreachable   yes
//	  call is proxied to: AnyEvent::HTTP statuses)
//	1xx/3xx (redirects are not followed)              bad_response  no
//	200 with malformed/truncated JSON, no "data",     bad_response  no
//	  "data" null or of the wrong JSON type
//	body larger than Target.MaxResponseBytes          bad_response  no
//	certificate not trusted, expired, wrong host,     tls           no
//	  fingerprint pin mismatch, TLS protocol error
//	caller's context deadline or cancellation,        timeout       no
//	  response header timeout
//	connection refused/reset, DNS failure, dial       unreachable   yes
//	  timeout, EOF during the handshake
//
// 500 is bad_response because Proxmox uses it for handler errors that
// another node would repeat (PVE turns every `die` into 500, e.g. "storage
// 'x' is not online"); the message carries the detail. 502/503/504 come from
// a reverse proxy or an overloaded daemon in front of one node, so they say
// "this entry point is not serving right now": that is unreachable (or
// timeout) and worth trying the next URL. TLS verification failures do not
// fall over: a certificate problem is a configuration or security problem
// that must be seen, not hidden behind a healthy second node.
const (
	ClassAuth        ErrorClass = "auth"
	ClassPermission  ErrorClass = "permission"
	ClassTLS         ErrorClass = "tls"
	ClassTimeout     ErrorClass = "timeout"
	ClassUnreachable ErrorClass = "unreachable"
	ClassBadResponse ErrorClass = "bad_response"
	ClassNotFound    ErrorClass = "not_found"
)

// Classes lists every ErrorClass, in a stable order (for pre-initialising
// metric series).
var Classes = []ErrorClass{ClassAuth, ClassPermission, ClassTLS, ClassTimeout, ClassUnreachable, ClassBadResponse, ClassNotFound}

// Error is a failed API request. Its text is
// "<target>: GET <endpoint>: <class>: [<status> ]<message>" and never
// contains the token secret or the Authorization header: the secret only
// ever travels in a request header, and Message is scrubbed of it anyway in
// case a server echoes it back.
type Error struct {
	// Target is the configured target name.
	Target string
	// Kind is "pve" or "pbs".
	Kind string
	// Endpoint is the API path below /api2/json, without host or query.
	Endpoint string
	// Class is the coarse failure reason.
	Class ErrorClass
	// Status is the HTTP status, 0 when no complete response was received
	// (transport failures, TLS, timeouts).
	Status int
	// Message is Proxmox's own message (PVE JSON message + errors map, PBS
	// plain-text body, 401 reason phrase) or a description of the
	// transport/decoding failure.
	Message string
	// Err is the underlying error, if any (for errors.Is/As).
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Target)
	b.WriteString(": GET ")
	b.WriteString(e.Endpoint)
	b.WriteString(": ")
	b.WriteString(string(e.Class))
	b.WriteString(":")
	if e.Status != 0 {
		fmt.Fprintf(&b, " %d", e.Status)
	}
	if e.Message != "" {
		b.WriteString(" ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the class of err: "" for nil, the Class of an *Error
// anywhere in the chain, and a best-effort classification of other errors
// (a context deadline is a timeout, certificate errors are tls, network
// errors unreachable, anything else bad_response).
func ClassOf(err error) ErrorClass {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	class, _ := classifyTransport(err)
	return class
}

// CertificateError is a TLS verification failure. It carries the
// fingerprint of the certificate the server actually presented, so that a
// mismatch can be fixed from the error alone.
type CertificateError struct {
	// Reason is a short description ("fingerprint mismatch", "certificate
	// expired", ...).
	Reason string
	// Seen is the fingerprint ("aa:bb:..") of the leaf certificate presented.
	Seen string
	// Pinned is the configured pin, empty when no pin was configured.
	Pinned string
	// Err is the x509 verification error, if any.
	Err error
}

// Error implements error.
func (e *CertificateError) Error() string {
	switch {
	case e.Pinned != "":
		return fmt.Sprintf("%s: server presented %s, pinned %s", e.Reason, e.Seen, e.Pinned)
	case e.Err != nil:
		return fmt.Sprintf("%s: %v (server certificate fingerprint %s)", e.Reason, e.Err, e.Seen)
	default:
		return e.Reason
	}
}

// Unwrap returns the x509 error.
func (e *CertificateError) Unwrap() error { return e.Err }

// classifyStatus maps a non-2xx HTTP status and Proxmox's message to a
// class, and says whether the next URL should be tried (see the table on
// the ErrorClass constants).
func classifyStatus(status int, message string) (ErrorClass, bool) {
	switch {
	case status == 401:
		return ClassAuth, false
	case status == 403:
		return ClassPermission, false
	case status == 404:
		return ClassNotFound, false
	case status == 502 || status == 503:
		return ClassUnreachable, true
	case status == 504:
		return ClassTimeout, true
	case status >= 595 && status <= 599:
		return ClassUnreachable, true
	case (status == 400 || status == 500) && doesNotExist.MatchString(message):
		return ClassNotFound, false
	default:
		return ClassBadResponse, false
	}
}

// doesNotExist matches Proxmox's wording for missing objects, e.g. PVE's
// "storage 'x' does not exist" (a 500) or PBS's datastore lookup errors:
// the phrase ends the message (or precedes a parameter list). PVE's
// "unable to activate storage 'x' - directory '/mnt/pve/x' does not exist
// or is unreachable" (an NFS mount gone) is about an existing storage and
// stays bad_response.
var doesNotExist = regexp.MustCompile(`(?i)\bdoes not exist\s*(\(|$)`)

// classifyTransport classifies an error that happened before a response
// was received, and says whether the next URL should be tried.
func classifyTransport(err error) (ErrorClass, bool) {
	var certErr *CertificateError
	var verr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	var alertErr tls.AlertError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case errors.As(err, &certErr), errors.As(err, &verr), errors.As(err, &unknownAuth),
		errors.As(err, &invalid), errors.As(err, &hostErr), errors.As(err, &recErr),
		errors.As(err, &alertErr):
		return ClassTLS, false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return ClassTimeout, false
	case errors.As(err, &dnsErr):
		return ClassUnreachable, true
	case errors.As(err, &opErr) && opErr.Op == "dial":
		// Includes dial timeouts: a host that does not answer is down.
		return ClassUnreachable, true
	case isHandshakeTimeout(err):
		return ClassUnreachable, true
	case errors.As(err, &netErr) && netErr.Timeout():
		return ClassTimeout, false
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &opErr):
		return ClassUnreachable, true
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		// Anything else the transport reports (e.g. a server that does not
		// speak HTTP): the entry point is not usable, try the next.
		return ClassUnreachable, true
	}
	return ClassBadResponse, false
}

// isHandshakeTimeout recognises net/http's TLS handshake timeout, which has
// no exported type: the server accepted TCP but never completed TLS.
func isHandshakeTimeout(err error) bool {
	return err != nil && strings.Contains(err.Error(), "TLS handshake timeout")
}

// transportMessage describes a transport error without repeating the
// method and URL that url.Error adds.
func transportMessage(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "context deadline exceeded (the caller's time budget ran out)"
	case errors.Is(err, context.Canceled):
		return "request canceled"
	}
	return err.Error()
}

// proxmoxMessage extracts Proxmox's error message from a response:
// the PVE JSON envelope {"data":null,"message":"...","errors":{...}}, else
// a plain-text body (PBS), else the HTTP reason phrase (PVE 401 and 59x put
// their message there and send no body). reason is the status line without
// the code.
func proxmoxMessage(body []byte, reason string) string {
	var env struct {
		Message *string           `json:"message"`
		Errors  map[string]string `json:"errors"`
	}
	text := ""
	if err := json.Unmarshal(body, &env); err == nil && env.Message != nil {
		text = strings.TrimSpace(*env.Message)
		if len(env.Errors) > 0 {
			keys := slices.Sorted(maps.Keys(env.Errors))
			parts := make([]string, 0, len(keys))
			for _, k := range keys {
				parts = append(parts, k+": "+strings.TrimSpace(env.Errors[k]))
			}
			text += " (" + strings.Join(parts, "; ") + ")"
		}
	} else if t := strings.TrimSpace(string(body)); t != "" && !looksLikeJSONOrHTML(t) {
		text = t
	}
	if text == "" {
		text = strings.TrimSpace(reason)
	}
	return cleanMessage(text)
}

func looksLikeJSONOrHTML(s string) bool {
	return strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") || strings.HasPrefix(s, "<")
}

// maxMessage bounds Error.Message, which ends up in logs and on /status.
const maxMessage = 512

// cleanMessage makes a server-provided message safe for one log line:
// control characters become spaces, runs of space collapse, long text is cut.
func cleanMessage(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxMessage {
		cut := maxMessage
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// Hint returns a one-line suggestion for fixing err, for --check output,
// logs and /status; "" for nil.
func Hint(err error) string {
	if err == nil {
		return ""
	}
	var certErr *CertificateError
	if errors.As(err, &certErr) {
		return tlsHint(certErr)
	}
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Class: ClassOf(err)}
	}
	switch e.Class {
	case ClassAuth:
		if e.Kind == "pbs" {
			return "authentication failed: check token_id (USER@REALM!TOKENID, e.g. exporter@pbs!backup) and token_secret; the token may be deleted or expired (PBS sends PBSAPIToken=ID:SECRET)"
		}
		return "authentication failed: check token_id (USER@REALM!TOKENID, e.g. exporter@pve!backup) and token_secret; the token may be deleted or expired (PVE sends PVEAPIToken=ID=SECRET)"
	case ClassPermission:
		return permissionHint(e)
	case ClassTLS:
		return "TLS verification failed: trust the server's CA with tls.ca_file or pin its certificate with tls.fingerprint"
	case ClassTimeout:
		return "the request did not finish in time: raise the scrape timeout or check the target's load (large listings are slow)"
	case ClassUnreachable:
		if e.Status >= 595 && e.Status <= 599 {
			return "PVE could not reach the node this call is proxied to (HTTP 59x: node down or cluster network problem); other nodes keep working"
		}
		if e.Status == 502 || e.Status == 503 {
			return fmt.Sprintf("the API answered %d: it is not serving right now (proxy or daemon unavailable); check pveproxy/proxmox-backup-proxy on the host", e.Status)
		}
		if e.Kind == "pbs" {
			return "cannot connect: check the URL and port (PBS listens on 8007), DNS and firewalls"
		}
		return "cannot connect: check the URL and port (PVE listens on 8006), DNS and firewalls"
	case ClassNotFound:
		return "the object does not exist (node, storage, datastore or namespace renamed or removed?), or the URL points to the other product (PVE on 8006, PBS on 8007)"
	case ClassBadResponse:
		if e.Status >= 500 {
			return "the server reported an error; see the message (a storage offline or not mounted?)"
		}
		return "unexpected answer: is the URL the Proxmox API itself and not a proxy or web page? see the message"
	}
	return ""
}

func tlsHint(c *CertificateError) string {
	switch {
	case c.Pinned != "":
		return fmt.Sprintf("fingerprint mismatch: server presented %s; update tls.fingerprint if the certificate was renewed, else something else answers on this address", c.Seen)
	case c.Reason == "certificate expired or not yet valid":
		return fmt.Sprintf("the server certificate is expired or not yet valid: renew it, or pin it with tls.fingerprint %s", c.Seen)
	case c.Reason == "certificate not valid for this host":
		return fmt.Sprintf("the certificate does not name this host: use a URL with a name in the certificate, or pin it with tls.fingerprint %s", c.Seen)
	default:
		return fmt.Sprintf("certificate not trusted: set tls.ca_file (PVE: /etc/pve/pve-root-ca.pem) or pin it with tls.fingerprint %s", c.Seen)
	}
}

// permCheck parses PVE's 403 message "Permission check failed (PATH, PRIVS)".
var permCheck = regexp.MustCompile(`Permission check failed \(([^,()]+), ([^()]+)\)`)

// permissionHint is the hint of a refused request: the privileges PVE's
// 403 message names, else what the endpoint needs.
func permissionHint(e *Error) string {
	if m := permCheck.FindStringSubmatch(e.Message); m != nil {
		privs := strings.ReplaceAll(strings.TrimSpace(m[2]), "|", " or ")
		return fmt.Sprintf("grant %s on %s to the token%s", privs, strings.TrimSpace(m[1]), tokenNote)
	}
	return PrivilegeHint(e.Kind, e.Endpoint)
}

const tokenNote = " (privilege-separated tokens need ACLs of their own)"

// PrivilegeHint tells what to grant an API token so that it may use an
// endpoint (a path below /api2/json, as in Error.Endpoint) of a PVE or PBS
// API (kind "pve" or "pbs"). It serves both a refused request and a
// listing that succeeded but looks filtered: PVE and PBS leave out of a
// listing what the token may not see instead of refusing it.
func PrivilegeHint(kind, endpoint string) string {
	if priv := endpointPrivilege(kind, endpoint); priv != "" {
		return "grant " + priv + " to the token" + tokenNote
	}
	if kind == "pbs" {
		return "the token lacks a privilege: grant the Audit role on / (Sys.Audit + Datastore.Audit)" + tokenNote
	}
	return "the token lacks a privilege: grant PVEAuditor on / plus Datastore.Allocate (or Datastore.AllocateSpace + VM.Backup) on /storage" + tokenNote
}

// endpointPrivilege returns the privilege REFERENCE.md §1.4 lists for an
// endpoint, "" when unknown.
func endpointPrivilege(kind, endpoint string) string {
	seg := strings.Split(strings.Trim(endpoint, "/"), "/")
	if kind == "pbs" {
		switch {
		case endpoint == "/nodes/localhost/status":
			return "Sys.Audit on /system/status"
		case strings.HasPrefix(endpoint, "/nodes/localhost/certificates"):
			return "Sys.Modify on /system/certificates"
		case strings.HasPrefix(endpoint, "/nodes/") && len(seg) >= 3 && seg[2] == "tasks":
			return "Sys.Audit on /system/tasks"
		case strings.HasPrefix(endpoint, "/admin/datastore/") && len(seg) >= 3:
			// Without it PBS lists only the groups the token owns.
			return "Datastore.Audit on /datastore/" + unescapeSeg(seg[2]) + " (without it the token sees only the backup groups it owns)"
		case endpoint == "/admin/sync":
			// PBS drops a job with a remote the token may not audit.
			return RemoteAuditPrivilege + " on /remote and Datastore.Audit on /datastore (without them PBS leaves sync jobs out of the list)"
		case strings.HasPrefix(endpoint, "/admin/"), strings.HasPrefix(endpoint, "/status/"), strings.HasPrefix(endpoint, "/config/"):
			return "Datastore.Audit on /datastore"
		}
		return ""
	}
	switch {
	case endpoint == "/cluster/backup", endpoint == "/cluster/backup-info/not-backed-up", endpoint == "/cluster/status":
		return "Sys.Audit on /"
	case endpoint == "/storage":
		return "Datastore.Audit on /storage"
	case len(seg) >= 5 && seg[0] == "nodes" && seg[2] == "storage" && seg[4] == "content":
		return "Datastore.Audit or Datastore.AllocateSpace on /storage/" + unescapeSeg(seg[3]) +
			" (and Datastore.Allocate, or Datastore.AllocateSpace + VM.Backup, to see backup volumes)"
	case len(seg) >= 3 && seg[0] == "nodes" && seg[2] == "tasks":
		return "Sys.Audit on /nodes/" + unescapeSeg(seg[1]) + " (without it PVE lists only the token's own tasks)"
	case len(seg) == 2 && seg[0] == "pools":
		return PoolAuditPrivilege(unescapeSeg(seg[1])) + " (without it PVE leaves the pool out of /pools and out of its guests' rows)"
	}
	return ""
}

// PoolHint tells what to grant a PVE token that cannot see a pool.
func PoolHint(pool string) string {
	return PrivilegeHint("pve", "/pools/"+url.PathEscape(pool))
}

// PoolAuditPrivilege is the privilege that makes pool visible to a token:
// without it PVE drops the pool from GET /pools and from the pool field of
// /cluster/resources guest rows, without an error (pve-manager
// PVE/API2/Cluster.pm resources, PVE/API2/Pool.pm index), so a backup job
// that selects by that pool has members nobody can see.
func PoolAuditPrivilege(pool string) string {
	return "Pool.Audit on /pool/" + pool
}

func unescapeSeg(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	// A hint is one line in a log or on /status: a segment that holds a
	// control character (a server or a fuzzer can send one) stays escaped.
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return url.PathEscape(s)
	}
	return s
}
