package config

import (
	"path/filepath"
	"strings"
)

// Facts are what running a configuration needs to know of it, besides
// haproxy itself: where to talk to it, where it keeps its server state and
// what it listens on.
type Facts struct {
	// AdminSocket is the path of the first `stats socket` of a global
	// section that says `level admin`, without a unix@ prefix; "" when
	// there is none on a file system path.
	AdminSocket string
	// ServerStateFile is the global server-state-file, joined to
	// server-state-base when it is relative; "" when there is none.
	ServerStateFile string
	// Listeners are the addresses of the bind lines of frontends and
	// listens, in load order.
	Listeners []string
}

// Facts reads f's [Facts].
func (f *File) Facts() Facts { return FactsOf(f) }

// FactsOf reads the [Facts] of the files of one configuration, given in
// the order haproxy loads them (-f a -f b): its global sections merge, so a
// server-state-base in one file applies to a server-state-file in another.
func FactsOf(files ...*File) Facts {
	var facts Facts
	var base, file string
	for _, f := range files {
		for _, s := range f.Sections {
			switch s.Kind {
			case "global":
				for _, l := range s.Body {
					n := l.NumWords()
					switch kw := l.Keyword(); {
					case n >= 3 && kw == "stats" && l.Word(1) == "socket":
						addr := strings.TrimPrefix(l.Word(2), "unix@")
						if facts.AdminSocket == "" && strings.HasPrefix(addr, "/") && l.HasPair("level", "admin") {
							facts.AdminSocket = addr
						}
					// Both are first-wins in haproxy (GlobalFirstWins).
					case n >= 2 && kw == "server-state-base" && base == "":
						base = l.Word(1)
					case n >= 2 && kw == "server-state-file" && file == "":
						file = l.Word(1)
					}
				}
			case "frontend", "listen":
				for l := range s.Lines("bind") {
					if l.NumWords() >= 2 {
						facts.Listeners = append(facts.Listeners, l.Word(1))
					}
				}
			}
		}
	}
	if file != "" && !strings.HasPrefix(file, "/") && base != "" {
		file = filepath.Join(base, file)
	}
	facts.ServerStateFile = file
	return facts
}
