package proxmox

// Volume ids ("<storage>:<volume>") and what the volume id of a backup
// says: its storage, style (PBS snapshot or vzdump archive), group and
// time. Merge parses every volume of every PVE listing on every scrape
// (10,000 in issue 5's case a), so these parsers read the string once with
// strings.Cut and byte loops instead of regular expressions; the fuzz tests
// in volid_test.go check them against PVE's and PBS's own patterns.

import (
	"fmt"
	"strings"
	"time"
)

// VolumeID is a PVE volume id "<storage>:<volume>".
type VolumeID struct {
	Storage string
	Volume  string
}

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

// validStorageID reports whether s is a PVE storage id, pve-storage's
// parse_storage_id: /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i, in ASCII (PVE writes
// storage.cfg ids in ASCII; a Kelvin sign is not a k).
func validStorageID(s string) bool {
	if len(s) < 2 || !isASCIILetter(s[0]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !isASCIILetter(c) && !isDigit(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	last := s[len(s)-1]
	return isASCIILetter(last) || isDigit(last)
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
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

// BackupVolumeID is what the volume id of a backup says about it.
type BackupVolumeID struct {
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
	// Vzdump holds the parsed archive name for StyleVzdump (a value, not
	// a pointer: Merge parses every volume and should not allocate).
	Vzdump VzdumpName
}

// ParseBackupVolumeID parses the volume id of a backup volume in either
// style.
func ParseBackupVolumeID(volid string) (BackupVolumeID, error) {
	v, err := ParseVolumeID(volid)
	if err != nil {
		return BackupVolumeID{}, err
	}
	rest, ok := strings.CutPrefix(v.Volume, "backup/")
	if !ok {
		return BackupVolumeID{}, fmt.Errorf("volume id %q is not a backup volume", volid)
	}
	if strings.Contains(rest, "/") {
		p, err := ParsePBSBackupPath(rest)
		if err != nil {
			return BackupVolumeID{}, fmt.Errorf("volume id %q: %w", volid, err)
		}
		p.Storage = v.Storage
		return p, nil
	}
	n, err := ParseVzdumpName(rest)
	if err != nil {
		return BackupVolumeID{}, fmt.Errorf("volume id %q: %w", volid, err)
	}
	return BackupVolumeID{
		Storage:    v.Storage,
		Style:      StyleVzdump,
		BackupType: n.BackupType,
		BackupID:   n.VMID,
		Time:       n.Time,
		HasTime:    n.HasTime,
		Vzdump:     n,
	}, nil
}

// ParsePBSBackupPath parses "<type>/<id>/<time>" (optionally prefixed with
// "backup/"), the snapshot path PVE puts into a pbs storage's volume ids and
// PBS uses in its own paths. The time is UTC with a trailing Z.
func ParsePBSBackupPath(p string) (BackupVolumeID, error) {
	p = strings.TrimPrefix(p, "backup/")
	typ, rest, ok1 := strings.Cut(p, "/")
	id, ts, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || strings.Contains(ts, "/") {
		return BackupVolumeID{}, fmt.Errorf("snapshot path %q: want type/id/time", p)
	}
	switch typ {
	case BackupTypeVM, BackupTypeCT, BackupTypeHost:
	default:
		return BackupVolumeID{}, fmt.Errorf("snapshot path %q: unknown backup type %q", p, typ)
	}
	if !validBackupID(id) {
		return BackupVolumeID{}, fmt.Errorf("snapshot path %q: invalid backup id", p)
	}
	t, err := time.Parse("2006-01-02T15:04:05Z", ts)
	if err != nil {
		return BackupVolumeID{}, fmt.Errorf("snapshot path %q: invalid time", p)
	}
	return BackupVolumeID{Style: StylePBS, BackupType: typ, BackupID: id, Time: t.Unix(), HasTime: true}, nil
}

// validBackupID reports whether s is a PBS backup id, PBS's
// BACKUP_ID_REGEX: ^[A-Za-z0-9_][A-Za-z0-9._\-]*$.
func validBackupID(s string) bool {
	if s == "" || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isASCIILetter(c) && !isDigit(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}
