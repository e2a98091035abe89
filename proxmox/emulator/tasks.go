package emulator

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// VzdumpGuest is one guest's part in a vzdump run.
type VzdumpGuest struct {
	VMID int
	Type string // qemu | lxc
	// Error is the failure reason; "" = the guest was backed up.
	Error string
	// Warnings are logged as "WARN: ..." lines and counted in the status.
	Warnings []string
	// Duration of this guest's backup (30 s when zero).
	Duration time.Duration
	// Transferred is what a qemu guest's backup job read, logged in
	// qemu-server's summary line when the backup succeeds: 128 MiB per
	// second of Duration when zero, no line when negative (qemu-server
	// prints none for a job that read nothing). lxc backups print none.
	Transferred int64
}

// VzdumpRun describes one vzdump task: a scheduled job run on one node
// (several guests, task id "") or a single-guest run (task id = VMID).
type VzdumpRun struct {
	Node    string
	Start   time.Time
	Storage string
	// PBS selects the archive log line of a pbs storage.
	PBS bool
	// StoragePath is the dump directory for file storages (default
	// /mnt/pve/<storage>/dump).
	StoragePath string
	// Selection is the command-line selection ("101 102", "--all 1",
	// "--pool media"); default: the guests' VMIDs.
	Selection string
	// Format is the archive extension on file storages (default vma.zst /
	// tar.zst, i.e. --compress zstd).
	Format string
	// User defaults to root@pam (scheduled jobs run as root).
	User   string
	Guests []VzdumpGuest
	// Running leaves the task unfinished after the last guest's start.
	Running bool
}

// transferredLine is the summary qemu-server's query_backup_status_loop
// (src/PVE/VZDump/QemuServer.pm) logs after a qemu backup job, "" when it
// logs none. The emulator times the job by the guest's whole backup.
func (g VzdumpGuest) transferredLine() string {
	n := g.Transferred
	if n == 0 {
		n = int64(g.duration().Seconds()) << 27
	}
	if g.Type != "qemu" || n <= 0 {
		return ""
	}
	secs := int64(g.duration().Seconds())
	if secs < 1 {
		return fmt.Sprintf("INFO: transferred %s in <1 seconds", renderBytes(n, 2))
	}
	return fmt.Sprintf("INFO: transferred %s in %d seconds (%s/s)", renderBytes(n, 2), secs, renderBytes(n/secs, 1))
}

// renderBytes is pve-common's PVE::Format render_bytes: the value in the
// largest binary unit it reaches, with the given decimals.
func renderBytes(n int64, decimals int) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v, u := float64(n), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return fmt.Sprintf("%.*f %s", decimals, v, units[u])
}

func (g VzdumpGuest) duration() time.Duration {
	if g.Duration > 0 {
		return g.Duration
	}
	return 30 * time.Second
}

// GuestStart is when guest i's backup started within the run: the time of
// its PBS snapshot or archive file name (vzdump takes time() per guest).
func (r VzdumpRun) GuestStart(i int) time.Time {
	t := r.Start.Add(2 * time.Second)
	for j := 0; j < i && j < len(r.Guests); j++ {
		t = t.Add(r.Guests[j].duration() + 2*time.Second)
	}
	return t.UTC().Truncate(time.Second)
}

// End is when the run finished (zero while running).
func (r VzdumpRun) End() time.Time {
	if r.Running {
		return time.Time{}
	}
	return r.GuestStart(len(r.Guests)).Add(time.Second)
}

// FileName is the archive name vzdump writes for guest i of the run.
func (r VzdumpRun) FileName(i int) string {
	g := r.Guests[i]
	return VzdumpFileName(g.Type, g.VMID, r.GuestStart(i), r.format(g.Type))
}

// VzdumpFileName is the standard archive name:
// vzdump-(qemu|lxc)-VMID-YYYY_MM_DD-HH_MM_SS.(vma|tar).zst. The emulator
// names files in UTC (real PVE uses the node's local time).
func VzdumpFileName(typ string, vmid int, t time.Time, format string) string {
	if format == "" {
		format = defaultFormat(typ)
	}
	return fmt.Sprintf("vzdump-%s-%d-%s.%s", typ, vmid, t.UTC().Format("2006_01_02-15_04_05"), format)
}

func (r VzdumpRun) format(typ string) string {
	if r.Format != "" {
		return r.Format
	}
	return defaultFormat(typ)
}

// ProviderArchiveName is the archive name the emulated backup provider
// chooses in backup_init (pve-storage PVE::BackupProvider::Plugin::Base):
// the provider's own naming, which no vzdump or PBS pattern parses, so
// that only the listing's vmid, subtype and ctime say what it holds.
func ProviderArchiveName(typ string, vmid int, t time.Time) string {
	return fmt.Sprintf("guest-%s-%d-%s", typ, vmid, t.UTC().Format("20060102T150405"))
}

// providerFormat is the format the emulated provider's plugin lists.
func providerFormat(typ string) string {
	if typ == "lxc" {
		return "tar"
	}
	return "raw"
}

func defaultFormat(typ string) string {
	if typ == "lxc" {
		return "tar.zst"
	}
	return "vma.zst"
}

// pbsBackupType maps PVE guest types to PBS backup types.
func pbsBackupType(typ string) string {
	if typ == "lxc" {
		return "ct"
	}
	return "vm"
}

// PBSSnapshotName is "vm/101/2024-01-15T01:00:05Z", the name in PVE's log
// and volids.
func PBSSnapshotName(btype, id string, t time.Time) string {
	return btype + "/" + id + "/" + t.UTC().Format("2006-01-02T15:04:05Z")
}

// VzdumpTask builds the task of a run with the log lines pve-manager's
// VZDump.pm writes, and the end status: OK, "WARNINGS: n" or "job errors".
func VzdumpTask(r VzdumpRun) *Task {
	user := r.User
	if user == "" {
		user = "root@pam"
	}
	sel := r.Selection
	if sel == "" {
		ids := make([]string, len(r.Guests))
		for i, g := range r.Guests {
			ids[i] = strconv.Itoa(g.VMID)
		}
		sel = strings.Join(ids, " ")
	}
	cmd := "vzdump " + sel + " --mode snapshot"
	if r.Storage != "" {
		cmd += " --storage " + r.Storage
	}
	cmd += " --notes-template '{{guestname}}' --quiet 1"
	log := []string{"INFO: starting new backup job: " + cmd}
	errs, warns := 0, 0
	start := r.GuestStart(0)
	for i, g := range r.Guests {
		if i > 0 {
			start = start.Add(r.Guests[i-1].duration() + 2*time.Second)
		}
		log = append(log,
			fmt.Sprintf("INFO: Starting Backup of VM %d (%s)", g.VMID, g.Type),
			"INFO: Backup started at "+start.Format("2006-01-02 15:04:05"),
			"INFO: status = running")
		if r.PBS {
			log = append(log, fmt.Sprintf("INFO: creating Proxmox Backup Server archive '%s'",
				PBSSnapshotName(pbsBackupType(g.Type), strconv.Itoa(g.VMID), start)))
		} else {
			dir := r.StoragePath
			if dir == "" {
				dir = "/mnt/pve/" + r.Storage + "/dump"
			}
			log = append(log, fmt.Sprintf("INFO: creating vzdump archive '%s/%s'", dir, VzdumpFileName(g.Type, g.VMID, start, r.format(g.Type))))
		}
		if r.Running && i == len(r.Guests)-1 {
			break
		}
		for _, w := range g.Warnings {
			log = append(log, "WARN: "+w)
			warns++
		}
		end := start.Add(g.duration())
		if g.Error != "" {
			errs++
			log = append(log,
				fmt.Sprintf("ERROR: Backup of VM %d failed - %s", g.VMID, g.Error),
				"INFO: Failed at "+end.Format("2006-01-02 15:04:05"))
			continue
		}
		if l := g.transferredLine(); l != "" {
			log = append(log, l)
		}
		if !r.PBS {
			log = append(log, "INFO: adding notes to backup")
		}
		log = append(log,
			fmt.Sprintf("INFO: Finished Backup of VM %d (%s)", g.VMID, hms(g.duration())),
			"INFO: Backup finished at "+end.Format("2006-01-02 15:04:05"))
	}
	t := &Task{Node: r.Node, Type: "vzdump", User: user, Start: r.Start.UTC().Truncate(time.Second), Log: log}
	if len(r.Guests) == 1 {
		t.ID = strconv.Itoa(r.Guests[0].VMID)
	}
	if r.Running {
		return t
	}
	t.End = r.End()
	switch {
	case errs > 0:
		t.Log = append(t.Log, "INFO: Backup job finished with errors")
		t.Status = "job errors"
	case warns > 0:
		t.Log = append(t.Log, "INFO: Backup job finished successfully")
		t.Status = fmt.Sprintf("WARNINGS: %d", warns)
	default:
		t.Log = append(t.Log, "INFO: Backup job finished successfully")
		t.Status = "OK"
	}
	return t
}

func hms(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// finalLine is the last log line pve-common's UPID.pm writes for a status.
func finalLine(status string) string {
	switch {
	case status == "OK":
		return "TASK OK"
	case strings.HasPrefix(status, "WARNINGS: "):
		return "TASK " + status
	default:
		return "TASK ERROR: " + status
	}
}

func hash32(parts ...string) uint32 {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum32()
}

// pveTaskIDs returns the pid and pstart of a task, derived when unset.
func (t *Task) ids() (pid, pstart int) {
	pid, pstart = t.PID, t.PStart
	if pid == 0 {
		pid = 1000 + int(hash32(t.Node, t.typ(), t.ID, strconv.FormatInt(t.Start.Unix(), 10))%4000000)
	}
	if pstart == 0 {
		pstart = 100000 + int(hash32("pstart", t.Node, strconv.FormatInt(t.Start.Unix()/86400, 10))%200000000)
	}
	return pid, pstart
}

func (t *Task) typ() string {
	if t.Type == "" {
		return "vzdump"
	}
	return t.Type
}

func (t *Task) user() string {
	if t.User == "" {
		return "root@pam"
	}
	return t.User
}

// UPID is the PVE task id:
// UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:
func (t *Task) UPID() string {
	pid, pstart := t.ids()
	return fmt.Sprintf("UPID:%s:%08X:%08X:%08X:%s:%s:%s:", t.Node, pid, pstart, t.Start.Unix(), t.typ(), t.ID, t.user())
}

// running reports whether the task has not finished yet.
func (t *Task) running() bool { return t.End.IsZero() }

// splitAuthID splits "user@realm!token" into user and token name.
func splitAuthID(id string) (user, token string) {
	if i := strings.IndexByte(id, '!'); i >= 0 {
		return id[:i], id[i+1:]
	}
	return id, ""
}

// systemdEscape escapes a PBS worker id for the UPID the way proxmox-rs
// does: '/' becomes '-', anything but [A-Za-z0-9_.] becomes \xNN.
func systemdEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/':
			b.WriteByte('-')
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_',
			c == '.' && i > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return b.String()
}

// pbsUPID formats a PBS task id:
// UPID:<node>:<pid>:<pstart>:<task_id>:<starttime>:<worker_type>:<worker_id>:<auth_id>:
func pbsUPID(host string, pid int, start time.Time, wtype, wid, user string) string {
	taskID := hash32(host, wtype, wid, strconv.FormatInt(start.Unix(), 10)) % 0xffff
	return fmt.Sprintf("UPID:%s:%08X:%08X:%08X:%08X:%s:%s:%s:", host, pid, 41394, taskID, start.Unix(), wtype, systemdEscape(wid), user)
}
