// Package audit finds risky settings in a haproxy config that Ray generated
// (and serve-launch patched): what any local user or the network can reach
// that it should not. Each finding names the example snippet that fixes it.
// `serve-launch check --audit` prints them.
package audit

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/serve-launch/serve-launch/internal/patch/config"
)

// The example snippets that fix a finding: in the repository's overrides.d,
// and in the one `serve-launch init` writes.
const (
	ExampleAdminSocket  = "overrides.d/90-admin-socket.toml.example"
	ExampleLoopbackBind = "overrides.d/91-loopback-stats.toml.example"
)

// Finding is one risky line.
type Finding struct {
	Pos     config.Position
	Message string
	// Fix is the example snippet that fixes it.
	Fix string
}

// String gives "FILE:LINE: MESSAGE; fix: ...".
func (f Finding) String() string {
	return fmt.Sprintf("%s: %s; fix: enable the example snippet %s (serve-launch init writes it; rename it without .example in your overrides directory)", f.Pos, f.Message, f.Fix)
}

// Config audits a parsed config.
func Config(f *config.File) []Finding {
	var out []Finding
	for _, s := range f.Sections {
		if s.Kind == "global" {
			for l := range s.Lines("stats") {
				if fd, ok := adminSocket(l); ok {
					out = append(out, fd)
				}
			}
		}
		what := exposedService(s)
		if what == "" {
			continue
		}
		for l := range s.Lines("bind") {
			w := l.Words()
			if len(w) < 2 {
				continue
			}
			for _, addr := range strings.Split(w[1], ",") {
				if allInterfaces(addr) {
					out = append(out, Finding{Pos: l.Pos, Fix: ExampleLoopbackBind, Message: fmt.Sprintf(
						"%s (%s) is bound on all interfaces (bind %s) with no authentication: anyone who can reach this host can read it; bind it to 127.0.0.1 or an internal address",
						s.Title(), what, addr)})
				}
			}
		}
	}
	return out
}

// adminSocket reports a `stats socket` that others can connect to: a unix
// socket whose mode gives group or others write access (connecting needs
// write), or a TCP socket on all interfaces.
func adminSocket(l *config.Line) (Finding, bool) {
	w := l.Words()
	if len(w) < 3 || w[0] != "stats" || w[1] != "socket" {
		return Finding{}, false
	}
	path := w[2]
	level := "operator" // haproxy's default for a stats socket
	mode := -1
	for i := 3; i+1 < len(w); i++ {
		switch w[i] {
		case "level":
			level = w[i+1]
		case "mode":
			if m, err := strconv.ParseUint(w[i+1], 8, 32); err == nil {
				mode = int(m)
			}
		}
	}
	if !strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "unix@") {
		if allInterfaces(path) {
			return Finding{Pos: l.Pos, Fix: ExampleAdminSocket, Message: fmt.Sprintf(
				"the stats socket %s (level %s) listens on all interfaces: anyone who can reach this host can drive haproxy", path, level)}, true
		}
		return Finding{}, false
	}
	if mode < 0 || mode&0o022 == 0 {
		return Finding{}, false
	}
	who := "any local user"
	if mode&0o002 == 0 {
		who = "any user of the socket's group"
	}
	msg := fmt.Sprintf("the stats socket %s has mode %03o at level %s: %s can connect to it", path, mode, level, who)
	if level == "admin" {
		msg += " and take haproxy over (disable servers, change weights, shut it down)"
	}
	if under, ok := sharedTmp(path); ok {
		msg += fmt.Sprintf("; it sits under %s, a directory every local user shares", under)
	}
	return Finding{Pos: l.Pos, Fix: ExampleAdminSocket, Message: msg}, true
}

func sharedTmp(path string) (string, bool) {
	path = strings.TrimPrefix(path, "unix@")
	for _, d := range []string{"/tmp/", "/var/tmp/", "/dev/shm/"} {
		if strings.HasPrefix(path, d) {
			return strings.TrimSuffix(d, "/"), true
		}
	}
	return "", false
}

// exposedService says what a frontend or listen section serves that is not
// meant for the public: the stats page or the Prometheus exporter. "" for
// anything else (Ray's HTTP frontend must listen where clients are).
func exposedService(s *config.Section) string {
	if s.Kind != "frontend" && s.Kind != "listen" {
		return ""
	}
	for _, l := range s.Body {
		w := l.Words()
		switch {
		case len(w) >= 2 && w[0] == "stats" && (w[1] == "enable" || w[1] == "uri"):
			return "the stats page"
		case len(w) >= 3 && w[0] == "http-request" && w[1] == "use-service" && w[2] == "prometheus-exporter":
			return "the Prometheus metrics"
		}
	}
	return ""
}

// allInterfaces reports whether a bind address listens on every interface:
// ":PORT", "*:PORT", "0.0.0.0:PORT", ":::PORT", "[::]:PORT", with an
// optional ipv4@/ipv6@/tcp@ prefix.
func allInterfaces(addr string) bool {
	if i := strings.Index(addr, "@"); i >= 0 {
		switch addr[:i] {
		case "ipv4", "ipv6", "tcp", "tcp4", "tcp6":
			addr = addr[i+1:]
		default:
			return false // unix@, abns@, fd@, sockpair@...
		}
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return false
	}
	switch addr[:i] {
	case "", "*", "0.0.0.0", "::", "[::]":
		return true
	}
	return false
}
