package proxmox

import "strings"

// Endpoint labels name one API request in failures, logs, /status and
// --check: "GET " and the path below /api2/json, node, storage and
// datastore names as they are (not escaped: a label is read by people, not
// sent). The client methods of PVEClient and PBSClient are the requests
// they name; the collector takes its labels from here, so it holds no
// Proxmox path of its own.
const (
	EndpointVersion            = "GET /version"
	EndpointClusterStatus      = "GET /cluster/status"
	EndpointNodes              = "GET /nodes"
	EndpointClusterResourcesVM = "GET /cluster/resources?type=vm"
	EndpointStorageConfig      = "GET /storage"
	EndpointBackupJobs         = "GET /cluster/backup"
	EndpointPools              = "GET /pools"
	EndpointDatastores         = "GET /admin/datastore"
	EndpointDatastoreUsage     = "GET /status/datastore-usage"
	EndpointGCStatus           = "GET /admin/gc"
	EndpointVerifyJobs         = "GET /admin/verify"
	EndpointPruneJobs          = "GET /admin/prune"
	EndpointSyncJobs           = "GET /admin/sync"
	EndpointPermissions        = "GET /access/permissions"
)

// EndpointNodeStorage labels PVEClient.NodeStorage.
func EndpointNodeStorage(node string) string { return "GET /nodes/" + node + "/storage" }

// EndpointStorageContent labels PVEClient.StorageContent.
func EndpointStorageContent(node, storage string) string {
	return "GET /nodes/" + node + "/storage/" + storage + "/content"
}

// EndpointNodeTasks labels PVEClient.NodeTasks.
func EndpointNodeTasks(node string) string { return "GET /nodes/" + node + "/tasks" }

// EndpointNodeTaskLog labels PVEClient.TaskLog, for any task of the node
// (one label per node, not per UPID, so a failure is logged once).
func EndpointNodeTaskLog(node string) string { return "GET /nodes/" + node + "/tasks/{upid}/log" }

// EndpointNamespaces labels PBSClient.Namespaces.
func EndpointNamespaces(store string) string { return "GET /admin/datastore/" + store + "/namespace" }

// EndpointGroups labels PBSClient.Groups.
func EndpointGroups(store string) string { return "GET /admin/datastore/" + store + "/groups" }

// PathOf returns the API path an endpoint label names, without method and
// query ("GET /cluster/resources?type=vm" -> "/cluster/resources"): what
// PrivilegeHint takes.
func PathOf(label string) string {
	_, target, _ := strings.Cut(label, " ")
	path, _, _ := strings.Cut(target, "?")
	return path
}
