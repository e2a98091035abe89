package emulator_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox/emulator"
)

func Example() {
	s, err := emulator.Start(emulator.Homelab(time.Now()))
	if err != nil {
		panic(err)
	}
	defer s.Close()

	// Talk to the PBS like a client pinning its fingerprint would.
	fp := s.PBSFingerprint("pbs1")
	id, secret := s.PBSToken("pbs1")
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // verified by the fingerprint below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if emulator.Fingerprint(cs.PeerCertificates[0].Raw) != fp {
				return fmt.Errorf("fingerprint mismatch")
			}
			return nil
		},
	}}}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet,
		s.PBSURL("pbs1")+"/api2/json/admin/datastore/store1/groups?ns=homelab", nil)
	req.Header.Set("Authorization", "PBSAPIToken="+id+":"+secret)
	resp, err := hc.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data []struct {
			Type  string `json:"backup-type"`
			ID    string `json:"backup-id"`
			Count int    `json:"backup-count"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		panic(err)
	}
	for _, g := range body.Data {
		fmt.Println(g.Type, g.ID, g.Count)
	}
	fmt.Println(s.CountRequests("/admin/datastore/{store}/groups"), "groups request")

	// Output:
	// vm 100 14
	// vm 101 15
	// vm 102 14
	// ct 103 14
	// vm 120 3
	// 1 groups request
}
