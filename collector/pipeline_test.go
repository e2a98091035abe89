package collector

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox"
)

// gatedPVE delays some calls of a real PVE client until another call was
// made, to prove what the scrape does not wait for: if the scrape needed
// the delayed call's answer before making the awaited one, both would wait
// for the deadline and the target would be down.
type gatedPVE struct {
	pveAPI
	listed      chan struct{} // closed at the first StorageContent call
	once        sync.Once
	guestsAfter <-chan struct{} // ClusterResources waits for it (nil: no wait)
	guestsErr   error
	nodeStorage <-chan struct{} // NodeStorage waits for it (nil: no wait)
}

func (g *gatedPVE) StorageContent(ctx context.Context, node, storage string) ([]proxmox.BackupVolume, error) {
	g.once.Do(func() { close(g.listed) })
	return g.pveAPI.StorageContent(ctx, node, storage)
}

func (g *gatedPVE) ClusterResources(ctx context.Context, typ string) ([]proxmox.ClusterResource, error) {
	if g.guestsAfter != nil {
		select {
		case <-g.guestsAfter:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if g.guestsErr != nil {
		return nil, g.guestsErr
	}
	return g.pveAPI.ClusterResources(ctx, typ)
}

func (g *gatedPVE) NodeStorage(ctx context.Context, node, content string) ([]proxmox.NodeStorage, error) {
	if g.nodeStorage != nil {
		select {
		case <-g.nodeStorage:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.pveAPI.NodeStorage(ctx, node, content)
}

// signalPBS closes grouped at the first groups listing.
type signalPBS struct {
	pbsAPI
	grouped chan struct{}
	once    sync.Once
}

func (p *signalPBS) Groups(ctx context.Context, store, ns string) ([]proxmox.BackupGroup, error) {
	p.once.Do(func() { close(p.grouped) })
	return p.pbsAPI.Groups(ctx, store, ns)
}

// wrap replaces the lab's PVE and PBS clients.
func (l *lab) wrap(pve func(pveAPI) pveAPI, pbs func(pbsAPI) pbsAPI) {
	for _, t := range l.coll.currentSet().targets {
		if t.pve != nil && pve != nil {
			t.pve = pve(t.pve)
		}
		if t.pbs != nil && pbs != nil {
			t.pbs = pbs(t.pbs)
		}
	}
}

// TestPipelineOverlap: content listings do not wait for the guest
// inventory, and PBS namespaces do not wait for the PVE inventory (node
// storage status), so a scrape takes about as long as its slowest chain of
// requests, not the sum of its phases (issue 5).
func TestPipelineOverlap(t *testing.T) {
	l := startLab(t, labModel(), Options{})
	grouped := make(chan struct{})
	l.wrap(func(api pveAPI) pveAPI {
		g := &gatedPVE{pveAPI: api, listed: make(chan struct{}), nodeStorage: grouped}
		g.guestsAfter = g.listed
		return g
	}, func(api pbsAPI) pbsAPI { return &signalPBS{pbsAPI: api, grouped: grouped} })
	body := l.scrape(t, 10*time.Second)
	expectLines(t, body, "proxmox_backup_target_up",
		`proxmox_backup_target_up{kind="pbs",target="pbs1"} 1`,
		`proxmox_backup_target_up{kind="pve",target="lab"} 1`)
	if got := series(body, `proxmox_backup_guest_snapshots{backup_id="100"`); len(got) != 1 {
		t.Fatalf("guest vm/100: %v", got)
	}
}

// TestPipelineGuestsFail: when the guest inventory fails after the content
// listings started, the cluster is down and the final plan drops its
// listings: they neither count as errors nor show as data.
func TestPipelineGuestsFail(t *testing.T) {
	l := startLab(t, labModel(), Options{})
	var gates []*gatedPVE
	l.wrap(func(api pveAPI) pveAPI {
		g := &gatedPVE{pveAPI: api, listed: make(chan struct{}), guestsErr: &proxmox.Error{Class: proxmox.ClassPermission, Status: 403, Message: "no"}}
		g.guestsAfter = g.listed
		gates = append(gates, g)
		return g
	}, nil)
	body := l.scrape(t, 10*time.Second)
	expectLines(t, body, `proxmox_backup_target_up{kind="pve"`, `proxmox_backup_target_up{kind="pve",target="lab"} 0`)
	select {
	case <-gates[0].listed:
	default:
		t.Fatal("no content listing started before the guest inventory answered")
	}
	// One error: the guests call. The listings were not used.
	for _, line := range series(body, `proxmox_backup_target_errors_total{kind="pve"`) {
		want := " 0"
		if strings.Contains(line, `reason="permission"`) {
			want = " 1"
		}
		if !strings.HasSuffix(line, want) {
			t.Errorf("%s, want%s", line, want)
		}
	}
	for _, line := range series(body, "proxmox_backup_repository_up") {
		if strings.Contains(line, `repository="lab:`) || strings.Contains(line, `repository="lab/`) {
			t.Errorf("a down cluster's repository is planned: %s", line)
		}
	}
	if got := series(body, `proxmox_backup_guest_snapshots{`); len(got) != 0 {
		t.Errorf("guest series of a down cluster: %v", got)
	}
}
