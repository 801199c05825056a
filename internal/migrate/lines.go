package migrate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/serve-launch/serve-launch/internal/patch/config"
)

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
		if name, ok := globalVars[key]; ok && l.NumWords() == 2 {
			m.variable(r, l, tGlobal, name, l.Word(1), precDefaults)
			continue
		}
		if strings.HasPrefix(key, "stats socket") {
			r.Ray = describeLines(socketLines(m.rayGlobal))
			if hasWords(socketLines(m.rayGlobal), l.Words()) {
				r.How, r.Detail, r.Target = ByDefault, "already in Ray's config", tGlobal.selector()
				continue
			}
			m.notCarried(r, "Ray drives haproxy through its own admin socket (RAY_SERVE_HAPROXY_SOCKET_PATH); a second one is not needed")
			continue
		}
		if reason, ok := globalNotCarried[l.Keyword()]; ok {
			ray := m.rayLines(tGlobal, key)
			r.Ray = describeLines(ray)
			if hasWords(ray, l.Words()) {
				r.How, r.Detail, r.Target = ByDefault, "already in Ray's config", tGlobal.selector()
				continue
			}
			m.notCarried(r, "%s", reason)
			continue
		}
		m.snippet(r, l, tGlobal, precDefaults)
	}
}

func (m *migrator) defaults(s *config.Section) {
	for _, l := range s.Body {
		if !l.IsDirective() {
			continue
		}
		key := l.Key()
		if l.Keyword() == "default-server" {
			continue // reported with the replica sections it applies to
		}
		if l.Keyword() == "http-check" {
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
	for l := range s.Lines("http-check") {
		r := m.row(s, l, l.Key())
		seq.lines = append(seq.lines, &snipLine{claim: claim{prec: prec, sec: s, row: r, from: m.from(l)}, text: snippetText(l.Words()), key: l.Key()})
	}
	if len(seq.lines) == 0 {
		return
	}
	ray := linesWithKey(m.rayBackend, "http-check")
	seq.same = len(ray) == len(seq.lines)
	for i, sl := range seq.lines {
		sl.row.Ray = describeLines(ray)
		sl.row.Target = tBackends.selector()
		if seq.same && snippetText(ray[i].Words()) != sl.text {
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
		// As one rule list they replace or conflict whole; no http-check
		// keyword is first-wins.
		case judge(claim{prec: prev.prec, sec: prev.sec}, prec, s, "http-check") != conflicts:
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
	w := l.Words()
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
	if hasWords(ray, l.Words()) {
		// An earlier value of theirs that this line replaces must not be
		// set over Ray's line, which says what theirs ends with.
		acc := m.edits[t]
		if i := slices.IndexFunc(acc.set, func(sl *snipLine) bool { return sl.key == key }); i >= 0 {
			prev := acc.set[i]
			if v := judge(prev.claim, prec, sectionOf(m.their, l), l.Keyword()); v != conflicts {
				if !m.settle(v, prev.claim, r, l.Keyword(), m.from(l)) {
					return
				}
				acc.set = slices.Delete(acc.set, i, i+1)
			}
		}
		r.How, r.Detail = ByDefault, "already in Ray's "+t.title()
		return
	}
	text := snippetText(l.Words())
	if derivedKeys[l.Keyword()] && m.servers >= 2 {
		last := l.Word(l.NumWords() - 1)
		if n, err := strconv.Atoi(last); err == nil && strconv.Itoa(n) == last && n > 0 && n%m.servers == 0 {
			per := n / m.servers
			text = snippetText(l.Words()[:l.NumWords()-1]) + fmt.Sprintf(" {{ mul .Servers %d }}", per)
			m.notes = append(m.notes, fmt.Sprintf("line %d: %s = %d servers x %d: written as {{ mul .Servers %d }}, so it follows the replica count Ray generates", l.Pos.Line, strings.Join(l.Words(), " "), m.servers, per, per))
			r.Detail = fmt.Sprintf(" as {{ mul .Servers %d }} (%d servers x %d)", per, m.servers, per)
		}
	}
	sl := &snipLine{claim: claim{prec: prec, sec: sectionOf(m.their, l), row: r, from: m.from(l)}, text: text, key: key}
	acc := m.edits[t]
	op := "set"
	switch {
	case config.IsListKey(key) && t == tFrontend && l.Keyword() == "http-request":
		// After Ray's own http-request rules (health check, routes), so
		// those keep answering first.
		sl.anchor, op = "http-request *", "insert after http-request *"
		acc.insert = append(acc.insert, sl)
	case config.IsListKey(key) || l.Keyword() == "acl":
		op = "add"
		acc.add = append(acc.add, sl)
	default:
		i := slices.IndexFunc(acc.set, func(prev *snipLine) bool { return prev.key == key })
		if i < 0 {
			acc.set = append(acc.set, sl)
			break
		}
		prev := acc.set[i]
		if prev.text == sl.text {
			r.How, r.Detail = BySnippet, "same line as "+posOf(prev.from)
			return
		}
		v := judge(prev.claim, prec, sl.sec, l.Keyword())
		if v == conflicts {
			m.notCarried(r, "conflicts with %s: one snippet line for all of Ray's %s", posOf(prev.from), t.title())
			return
		}
		if m.settle(v, prev.claim, r, l.Keyword(), sl.from) {
			acc.set[i] = sl
			r.How, r.Detail = BySnippet, fmt.Sprintf("%s set", t.title())+r.Detail
		}
		return
	}
	r.How, r.Detail = BySnippet, fmt.Sprintf("%s %s", t.title(), op)+r.Detail
}

// snippetText writes words back as one HAProxy line, quoting where needed and
// escaping "{{" so the snippet engine's template pass leaves it alone.
func snippetText(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strings.ReplaceAll(config.Quote(w), "{{", `{{"{{"}}`)
	}
	return strings.Join(q, " ")
}
