package envmap

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/serve-launch/serve-launch/internal/execpath"
)

// fdMargin is what haproxy adds to 2 x maxconn when it computes the open
// files it needs: Ray's default maxconn 20000 fails on a 20000 limit with
// "Cannot raise FD limit to 40042, limit is 20000". The real margin grows
// with listeners and threads, so the check is an estimate.
const fdMargin = 42

// unixPathMax is the longest path a unix socket can bind on Linux
// (sizeof(sun_path) minus the terminating NUL).
const unixPathMax = 107

// OpenFilesFor returns about how many open files haproxy needs for a
// global maxconn: it asks for 2 x maxconn plus a margin and refuses to
// start when the hard limit is lower.
func OpenFilesFor(maxconn uint64) uint64 { return 2*maxconn + fdMargin }

// ignoredMessage says that release r ignores the variable name, which the
// releases by read.
func ignoredMessage(name string, by []Release, r Release) string {
	return fmt.Sprintf("%s is read only by %s; Ray %s ignores it (--ray-version names the Ray you run)", name, readersText(by), r.Name())
}

// ignoredFamily returns a warning for a name of the known families (see
// [knownFamilies]) set with a value that e's release ignores, or "". Every
// family is master's: a name under one that familyTable does not list is
// taken to be read as its family is.
func (e *Env) ignoredFamily(name, value string) string {
	if value == "" || !slices.ContainsFunc(knownFamilies(), func(p string) bool { return strings.HasPrefix(name, p) }) {
		return ""
	}
	by := releasesFrom(ReleaseMaster)
	if i := slices.IndexFunc(familyTable(), func(v Var) bool { return v.Name == name }); i >= 0 {
		by = familyTable()[i].ReadBy
	}
	if slices.Contains(by, e.release) {
		return ""
	}
	return ignoredMessage(name, by, e.release)
}

// unknownName returns a warning for a name that looks like a Ray Serve HAProxy
// variable but is not one, or "" when the name is known or unrelated.
func unknownName(name string) string {
	if _, ok := Lookup(name); ok {
		return ""
	}
	if slices.ContainsFunc(knownFamilies(), func(p string) bool { return strings.HasPrefix(name, p) }) {
		return ""
	}
	best, dist := closest(name)
	upper := strings.ToUpper(name)
	switch {
	case upper != name && upper == best:
		return fmt.Sprintf("unknown variable %s (did you mean %s? names are case-sensitive)", name, best)
	case strings.HasPrefix(upper, "RAY_SERVE_HAPROXY_"):
		if dist <= maxSuggestDistance(name) {
			return fmt.Sprintf("unknown variable %s (did you mean %s?)", name, best)
		}
		return fmt.Sprintf("unknown variable %s: Ray ignores it (see serve-launch env for the known ones)", name)
	case (strings.HasPrefix(upper, "RAY_SERVE_") || strings.HasPrefix(upper, "SERVE_")) && dist <= 2:
		// Other RAY_SERVE_* variables are Ray's business; only a near miss of
		// one of ours is worth a word.
		return fmt.Sprintf("unknown variable %s (did you mean %s?)", name, best)
	}
	return ""
}

// maxSuggestDistance is how far a typo may be from a name and still be
// suggested: a quarter of the part after the prefix, at least 3.
func maxSuggestDistance(name string) int {
	return max(3, (len(name)-len("RAY_SERVE_HAPROXY_"))/4)
}

// closest returns the table name nearest to name and its edit distance,
// comparing upper case.
func closest(name string) (string, int) {
	upper := strings.ToUpper(name)
	best, dist := "", -1
	for _, v := range Table() {
		if d := editDistance(upper, v.Name); dist < 0 || d < dist {
			best, dist = v.Name, d
		}
	}
	return best, dist
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkMachine adds the checks that need more than one value or facts about
// this machine. It skips values that already failed their type check.
func (e *Env) checkMachine(limit uint64, opts Options) {
	valid := func(name string) (Setting, uint64, bool) {
		s, ok := e.Setting(name)
		if ok && s.Ignored && s.Set {
			// Not what Ray runs with: its own default is.
			s.Value, s.Set, s.Source = s.Var.DefaultIn(e.release), false, Source{}
		}
		if !ok || (!s.Set && s.Var.Omitted) || check(s.Var, s.Value) != "" {
			return s, 0, false
		}
		n, err := strconv.ParseUint(s.Value, 10, 64)
		return s, n, err == nil
	}
	describe := func(s Setting) string {
		if !s.Set {
			return fmt.Sprintf("Ray's default %s=%s", s.Var.Name, s.Value)
		}
		return s.Var.Name + "=" + s.Value
	}

	if s, maxconn, ok := valid("RAY_SERVE_HAPROXY_MAXCONN"); ok && limit > 0 {
		if need := OpenFilesFor(maxconn); need > limit {
			most := uint64(0)
			if limit > fdMargin {
				most = (limit - fdMargin) / 2
			}
			// haproxy raises its own soft limit as far as the hard one goes,
			// so the hard limit is the one that counts.
			report := e.warnf
			if opts.FileLimitIsError {
				report = e.errorf
			}
			report(s.Var.Name, s.Source,
				"%s needs about %d open files (2 x maxconn + %d) but the hard limit here is %d (ulimit -Hn): haproxy would fail at every start (\"Cannot raise FD limit to %d, limit is %d\"); set RAY_SERVE_HAPROXY_MAXCONN to at most %d, or raise the hard limit (LimitNOFILE= in a systemd unit, nofile in /etc/security/limits.conf)",
				describe(s), need, fdMargin, limit, need, limit, most)
		}
	}

	for _, pair := range [][2]string{
		{"RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT", "RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT"},
		{"RAY_SERVE_DIRECT_INGRESS_MIN_GRPC_PORT", "RAY_SERVE_DIRECT_INGRESS_MAX_GRPC_PORT"},
	} {
		lo, l, ok1 := valid(pair[0])
		hi, h, ok2 := valid(pair[1])
		if ok1 && ok2 && l > h {
			src := lo.Source
			if !lo.Set {
				src = hi.Source
			}
			e.errorf(lo.Var.Name, src, "replica port range is empty: %s is above %s", describe(lo), describe(hi))
		}
	}
	if _, hl, ok1 := valid("RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT"); ok1 {
		_, hh, ok2 := valid("RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT")
		g, gl, ok3 := valid("RAY_SERVE_DIRECT_INGRESS_MIN_GRPC_PORT")
		_, gh, ok4 := valid("RAY_SERVE_DIRECT_INGRESS_MAX_GRPC_PORT")
		if ok2 && ok3 && ok4 && hl <= hh && gl <= gh && hl <= gh && gl <= hh {
			e.warnf(g.Var.Name, g.Source, "replica HTTP ports %d-%d and gRPC ports %d-%d overlap", hl, hh, gl, gh)
		}
		// haproxy binds these itself, so a replica taking one would fail.
		for _, name := range []string{"RAY_SERVE_HAPROXY_METRICS_PORT", "RAY_SERVE_HAPROXY_STATS_PORT"} {
			if s, p, ok := valid(name); ok && ok2 && p >= hl && p <= hh {
				e.warnf(name, s.Source, "%s is inside the replica HTTP port range %d-%d", describe(s), hl, hh)
			}
		}
	}
	if m, mp, ok := valid("RAY_SERVE_HAPROXY_METRICS_PORT"); ok {
		if s, sp, ok := valid("RAY_SERVE_HAPROXY_STATS_PORT"); ok && mp == sp {
			src := m.Source
			if !m.Set {
				src = s.Source
			}
			e.warnf(m.Var.Name, src, "%s and %s bind the same port", describe(m), describe(s))
		}
	}

	for _, s := range e.settings {
		if !s.Set || check(s.Var, s.Value) != "" {
			continue
		}
		if strings.HasSuffix(s.Var.Name, "SOCKET_PATH") && len(s.Value) > unixPathMax {
			e.warnf(s.Var.Name, s.Source, "%s is %d bytes long; a unix socket path may have at most %d", s.Var.Name, len(s.Value), unixPathMax)
		}
		if s.Ignored {
			e.strictf(opts.Strict, s.Var.Name, s.Source, "%s", ignoredMessage(s.Var.Name, s.Var.ReadBy, e.release))
		}
	}

	if s, ok := e.Setting("RAY_SERVE_HAPROXY_BINARY_PATH"); ok && s.Set && check(s.Var, s.Value) == "" {
		if _, err := execpath.LookPath(s.Value, os.Getenv("PATH"), nil); err != nil {
			e.warnf(s.Var.Name, s.Source, "%s=%s: no such executable on this machine", s.Var.Name, s.Value)
		}
	}
}
