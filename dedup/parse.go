package dedup

// This file holds the parsers of the strings Proxmox packs information into:
// volume ids, vzdump archive names, PBS backup paths, UPIDs, certificate
// fingerprints, datastore maintenance property strings, task end states and
// vzdump task log lines. Every parser returns an error on input it does not
// understand and never panics; the fuzz tests in parse_fuzz_test.go hold it
// to that.

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Backup types in PBS terms. PVE's qemu and lxc (and the historic openvz)
// map to vm and ct.
const (
	BackupTypeVM   = "vm"
	BackupTypeCT   = "ct"
	BackupTypeHost = "host"
)

// BackupTypeOfGuest maps a PVE guest type (qemu, lxc, openvz) to the PBS
// backup type; it returns "" for anything else.
func BackupTypeOfGuest(guestType string) string {
	switch guestType {
	case "qemu":
		return BackupTypeVM
	case "lxc", "openvz":
		return BackupTypeCT
	}
	return ""
}

// VolumeID is a PVE volume id "<storage>:<volume>".
type VolumeID struct {
	Storage string
	Volume  string
}

// storageIDRe is PVE's storage id syntax (pve-storage parse_volume_id).
var storageIDRe = regexp.MustCompile(`^(?i)[a-z][a-z0-9\-_.]*[a-z0-9]$`)

// ParseVolumeID splits a volume id into storage and volume.
func ParseVolumeID(volid string) (VolumeID, error) {
	storage, volume, ok := strings.Cut(volid, ":")
	if !ok {
		return VolumeID{}, fmt.Errorf("volume id %q has no storage prefix", volid)
	}
	if !validStorageID(storage) {
		return VolumeID{}, fmt.Errorf("volume id %q: invalid storage id", volid)
	}
	if volume == "" || strings.IndexByte(volume, 0) >= 0 || strings.IndexByte(volume, '\n') >= 0 {
		return VolumeID{}, fmt.Errorf("volume id %q: invalid volume", volid)
	}
	return VolumeID{Storage: storage, Volume: volume}, nil
}

// Styles of backup volumes.
const (
	// StylePBS is a PBS snapshot seen through a pbs storage:
	// "backup/vm/100/2024-01-15T01:00:05Z".
	StylePBS = "pbs"
	// StyleVzdump is a vzdump archive on a file storage:
	// "backup/vzdump-qemu-100-2024_01_15-02_00_03.vma.zst".
	StyleVzdump = "vzdump"
)

// BackupVolume is what the volume id of a backup says about it.
type BackupVolume struct {
	Storage    string
	Style      string // StylePBS or StyleVzdump
	BackupType string // vm, ct (host only in PBS paths)
	BackupID   string
	// Time is the backup time in epoch seconds. Exact (UTC) for PBS
	// snapshots. For vzdump archives it is the name's wall-clock time read
	// as UTC, because the node's time zone is unknown: trust PVE's ctime.
	// HasTime is false when a vzdump name carries no standard timestamp.
	Time    int64
	HasTime bool
	// Vzdump holds the parsed archive name for StyleVzdump.
	Vzdump *VzdumpName
}

// ParseBackupVolumeID parses the volume id of a backup volume in either
// style.
func ParseBackupVolumeID(volid string) (BackupVolume, error) {
	b, n, err := parseBackupVolumeID(volid, true)
	if err != nil {
		return BackupVolume{}, err
	}
	if b.Style == StyleVzdump {
		b.Vzdump = &n
	}
	return b, nil
}

// parseBackupVolumeID is ParseBackupVolumeID without its allocation: a
// vzdump name comes back by value, not in b.Vzdump. Unless withTime, a
// vzdump name's time stamp is not read (b.Time, b.HasTime and the name's
// time fields stay zero): it never decides whether the volume id parses,
// and recordFromVolume needs it only when PVE reports no ctime. Merge
// parses every volume of every listing on every scrape.
func parseBackupVolumeID(volid string, withTime bool) (BackupVolume, VzdumpName, error) {
	v, err := ParseVolumeID(volid)
	if err != nil {
		return BackupVolume{}, VzdumpName{}, err
	}
	rest, ok := strings.CutPrefix(v.Volume, "backup/")
	if !ok {
		return BackupVolume{}, VzdumpName{}, fmt.Errorf("volume id %q is not a backup volume", volid)
	}
	if strings.Contains(rest, "/") {
		p, err := ParsePBSBackupPath(rest)
		if err != nil {
			return BackupVolume{}, VzdumpName{}, fmt.Errorf("volume id %q: %w", volid, err)
		}
		p.Storage = v.Storage
		return p, VzdumpName{}, nil
	}
	n, wall, err := parseVzdumpName(rest, withTime)
	if err != nil {
		return BackupVolume{}, VzdumpName{}, fmt.Errorf("volume id %q: %w", volid, err)
	}
	b := BackupVolume{
		Storage:    v.Storage,
		Style:      StyleVzdump,
		BackupType: n.BackupType,
		BackupID:   n.VMID,
	}
	if n.HasTime {
		b.Time, b.HasTime = wall, true
	}
	return b, n, nil
}

// backupIDRe is PBS's BACKUP_ID_REGEX.
var backupIDRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._\-]*$`)

// ParsePBSBackupPath parses "<type>/<id>/<time>" (optionally prefixed with
// "backup/"), the snapshot path PVE puts into a pbs storage's volume ids and
// PBS uses in its own paths. The time is UTC with a trailing Z.
func ParsePBSBackupPath(p string) (BackupVolume, error) {
	p = strings.TrimPrefix(p, "backup/")
	parts := strings.Split(p, "/")
	if len(parts) != 3 {
		return BackupVolume{}, fmt.Errorf("snapshot path %q: want type/id/time", p)
	}
	typ, id, ts := parts[0], parts[1], parts[2]
	switch typ {
	case BackupTypeVM, BackupTypeCT, BackupTypeHost:
	default:
		return BackupVolume{}, fmt.Errorf("snapshot path %q: unknown backup type %q", p, typ)
	}
	if !backupIDRe.MatchString(id) {
		return BackupVolume{}, fmt.Errorf("snapshot path %q: invalid backup id", p)
	}
	t, err := time.Parse("2006-01-02T15:04:05Z", ts)
	if err != nil {
		return BackupVolume{}, fmt.Errorf("snapshot path %q: invalid time", p)
	}
	return BackupVolume{Style: StylePBS, BackupType: typ, BackupID: id, Time: t.Unix(), HasTime: true}, nil
}

// VzdumpName is a parsed vzdump archive file name.
type VzdumpName struct {
	GuestType  string // qemu, lxc, openvz
	BackupType string // vm, ct
	VMID       string
	// HasTime is true when the name carries the standard
	// YYYY_MM_DD-HH_MM_SS stamp (node local time).
	HasTime                                bool
	Year, Month, Day, Hour, Minute, Second int
	// Format is the archive extension as PVE reports it: "vma.zst",
	// "tar.gz", "tgz", ...
	Format string
}

// WallClock returns the name's timestamp read as UTC (0 without one).
func (n VzdumpName) WallClock() int64 {
	if !n.HasTime {
		return 0
	}
	return time.Date(n.Year, time.Month(n.Month), n.Day, n.Hour, n.Minute, n.Second, 0, time.UTC).Unix()
}

// ParseVzdumpName parses a vzdump archive file name (without directory),
// e.g. "vzdump-qemu-101-2024_01_15-02_00_03.vma.zst".
func ParseVzdumpName(name string) (VzdumpName, error) {
	n, _, err := parseVzdumpName(name, true)
	return n, err
}

// parseVzdumpName is ParseVzdumpName that also returns WallClock (computed
// once with the check of the stamp) and, unless withTime, leaves the time
// stamp unread (HasTime false).
func parseVzdumpName(name string, withTime bool) (n VzdumpName, wall int64, err error) {
	// pve-storage archive_info: any text may stand between the VMID and
	// the extension; only the standard stamp yields a time.
	guestType, vmid, middle, ext, ok := matchVzdump(name)
	if !ok {
		return VzdumpName{}, 0, fmt.Errorf("%q is not a vzdump archive name", name)
	}
	if len(vmid) > 9 {
		return VzdumpName{}, 0, fmt.Errorf("%q: VMID out of range", name)
	}
	n = VzdumpName{GuestType: guestType, BackupType: BackupTypeOfGuest(guestType), VMID: strings.TrimLeft(vmid, "0"), Format: ext}
	if n.VMID == "" {
		return VzdumpName{}, 0, fmt.Errorf("%q: VMID out of range", name)
	}
	if !withTime {
		return n, 0, nil
	}
	if v, ok := matchStamp(middle); ok {
		t := time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], 0, time.UTC)
		// Reject stamps time.Date would normalise (month 13, day 32, ...).
		if t.Year() == v[0] && int(t.Month()) == v[1] && t.Day() == v[2] && t.Hour() == v[3] && t.Minute() == v[4] && t.Second() == v[5] {
			n.HasTime = true
			n.Year, n.Month, n.Day, n.Hour, n.Minute, n.Second = v[0], v[1], v[2], v[3], v[4], v[5]
			wall = t.Unix()
		}
	}
	return n, wall, nil
}

// UPID is a parsed Proxmox task id. PVE and PBS use different layouts:
//
//	PVE: UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:
//	PBS: UPID:<node>:<pid>:<pstart>:<task_id>:<starttime>:<type>:<id>:<auth_id>:
//
// PBS systemd-escapes the worker id; ID holds it unescaped.
type UPID struct {
	// Product is "pve" or "pbs".
	Product   string
	Node      string
	PID       int64
	PStart    int64
	TaskID    int64 // PBS only
	StartTime int64
	Type      string
	ID        string
	User      string
}

var (
	upidNodeRe  = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?$`)
	upidTokenRe = regexp.MustCompile(`^[^:\s]*$`)
)

// ParseUPID parses a PVE or a PBS UPID (told apart by their field count).
func ParseUPID(s string) (UPID, error) {
	parts := strings.Split(s, ":")
	bad := func(what string) (UPID, error) {
		return UPID{}, fmt.Errorf("invalid UPID %q: %s", s, what)
	}
	if len(parts) < 9 || parts[0] != "UPID" || parts[len(parts)-1] != "" {
		return bad("wrong layout")
	}
	var u UPID
	switch len(parts) {
	case 9:
		u.Product = "pve"
	case 10:
		u.Product = "pbs"
	default:
		return bad("wrong number of fields")
	}
	u.Node = parts[1]
	if !upidNodeRe.MatchString(u.Node) {
		return bad("node")
	}
	hex := func(f string, min, max int) (int64, bool) {
		if len(f) < min || len(f) > max {
			return 0, false
		}
		v, err := strconv.ParseUint(f, 16, 64)
		if err != nil || v > 1<<62 {
			return 0, false
		}
		return int64(v), true
	}
	var ok bool
	if u.PID, ok = hex(parts[2], 8, 8); !ok {
		return bad("pid")
	}
	if u.PStart, ok = hex(parts[3], 8, 9); !ok {
		return bad("pstart")
	}
	i := 4
	if u.Product == "pbs" {
		if u.TaskID, ok = hex(parts[4], 8, 16); !ok {
			return bad("task id")
		}
		i = 5
	}
	if u.StartTime, ok = hex(parts[i], 8, 8); !ok {
		return bad("start time")
	}
	u.Type, u.ID, u.User = parts[i+1], parts[i+2], parts[i+3]
	if u.Type == "" || u.User == "" || !upidTokenRe.MatchString(u.Type) || !upidTokenRe.MatchString(u.ID) || !upidTokenRe.MatchString(u.User) {
		return bad("type, id or user")
	}
	if u.Product == "pbs" {
		id, err := UnescapeSystemd(u.ID)
		if err != nil {
			return bad(err.Error())
		}
		u.ID = id
	}
	return u, nil
}

// UnescapeSystemd reverses systemd's path escaping as PBS applies it to
// worker ids: "-" stands for "/", and "\xNN" for the byte NN.
func UnescapeSystemd(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '-':
			b.WriteByte('/')
		case '\\':
			if len(s)-i < 4 || s[i+1] != 'x' {
				return "", errors.New("bad escape sequence")
			}
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return "", errors.New("bad escape sequence")
			}
			b.WriteByte(byte(v))
			i += 3
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// CanonicalFingerprint normalises a SHA-256 certificate fingerprint to the
// form used in repository keys: 64 lower-case hex digits without colons.
// PVE's storage.cfg may hold upper case, PBS prints lower case; both with
// colons. Anything but 32 bytes of hex is an error.
func CanonicalFingerprint(s string) (string, error) {
	h := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if len(h) != 64 {
		return "", fmt.Errorf("fingerprint has %d hex digits, want 64", len(h))
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", errors.New("fingerprint is not hexadecimal")
		}
	}
	return h, nil
}

// Maintenance is a PBS datastore maintenance mode.
type Maintenance struct {
	// Type: read-only, offline, delete, unmount, s3-refresh (or a newer
	// kind); "" when the datastore is not in maintenance.
	Type    string
	Message string
}

// BlocksReads reports whether the mode stops us from listing backups: only
// read-only maintenance still allows reads.
func (m Maintenance) BlocksReads() bool { return m.Type != "" && m.Type != "read-only" }

var maintenanceTypeRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// ParseMaintenance parses the maintenance property string of a datastore,
// e.g. "type=read-only,message=disk%20swap" or just "offline" (type is the
// default key). The message is percent-decoded. An empty string means no
// maintenance.
func ParseMaintenance(s string) (Maintenance, error) {
	var m Maintenance
	if s == "" {
		return m, nil
	}
	seen := map[string]bool{}
	for i, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			if i != 0 {
				return Maintenance{}, fmt.Errorf("maintenance %q: %q is not key=value", s, kv)
			}
			k, v = "type", kv
		}
		if seen[k] {
			return Maintenance{}, fmt.Errorf("maintenance %q: duplicate key %q", s, k)
		}
		seen[k] = true
		switch k {
		case "type":
			if !maintenanceTypeRe.MatchString(v) {
				return Maintenance{}, fmt.Errorf("maintenance %q: invalid type", s)
			}
			m.Type = v
		case "message":
			msg, err := percentDecode(v)
			if err != nil {
				return Maintenance{}, fmt.Errorf("maintenance %q: %w", s, err)
			}
			m.Message = msg
		default:
			// Newer PBS versions may add keys; they do not change the mode.
		}
	}
	if m.Type == "" {
		return Maintenance{}, fmt.Errorf("maintenance %q: no type", s)
	}
	return m, nil
}

func percentDecode(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if len(s)-i < 3 {
			return "", errors.New("truncated percent escape")
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", errors.New("bad percent escape")
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}

// Task end-state classes (pve-common UPID.pm normalize_status_type, plus
// running and PBS's "unknown").
const (
	TaskOK      = "ok"
	TaskWarning = "warning"
	TaskError   = "error"
	TaskRunning = "running"
	TaskUnknown = "unknown"
)

var warningsRe = regexp.MustCompile(`^WARNINGS: ([0-9]{1,9})$`)

// ClassifyTaskStatus classifies a task's status text: "OK", "WARNINGS: n"
// (n returned), "RUNNING"/"running", PBS's "unknown" (the end state was
// lost); any other text is an error message. An empty status is an error
// of the caller (running tasks in the archive have none), so it is
// reported as such.
func ClassifyTaskStatus(s string) (class string, warnings int, err error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return "", 0, errors.New("empty task status")
	case t == "OK":
		return TaskOK, 0, nil
	case strings.EqualFold(t, "running") || t == "stopped: running":
		return TaskRunning, 0, nil
	case t == "unknown":
		return TaskUnknown, 0, nil
	}
	if m := warningsRe.FindStringSubmatch(t); m != nil {
		n, _ := strconv.Atoi(m[1]) // at most 9 digits
		return TaskWarning, n, nil
	}
	return TaskError, 0, nil
}

// TaskSucceeded reports whether a task status means the work was done:
// OK or WARNINGS (REFERENCE.md: WARNINGS means all guests done).
func TaskSucceeded(status string) bool {
	c, _, err := ClassifyTaskStatus(status)
	return err == nil && (c == TaskOK || c == TaskWarning)
}

// Kinds of vzdump log events.
const (
	LogStart  = "start"
	LogFinish = "finish"
	LogFail   = "fail"
)

// LogEvent is what one vzdump task log line says about one guest.
type LogEvent struct {
	Kind string // LogStart, LogFinish, LogFail
	VMID string
	// GuestType is qemu, lxc or openvz on start lines, else "".
	GuestType string
	// Message is the failure reason on fail lines.
	Message string
}

// ErrNotGuestEvent is returned by ParseTaskLogLine for lines that say
// nothing about one guest's outcome.
var ErrNotGuestEvent = errors.New("not a per-guest vzdump log line")

// ParseTaskLogLine recognises the per-guest lines vzdump writes
// (pve-manager VZDump.pm):
//
//	INFO: Starting Backup of VM <id> (<qemu|lxc>)
//	INFO: Finished Backup of VM <id> (<hh:mm:ss>)
//	ERROR: Backup of VM <id> failed - <reason>
func ParseTaskLogLine(line string) (LogEvent, error) {
	if vmid, guestType, ok := matchLogStart(line); ok {
		return LogEvent{Kind: LogStart, VMID: vmid, GuestType: guestType}, nil
	}
	if vmid, ok := matchLogFinish(line); ok {
		return LogEvent{Kind: LogFinish, VMID: vmid}, nil
	}
	if vmid, reason, ok := matchLogFail(line); ok {
		return LogEvent{Kind: LogFail, VMID: vmid, Message: strings.TrimSpace(reason)}, nil
	}
	return LogEvent{}, ErrNotGuestEvent
}
