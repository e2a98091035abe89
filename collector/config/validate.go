package config

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

func (d *decoder) routes(n *yaml.Node, path string) ([]Route, []routePos) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, path, "want a list of routes (each entry starting with \"- \"), got %s", describe(n))
		return nil, nil
	}
	var out []Route
	var pos []routePos
	for i, c := range n.Content {
		c = d.resolve(c)
		if d.tooBig {
			return nil, nil
		}
		rp := indexPath(path, i)
		r := Route{Line: c.Line}
		p := routePos{path: rp, line: c.Line, keys: map[string]int{}}
		var suggested map[string]bool
		p.ok, suggested = d.walkMap(c, rp, routeKeys, nil, func(key string, k, v *yaml.Node, kp string) {
			s, ok := d.str(v, kp, false)
			if !ok {
				// Remember the key anyway so the route's shape checks
				// below do not add a second, misleading error.
				p.keys[key] = k.Line
				return
			}
			p.keys[key] = k.Line
			switch key {
			case "cluster":
				r.Cluster = s
			case "storage":
				r.Storage = s
			case "to":
				r.To = s
			case "same_as":
				r.SameAs = s
			case "pbs":
				r.PBS = s
			case "datastore":
				r.Datastore = s
			case "namespace":
				r.Namespace = s
			}
		})
		// A key that an unknown key was taken for counts as written: the
		// typo is already reported.
		for k := range suggested {
			if _, ok := p.keys[k]; !ok {
				p.keys[k] = 0
			}
			p.typo = true
		}
		out = append(out, r)
		pos = append(pos, p)
	}
	return out, pos
}

// validate runs the checks that look at the whole file: at least one
// target, unique estate names, target URLs each in one estate only, and,
// inside each estate, unique target names and routes that agree with the
// estate's targets and with each other.
func (d *decoder) validate(cfg *Config, pos *positions) {
	if len(pos.pve) == 0 && len(pos.pbs) == 0 && len(pos.estates) == 0 && !pos.targetsInvalid {
		d.errorf(0, "", "no targets: configure at least one pve or pbs target (either list may be empty, not both)")
	}
	// A URL is one endpoint set: listed twice, in one estate or in two,
	// the same backups would be read twice and, across estates, counted
	// in two places.
	urls := map[string]seenAt{}
	d.validateEstate(DefaultEstate, &Config{PVE: cfg.PVE, PBS: cfg.PBS, Routes: cfg.Routes}, pos, urls)
	names := map[string]seenAt{}
	for i, e := range cfg.Estates {
		p := &pos.estates[i]
		if !p.ok {
			continue
		}
		nameKey := joinPath(p.path, "name")
		switch first, dup := names[e.Name]; {
		case p.nameLine == 0:
		case e.Name == DefaultEstate:
			d.errorf(p.nameLine, nameKey, "%q is reserved for the estate of the top-level pve, pbs and routes; choose another name", e.Name)
		case dup:
			d.errorf(p.nameLine, nameKey, "estate %q is already defined by %s (line %d); estate names must be unique", e.Name, first.path, first.line)
		default:
			names[e.Name] = seenAt{p.path, p.nameLine, e.Name}
		}
		if len(p.pos.pve) == 0 && len(p.pos.pbs) == 0 && !p.pos.targetsInvalid {
			d.errorf(p.line, p.path, "the estate has no targets: list at least one pve or pbs target in it")
		}
		d.validateEstate(e.Name, &Config{PVE: e.PVE, PBS: e.PBS, Routes: e.Routes}, &p.pos, urls)
	}
}

// seenAt is where a name or URL was first written, and in which estate.
type seenAt struct {
	path   string
	line   int
	estate string
}

// validateEstate checks one estate: target names unique within it, URLs
// not listed before in it or any other estate (urls), routes.
func (d *decoder) validateEstate(estate string, cfg *Config, pos *positions, urls map[string]seenAt) {
	// Names are unique across both lists: the target label alone must
	// identify one endpoint set in the estate, and routes refer to names.
	names := map[string]seenAt{}
	check := func(ts []Target, ps []targetPos) {
		for i, t := range ts {
			p := ps[i]
			if !p.ok {
				continue
			}
			if t.Name != "" {
				line := p.lineOf("name")
				if first, dup := names[t.Name]; dup {
					d.errorf(line, joinPath(p.path, "name"), "name %q is already used by %s (line %d); target names must be unique across pve and pbs", t.Name, first.path, first.line)
				} else {
					names[t.Name] = seenAt{p.path, line, estate}
				}
			}
			for j, u := range t.URLs {
				line := p.urls[j]
				first, dup := urls[u]
				switch {
				case !dup:
					urls[u] = seenAt{joinPath(p.path, "urls"), line, estate}
				case first.estate != estate:
					d.errorf(line, joinPath(p.path, "urls"), "%s is already listed in %s (line %d), in estate %q; a target belongs to one estate only (estates are counted apart, so its backups would be counted twice)", u, first.path, first.line, first.estate)
				default:
					d.errorf(line, joinPath(p.path, "urls"), "%s is already listed in %s (line %d)", u, first.path, first.line)
				}
			}
		}
	}
	check(cfg.PVE, pos.pve)
	check(cfg.PBS, pos.pbs)

	d.validateRoutes(cfg, pos)
}

func (d *decoder) validateRoutes(cfg *Config, pos *positions) {
	var pbsNames, pveNames []string
	pbsByName := map[string]Target{}
	for _, t := range cfg.PBS {
		if t.Name != "" {
			pbsNames = append(pbsNames, t.Name)
			pbsByName[t.Name] = t
		}
	}
	allPVENamed := len(cfg.PVE) > 0
	for _, t := range cfg.PVE {
		if t.Name == "" {
			allPVENamed = false
		} else {
			pveNames = append(pveNames, t.Name)
		}
	}

	type first struct {
		line  int
		value string
	}
	storageRoutes := map[[2]string]first{}
	attributions := map[[3]string]first{}

	for i, r := range cfg.Routes {
		p := pos.routes[i]
		if !p.ok {
			continue
		}
		_, hasStorage := p.keys["storage"]
		_, hasTo := p.keys["to"]
		_, hasSameAs := p.keys["same_as"]
		_, hasPBS := p.keys["pbs"]
		_, hasDatastore := p.keys["datastore"]
		_, hasNamespace := p.keys["namespace"]
		isStorage := hasStorage || hasTo || hasSameAs
		isAttr := hasPBS || hasDatastore || hasNamespace
		switch {
		case isStorage && isAttr:
			d.errorf(p.line, p.path, "mixes a storage route (storage, to or same_as) with a namespace attribution (pbs, datastore, namespace); write them as two routes")
			continue
		case !isStorage && !isAttr:
			d.errorf(p.line, p.path, "a route needs either storage and to (how to read a PVE storage), storage and same_as (another cluster's storage it is one place with) or pbs and datastore (which cluster a PBS namespace belongs to)")
			continue
		}
		var missing []string
		if _, ok := p.keys["cluster"]; !ok {
			missing = append(missing, "cluster")
		}
		if isStorage {
			if !hasStorage {
				missing = append(missing, "storage")
			}
			if hasTo && hasSameAs {
				d.errorf(p.line, p.path, "has both to and same_as; a storage route either says how to read the storage (to) or which storage it is one place with (same_as): write them as two routes")
				continue
			}
			if !hasTo && !hasSameAs {
				missing = append(missing, "to (or same_as)")
			}
		} else {
			if !hasPBS {
				missing = append(missing, "pbs")
			}
			if !hasDatastore {
				missing = append(missing, "datastore")
			}
		}
		if len(missing) > 0 {
			kind := "a storage route"
			if isAttr {
				kind = "a namespace attribution"
			}
			d.errorf(p.line, p.path, "%s needs %s", kind, strings.Join(missing, " and "))
			continue
		}
		if p.typo {
			continue
		}

		// The cluster must be a configured PVE name when every PVE target
		// has one; an unnamed target takes the name PVE reports, which is
		// only known at run time. A PBS-only config may attribute
		// namespaces to any cluster name.
		clusterKey := joinPath(p.path, "cluster")
		switch {
		case r.Cluster == "":
			d.errorf(p.lineOf("cluster"), clusterKey, "is empty")
		case allPVENamed && !slices.Contains(pveNames, r.Cluster):
			d.errorf(p.lineOf("cluster"), clusterKey, "%q is not the name of a configured pve target (%s)%s", r.Cluster, strings.Join(pveNames, ", "), didYouMean(r.Cluster, pveNames))
		case isStorage && len(cfg.PVE) == 0:
			d.errorf(p.line, p.path, "a storage route needs a pve target, and none is configured")
		}

		if isStorage {
			if !safeIDRe.MatchString(r.Storage) {
				d.errorf(p.lineOf("storage"), joinPath(p.path, "storage"), "%q is not a PVE storage ID", r.Storage)
			}
			if hasSameAs {
				d.validateSameAs(r, p, allPVENamed, pveNames)
				continue
			}
			toKey := joinPath(p.path, "to")
			if r.To != ToPVE && r.To != ToIgnore && !slices.Contains(pbsNames, r.To) {
				if len(pbsNames) == 0 {
					d.errorf(p.lineOf("to"), toKey, "%q is not a configured pbs target (none is configured); want \"pve\" or \"ignore\"", r.To)
				} else {
					d.errorf(p.lineOf("to"), toKey, "%q is not a configured pbs target; want one of %s, or \"pve\" or \"ignore\"%s", r.To, strings.Join(pbsNames, ", "), didYouMean(r.To, pbsNames))
				}
			}
			k := [2]string{r.Cluster, r.Storage}
			if f, dup := storageRoutes[k]; dup {
				if f.value == r.To {
					d.errorf(p.line, p.path, "duplicates the route on line %d for cluster %q, storage %q", f.line, r.Cluster, r.Storage)
				} else {
					d.errorf(p.line, p.path, "contradicts the route on line %d, which sends cluster %q, storage %q to %q", f.line, r.Cluster, r.Storage, f.value)
				}
			} else {
				storageRoutes[k] = first{p.line, r.To}
			}
			continue
		}

		pbsKey := joinPath(p.path, "pbs")
		target, known := pbsByName[r.PBS]
		if !known {
			if len(pbsNames) == 0 {
				d.errorf(p.lineOf("pbs"), pbsKey, "%q is not a configured pbs target (none is configured)", r.PBS)
			} else {
				d.errorf(p.lineOf("pbs"), pbsKey, "%q is not a configured pbs target; want one of %s%s", r.PBS, strings.Join(pbsNames, ", "), didYouMean(r.PBS, pbsNames))
			}
		}
		if !safeIDRe.MatchString(r.Datastore) {
			d.errorf(p.lineOf("datastore"), joinPath(p.path, "datastore"), "%q is not a PBS datastore name", r.Datastore)
		}
		nsKey := joinPath(p.path, "namespace")
		if msg := checkNamespace(r.Namespace); msg != "" {
			d.errorf(p.lineOf("namespace"), nsKey, "%s", msg)
		} else if known && len(target.Namespaces) > 0 && !namespaceAllowed(r.Namespace, target.Namespaces) {
			d.errorf(p.lineOf("namespace"), nsKey, "namespace %q is outside %s's namespaces allow-list (%s), so it is never read", r.Namespace, r.PBS, quoteAll(target.Namespaces))
		}
		k := [3]string{r.PBS, r.Datastore, r.Namespace}
		if f, dup := attributions[k]; dup {
			if f.value == r.Cluster {
				d.errorf(p.line, p.path, "duplicates the attribution on line %d", f.line)
			} else {
				d.errorf(p.line, p.path, "contradicts the attribution on line %d: %s datastore %q namespace %q cannot belong to both %q and %q", f.line, r.PBS, r.Datastore, r.Namespace, f.value, r.Cluster)
			}
		} else {
			attributions[k] = first{p.line, r.Cluster}
		}
	}
}

// namespaceAllowed reports whether ns is read under an allow-list whose
// entries each select a namespace and everything below it.
func namespaceAllowed(ns string, allow []string) bool {
	for _, a := range allow {
		if a == "" || ns == a || strings.HasPrefix(ns, a+"/") {
			return true
		}
	}
	return false
}

// NamespaceAllowed reports whether the PBS namespace ns is read for this
// target: always when no allow-list is configured, else when ns is an
// allow-list entry or below one.
func (t Target) NamespaceAllowed(ns string) bool {
	return len(t.Namespaces) == 0 || namespaceAllowed(ns, t.Namespaces)
}

func didYouMean(s string, candidates []string) string {
	if c := suggest(s, candidates); c != "" && c != s {
		return fmt.Sprintf("; did you mean %q?", c)
	}
	return ""
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// validateSameAs checks a route's same_as: "CLUSTER:STORAGE", a
// configured cluster (when every pve target is named) and not the route's
// own storage. Whether the storage exists is only known at run time (the
// planner warns when it does not).
func (d *decoder) validateSameAs(r Route, p routePos, allPVENamed bool, pveNames []string) {
	key := joinPath(p.path, "same_as")
	i := strings.LastIndex(r.SameAs, ":")
	if i <= 0 || i == len(r.SameAs)-1 {
		d.errorf(p.lineOf("same_as"), key, "%q is not CLUSTER:STORAGE (the other cluster's name and its storage ID, e.g. site-b:nas)", r.SameAs)
		return
	}
	cluster, storage := r.SameAs[:i], r.SameAs[i+1:]
	switch {
	case !safeIDRe.MatchString(storage):
		d.errorf(p.lineOf("same_as"), key, "%q: %q is not a PVE storage ID", r.SameAs, storage)
	case allPVENamed && !slices.Contains(pveNames, cluster):
		d.errorf(p.lineOf("same_as"), key, "%q: %q is not the name of a configured pve target (%s)%s", r.SameAs, cluster, strings.Join(pveNames, ", "), didYouMean(cluster, pveNames))
	case cluster == r.Cluster && storage == r.Storage:
		d.errorf(p.lineOf("same_as"), key, "%q names the route's own storage; name the other cluster's storage that is the same place", r.SameAs)
	}
}
