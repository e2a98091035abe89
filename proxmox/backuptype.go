package proxmox

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
