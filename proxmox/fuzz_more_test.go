package proxmox

import (
	"net/url"
	"strings"
	"testing"
)

// Fuzz targets for every input the clients parse (issue 8) besides the
// envelope and fingerprints (decode_test.go, fingerprint_test.go): target
// URLs, token ids, and the permission messages the hints read.

// FuzzParseBaseURL: a target URL is accepted only as https with a host and
// without credentials, query or fragment; what is accepted is normalised to
// <display>/api2/json; an error never echoes a password from the URL.
func FuzzParseBaseURL(f *testing.F) {
	for _, s := range []string{
		"https://pve1.example.org:8006", "https://10.0.0.1:8007/", "https://h/proxy/api2/json", "http://h:8006",
		"https://root:hunter2pass@h:8006", "https://[::1]:8006", "https://h:8006?x=1", "ftp://h", "", "https://", "%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		base, display, host, err := parseBaseURL(raw)
		if u, perr := url.Parse(strings.TrimSpace(raw)); perr == nil && u.User != nil {
			if p, ok := u.User.Password(); ok && len(p) >= 4 && err != nil && strings.Contains(err.Error(), p) {
				// The password may be words of the message itself ("user",
				// "password"): it is echoed only if another password in
				// the same URL shows up too.
				const marker = "Zq9Wm7Xk"
				u2 := *u
				u2.User = url.UserPassword(u.User.Username(), marker)
				if _, _, _, err2 := parseBaseURL(u2.String()); err2 == nil || strings.Contains(err2.Error(), marker) {
					t.Fatalf("error %q echoes the URL's password", err)
				}
			}
			if err == nil {
				t.Fatalf("accepted %q with credentials", raw)
			}
		}
		if err != nil {
			return
		}
		u, perr := url.Parse(display)
		if host == "" || !strings.HasPrefix(display, "https://") || base != display+"/api2/json" ||
			strings.ContainsAny(display, "?#") || perr != nil || u.User != nil || u.Hostname() != host {
			t.Fatalf("%q -> base %q display %q host %q", raw, base, display, host)
		}
	})
}

// FuzzCheckToken: a token id is accepted only as USER@REALM!TOKENID, and no
// error ever contains the secret.
func FuzzCheckToken(f *testing.F) {
	for _, s := range [][2]string{
		{"exporter@pve!backup", "0b9d6c1e-7a55-4c1f-8e2d-93f1d2e4a5b6"}, {"root@pam", "x"},
		{"exporter@pve!backup=0b9d6c1e", "0b9d6c1e"}, {"a@b!c:secretsecret", "secretsecret"}, {"", ""},
		{"exporter@pbs!backup", "with space"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, id, secret string) {
		for _, kind := range []string{"pve", "pbs"} {
			err := checkToken(kind, id, secret)
			if err == nil {
				if !tokenIDPattern.MatchString(id) || secret == "" {
					t.Fatalf("accepted id %q secret %q", id, secret)
				}
				continue
			}
			// Real secrets are UUIDs: a digit keeps English words of the
			// message ("secret", "token") from counting as a leak.
			if len(secret) >= 8 && strings.ContainsAny(secret, "0123456789") && strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q contains the secret", err)
			}
		}
	})
}

// FuzzHint: any error a server can provoke (status, message, endpoint) gets
// a one-line hint, parsed from PVE's "Permission check failed (path,
// privs)" where it applies, and never a secret it was not given.
func FuzzHint(f *testing.F) {
	f.Add(403, "Permission check failed (/storage/nfs, Datastore.Audit|Datastore.AllocateSpace)", "/nodes/pve1/storage/nfs/content", "pve")
	f.Add(403, "permission check failed", "/admin/datastore/store1/groups", "pbs")
	f.Add(401, "Authentication failed!", "/version", "pve")
	f.Add(596, "Broken pipe", "/nodes/pve2/tasks", "pve")
	f.Add(500, "storage 'x' does not exist", "/nodes/%2F/storage", "pve")
	f.Add(403, "Permission check failed ((, ))", "/", "pbs")
	f.Fuzz(func(t *testing.T, status int, message, endpoint, kind string) {
		class, _ := classifyStatus(status, message)
		e := &Error{Target: "t", Kind: kind, Endpoint: endpoint, Class: class, Status: status, Message: cleanMessage(message)}
		h := Hint(e)
		if h == "" || strings.ContainsAny(h, "\n\r") {
			t.Fatalf("hint %q for %+v", h, e)
		}
		if strings.Contains(h, testSecret) {
			t.Fatal("hint invents a secret")
		}
	})
}
