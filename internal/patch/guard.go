package patch

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
)

// Ray drives the running haproxy through its admin socket and regenerates the
// file on every reload, so some lines are load-bearing for Ray. guardFacts lists
// them; an edit that makes one disappear is refused unless it says force = true.
//
// Each fact maps to the sentence that says why Ray needs it.
//
// Facts belong to one section each, so an edit's guard only needs the facts
// of the sections it matched.
func guardFacts(sections []*config.Section) map[string]string {
	facts := map[string]string{}
	for _, s := range sections {
		switch {
		case s.Kind == "global":
			for l := range s.Lines("stats") {
				w := l.Words()
				if len(w) >= 3 && w[1] == "socket" && slices.Contains(w, "admin") {
					why := "Ray talks to haproxy over this admin socket (show info, show stat, show servers state) and passes it to -x on reloads"
					facts["admin socket "+w[2]] = why
					facts["admin socket "+w[2]+" level admin"] = why
					if l.HasPair("expose-fd", "listeners") {
						facts["admin socket "+w[2]+" expose-fd listeners"] = "Ray's reloads (-x) take the listening sockets over from this socket"
					}
				}
			}
		case s.Kind == "backend" || s.Kind == "listen":
			facts[s.Kind+" "+s.Name] = "Ray finds backends by name in show stat; renaming one breaks readiness and drain silently"
			for _, l := range s.Body {
				kw := l.Keyword()
				if l.NumWords() >= 2 && (kw == "server" || kw == "server-template") {
					facts[fmt.Sprintf("%s %s in %s", kw, l.Word(1), s.Title())] = "server names are how Ray and haproxy's server-state file identify replicas"
				}
			}
		}
		if isRayGRPCFrontend(s) {
			for l := range s.Lines("use_backend") {
				if w := l.Words(); len(w) >= 2 {
					facts[fmt.Sprintf("%s: %s", s.Title(), strings.Join(w, " "))] = "Ray routes each application to its backend by these rules"
				}
			}
		}
		if isRayHTTPFrontend(s) {
			acls := map[string]bool{}
			// Ray's frontend has an acl and a use_backend line per app:
			// a line's words are read as a slice only when it is a fact.
			line := func(l *config.Line) string {
				return fmt.Sprintf("%s: %s", s.Title(), strings.Join(l.Words(), " "))
			}
			for _, l := range s.Body {
				switch kw := l.Keyword(); {
				case kw == "bind" && l.NumWords() >= 2:
					facts[line(l)] = "Ray serves HTTP on this bind and probes it"
				case kw == "acl" && l.NumWords() >= 3 && (l.HasWord("/-/healthz") || l.HasWord("/-/routes")):
					acls[l.Word(1)] = true
					facts[line(l)] = "Ray's /-/healthz and /-/routes endpoints answer from these rules"
				}
			}
			for _, l := range s.Body {
				switch kw := l.Keyword(); {
				case kw == "use_backend" && l.NumWords() >= 2:
					facts[line(l)] = "Ray routes each application to its backend by these rules"
				case kw == "http-request" && l.NumWords() >= 2:
					for i := range l.NumWords() {
						if acls[l.Word(i)] {
							facts[line(l)] = "Ray's /-/healthz and /-/routes endpoints answer from these rules"
							break
						}
					}
				}
			}
		}
	}
	return facts
}

// guardKeywords are the directives whose lines carry guarded facts; only an
// edit that can remove or rewrite such a line needs the guard check, which
// keeps the check off the path of the common edits (timeouts, options,
// default-server params) on configs with thousands of servers.
var guardKeywords = map[string]bool{"stats": true, "server": true, "server-template": true, "bind": true, "acl": true, "use_backend": true}

// mayTripGuard reports whether e can remove or change a guarded line: add and
// insert only add lines, params keep a server's name, and set only replaces
// lines of its own key.
func mayTripGuard(e *snippet.Edit) bool {
	if len(e.Delete) > 0 {
		return true
	}
	for _, op := range e.Params {
		if op.On.Match("bind") {
			return true
		}
	}
	for _, v := range e.Set {
		kw, ok := leadWord(v.Text)
		if !ok || guardKeywords[kw] {
			return true
		}
	}
	return false
}

// leadWord is the keyword a line of a snippet writes, as haproxy reads it
// (quotes and escapes resolved: `"bind"` is bind); ok is false when it
// cannot be told before the line is rendered (a template in it) or read
// (unclosed quotes), and for an empty line, so that a caller deciding
// whether a guard may skip an edit runs it.
func leadWord(text string) (string, bool) {
	tok, err := config.Tokenize(text)
	if err != nil || len(tok.Words) == 0 || strings.Contains(tok.Words[0], "{{") {
		return "", false
	}
	return tok.Words[0], true
}

// isRayHTTPFrontend reports whether s is the frontend that serves Ray's HTTP
// port: Ray names it http_frontend and puts its /-/healthz rule there.
func isRayHTTPFrontend(s *config.Section) bool {
	if s.Kind != "frontend" && s.Kind != "listen" {
		return false
	}
	if s.Name == "http_frontend" {
		return true
	}
	for l := range s.Lines("acl") {
		if l.HasWord("/-/healthz") {
			return true
		}
	}
	return false
}

// lostFacts returns the facts of before that after no longer has, grouped by
// the reason Ray needs them so that each reason is said once.
func lostFacts(before, after map[string]string) []string {
	byWhy := map[string][]string{}
	for k, why := range before {
		if _, ok := after[k]; !ok {
			byWhy[why] = append(byWhy[why], k)
		}
	}
	var lost []string
	for why, facts := range byWhy {
		sort.Strings(facts)
		lost = append(lost, fmt.Sprintf("%s (%s)", strings.Join(facts, ", "), why))
	}
	sort.Strings(lost)
	return lost
}

// The facts above are lines Ray needs kept. The intrusions below are lines
// Ray needs kept out: each is harmless to haproxy -c and silently takes
// over something of Ray's. An edit or [[section]] that adds one is refused
// unless it says force = true.

// rayView is what the intrusion guards need to know of Ray's config, taken
// before an edit runs.
type rayView struct {
	// adminPaths are the paths of Ray's admin sockets (level admin), and
	// adminLines the lines that open them.
	adminPaths map[string]bool
	adminLines map[*config.Line]bool
	// ports maps each port Ray's listeners bind to the section Ray gave it
	// and what it is ("Ray's HTTP port").
	ports map[int]rayPort
	// rules are the rules of Ray's HTTP frontends that answer /-/healthz
	// and /-/routes, and sections are Ray's own proxies (frontend, backend,
	// listen), as opposed to those a [[section]] added.
	rules    map[*config.Line]bool
	sections map[*config.Section]bool
	// globals are the file's global sections, where admin sockets are.
	globals []*config.Section
}

type rayPort struct {
	owner *config.Section
	what  string
}

// newRayView reads Ray's admin sockets, ports, health and route rules and
// sections from f. A section a snippet added is not Ray's: its header came
// from the snippet, or says so in its provenance comment.
func newRayView(f *config.File) *rayView {
	v := &rayView{adminPaths: map[string]bool{}, adminLines: map[*config.Line]bool{}, ports: map[int]rayPort{}, rules: map[*config.Line]bool{}, sections: map[*config.Section]bool{}}
	for _, s := range f.Sections {
		if s.Kind == "global" {
			v.globals = append(v.globals, s)
		}
		if s.Header.Pos.File != f.Name || strings.Contains(s.Header.Comment(), "serve-launch:") {
			continue
		}
		switch {
		case s.Kind == "global":
			for l := range s.Lines("stats") {
				if w := l.Words(); len(w) >= 3 && w[1] == "socket" && slices.Contains(w, "admin") {
					v.adminPaths[w[2]] = true
					v.adminLines[l] = true
				}
			}
			continue
		case !config.IsProxyKind(s.Kind):
			continue
		}
		v.sections[s] = true
		what := ""
		switch {
		case isRayHTTPFrontend(s):
			what = "Ray's HTTP port"
			for _, l := range rayHTTPRules(s) {
				v.rules[l] = true
			}
		case isRayGRPCFrontend(s):
			what = "Ray's gRPC port"
		case s.Kind == "frontend" && s.Name == "prometheus":
			what = "Ray's metrics port"
		case s.Kind == "listen" && s.Name == "stats":
			what = "Ray's stats port"
		default:
			continue
		}
		for l := range s.Lines("bind") {
			if l.NumWords() >= 2 {
				for _, r := range bindPorts(l.Word(1)) {
					for p := r[0]; p <= r[1] && p-r[0] < 1<<16; p++ {
						v.ports[p] = rayPort{owner: s, what: what}
					}
				}
			}
		}
	}
	return v
}

// rayHTTPRules returns the rules of Ray's HTTP frontend s that answer
// /-/healthz and /-/routes: the http-request rules naming an acl on those
// paths.
func rayHTTPRules(s *config.Section) []*config.Line {
	acls := map[string]bool{}
	for l := range s.Lines("acl") {
		if w := l.Words(); len(w) >= 3 && (slices.Contains(w, "/-/healthz") || slices.Contains(w, "/-/routes")) {
			acls[w[1]] = true
		}
	}
	var rules []*config.Line
	for l := range s.Lines("http-request") {
		if w := l.Words(); len(w) >= 2 {
			for _, x := range w {
				if acls[x] {
					rules = append(rules, l)
					break
				}
			}
		}
	}
	return rules
}

// isRayGRPCFrontend reports whether s is the frontend that serves Ray's
// gRPC port (Ray after 2.55): grpc_frontend, which answers Ray's Healthz.
func isRayGRPCFrontend(s *config.Section) bool {
	if s.Kind != "frontend" && s.Kind != "listen" {
		return false
	}
	if s.Name == "grpc_frontend" {
		return true
	}
	for l := range s.Lines("acl") {
		if l.HasWord("/ray.serve.RayServeAPIService/Healthz") {
			return true
		}
	}
	return false
}

// bindPorts returns the TCP port ranges of a bind address such as
// "0.0.0.0:8000", ":9101", "*:8404", "[::]:8000", "ipv4@:80,ipv6@:80" or
// ":8000-8010". Unix sockets, inherited file descriptors, QUIC (UDP) and
// addresses haproxy fills in from its environment have none.
func bindPorts(addr string) [][2]int {
	var out [][2]int
	for _, a := range strings.Split(addr, ",") {
		if i := strings.IndexByte(a, '@'); i >= 0 {
			switch a[:i] {
			case "ipv4", "ipv6", "tcp", "tcp4", "tcp6":
				a = a[i+1:]
			default:
				continue // unix@, abns@, fd@, sockpair@, quic4@, ...
			}
		}
		i := strings.LastIndexByte(a, ':')
		if i < 0 || strings.HasPrefix(a, "/") || strings.Contains(a, "$") {
			continue
		}
		lo, hi, isRange := strings.Cut(a[i+1:], "-")
		if !isRange {
			hi = lo
		}
		l, err1 := strconv.Atoi(lo)
		h, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || l < 1 || h < l || h > 65535 {
			continue
		}
		out = append(out, [2]int{l, h})
	}
	return out
}

// answers are the http-request actions that answer, drop or hold a request
// themselves instead of letting later rules see it.
var answers = map[string]bool{
	"deny": true, "reject": true, "tarpit": true, "redirect": true, "return": true,
	"auth": true, "silent-drop": true, "use-service": true,
}

// intrusionKeywords are the first words of the lines an intrusion can be;
// an edit that writes none of them (and no templated first word) cannot add
// one, which keeps the check off the common edits on large configs.
var intrusionKeywords = map[string]bool{"stats": true, "bind": true, "disabled": true, "http-request": true, "tcp-request": true}

// mayIntrude reports whether e writes a line an intrusion can be.
func mayIntrude(e *snippet.Edit) bool {
	lines := append(append([]snippet.Value(nil), e.Set...), e.Add...)
	for _, op := range e.Insert {
		lines = append(lines, op.Lines...)
	}
	for _, v := range lines {
		kw, ok := leadWord(v.Text)
		if !ok || intrusionKeywords[kw] {
			return true
		}
	}
	return false
}

// intrusions lists what sections hold that takes over something of Ray's,
// each with the sentence saying what Ray needs instead.
func (v *rayView) intrusions(sections []*config.Section) map[string]string {
	found := map[string]string{}
	for _, s := range sections {
		last := -1 // Ray's last health or route rule in s
		for i, l := range s.Body {
			if v.rules[l] {
				last = i
			}
		}
		for i, l := range s.Body {
			// Most lines of a large config are servers: only these
			// keywords can intrude, and only their words are copied.
			if !intrusionKeywords[l.Keyword()] {
				continue
			}
			w := l.Words()
			line := fmt.Sprintf("%s: %s", s.Title(), strings.Join(w, " "))
			switch {
			case s.Kind == "global" && len(w) >= 3 && w[0] == "stats" && w[1] == "socket" && v.adminPaths[w[2]] && v.secondSocket(s, l):
				found[line] = fmt.Sprintf("a second stats socket on Ray's admin socket path %s: Ray talks to haproxy over this path and needs level admin there, and reloads pass it to -x", w[2])
			case w[0] == "bind" && len(w) >= 2:
				for _, r := range bindPorts(w[1]) {
					if p, ok := v.portIn(r, s); ok {
						found[line] = fmt.Sprintf("%s %d belongs to %s: another bind on it can take Ray's connections, and with SERVE_SOCKET_REUSE_PORT_ENABLED=1 haproxy shares the port without a word", v.ports[p].what, p, v.ports[p].owner.Title())
						break
					}
				}
			case w[0] == "disabled" && v.sections[s]:
				found[line] = "Ray's frontends and backends must stay enabled: a disabled one stops serving Ray's traffic"
			case last >= 0 && i < last && w[0] == "http-request" && len(w) >= 2 && answers[w[1]] && !v.rules[l]:
				found[line] = "a rule that can answer, deny or redirect ahead of Ray's /-/healthz and /-/routes rules takes over Ray's health checks and route listing; put it after them, with insert before = \"use_backend *\""
			case last >= 0 && w[0] == "tcp-request" && (slices.Contains(w, "reject") || slices.Contains(w, "silent-drop")):
				found[line] = "a tcp-request rule that can drop connections runs ahead of Ray's /-/healthz and /-/routes rules, wherever it is written; use an http-request rule after them"
			}
		}
	}
	return found
}

// secondSocket reports whether the stats socket line l of s shares its
// path with another line of a global section, s included, and is not Ray's
// own: an edit may rewrite Ray's line in place (a tighter mode), but not
// open the path twice.
func (v *rayView) secondSocket(s *config.Section, l *config.Line) bool {
	if v.adminLines[l] {
		return false
	}
	n := 0
	count := func(g *config.Section) {
		for x := range g.Lines("stats") {
			if x.NumWords() >= 3 && x.Word(1) == "socket" && x.Word(2) == l.Word(2) {
				n++
			}
		}
	}
	count(s)
	for _, g := range v.globals {
		if g != s {
			count(g)
		}
	}
	return n > 1
}

// portIn returns a port of r that Ray binds in another section than s.
func (v *rayView) portIn(r [2]int, s *config.Section) (int, bool) {
	for p := r[0]; p <= r[1] && p-r[0] < 1<<16; p++ {
		if rp, ok := v.ports[p]; ok && rp.owner != s {
			return p, true
		}
	}
	return 0, false
}

// newIntrusions returns the intrusions of after that before did not have,
// grouped by the reason, as lostFacts does.
func newIntrusions(before, after map[string]string) []string {
	byWhy := map[string][]string{}
	for k, why := range after {
		if _, ok := before[k]; !ok {
			byWhy[why] = append(byWhy[why], k)
		}
	}
	var added []string
	for why, lines := range byWhy {
		sort.Strings(lines)
		added = append(added, fmt.Sprintf("%s (%s)", strings.Join(lines, ", "), why))
	}
	sort.Strings(added)
	return added
}

// A set replaces whole lines. On a server, default-server or bind line of
// Ray's that drops Ray's parameters with no word: `set = ["default-server
// maxconn 32"]` in the app backends loses Ray's health checks (check,
// inter, fastinter, fall, rise, downinter) and the variables that set them,
// and haproxy -c still passes. params merges instead, so such a set is
// refused unless the edit says force = true.

// rayLine reports whether l is a line of Ray's: read from the config
// (a line a snippet wrote in an earlier patch says so in its provenance
// comment), or such a line that params merged parameters into.
func (a *applier) rayLine(l *config.Line) bool {
	if a.fromRay[l] {
		return true
	}
	return l.Pos.File == a.f.Name && !strings.Contains(l.Comment(), "serve-launch:")
}

// dropsRayParams reports, and records as an error at pos, whether a set of
// the line words replacing Ray's line l in s drops parameters l has. Each
// set line is reported once, however many sections it replaces a line in.
func (a *applier) dropsRayParams(s *config.Section, l *config.Line, words []string, pos config.Position) bool {
	if !l.IsDirective() || !a.rayLine(l) {
		return false
	}
	start, ok := config.ParamStart(l.Keyword())
	if !ok || len(words) == 0 || words[0] != l.Keyword() {
		return false
	}
	lw := l.Words()
	params := func(w []string) []config.Param { return config.ParseParams(w[min(start, len(w)):]) }
	newParams := params(words)
	var lost []string
	for _, p := range params(lw) {
		if !slices.ContainsFunc(newParams, func(n config.Param) bool { return n.Name == p.Name }) && !slices.Contains(lost, p.Name) {
			lost = append(lost, p.Name)
		}
	}
	if len(lost) == 0 {
		return false
	}
	if a.dropped[pos] {
		return true
	}
	if a.dropped == nil {
		a.dropped = map[config.Position]bool{}
	}
	a.dropped[pos] = true
	text, old := strings.Join(words, " "), strings.Join(lw, " ")
	instead := ""
	if len(newParams) > 0 {
		set := strings.Join(words[min(start, len(words)):], " ")
		instead = fmt.Sprintf("to add %s to it, use params = [{ on = %q, set = %q }], or ", set, lw[0], set)
	}
	a.errs.Add(pos, "set %q replaces Ray's line %q in %s and drops its %s; %sset force = true on the edit if you mean to replace it",
		text, old, s.Title(), andList(lost), instead)
	return true
}

// andList joins words as a sentence does: "a", "a and b", "a, b and c".
func andList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
