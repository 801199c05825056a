package migrate

import (
	"fmt"
	"strings"

	"github.com/serve-launch/serve-launch/internal/patch/config"
)

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
	w := l.Words()
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

func aclNames(s *config.Section) map[string]bool {
	acls := map[string]bool{}
	for l := range s.Lines("acl") {
		if l.NumWords() >= 2 {
			acls[l.Word(1)] = true
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
	if !hasWords(ray, l.Words()) {
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
		w := l.Words()
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
		if l.Keyword() == "server-template" && l.NumWords() >= 4 {
			return l.Word(1) + " " + l.Word(2) + " " + l.Word(3)
		}
		return l.Word(1) + " " + l.Word(2)
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
