package collector

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// Report is the outcome of --check: one scrape's Status and whether every
// source answered every request.
type Report struct {
	Status
	// OK is true when every source was read without a failure.
	OK bool `json:"ok"`
}

// Check connects to every source once (one complete scrape, exactly as
// /metrics would do it) and reports the routing plan, the recovery points
// per repository, the duplicates suppressed and every error with a hint.
// The error is non-nil only when the check could not run at all.
func (c *Collector) Check(ctx context.Context) (Report, error) {
	if err := ctx.Err(); err != nil {
		return Report{}, err
	}
	res := c.scrapeOnce(ctx)
	st := c.status(res)
	ok := true
	for _, t := range st.Targets {
		if !t.Up || len(t.Warnings) > 0 {
			ok = false
		}
	}
	return Report{Status: st, OK: ok}, nil
}

// WriteText prints the report as readable tables.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }

	p("SOURCES\n")
	p("TARGET\tKIND\tSTATE\tCLUSTER\tVERSION\tREQUESTS\n")
	for _, t := range r.Targets {
		state := "ok"
		if !t.Up {
			state = "FAILED"
		}
		p("%s\t%s\t%s\t%s\t%s\t%d\n", t.Name, t.Kind, state, dash(t.Cluster), dash(t.Version), t.Requests)
	}
	p("\nROUTING PLAN\n")
	p("CLUSTER\tSTORAGE\tTYPE\tROUTE\tREPOSITORY\tWHY\n")
	for _, s := range r.Storages {
		repo := s.Repository
		if len(s.Repositories) > 1 {
			repo = strings.Join(s.Repositories, ", ")
		}
		why := joinNonEmpty("; ", matchedBy(s.MatchedBy), s.Reason)
		p("%s\t%s\t%s\t%s\t%s\t%s\n", s.Cluster, s.Storage, s.StorageType, s.Route, dash(repo), dash(why))
	}
	for _, t := range r.Unplanned {
		p("(%s)\n", unplannedText(t))
	}
	if len(r.Storages) == 0 && len(r.Unplanned) == 0 {
		p("(no PVE storage with backup content)\n")
	}
	p("\nREPOSITORIES\n")
	p("REPOSITORY\tKIND\tTARGET\tCLUSTER\tSTATE\tGROUPS\tRECOVERY POINTS\n")
	for _, repo := range r.Repositories {
		state := "ok"
		switch {
		case repo.Warming != nil:
			state = "warming (" + repo.Progress() + ")"
		case !repo.Up:
			state = "DOWN"
		}
		p("%s\t%s\t%s\t%s\t%s\t%d\t%d\n", repo.Name, repo.Kind, repo.Target, dash(repo.Cluster), state, repo.Groups, repo.RecoveryPoints)
	}
	p("\nDUPLICATES SUPPRESSED\n")
	p("REASON\tRECORDS\tWHY\n")
	reasons := slices.Sorted(maps.Keys(r.Duplicates))
	for _, k := range reasons {
		p("%s\t%d\t%s\n", k, r.Duplicates[k], duplicateWhy[k])
	}
	if len(reasons) == 0 {
		p("(none)\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	var problems []string
	for _, t := range r.Targets {
		for _, g := range groupFailures(t.Failures) {
			problems = append(problems, problemText("ERROR", g))
		}
		for _, g := range groupFailures(t.Warnings) {
			problems = append(problems, problemText("WARNING", g))
		}
		if t.InsecureTLS {
			problems = append(problems, fmt.Sprintf("WARNING %s (%s): TLS verification is off (insecure_skip_verify)", t.Name, t.Kind))
		}
	}
	for _, w := range r.Warnings {
		problems = append(problems, fmt.Sprintf("NOTE %s: %s", w.Kind, w.Message))
	}
	sort.SliceStable(problems, func(i, j int) bool { return rank(problems[i]) < rank(problems[j]) })
	fmt.Fprintln(w)
	if len(problems) == 0 {
		fmt.Fprintln(w, "No problems found.")
	} else {
		fmt.Fprintln(w, "PROBLEMS")
		for _, pr := range problems {
			fmt.Fprintln(w, "  "+pr)
		}
	}
	if r.OK {
		_, err := fmt.Fprintln(w, "\nRESULT: OK, every source answered.")
		return err
	}
	_, err := fmt.Fprintln(w, "\nRESULT: FAILED, see the problems above.")
	return err
}

// problemText is one line per cause, the hint once: "ERROR lab (pve)
// GET /nodes: auth: 401 …", or with the count of endpoints when several
// failed alike.
func problemText(level string, g failureGroup) string {
	if len(g.Endpoints) == 1 {
		return fmt.Sprintf("%s %s (%s) %s: %s\n      hint: %s", level, g.Target, g.Kind, g.Endpoints[0], g.Cause, g.Hint)
	}
	return fmt.Sprintf("%s %s (%s) %s (%s)\n      hint: %s", level, g.Target, g.Kind, g.Cause, g.Where(), g.Hint)
}

func rank(s string) int {
	switch {
	case strings.HasPrefix(s, "ERROR"):
		return 0
	case strings.HasPrefix(s, "WARNING"):
		return 1
	}
	return 2
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// joinNonEmpty joins the parts that are not empty, so a reason without a
// match (or the reverse) gets no dangling separator.
func joinNonEmpty(sep string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}

func matchedBy(m string) string {
	if m == "" {
		return ""
	}
	return "matched by " + strings.ReplaceAll(m, "_", ":")
}
