package emulator

import (
	"net/http"
	"strconv"
	"strings"
)

// route is one API endpoint: a pattern with {param} segments.
type route struct {
	pattern string
	segs    []string
	h       func(rc *reqCtx) reply
}

type router []*route

func newRouter(defs map[string]func(rc *reqCtx) reply) router {
	var r router
	for p, h := range defs {
		r = append(r, &route{pattern: p, segs: strings.Split(strings.TrimPrefix(p, "/"), "/"), h: h})
	}
	return r
}

// match finds the route for a path (without /api2/json). Literal segments
// win over parameters, so "/nodes/{node}/tasks" and a hypothetical literal
// sibling never clash.
func (r router) match(path string) (*route, map[string]string) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var best *route
	bestLit := -1
	for _, rt := range r {
		if len(rt.segs) != len(segs) {
			continue
		}
		lit, ok := 0, true
		for i, s := range rt.segs {
			if strings.HasPrefix(s, "{") {
				if segs[i] == "" {
					ok = false
					break
				}
				continue
			}
			if s != segs[i] {
				ok = false
				break
			}
			lit++
		}
		if ok && lit > bestLit {
			best, bestLit = rt, lit
		}
	}
	if best == nil {
		return nil, nil
	}
	params := map[string]string{}
	for i, s := range best.segs {
		if strings.HasPrefix(s, "{") {
			params[strings.Trim(s, "{}")] = segs[i]
		}
	}
	return best, params
}

var pveRoutes router
var pbsRoutes router

func init() {
	pveRoutes = newRouter(map[string]func(rc *reqCtx) reply{
		"/version":              pveVersion,
		"/cluster/status":       pveClusterStatus,
		"/nodes":                pveNodes,
		"/cluster/resources":    pveClusterResources,
		"/storage":              pveStorageConfig,
		"/nodes/{node}/storage": pveNodeStorage,
		"/nodes/{node}/storage/{storage}/content": pveStorageContent,
		"/cluster/backup":                         pveClusterBackup,
		"/pools":                                  pvePools,
		"/cluster/backup-info/not-backed-up":      pveNotBackedUp,
		"/cluster/tasks":                          pveClusterTasks,
		"/nodes/{node}/tasks":                     pveNodeTasks,
		"/nodes/{node}/tasks/{upid}/status":       pveTaskStatus,
		"/nodes/{node}/tasks/{upid}/log":          pveTaskLog,
	})
	pbsRoutes = newRouter(map[string]func(rc *reqCtx) reply{
		"/version":                           pbsVersion,
		"/nodes/{node}/status":               pbsNodeStatus,
		"/nodes/{node}/certificates/info":    pbsCertInfo,
		"/nodes/{node}/tasks":                pbsNodeTasks,
		"/nodes/{node}/tasks/{upid}/status":  pbsTaskStatus,
		"/nodes/{node}/tasks/{upid}/log":     pbsTaskLog,
		"/admin/datastore":                   pbsDatastores,
		"/admin/datastore/{store}/status":    pbsDatastoreStatus,
		"/admin/datastore/{store}/namespace": pbsNamespaces,
		"/admin/datastore/{store}/groups":    pbsGroups,
		"/admin/datastore/{store}/snapshots": pbsSnapshots,
		"/status/datastore-usage":            pbsDatastoreUsage,
		"/admin/gc":                          pbsAdminGC,
		"/admin/verify":                      pbsAdminVerify,
		"/admin/prune":                       pbsAdminPrune,
		"/admin/sync":                        pbsAdminSync,
		"/config/verify":                     pbsConfigVerify,
		"/config/prune":                      pbsConfigPrune,
		"/config/sync":                       pbsConfigSync,
		"/access/permissions":                pbsPermissions,
	})
}

// Routes lists the emulated route patterns of a product ("pve" or "pbs").
func Routes(kind string) []string {
	r := pveRoutes
	if kind == "pbs" {
		r = pbsRoutes
	}
	out := make([]string, len(r))
	for i, rt := range r {
		out[i] = rt.pattern
	}
	return out
}

// paramError is a parameter verification failure: PVE answers 400 with an
// errors map, PBS 400 with plain text.
func paramError(rc *reqCtx, name, msg string) reply {
	if rc.ep.kind == "pve" {
		return reply{status: http.StatusBadRequest, msg: "Parameter verification failed.", errors: map[string]string{name: msg}}
	}
	return errReply(http.StatusBadRequest, "parameter verification failed - '"+name+"': "+msg)
}

// qInt reads an integer query parameter with a default.
func qInt(rc *reqCtx, name string, def int64) (int64, *reply) {
	v := rc.q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		rp := paramError(rc, name, "type check ('integer') failed - got '"+v+"'")
		return 0, &rp
	}
	return n, nil
}

// qBool reads a boolean query parameter: PVE accepts 1/0 (and the schema
// aliases), PBS true/false/1/0.
func qBool(rc *reqCtx, name string) (bool, *reply) {
	switch strings.ToLower(rc.q.Get(name)) {
	case "":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	rp := paramError(rc, name, "type check ('boolean') failed - got '"+rc.q.Get(name)+"'")
	return false, &rp
}

// taskPage is the paging and time window both products' task lists take.
type taskPage struct{ start, limit, since, until int64 }

// qTaskPage reads start, limit (default 50 on both products), since and
// until, answering 400 on a malformed value as the real APIs do.
func qTaskPage(rc *reqCtx) (taskPage, *reply) {
	var p taskPage
	for _, f := range []struct {
		name string
		def  int64
		dst  *int64
	}{{"start", 0, &p.start}, {"limit", 50, &p.limit}, {"since", 0, &p.since}, {"until", 0, &p.until}} {
		v, bad := qInt(rc, f.name, f.def)
		if bad != nil {
			return p, bad
		}
		*f.dst = v
	}
	return p, nil
}
