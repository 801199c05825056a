package migrate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/serve-launch/serve-launch/internal/patch/config"
)

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
			if l.NumWords() >= 3 && (l.Keyword() == "server" || l.Keyword() == "server-template") {
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
		for _, kw := range []string{"default_backend", "use_backend"} {
			for l := range s.Lines(kw) {
				if l.NumWords() >= 2 && names[l.Word(1)] {
					m.httpFE[s] = true
				}
			}
		}
	}
	return nil
}

// maxServers bounds the replica count: Migrate renders Ray's config with one
// server line per replica, and a server-template of millions of slots would
// run it out of memory. config.Replicas refuses one server-template of more
// at the same number.
const maxServers = 1 << 16

// countServers counts the replicas of their replica sections (see
// config.Replicas), summed over the sections: their backends are separate
// applications, each with its own replicas, even where server names repeat
// across them. More than maxServers is an error at the line that passes it.
func countServers(sections []*config.Section, replica map[*config.Section]bool) (int, error) {
	n := 0
	for _, s := range sections {
		if !replica[s] {
			continue
		}
		r := config.NewReplicas(len(s.Body))
		for _, l := range s.Body {
			if !r.Add(l) || n+r.Len() > maxServers {
				return 0, config.Errorf(l.Pos, "more than %d replica servers; migrate takes at most that many", maxServers)
			}
		}
		n += r.Len()
	}
	return n, nil
}

// preamble reports the directives before the first section header, which
// would otherwise be left out of the report without a word. haproxy refuses
// them ("unknown keyword ... out of section"), so nothing carries them.
func (m *migrator) preamble() {
	for _, l := range m.their.Preamble {
		if !l.IsDirective() {
			continue
		}
		r := &Row{Setting: "before any section: " + l.Keyword(), Their: strings.Join(l.Words(), " "), Pos: l.Pos}
		m.rows = append(m.rows, r)
		m.notCarried(r, "outside any section, where haproxy refuses it; move it into the section it belongs to")
	}
}

// unusedParams reports the default-server parameters no replica section
// took: those of a defaults section that applies to none of them, and those
// a later parameter of the same name replaced. Without this they would be
// left out of the report.
func (m *migrator) unusedParams(used map[*config.Section]bool) {
	for _, s := range m.their.Sections {
		if s.Kind != "defaults" && !m.replica[s] {
			continue
		}
		for l := range s.Lines("default-server") {
			for _, p := range parseParams(l.Words()[1:], l, 0) {
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

func isMetrics(s *config.Section) bool {
	if s.Kind != "frontend" && s.Kind != "listen" {
		return false
	}
	for _, l := range s.Body {
		if l.HasWord("prometheus-exporter") {
			return true
		}
	}
	return false
}

func isStats(s *config.Section) bool {
	if s.Kind != "frontend" && s.Kind != "listen" {
		return false
	}
	for l := range s.Lines("stats") {
		if l.NumWords() >= 2 && (l.Word(1) == "enable" || l.Word(1) == "uri") {
			return true
		}
	}
	return false
}

// wholeSection reports a section of theirs that has no counterpart in Ray's
// config.
func (m *migrator) wholeSection(s *config.Section) {
	n := 0
	for _, l := range s.Body {
		if l.IsDirective() {
			n++
		}
	}
	r := &Row{Setting: s.Title(), Their: fmt.Sprintf("%s (%s)", strings.Join(s.Header.Words(), " "), plural(n, "line")), Pos: s.Header.Pos, Ray: "nothing"}
	m.rows = append(m.rows, r)
	switch s.Kind {
	case "frontend":
		m.notCarried(r, "does not route to their replica backends; Ray's only client-facing frontend is http_frontend")
	case "backend", "listen":
		m.notCarried(r, "holds no servers; Ray's default_backend answers paths no application serves")
	case "userlist":
		m.notCarried(r, "Ray's config has no users; credentials are not copied into snippets")
	default:
		m.notCarried(r, "Ray's config has no %s section; add one with a [[section]] snippet by hand if still needed", s.Kind)
	}
}

// sectionOf finds the section holding line l.
func sectionOf(f *config.File, l *config.Line) *config.Section {
	for _, s := range f.Sections {
		if slices.Contains(s.Body, l) {
			return s
		}
	}
	return &config.Section{Kind: "?"}
}
