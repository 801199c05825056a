// Package migrate turns a hand-tuned haproxy.cfg into what serve-launch lays
// over Ray's generated config: an env file of RAY_SERVE_HAPROXY_* variables
// for the settings Ray has a variable for, an override snippet for the rest,
// and a report that says, setting by setting, how each one was carried over
// or why it was not.
//
// Their sections map onto Ray's: global and defaults onto Ray's global and
// defaults; the backends and listens holding their replica servers onto Ray's
// application backends (`backend *` except default_backend); the frontend that
// routes to those backends onto Ray's http_frontend, only for settings that
// cannot change Ray's routing. Everything else is reported as not carried.
package migrate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/raycfg"
)

// Output file names, relative to the output directory.
const (
	EnvFileName = "serve.env"
	SnippetDir  = "overrides.d"
	SnippetName = "50-migrated.toml"
)

// Options is one migration's input.
type Options struct {
	// Name is their config's name as the user gave it; every comment and
	// report row cites it as NAME:LINE.
	Name string
	// Data is their config.
	Data []byte
	// GeneratedName and Generated are the config Ray generated, to compare
	// with. Nil Generated means Ray 2.55's shape rendered from Ray's defaults
	// (raysim), with one application holding as many replicas as they have
	// servers.
	GeneratedName string
	Generated     []byte
}

// How says how a setting was carried over.
type How string

// The ways a setting is carried over.
const (
	ByVariable How = "variable"
	BySnippet  How = "snippet"
	ByDefault  How = "default"
	NotCarried How = "not carried"
)

// Row is one setting of their config and what became of it.
type Row struct {
	// Setting names the setting: where it is and its key, "defaults: timeout client".
	Setting string
	// Their is their line (or parameter) as written.
	Their string
	// Pos is where it is in their config.
	Pos config.Position
	// Ray is what Ray's config has for it, "nothing" when it has none, or
	// empty when there is nothing to compare with.
	Ray string
	How How
	// Detail is the variable assignment, the snippet edit, or the reason.
	Detail string
	// Target is the Ray section where the setting lands (or already is), as
	// a snippet selector: "global", "defaults", "frontend http_frontend",
	// "backend *" for the application backends, "frontend prometheus",
	// "listen stats"; empty when not carried.
	Target string
	// Param tells that the setting is a parameter of Ray's default-server
	// line in Target, not a line of its own.
	Param bool
}

// EnvEntry is one line of the env file.
type EnvEntry struct {
	Name  string
	Value string
	// From is their line it comes from, as "NAME:LINE: text".
	From string
}

// Result is a migration: the report rows, the env file and the snippet.
type Result struct {
	// Name is their config's name.
	Name string
	// Servers is the number of replica servers found in their config.
	Servers int
	// Generated is the Ray config compared with; GeneratedName names it.
	Generated     []byte
	GeneratedName string
	// Rendered tells that Generated was rendered from Ray's defaults, not given.
	Rendered bool
	Rows     []Row
	Env      []EnvEntry
	// Notes are extra report lines, such as values written as templates.
	Notes []string

	edits [nTargets]*editAcc
}

// Migrate maps their config onto Ray's. Their config's unclosed quotes are
// errors with file:line; everything else becomes report rows.
func Migrate(opts Options) (*Result, error) {
	their, err := config.Parse(opts.Name, opts.Data)
	if err != nil {
		return nil, err
	}
	m := &migrator{name: opts.Name, their: their, env: map[string]*envVal{}}
	for i := range m.edits {
		m.edits[i] = &editAcc{}
	}
	if err := m.classify(); err != nil {
		return nil, err
	}

	res := &Result{Name: opts.Name, Servers: m.servers, GeneratedName: opts.GeneratedName, Generated: opts.Generated}
	if res.Generated == nil {
		res.Generated, err = RenderDefault(m.servers, nil)
		if err != nil {
			return nil, err
		}
		res.Rendered = true
		res.GeneratedName = "Ray 2.55 shape from Ray's defaults"
	}
	m.ray, err = config.Parse(res.GeneratedName, res.Generated)
	if err != nil {
		return nil, fmt.Errorf("generated config: %w", err)
	}
	m.findRay()
	m.run()

	res.Rows = m.rowsSorted()
	res.Env = m.envEntries()
	res.Notes = m.notes
	res.edits = m.edits
	return res, nil
}

// RenderDefault renders Ray 2.55's shape with env (nil: Ray's defaults) and
// one application "app" on "/" whose replicas listen on 127.0.0.1 from port
// 30000, as many as servers (at least one).
func RenderDefault(servers int, env map[string]string) ([]byte, error) {
	app := raycfg.App{Name: "app", RoutePrefix: "/"}
	for i := 0; i < max(servers, 1); i++ {
		app.Replicas = append(app.Replicas, raycfg.Target{
			Name: fmt.Sprintf("SERVE_REPLICA::app#Model#r%d", i), Host: "127.0.0.1", Port: 30000 + i,
		})
	}
	return raycfg.Render(raycfg.Options{Shape: raycfg.Shape255, Env: env, Apps: []raycfg.App{app}})
}

// target is a Ray section (or set of sections) an edit goes to.
type target int

const (
	tGlobal target = iota
	tDefaults
	tFrontend
	tBackends
	nTargets
)

// selector is the target as a snippet section selector.
func (t target) selector() string {
	return [...]string{"global", "defaults", "frontend http_frontend", "backend *"}[t]
}

// title is how the report names the target.
func (t target) title() string {
	return [...]string{"global", "defaults", "frontend http_frontend", "app backends"}[t]
}

// Precedences of their sections: a backend's line overrides their defaults,
// as in HAProxy.
const (
	precDefaults = 1
	precSection  = 2
)

type envVal struct {
	value string
	prec  int
	row   *Row
	from  string
	sec   *config.Section // their section the value comes from
}

// snipLine is one line of the snippet, with the row that explains it.
type snipLine struct {
	text   string // the line (a template when it has actions)
	key    string
	anchor string // for insert: the glob to insert after
	prec   int
	row    *Row
	from   string          // "NAME:LINE: their text", the comment after the line
	sec    *config.Section // their section the line comes from
}

// editAcc collects one target's edit.
type editAcc struct {
	set, add, insert, params []*snipLine
	// checks are their http-check rules, which replace Ray's.
	checks *checkSeq
}

type migrator struct {
	name  string
	their *config.File
	ray   *config.File

	// replica holds their backends and listens with server lines; httpFE
	// their frontends routing to them.
	replica map[*config.Section]bool
	httpFE  map[*config.Section]bool
	servers int

	rayGlobal, rayDefaults, rayFrontend, rayMetrics, rayStats *config.Section
	rayBackend                                                *config.Section // the first application backend

	rows  []*Row
	env   map[string]*envVal
	edits [nTargets]*editAcc
	notes []string
	// seenParam avoids reporting a defaults default-server parameter once per
	// replica section.
	seenParam map[string]bool
}

// classify finds their replica sections, their HTTP frontends and the server count.
func (m *migrator) classify() error {
	m.replica = map[*config.Section]bool{}
	m.httpFE = map[*config.Section]bool{}
	m.seenParam = map[string]bool{}
	names := map[string]bool{}
	for _, s := range m.their.Sections {
		if s.Kind != "backend" && s.Kind != "listen" {
			continue
		}
		for _, l := range s.Body {
			if len(l.Words) >= 3 && (l.Words[0] == "server" || l.Words[0] == "server-template") {
				m.replica[s] = true
			}
		}
		if m.replica[s] {
			names[s.Name] = true
		}
	}
	var err error
	if m.servers, err = countServers(m.their.Sections, m.replica); err != nil {
		return err
	}
	for _, s := range m.their.Sections {
		if s.Kind != "frontend" {
			continue
		}
		for _, l := range s.Body {
			w := l.Words
			if len(w) >= 2 && (w[0] == "default_backend" || w[0] == "use_backend") && names[w[1]] {
				m.httpFE[s] = true
			}
		}
	}
	return nil
}

// maxServers bounds the replica count: Migrate renders Ray's config with one
// server line per replica, and a server-template of millions of slots ran
// out of memory doing so. The snippet engine bounds one server-template at
// the same number.
const maxServers = 1 << 16

// countServers counts distinct non-backup servers and server-template slots
// of each replica section, summed over the sections: their backends are
// separate applications, each with its own replicas, even where server
// names repeat across them. More than maxServers is an error at the line
// that passes it.
func countServers(sections []*config.Section, replica map[*config.Section]bool) (int, error) {
	n := 0
	for _, s := range sections {
		if !replica[s] {
			continue
		}
		seen := map[string]bool{}
		for _, l := range s.Body {
			w := l.Words
			switch {
			case len(w) >= 3 && w[0] == "server" && !slices.Contains(w[3:], "backup"):
				if !seen[w[1]] {
					seen[w[1]] = true
					n++
				}
			case len(w) >= 4 && w[0] == "server-template" && !slices.Contains(w[4:], "backup"):
				n += templateSlots(w[2])
			}
			if n > maxServers {
				return 0, config.Errorf(l.Pos, "more than %d replica servers; migrate takes at most that many", maxServers)
			}
		}
	}
	return n, nil
}

// templateSlots reads server-template's "N" or "LOW-HIGH" as a number of
// slots, at most maxServers+1 so that the sum cannot overflow; a range that
// is no range has none.
func templateSlots(s string) int {
	lo, hi := 1, 0
	if a, b, ok := strings.Cut(s, "-"); ok {
		var err1, err2 error
		lo, err1 = strconv.Atoi(a)
		hi, err2 = strconv.Atoi(b)
		if err1 != nil || err2 != nil {
			return 0
		}
	} else if n, err := strconv.Atoi(s); err == nil {
		hi = n
	}
	// Neither can be negative (a "-" splits the range), so hi-lo cannot
	// overflow; hi-lo+1 can.
	if hi-lo >= maxServers {
		return maxServers + 1
	}
	return max(hi-lo+1, 0)
}

// findRay picks the Ray sections each target stands for.
func (m *migrator) findRay() {
	first := func(kind, name string) *config.Section {
		if s := m.ray.Find(kind, name); len(s) > 0 {
			return s[0]
		}
		return nil
	}
	m.rayGlobal = first("global", "")
	m.rayDefaults = first("defaults", "")
	m.rayFrontend = first("frontend", "http_frontend")
	m.rayMetrics = first("frontend", "prometheus")
	m.rayStats = first("listen", "stats")
	for _, s := range m.ray.Sections {
		if s.Kind == "backend" && s.Name != "default_backend" {
			m.rayBackend = s
			break
		}
	}
}

// raySection is the Ray section that stands for a target.
func (m *migrator) raySection(t target) *config.Section {
	return [...]*config.Section{m.rayGlobal, m.rayDefaults, m.rayFrontend, m.rayBackend}[t]
}

// rayLines returns Ray's lines with key in the target, falling back to Ray's
// defaults for proxies, since that is what is in effect there.
func (m *migrator) rayLines(t target, key string) []*config.Line {
	ls := linesWithKey(m.raySection(t), key)
	if len(ls) == 0 && (t == tFrontend || t == tBackends) {
		ls = linesWithKey(m.rayDefaults, key)
	}
	return ls
}

func linesWithKey(s *config.Section, key string) []*config.Line {
	if s == nil {
		return nil
	}
	var ls []*config.Line
	for _, l := range s.Body {
		if l.IsDirective() && l.Key() == key {
			ls = append(ls, l)
		}
	}
	return ls
}

func describeLines(ls []*config.Line) string {
	if len(ls) == 0 {
		return "nothing"
	}
	if len(ls) > 1 && config.IsListKey(ls[0].Key()) {
		return fmt.Sprintf("%d %s rules", len(ls), ls[0].Words[0])
	}
	var parts []string
	for _, l := range ls {
		parts = append(parts, strings.Join(l.Words, " "))
	}
	return strings.Join(parts, "; ")
}

// run walks their sections in file order.
func (m *migrator) run() {
	m.preamble()
	var defaults *config.Section
	named := map[string]*config.Section{}
	used := map[*config.Section]bool{}
	for _, s := range m.their.Sections {
		switch {
		case s.Kind == "global":
			m.global(s)
		case s.Kind == "defaults":
			m.defaults(s)
			defaults = s
			if s.Name != "" {
				named[s.Name] = s
			}
		case m.replica[s]:
			d := defaults
			if s.From != "" {
				d = named[s.From]
			}
			used[d] = true
			m.replicaSection(s, d)
		case m.httpFE[s]:
			m.frontend(s)
		case isMetrics(s) && m.rayMetrics != nil:
			m.fixed(s, m.rayMetrics, "metrics")
		case isStats(s) && m.rayStats != nil:
			m.fixed(s, m.rayStats, "stats")
		default:
			m.wholeSection(s)
		}
	}
	m.unusedParams(used)
}

// unusedParams reports the default-server parameters no replica section
// took: those of a defaults section that applies to none of them, and those
// a later parameter of the same name replaced. Without this they were left
// out of the report.
func (m *migrator) unusedParams(used map[*config.Section]bool) {
	for _, s := range m.their.Sections {
		if s.Kind != "defaults" && !m.replica[s] {
			continue
		}
		for _, l := range s.Body {
			if len(l.Words) == 0 || l.Words[0] != "default-server" {
				continue
			}
			for _, p := range parseParams(l.Words[1:], l, 0) {
				id := fmt.Sprintf("%d/%s", l.Pos.Line, p.name)
				if m.seenParam[id] {
					continue
				}
				m.seenParam[id] = true
				r := m.row(s, l, "default-server "+p.name)
				r.Their = p.text()
				switch {
				case s.Kind == "defaults" && !used[s]:
					m.notCarried(r, "%s applies to no backend or listen holding their replica servers", s.Title())
				default:
					m.notCarried(r, "replaced by a later %s parameter of theirs for the same servers", p.name)
				}
			}
		}
	}
}

// preamble reports the directives before the first section header, which
// would otherwise be left out of the report without a word. haproxy refuses
// them ("unknown keyword ... out of section"), so nothing carries them.
func (m *migrator) preamble() {
	for _, l := range m.their.Preamble {
		if !l.IsDirective() {
			continue
		}
		r := &Row{Setting: "before any section: " + l.Words[0], Their: strings.Join(l.Words, " "), Pos: l.Pos}
		m.rows = append(m.rows, r)
		m.notCarried(r, "outside any section, where haproxy refuses it; move it into the section it belongs to")
	}
}

func isMetrics(s *config.Section) bool {
	if s.Kind != "frontend" && s.Kind != "listen" {
		return false
	}
	for _, l := range s.Body {
		if slices.Contains(l.Words, "prometheus-exporter") {
			return true
		}
	}
	return false
}

func isStats(s *config.Section) bool {
	if s.Kind != "frontend" && s.Kind != "listen" {
		return false
	}
	for _, l := range s.Body {
		if len(l.Words) >= 2 && l.Words[0] == "stats" && (l.Words[1] == "enable" || l.Words[1] == "uri") {
			return true
		}
	}
	return false
}

// row starts a report row for their line l in section s.
func (m *migrator) row(s *config.Section, l *config.Line, setting string) *Row {
	r := &Row{Setting: s.Title() + ": " + setting, Their: strings.Join(l.Words, " "), Pos: l.Pos}
	m.rows = append(m.rows, r)
	return r
}

func (m *migrator) notCarried(r *Row, format string, args ...any) {
	r.How, r.Target, r.Param = NotCarried, "", false
	r.Detail = fmt.Sprintf(format, args...)
}

func (m *migrator) from(l *config.Line) string {
	return fmt.Sprintf("%s:%d: %s", m.name, l.Pos.Line, strings.Join(l.Words, " "))
}

// globalVars are global directives a variable writes, by key.
var globalVars = map[string]string{
	"maxconn":           "RAY_SERVE_HAPROXY_MAXCONN",
	"nbthread":          "RAY_SERVE_HAPROXY_NBTHREAD",
	"hard-stop-after":   "RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S",
	"server-state-base": "RAY_SERVE_HAPROXY_SERVER_STATE_BASE",
	"server-state-file": "RAY_SERVE_HAPROXY_SERVER_STATE_FILE",
}

// defaultsVars are defaults (and proxy) directives a variable writes, by key.
var defaultsVars = map[string]string{
	"timeout connect": "RAY_SERVE_HAPROXY_TIMEOUT_CONNECT_S",
	"timeout client":  "RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S",
	"timeout server":  "RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S",
	"balance":         "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM",
}

// paramVars are server parameters a variable writes on Ray's default-server.
var paramVars = map[string]string{
	"inter":     "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER",
	"fastinter": "RAY_SERVE_HAPROXY_HEALTH_CHECK_FASTINTER",
	"downinter": "RAY_SERVE_HAPROXY_HEALTH_CHECK_DOWNINTER",
	"fall":      "RAY_SERVE_HAPROXY_HEALTH_CHECK_FALL",
	"rise":      "RAY_SERVE_HAPROXY_HEALTH_CHECK_RISE",
}

// globalNotCarried gives the reason for global keywords Ray or serve-launch own.
var globalNotCarried = map[string]string{
	"daemon":        "Ray runs haproxy in the foreground and supervises it; serve-launch keeps it that way",
	"master-worker": "serve-launch runs haproxy as master (-W) itself",
	"pidfile":       "Ray tracks the haproxy process itself",
	"user":          "haproxy runs as the user Ray runs as",
	"group":         "haproxy runs as the group Ray runs as",
	"uid":           "haproxy runs as the user Ray runs as",
	"gid":           "haproxy runs as the group Ray runs as",
	"chroot":        "a chroot would hide Ray's admin socket, state file and 500.http from haproxy",
	"nbproc":        "haproxy 2.5 and later refuse nbproc; RAY_SERVE_HAPROXY_NBTHREAD sets threads",
	"log":           "Ray writes its own log targets (RAY_SERVE_HAPROXY_SYSLOG_PORT in 2.55); add yours to global with a snippet if you still need it",
}

// derivedKeys are count-like settings whose value may have been computed
// from the replica count.
var derivedKeys = map[string]bool{"maxconnrate": true, "maxsessrate": true, "maxsslrate": true, "rate-limit": true, "fullconn": true}

func (m *migrator) global(s *config.Section) {
	for _, l := range s.Body {
		if !l.IsDirective() {
			continue
		}
		key := l.Key()
		r := m.row(s, l, key)
		if name, ok := globalVars[key]; ok && len(l.Words) == 2 {
			m.variable(r, l, tGlobal, name, l.Words[1], precDefaults)
			continue
		}
		if strings.HasPrefix(key, "stats socket") {
			r.Ray = describeLines(socketLines(m.rayGlobal))
			if hasWords(socketLines(m.rayGlobal), l.Words) {
				r.How, r.Detail, r.Target = ByDefault, "already in Ray's config", tGlobal.selector()
				continue
			}
			m.notCarried(r, "Ray drives haproxy through its own admin socket (RAY_SERVE_HAPROXY_SOCKET_PATH); a second one is not needed")
			continue
		}
		if reason, ok := globalNotCarried[l.Words[0]]; ok {
			ray := m.rayLines(tGlobal, key)
			r.Ray = describeLines(ray)
			if hasWords(ray, l.Words) {
				r.How, r.Detail, r.Target = ByDefault, "already in Ray's config", tGlobal.selector()
				continue
			}
			m.notCarried(r, "%s", reason)
			continue
		}
		m.snippet(r, l, tGlobal, precDefaults)
	}
}

func socketLines(s *config.Section) []*config.Line {
	var ls []*config.Line
	if s == nil {
		return nil
	}
	for _, l := range s.Body {
		if len(l.Words) >= 2 && l.Words[0] == "stats" && l.Words[1] == "socket" {
			ls = append(ls, l)
		}
	}
	return ls
}

func hasWords(ls []*config.Line, words []string) bool {
	for _, l := range ls {
		if slices.Equal(l.Words, words) {
			return true
		}
	}
	return false
}

func (m *migrator) defaults(s *config.Section) {
	for _, l := range s.Body {
		if !l.IsDirective() {
			continue
		}
		key := l.Key()
		if l.Words[0] == "default-server" {
			continue // reported with the replica sections it applies to
		}
		if l.Words[0] == "http-check" {
			continue // carried as one sequence below
		}
		r := m.row(s, l, key)
		m.proxyLine(r, l, tDefaults, precDefaults)
	}
	m.httpChecks(s, precDefaults)
}

// checkSeq is the http-check rules of one of their sections, carried as a
// whole: haproxy runs them in order as one check, and a proxy with rules of
// its own ignores those of its defaults.
type checkSeq struct {
	lines []*snipLine
	prec  int
	sec   *config.Section
	// same tells that Ray's application backends already have these rules.
	same bool
}

func (c *checkSeq) texts() []string {
	var ts []string
	for _, l := range c.lines {
		ts = append(ts, l.text)
	}
	return ts
}

// httpChecks carries the http-check rules of their section s onto Ray's
// application backends. Adding them after Ray's own rules would chain the
// checks: Ray's "http-check expect status 200" before their "expect status
// 200-399" fails a replica theirs passes, and their "send" after Ray's
// "expect" never runs before it. So their rules replace Ray's.
func (m *migrator) httpChecks(s *config.Section, prec int) {
	seq := &checkSeq{prec: prec, sec: s}
	for _, l := range s.Body {
		if !l.IsDirective() || l.Words[0] != "http-check" {
			continue
		}
		r := m.row(s, l, l.Key())
		seq.lines = append(seq.lines, &snipLine{text: snippetText(l.Words), key: l.Key(), prec: prec, row: r, from: m.from(l), sec: s})
	}
	if len(seq.lines) == 0 {
		return
	}
	ray := linesWithKey(m.rayBackend, "http-check")
	seq.same = len(ray) == len(seq.lines)
	for i, sl := range seq.lines {
		sl.row.Ray = describeLines(ray)
		sl.row.Target = tBackends.selector()
		if seq.same && snippetText(ray[i].Words) != sl.text {
			seq.same = false
		}
	}
	set := func(how How, detail string) {
		for _, sl := range seq.lines {
			sl.row.How, sl.row.Detail, sl.row.Target = how, detail, tBackends.selector()
		}
	}
	acc := m.edits[tBackends]
	if prev := acc.checks; prev != nil {
		first := posOf(seq.lines[0].from)
		switch {
		case slices.Equal(prev.texts(), seq.texts()):
			set(prev.lines[0].row.How, "same rules as "+posOf(prev.lines[0].from))
			return
		case prec > prev.prec || sameScope(prev.sec, s):
			for _, sl := range prev.lines {
				sl.row.How, sl.row.Detail, sl.row.Target = NotCarried, "overridden in their config by the http-check rules from "+first, ""
			}
		default:
			for _, sl := range seq.lines {
				m.notCarried(sl.row, "conflicts with the http-check rules from %s: one health check for all of Ray's application backends", posOf(prev.lines[0].from))
			}
			return
		}
	}
	acc.checks = seq
	if seq.same {
		set(ByDefault, "already in Ray's "+tBackends.title())
		return
	}
	set(BySnippet, "app backends: their http-check rules replace Ray's (delete http-check *, add)")
}

// proxyLine carries one line of their defaults or replica section to target t.
func (m *migrator) proxyLine(r *Row, l *config.Line, t target, prec int) {
	key := l.Key()
	w := l.Words
	switch {
	case defaultsVars[key] != "":
		if t == tDefaults || key == "balance" {
			m.variable(r, l, tDefaults, defaultsVars[key], strings.Join(w[len(strings.Fields(key)):], " "), prec)
			return
		}
	case key == "option http-no-delay" && w[0] == "option":
		m.variable(r, l, tDefaults, "RAY_SERVE_HAPROXY_TCP_NODELAY", "1", prec)
		return
	case key == "mode" && len(w) == 2 && w[1] != "http":
		r.Ray = describeLines(m.rayLines(t, key))
		m.notCarried(r, "Ray's config is HTTP mode throughout")
		return
	case key == "errorfile 502" || key == "errorfile 504":
		ray := m.rayLines(t, key)
		r.Ray = describeLines(ray)
		if hasWords(ray, w) {
			r.How, r.Detail, r.Target = ByDefault, "already in Ray's config", t.selector()
			return
		}
		m.notCarried(r, "Ray answers 502 and 504 with its own 500.http (Serve's behaviour)")
		return
	case strings.HasPrefix(key, "errorfile") || strings.HasPrefix(key, "errorloc"):
		m.notCarried(r, "names a file of their install; copy it beside Ray's config and add the line with a snippet if still wanted")
		return
	case key == "default_backend" || key == "use_backend":
		m.notCarried(r, "Ray routes requests to its application backends by route prefix")
		return
	case key == "cookie":
		m.notCarried(r, "sticky cookies need a cookie value on each server line, and Ray writes the server lines")
		return
	}
	// Ray sets some proxy settings in each application backend, where they
	// override whatever defaults says, so their defaults value goes there.
	if t == tDefaults && len(linesWithKey(m.rayDefaults, key)) == 0 && len(linesWithKey(m.rayBackend, key)) > 0 {
		t = tBackends
	}
	m.snippet(r, l, t, prec)
}

// variable carries a setting through a RAY_SERVE_HAPROXY_* variable, or a
// snippet line in t when the value does not fit the variable's type.
func (m *migrator) variable(r *Row, l *config.Line, t target, name, value string, prec int) {
	v, _ := envmap.Lookup(name)
	r.Ray = describeLines(m.rayLines(t, config.Key(l.Words)))
	r.Target = t.selector()
	val, isDefault, why := fitVar(v, value)
	if why != "" {
		m.snippet(r, l, t, prec)
		r.Detail += " (" + why + ")"
		return
	}
	m.setEnv(r, name, val, isDefault, prec, l)
}

// setEnv records a variable's value from their line l; a more specific
// section of theirs wins, as in HAProxy, and so does a later line of the
// same section; a conflict between equals is reported.
func (m *migrator) setEnv(r *Row, name, val string, isDefault bool, prec int, l *config.Line) {
	from, sec := m.from(l), sectionOf(m.their, l)
	if prev, ok := m.env[name]; ok {
		switch {
		case prev.value == val:
			r.How, r.Detail = prev.row.How, "same as "+posOf(prev.from)
			return
		case prec > prev.prec:
			prev.row.How, prev.row.Detail = NotCarried, "overridden in their config by "+posOf(from)
		case sameScope(prev.sec, sec) && firstWins(sec, l):
			m.notCarried(r, "%s", firstWinsDetail(l, prev.from))
			return
		case sameScope(prev.sec, sec):
			prev.row.How, prev.row.Detail = NotCarried, "overridden in their config by "+posOf(from)+" (the later line wins in HAProxy)"
		default:
			m.notCarried(r, "conflicts with %s (%s=%s): one variable for all of Ray's application backends", posOf(prev.from), name, prev.value)
			return
		}
	}
	m.env[name] = &envVal{value: val, prec: prec, row: r, from: from, sec: sec}
	if isDefault {
		r.How, r.Detail = ByDefault, fmt.Sprintf("already the default (%s=%s)", name, val)
		return
	}
	r.How, r.Detail = ByVariable, name+"="+val
}

// globalFirstWins are the global keywords where HAProxy keeps the first
// line and ignores a later one with an alert ("'maxconn' already specified.
// Continuing."), as haproxy 2.6 does for each of these.
var globalFirstWins = map[string]bool{
	"maxconn": true, "maxconnrate": true, "maxsessrate": true, "maxsslrate": true, "maxpipes": true,
	"ulimit-n": true, "spread-checks": true, "pidfile": true, "chroot": true, "tune.maxaccept": true,
	"server-state-base": true, "server-state-file": true, "log-send-hostname": true, "ca-base": true, "crt-base": true,
}

// firstWins tells whether their line l of section sec is one where the
// first line of the scope is the one HAProxy uses.
func firstWins(sec *config.Section, l *config.Line) bool {
	return sec != nil && sec.Kind == "global" && len(l.Words) > 0 && globalFirstWins[l.Words[0]]
}

// firstWinsDetail says why their later line l is not carried: HAProxy uses
// the first, from prevFrom.
func firstWinsDetail(l *config.Line, prevFrom string) string {
	return fmt.Sprintf("HAProxy keeps the first global %s line (%s) and ignores this one", l.Words[0], posOf(prevFrom))
}

// sameScope tells whether two of their sections are one scope, where a
// later line replaces an earlier one with the same key: the same section, or
// two global sections (HAProxy merges them).
func sameScope(a, b *config.Section) bool {
	return a == b || a != nil && b != nil && a.Kind == "global" && b.Kind == "global"
}

// posOf returns the "NAME:LINE" of a "NAME:LINE: text" from-string.
func posOf(from string) string {
	if i := strings.Index(from, ": "); i >= 0 {
		return from[:i]
	}
	return from
}

// fitVar converts their value to the variable's type and says whether it is
// Ray's default; why is set when it does not fit the variable, by the rules
// `serve-launch run` checks the env file with.
func fitVar(v envmap.Var, value string) (val string, isDefault bool, why string) {
	val = value
	if v.Kind == envmap.KindSeconds {
		sec, ok := wholeSeconds(value)
		if !ok {
			return "", false, fmt.Sprintf("%s takes whole seconds", v.Name)
		}
		val = sec
	}
	if want := v.Check(val); want != "" {
		return "", false, fmt.Sprintf("%s takes %s", v.Name, want)
	}
	if v.Omitted {
		return val, false, ""
	}
	if v.Kind == envmap.KindTime {
		return val, sameTime(val, v.Default), ""
	}
	return val, val == v.Default, ""
}

// snippet carries their line into target t through the snippet: set for
// single-valued keys, add (insert in the HTTP frontend) for rule lists, or
// nothing when Ray's config already says the same.
func (m *migrator) snippet(r *Row, l *config.Line, t target, prec int) {
	key := l.Key()
	ray := m.rayLines(t, key)
	if r.Ray == "" {
		r.Ray = describeLines(ray)
	}
	r.Target = t.selector()
	if hasWords(ray, l.Words) {
		// An earlier value of theirs that this line replaces must not be
		// set over Ray's line, which says what theirs ends with.
		acc := m.edits[t]
		for i, prev := range acc.set {
			if sec := sectionOf(m.their, l); prev.key == key && (prec > prev.prec || sameScope(prev.sec, sec)) {
				if sameScope(prev.sec, sec) && firstWins(sec, l) {
					m.notCarried(r, "%s", firstWinsDetail(l, prev.from))
					return
				}
				prev.row.How, prev.row.Detail = NotCarried, "overridden in their config by "+posOf(m.from(l))
				acc.set = slices.Delete(acc.set, i, i+1)
				break
			}
		}
		r.How, r.Detail = ByDefault, "already in Ray's "+t.title()
		return
	}
	text := snippetText(l.Words)
	if derivedKeys[l.Words[0]] && m.servers >= 2 {
		last := l.Words[len(l.Words)-1]
		var n int
		if _, err := fmt.Sscanf(last, "%d", &n); err == nil && fmt.Sprint(n) == last && n > 0 && n%m.servers == 0 {
			per := n / m.servers
			words := append(slices.Clone(l.Words[:len(l.Words)-1]), "")
			text = snippetText(words) + fmt.Sprintf("{{ mul .Servers %d }}", per)
			m.notes = append(m.notes, fmt.Sprintf("%s:%d: %s = %d servers x %d: written as {{ mul .Servers %d }}, so it follows the replica count Ray generates", m.name, l.Pos.Line, strings.Join(l.Words, " "), m.servers, per, per))
			r.Detail = fmt.Sprintf(" as {{ mul .Servers %d }} (%d servers x %d)", per, m.servers, per)
		}
	}
	sl := &snipLine{text: text, key: key, prec: prec, row: r, from: m.from(l), sec: sectionOf(m.their, l)}
	acc := m.edits[t]
	op := "set"
	switch {
	case config.IsListKey(key) && t == tFrontend && l.Words[0] == "http-request":
		// After Ray's own http-request rules (health check, routes), so
		// those keep answering first.
		sl.anchor, op = "http-request *", "insert after http-request *"
		acc.insert = append(acc.insert, sl)
	case config.IsListKey(key) || l.Words[0] == "acl":
		op = "add"
		acc.add = append(acc.add, sl)
	default:
		for i, prev := range acc.set {
			if prev.key != key {
				continue
			}
			switch {
			case prev.text == sl.text:
				r.How, r.Detail = BySnippet, "same line as "+posOf(prev.from)
				return
			case prec > prev.prec:
				prev.row.How, prev.row.Detail = NotCarried, "overridden in their config by "+posOf(sl.from)
				acc.set[i] = sl
				r.How, r.Detail = BySnippet, fmt.Sprintf("%s set", t.title())+r.Detail
				return
			case sameScope(prev.sec, sl.sec) && firstWins(sl.sec, l):
				m.notCarried(r, "%s", firstWinsDetail(l, prev.from))
				return
			case sameScope(prev.sec, sl.sec):
				prev.row.How, prev.row.Detail = NotCarried, "overridden in their config by "+posOf(sl.from)+" (the later line wins in HAProxy)"
				acc.set[i] = sl
				r.How, r.Detail = BySnippet, fmt.Sprintf("%s set", t.title())+r.Detail
				return
			default:
				m.notCarried(r, "conflicts with %s: one snippet line for all of Ray's %s", posOf(prev.from), t.title())
				return
			}
		}
		acc.set = append(acc.set, sl)
	}
	r.How, r.Detail = BySnippet, fmt.Sprintf("%s %s", t.title(), op)+r.Detail
}

// snippetText writes words back as one HAProxy line, quoting where needed and
// escaping "{{" so the snippet engine's template pass leaves it alone.
func snippetText(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		if w == "" {
			continue
		}
		q[i] = strings.ReplaceAll(config.Quote(w), "{{", `{{"{{"}}`)
	}
	return strings.Join(q, " ")
}

// frontend carries the safe settings of their HTTP frontend into Ray's
// http_frontend.
func (m *migrator) frontend(s *config.Section) {
	acls := aclNames(s)
	for _, l := range s.Body {
		if !l.IsDirective() {
			continue
		}
		r := m.row(s, l, l.Key())
		m.frontendLine(r, l, acls)
	}
}

// frontendLine carries one client-side line to Ray's http_frontend, unless it
// could change how Ray routes or answers.
func (m *migrator) frontendLine(r *Row, l *config.Line, acls map[string]bool) {
	w := l.Words
	if m.sameAsRay(r, l, tFrontend) {
		return
	}
	switch w[0] {
	case "mode":
		if len(w) != 2 || w[1] != "http" {
			r.Ray = describeLines(m.rayLines(tFrontend, "mode"))
			m.notCarried(r, "Ray's config is HTTP mode throughout")
			return
		}
	case "bind":
		r.Ray = describeLines(bindLines(m.rayFrontend))
		m.notCarried(r, "Ray binds its HTTP frontend to http_options host and port of the Serve config; serve-launch does not move it")
		return
	case "use_backend", "default_backend":
		m.notCarried(r, "Ray routes requests to its application backends by route prefix")
		return
	case "acl":
		m.notCarried(r, "their ACLs serve their own rules; Ray's frontend has its own ACLs for health checks and routes")
		return
	case "stats":
		m.notCarried(r, "Ray serves its stats page in its own listen stats")
		return
	case "redirect", "tcp-request", "monitor-uri", "monitor":
		m.notCarried(r, "could answer or drop requests before Ray's health check and routes; add it by hand if still needed")
		return
	case "http-request", "http-response", "http-after-response":
		if why := ruleRisk(w, acls); why != "" {
			m.notCarried(r, "%s", why)
			return
		}
	}
	// A frontend line overrides defaults, so even "timeout client" goes to
	// the frontend rather than into RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S.
	m.snippet(r, l, tFrontend, precSection)
}

func bindLines(s *config.Section) []*config.Line {
	var ls []*config.Line
	if s == nil {
		return nil
	}
	for _, l := range s.Body {
		if len(l.Words) > 0 && l.Words[0] == "bind" {
			ls = append(ls, l)
		}
	}
	return ls
}

func aclNames(s *config.Section) map[string]bool {
	acls := map[string]bool{}
	for _, l := range s.Body {
		if len(l.Words) >= 2 && l.Words[0] == "acl" {
			acls[l.Words[1]] = true
		}
	}
	return acls
}

// safeRequestActions are http-request actions that cannot answer, drop or
// reroute a request.
var safeRequestActions = map[string]bool{
	"add-header": true, "set-header": true, "del-header": true, "replace-header": true,
	"replace-value": true, "set-var": true, "unset-var": true, "set-log-level": true,
	"capture": true, "set-timeout": true, "normalize-uri": false,
}

// ruleRisk says why a rule is not carried, or "" when it is safe to add to
// Ray's sections: its condition must not need their ACLs, and an
// http-request rule must not answer, drop or reroute.
func ruleRisk(w []string, acls map[string]bool) string {
	if len(w) < 2 {
		return "incomplete rule"
	}
	for i, x := range w {
		if x == "if" || x == "unless" {
			for _, c := range w[i+1:] {
				if acls[strings.TrimPrefix(c, "!")] {
					return fmt.Sprintf("its condition uses their ACL %q, which is not carried", strings.TrimPrefix(c, "!"))
				}
			}
			break
		}
	}
	// set-var and unset-var carry their variable in the word:
	// "set-var(txn.model)".
	action, _, _ := strings.Cut(w[1], "(")
	if w[0] == "http-request" && !safeRequestActions[action] {
		return fmt.Sprintf("http-request %s could answer, drop or reroute requests before Ray's rules; add it by hand if still needed", w[1])
	}
	return ""
}

// sameAsRay reports a line Ray's target section already has word for word
// (Ray's own config fed back in, or a line copied from it) as the default.
func (m *migrator) sameAsRay(r *Row, l *config.Line, t target) bool {
	ray := linesWithKey(m.raySection(t), l.Key())
	if !hasWords(ray, l.Words) {
		return false
	}
	r.Ray = describeLines(ray)
	r.How, r.Detail, r.Target = ByDefault, "already in Ray's "+t.title(), t.selector()
	return true
}

// frontendOnly are keys of a listen section that act on the client side and
// so belong to Ray's http_frontend, not its backends.
var frontendOnly = map[string]bool{
	"timeout client": true, "timeout client-fin": true, "timeout http-request": true,
	"maxconn": true, "rate-limit": true, "option httplog": true, "option tcplog": true,
	"option dontlognull": true, "option http-ignore-probes": true, "unique-id-format": true,
	"unique-id-header": true, "log-format": true, "capture": true, "declare": true,
	"option forwardfor": true, "tcp-request": true, "monitor-uri": true,
}

// replicaSection carries a backend or listen holding their replica servers
// onto Ray's application backends, with d the defaults in effect for it.
func (m *migrator) replicaSection(s *config.Section, d *config.Section) {
	acls := aclNames(s)
	var servers []*config.Line
	for _, l := range s.Body {
		if !l.IsDirective() {
			continue
		}
		key := l.Key()
		w := l.Words
		switch {
		case w[0] == "server" || w[0] == "server-template":
			servers = append(servers, l)
			continue
		case w[0] == "default-server":
			continue // its parameters are reported one by one below
		case w[0] == "http-check":
			continue // carried as one sequence below
		}
		r := m.row(s, l, key)
		if m.sameAsRay(r, l, tBackends) {
			continue
		}
		switch {
		case s.Kind == "listen" && (frontendOnly[key] || frontendOnly[w[0]] || w[0] == "bind" || w[0] == "use_backend" || w[0] == "default_backend" || w[0] == "stats" || w[0] == "redirect" || w[0] == "monitor"):
			m.frontendLine(r, l, acls)
		case w[0] == "acl":
			m.notCarried(r, "their ACLs serve their own rules; Ray's sections have their own")
		case w[0] == "http-request" || w[0] == "http-response" || w[0] == "http-after-response":
			if why := ruleRisk(w, acls); why != "" {
				m.notCarried(r, "%s", why)
				continue
			}
			m.snippet(r, l, tBackends, precSection)
		case key == "timeout connect" || key == "timeout server" || key == "timeout queue":
			// In their backend, this overrides their defaults for these
			// servers only; Ray's variables write defaults, so a snippet on
			// the application backends is the faithful carrier.
			m.snippet(r, l, tBackends, precSection)
		default:
			m.proxyLine(r, l, tBackends, precSection)
		}
	}
	if len(servers) > 0 {
		r := m.row(s, servers[0], "server")
		r.Their = fmt.Sprintf("%s: %s", plural(len(servers), "line"), summarizeServers(servers))
		r.Ray = describeServers(m.rayBackend)
		m.notCarried(r, "Ray writes one server line per replica; their parameters are carried below")
	}
	m.httpChecks(s, precSection)
	m.params(s, d, servers)
}

func summarizeServers(ls []*config.Line) string {
	addr := func(l *config.Line) string {
		if l.Words[0] == "server-template" && len(l.Words) >= 4 {
			return l.Words[1] + " " + l.Words[2] + " " + l.Words[3]
		}
		return l.Words[1] + " " + l.Words[2]
	}
	if len(ls) == 1 {
		return addr(ls[0])
	}
	return addr(ls[0]) + " ... " + addr(ls[len(ls)-1])
}

// plural writes "1 line", "2 lines".
func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func describeServers(s *config.Section) string {
	if s == nil {
		return "nothing"
	}
	n := 0
	for _, l := range s.Body {
		if len(l.Words) > 0 && l.Words[0] == "server" {
			n++
		}
	}
	return fmt.Sprintf("%s, generated", plural(n, "server line"))
}
