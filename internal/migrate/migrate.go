package migrate

import (
	"fmt"
	"strings"

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
	claim
	value string
}

// snipLine is one line of the snippet, with the row that explains it.
type snipLine struct {
	// claim's from is the comment after the line.
	claim
	text   string // the line (a template when it has actions)
	key    string
	anchor string // for insert: the glob to insert after
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

// row starts a report row for their line l in section s.
func (m *migrator) row(s *config.Section, l *config.Line, setting string) *Row {
	r := &Row{Setting: s.Title() + ": " + setting, Their: strings.Join(l.Words(), " "), Pos: l.Pos}
	m.rows = append(m.rows, r)
	return r
}

func (m *migrator) notCarried(r *Row, format string, args ...any) {
	r.How, r.Target, r.Param = NotCarried, "", false
	r.Detail = fmt.Sprintf(format, args...)
}

func (m *migrator) from(l *config.Line) string {
	return fmt.Sprintf("%s:%d: %s", m.name, l.Pos.Line, strings.Join(l.Words(), " "))
}
