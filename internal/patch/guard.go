package patch

import (
	"fmt"
	"sort"
	"strings"
)

// Ray drives the running haproxy through its admin socket and regenerates the
// file on every reload, so some lines are load-bearing for Ray. guardFacts lists
// them; an edit that makes one disappear is refused unless it says force = true.
//
// Each fact maps to the sentence that says why Ray needs it.
//
// Facts belong to one section each, so an edit's guard only needs the facts
// of the sections it matched.
func guardFacts(sections []*Section) map[string]string {
	facts := map[string]string{}
	for _, s := range sections {
		switch {
		case s.Kind == "global":
			for _, l := range s.Body {
				w := l.Words
				if len(w) >= 3 && w[0] == "stats" && w[1] == "socket" && hasWord(w, "admin") {
					why := "Ray talks to haproxy over this admin socket (show info, show stat, show servers state) and passes it to -x on reloads"
					facts["admin socket "+w[2]] = why
					facts["admin socket "+w[2]+" level admin"] = why
					if hasSeq(w, "expose-fd", "listeners") {
						facts["admin socket "+w[2]+" expose-fd listeners"] = "Ray's reloads (-x) take the listening sockets over from this socket"
					}
				}
			}
		case s.Kind == "backend" || s.Kind == "listen":
			facts[s.Kind+" "+s.Name] = "Ray finds backends by name in show stat; renaming one breaks readiness and drain silently"
			for _, l := range s.Body {
				w := l.Words
				if len(w) >= 2 && (w[0] == "server" || w[0] == "server-template") {
					facts[fmt.Sprintf("%s %s in %s", w[0], w[1], s.Title())] = "server names are how Ray and haproxy's server-state file identify replicas"
				}
			}
		}
		if isRayHTTPFrontend(s) {
			acls := map[string]bool{}
			for _, l := range s.Body {
				w := l.Words
				if len(w) >= 2 && w[0] == "bind" {
					facts[fmt.Sprintf("%s: %s", s.Title(), strings.Join(w, " "))] = "Ray serves HTTP on this bind and probes it"
				}
				if len(w) >= 3 && w[0] == "acl" && (hasWord(w, "/-/healthz") || hasWord(w, "/-/routes")) {
					acls[w[1]] = true
					facts[fmt.Sprintf("%s: %s", s.Title(), strings.Join(w, " "))] = "Ray's /-/healthz and /-/routes endpoints answer from these rules"
				}
			}
			for _, l := range s.Body {
				w := l.Words
				if len(w) >= 2 && w[0] == "http-request" {
					for _, x := range w {
						if acls[x] {
							facts[fmt.Sprintf("%s: %s", s.Title(), strings.Join(w, " "))] = "Ray's /-/healthz and /-/routes endpoints answer from these rules"
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
var guardKeywords = map[string]bool{"stats": true, "server": true, "server-template": true, "bind": true, "acl": true}

// mayTripGuard reports whether e can remove or change a guarded line: add and
// insert only add lines, params keep a server's name, and set only replaces
// lines of its own key.
func mayTripGuard(e *edit) bool {
	if len(e.delete) > 0 {
		return true
	}
	for _, op := range e.params {
		if op.on.match("bind") {
			return true
		}
	}
	for _, tl := range e.set {
		f := strings.Fields(tl.text)
		if len(f) == 0 || guardKeywords[f[0]] || strings.Contains(f[0], "{{") {
			return true
		}
	}
	return false
}

// isRayHTTPFrontend reports whether s is the frontend that serves Ray's HTTP
// port: Ray names it http_frontend and puts its /-/healthz rule there.
func isRayHTTPFrontend(s *Section) bool {
	if s.Kind != "frontend" && s.Kind != "listen" {
		return false
	}
	if s.Name == "http_frontend" {
		return true
	}
	for _, l := range s.Body {
		if len(l.Words) > 0 && l.Words[0] == "acl" && hasWord(l.Words, "/-/healthz") {
			return true
		}
	}
	return false
}

func hasSeq(words []string, a, b string) bool {
	for i := 0; i+1 < len(words); i++ {
		if words[i] == a && words[i+1] == b {
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
