package migrate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/serve-launch/serve-launch/internal/patch/config"
)

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
		return fmt.Sprintf("%d %s rules", len(ls), ls[0].Keyword())
	}
	var parts []string
	for _, l := range ls {
		parts = append(parts, strings.Join(l.Words(), " "))
	}
	return strings.Join(parts, "; ")
}

// socketLines are the stats socket lines of Ray's section s, which may be
// missing (nil).
func socketLines(s *config.Section) []*config.Line {
	if s == nil {
		return nil
	}
	var ls []*config.Line
	for l := range s.Lines("stats") {
		if l.NumWords() >= 2 && l.Word(1) == "socket" {
			ls = append(ls, l)
		}
	}
	return ls
}

// bindLines are the bind lines of Ray's section s, which may be missing.
func bindLines(s *config.Section) []*config.Line {
	if s == nil {
		return nil
	}
	return slices.Collect(s.Lines("bind"))
}

// hasWords reports whether one of ls says words.
func hasWords(ls []*config.Line, words []string) bool {
	return slices.ContainsFunc(ls, func(l *config.Line) bool { return l.SameWords(words) })
}

// describeServers says how many server lines Ray's section s has.
func describeServers(s *config.Section) string {
	if s == nil {
		return "nothing"
	}
	n := 0
	for range s.Lines("server") {
		n++
	}
	return fmt.Sprintf("%s, generated", plural(n, "server line"))
}
