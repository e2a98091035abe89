package emulator

// Authentication: API tokens checked exactly as PVE and PBS parse them.

import (
	"net/http"
	"net/url"
	"strings"
)

// authenticate checks the API token exactly as the products parse it.
func (s *Server) authenticate(rc *reqCtx, r *http.Request) (reply, bool) {
	h := r.Header.Get("Authorization")
	s.mu.RLock()
	var wantID, wantSecret string
	if rc.ep.kind == "pve" {
		if c := s.m.Cluster(rc.ep.target); c != nil {
			wantID, wantSecret = c.TokenID, c.TokenSecret
		}
	} else if p := s.m.PBSServer(rc.ep.target); p != nil {
		wantID, wantSecret = p.TokenID, p.TokenSecret
	}
	delay := s.m.AuthFailureDelay
	s.mu.RUnlock()

	var ok bool
	var why string
	if rc.ep.kind == "pve" {
		ok, why = checkPVEToken(h, wantID, wantSecret)
	} else {
		ok, why = checkPBSToken(h, wantID, wantSecret)
	}
	if ok {
		return reply{}, true
	}
	s.sleep(rc, delay)
	if rc.ep.kind == "pve" {
		return reply{status: http.StatusUnauthorized, raw: true, reason: why}, false
	}
	return errReply(http.StatusUnauthorized, "authentication failed - "+why), false
}

// authFailure is a 401 for a valid token (Status401 fault: a revoked or
// expired token).
func (s *Server) authFailure(rc *reqCtx) reply {
	if rc.ep.kind == "pve" {
		return reply{status: http.StatusUnauthorized, raw: true, reason: pveAuthFailed}
	}
	return errReply(http.StatusUnauthorized, "authentication failed - user account or token disabled or expired.")
}

// pveAuthFailed is the reason phrase of a rejected token (REFERENCE §1.6).
const pveAuthFailed = "Authentication failed!"

// checkPVEToken parses "PVEAPIToken=USER@REALM!TOKENID=SECRET" (or with a
// space after the prefix): the value ends at ';', is URI-unescaped and is
// split at the LAST '='.
func checkPVEToken(h, wantID, wantSecret string) (bool, string) {
	const p = "PVEAPIToken"
	h = strings.TrimSpace(h)
	if len(h) <= len(p) || !strings.HasPrefix(h, p) || (h[len(p)] != '=' && h[len(p)] != ' ') {
		return false, "No ticket"
	}
	v := h[len(p)+1:]
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	if u, err := url.PathUnescape(v); err == nil {
		v = u
	}
	i := strings.LastIndexByte(v, '=')
	if i < 0 {
		return false, pveAuthFailed
	}
	if v[:i] != wantID || v[i+1:] != wantSecret || wantID == "" {
		return false, pveAuthFailed
	}
	return true, ""
}

// checkPBSToken parses "PBSAPIToken=USER@REALM!TOKENID:SECRET" (or with a
// space): split at the FIRST ':', the secret percent-decoded.
func checkPBSToken(h, wantID, wantSecret string) (bool, string) {
	const p = "PBSAPIToken"
	if len(h) <= len(p) || !strings.HasPrefix(h, p) || (h[len(p)] != '=' && h[len(p)] != ' ') {
		return false, "no authentication credentials provided."
	}
	v := h[len(p)+1:]
	i := strings.IndexByte(v, ':')
	if i < 0 {
		return false, "failed to split API token header"
	}
	id := v[:i]
	secret, err := url.PathUnescape(v[i+1:])
	if err != nil {
		return false, "failed to decode API token header"
	}
	if id != wantID || wantID == "" {
		return false, "user account or token disabled or expired."
	}
	if secret != wantSecret {
		return false, "invalid API token"
	}
	return true, ""
}
