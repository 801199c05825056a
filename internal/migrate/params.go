package migrate

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/patch/config"
)

// serverParamNotCarried gives the reason for parameters that only make sense
// per server, when Ray writes the servers.
var serverParamNotCarried = map[string]string{
	"backup":   "Ray decides which servers are backups",
	"disabled": "Ray writes the servers of running replicas only",
	"id":       "server ids are per server, and Ray writes the servers",
	"cookie":   "cookie values are per server, and Ray writes the servers",
	"addr":     "a check address is per server, and Ray writes the servers",
	"track":    "tracks a server of their config that Ray's does not have",
	"redir":    "a redirect prefix is per server, and Ray writes the servers",
}

type param struct {
	name, value string
	flag        bool
	line        *config.Line
	prec        int
}

func (p param) text() string {
	if p.flag {
		return p.name
	}
	return p.name + " " + p.value
}

// parseParams reads parameter words: a flag alone, anything else with a value.
func parseParams(words []string, l *config.Line, prec int) []param {
	var ps []param
	for _, w := range config.SplitParams(words) {
		p := param{name: w[0], flag: len(w) == 1, line: l, prec: prec}
		if !p.flag {
			p.value = w[1]
		}
		ps = append(ps, p)
	}
	return ps
}

// paramSet is an ordered set of parameters by name; a later one replaces.
type paramSet struct {
	order []string
	by    map[string]param
}

func (ps *paramSet) put(p param) {
	if ps.by == nil {
		ps.by = map[string]param{}
	}
	if _, ok := ps.by[p.name]; !ok {
		ps.order = append(ps.order, p.name)
	}
	ps.by[p.name] = p
}

// serverParams returns the parameters of a server or server-template line.
func serverParams(l *config.Line) []param {
	start := 3
	if l.Keyword() == "server-template" {
		start = 4
	}
	if start > l.NumWords() {
		return nil
	}
	return parseParams(l.Words()[start:], l, precSection)
}

// params reports and carries the server parameters in effect for their
// replica section s: default-server of their defaults d, then of s, then
// what every server line of s says alike.
func (m *migrator) params(s, d *config.Section, servers []*config.Line) {
	var eff paramSet
	for _, sec := range []*config.Section{d, s} {
		if sec == nil {
			continue
		}
		prec := precSection
		if sec == d {
			prec = precDefaults
		}
		for l := range sec.Lines("default-server") {
			for _, p := range parseParams(l.Words()[1:], l, prec) {
				eff.put(p)
			}
		}
	}

	// Parameters of the server lines: those all servers share are carried
	// like default-server ones; the others cannot be, since Ray writes one
	// set of parameters for every replica.
	var common paramSet
	per := make([]map[string]param, len(servers))
	var names []string
	for i, l := range servers {
		per[i] = map[string]param{}
		for _, p := range serverParams(l) {
			per[i][p.name] = p
			if !slices.Contains(names, p.name) {
				names = append(names, p.name)
			}
		}
	}
	for _, name := range names {
		first, ok := per[0][name]
		same := ok
		for _, ps := range per[1:] {
			if p, ok := ps[name]; !ok || p.text() != first.text() {
				same = false
			}
		}
		if same {
			common.put(first)
			continue
		}
		var at *config.Line
		for i := range per {
			if p, ok := per[i][name]; ok {
				at = p.line
				break
			}
		}
		r := m.row(s, at, "server "+name)
		r.Their = fmt.Sprintf("%s on some servers or with different values", name)
		if reason, ok := serverParamNotCarried[name]; ok {
			m.notCarried(r, "%s", reason)
		} else {
			m.notCarried(r, "differs between their servers; Ray gives every replica the same parameters")
		}
	}
	for _, name := range common.order {
		eff.put(common.by[name])
	}

	rayParams := m.rayDefaultServer()
	for _, name := range eff.order {
		p := eff.by[name]
		id := fmt.Sprintf("%d/%s", p.line.Pos.Line, name)
		if m.seenParam[id] {
			continue
		}
		m.seenParam[id] = true
		kw := p.line.Keyword()
		r := m.row(sectionOf(m.their, p.line), p.line, kw+" "+name)
		r.Their = p.text()
		r.Target, r.Param = tBackends.selector(), true
		if rp, ok := rayParams.by[name]; ok {
			r.Ray = "default-server " + rp.text()
		} else {
			r.Ray = "nothing"
		}
		switch {
		case paramVars[name] != "" && !p.flag:
			v, _ := envmap.Lookup(paramVars[name])
			val, isDefault, why := fitVar(v, p.value)
			if why == "" {
				m.setEnv(r, v.Name, val, isDefault, p.prec, p.line)
				continue
			}
			m.addParam(r, p)
			r.Detail += " (" + why + ")"
		case serverParamNotCarried[name] != "":
			m.notCarried(r, "%s", serverParamNotCarried[name])
		case ok(rayParams.by[name]) && rayParams.by[name].text() == p.text():
			r.How, r.Detail = ByDefault, "already on Ray's default-server"
		default:
			m.addParam(r, p)
		}
	}
	m.absentIntervals(s, eff, rayParams, servers)
}

func ok(p param) bool { return p.name != "" }

// rayDefaultServer returns the parameters of Ray's default-server line in
// its first application backend.
func (m *migrator) rayDefaultServer() paramSet {
	var ps paramSet
	if m.rayBackend == nil {
		return ps
	}
	for l := range m.rayBackend.Lines("default-server") {
		for _, p := range parseParams(l.Words()[1:], l, 0) {
			ps.put(p)
		}
	}
	return ps
}

// addParam carries a parameter through params on Ray's default-server.
func (m *migrator) addParam(r *Row, p param) {
	acc := m.edits[tBackends]
	sl := &snipLine{claim: claim{prec: p.prec, sec: sectionOf(m.their, p.line), row: r, from: m.from(p.line)}, text: p.text(), key: p.name}
	for i, prev := range acc.params {
		if prev.key != p.name {
			continue
		}
		if prev.text == sl.text {
			r.How, r.Detail = BySnippet, "same as "+posOf(prev.from)
			return
		}
		// Parameters come one per name from each of their sections (see
		// params), so only overrides and conflicts arise here.
		v := judge(prev.claim, p.prec, sl.sec, p.name)
		if v == conflicts {
			m.notCarried(r, "conflicts with %s: one default-server for all of Ray's application backends", posOf(prev.from))
			return
		}
		if m.settle(v, prev.claim, r, p.name, sl.from) {
			acc.params[i] = sl
			r.How, r.Detail = BySnippet, "app backends params on default-server"
		}
		return
	}
	acc.params = append(acc.params, sl)
	r.How, r.Detail = BySnippet, "app backends params on default-server"
}

// absentIntervals reports the check intervals Ray always writes but their
// config leaves to haproxy, which then uses inter.
func (m *migrator) absentIntervals(s *config.Section, eff paramSet, ray paramSet, servers []*config.Line) {
	_, checks := eff.by["check"]
	if !checks || len(servers) == 0 {
		return
	}
	inter := "2s" // haproxy's default inter
	if p, ok := eff.by["inter"]; ok {
		inter = p.value
	}
	for _, name := range []string{"fastinter", "downinter"} {
		rp, rayHas := ray.by[name]
		if _, ok := eff.by[name]; ok || !rayHas || m.seenParam["absent/"+name] {
			continue
		}
		m.seenParam["absent/"+name] = true
		r := m.row(s, servers[0], "default-server "+name)
		r.Their = fmt.Sprintf("absent (haproxy uses inter %s)", inter)
		r.Ray = "default-server " + rp.text()
		m.notCarried(r, "Ray always writes %s; harmless (it only re-checks a changing or down replica sooner); %s=%s would match exactly", name, paramVars[name], inter)
	}
}

// fixed handles their metrics or stats section: Ray generates its own, so
// only the port maps, and only for metrics to a variable.
func (m *migrator) fixed(s *config.Section, ray *config.Section, what string) {
	for _, l := range s.Body {
		if !l.IsDirective() {
			continue
		}
		r := m.row(s, l, l.Key())
		r.Target = ray.Title()
		w := l.Words()
		if w[0] == "bind" && len(w) >= 2 {
			r.Ray = describeLines(bindLines(ray))
			addr := w[1]
			port := addr[strings.LastIndex(addr, ":")+1:]
			if what == "metrics" {
				m.setEnvFromBind(r, l, port)
				continue
			}
			rayPort := ""
			if b := bindLines(ray); len(b) > 0 && b[0].NumWords() >= 2 {
				rayPort = b[0].Word(1)[strings.LastIndex(b[0].Word(1), ":")+1:]
			}
			if port == rayPort {
				r.How, r.Detail = ByDefault, "Ray's stats page is on the same port"
				continue
			}
			m.notCarried(r, "Ray 2.55 fixes the stats port at %s (RAY_SERVE_HAPROXY_STATS_PORT is read only after 2.55)", rayPort)
			continue
		}
		ls := linesWithKey(ray, l.Key())
		if len(ls) == 0 {
			ls = linesWithKey(m.rayDefaults, l.Key())
		}
		r.Ray = describeLines(ls)
		if hasWords(ls, w) {
			r.How, r.Detail = ByDefault, "already in Ray's config"
			continue
		}
		switch {
		case what == "stats" && len(w) >= 2 && w[0] == "stats" && w[1] == "auth":
			m.notCarried(r, "credentials are not copied into snippets; Ray's stats page has no auth: add a stats auth line to listen stats by hand if you want one")
		case what == "stats":
			m.notCarried(r, "Ray generates its own listen stats; edit it with a snippet by hand if you need this")
		default:
			m.notCarried(r, "Ray generates its own prometheus frontend; only its port is a variable")
		}
	}
}

func (m *migrator) setEnvFromBind(r *Row, l *config.Line, port string) {
	v, _ := envmap.Lookup("RAY_SERVE_HAPROXY_METRICS_PORT")
	val, isDefault, why := fitVar(v, port)
	if why != "" {
		m.notCarried(r, "%s", why)
		return
	}
	m.setEnv(r, v.Name, val, isDefault, precSection, l)
	if host := strings.TrimSuffix(l.Word(1), ":"+port); host != "" && host != "*" && host != "0.0.0.0" && host != "::" {
		r.Detail += fmt.Sprintf(" (Ray binds all interfaces, not %s)", host)
	}
}

// rowsSorted returns the rows in the order of their config's lines.
func (m *migrator) rowsSorted() []Row {
	rows := make([]Row, len(m.rows))
	for i, r := range m.rows {
		rows[i] = *r
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Pos.Line < rows[j].Pos.Line })
	return rows
}

// envEntries returns the variables to write, in the order of envmap's table.
func (m *migrator) envEntries() []EnvEntry {
	var es []EnvEntry
	for _, v := range envmap.Table() {
		e, ok := m.env[v.Name]
		if !ok || e.row.How != ByVariable {
			continue
		}
		es = append(es, EnvEntry{Name: v.Name, Value: e.value, From: e.from})
	}
	return es
}
