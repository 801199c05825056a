package raycfg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Shape names a generation of Ray's haproxy template (RAY-HAPROXY.md §4).
type Shape string

const (
	// ShapeV1 is the first OSS template (PR #60586): `balance leastconn` in
	// every backend, no TCP_NODELAY.
	ShapeV1 Shape = "v1"
	// Shape255 is the best reconstruction of Ray 2.55: V1 plus
	// `option http-no-delay` (RAY_SERVE_HAPROXY_TCP_NODELAY=1) and
	// `balance <RAY_SERVE_HAPROXY_BALANCE_ALGORITHM>` as the last defaults
	// line, placed where #61988 put it (the backends lose their own balance).
	Shape255 Shape = "2.55"
	// ShapeMaster is master of late May 2026 ("F"): one log line, tune.bufsize,
	// splice options, the ingress request router and gRPC.
	ShapeMaster Shape = "master"
)

// ParseShape accepts "2.55", "v1" and "master" (also "F").
func ParseShape(s string) (Shape, error) {
	switch strings.ToLower(s) {
	case "2.55", "":
		return Shape255, nil
	case "v1":
		return ShapeV1, nil
	case "master", "f":
		return ShapeMaster, nil
	}
	return "", fmt.Errorf("unknown shape %q (want 2.55, v1 or master)", s)
}

// Messages Ray puts in the /-/healthz and /-/routes answers.
const (
	healthyMessage    = "success"
	drainingMessage   = "This node is being drained."
	noRoutesMessage   = "Route table is not populated yet."
	noReplicasMessage = "No replicas are available yet."
)

// Target is one server line, as Ray's Target/ServerConfig: Name is the raw
// actor name (for example `SERVE_REPLICA::app#dep#id`), sanitized when
// rendered.
type Target struct {
	Name string
	Host string
	Port int
	// ReplicaID is what the ingress request router returns for this replica
	// (master only); empty means the replica is not routable by the router.
	ReplicaID string
}

// App is one Serve application: a target group with a route prefix.
type App struct {
	Name        string
	RoutePrefix string
	// GRPC makes this a gRPC target group (master only): a `grpc-<app>`
	// backend routed by the `application` header.
	GRPC     bool
	Replicas []Target
	// Fallback is the head node's proxy, rendered as a `backup` server in
	// master (V1 never renders it: its template reads an unpassed variable).
	Fallback *Target
	// IngressRouters, when non-empty, give this app an ingress request router
	// (master only): `<be>-via-ingress-request-router` and the Lua dispatch.
	IngressRouters []Target
}

// Options describe one rendering; the zero value of each field means Ray's
// default.
type Options struct {
	// Shape selects the template generation; default Shape255.
	Shape Shape
	// Env is the environment Ray's constants.py would read.
	Env map[string]string
	// Apps are the target groups; Ray sorts them longest prefix first.
	Apps []App
	// HTTPHost is http_options.host; "" and 0.0.0.0 bind "*". Master forces "*".
	HTTPHost string
	// HTTPPort is http_options.port, default 8000.
	HTTPPort int
	// KeepAliveTimeoutS is http_options.keep_alive_timeout_s, default 90.
	KeepAliveTimeoutS int
	// StatsPort overrides the `listen stats` port. Real 2.55 hard-codes 8404;
	// master reads RAY_SERVE_HAPROXY_STATS_PORT. Tests set a free port here.
	StatsPort int
	// GRPCPort enables gRPC in master (0 = gRPC off).
	GRPCPort int
	// GRPCFallback is the head node's gRPC proxy (grpc_fallback_backend).
	GRPCFallback *Target
	// Draining renders /-/healthz as 503 "This node is being drained.".
	Draining bool
	// HadServers mirrors Ray's sticky has_received_servers: once any target
	// group had a server, /-/healthz stays "ready" even with none now.
	HadServers bool
	// IsHead marks the head node (master: healthy without servers).
	IsHead bool
	// H26Compat replaces master's tune.h2.be.*/tune.h2.fe.* lines (fatal on
	// haproxy 2.6) by the 2.6 global forms, so the F shape can run here.
	H26Compat bool
}

// Compiled on first use, since package init runs on every shim start.
var unsafeChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9._-]+`) })

// SafeName is Ray's get_safe_name: `#` -> `-`, `/` -> `.`, then every run of
// other characters outside [A-Za-z0-9._-] -> `_`.
func SafeName(name string) string {
	name = strings.NewReplacer("#", "-", "/", ".").Replace(name)
	return unsafeChars().ReplaceAllString(name, "_")
}

// BackendName is the backend Ray names for an app: `http-<app>` or
// `grpc-<app>`, sanitized.
func BackendName(app App) string {
	if app.GRPC {
		return SafeName("grpc-" + app.Name)
	}
	return SafeName("http-" + app.Name)
}

// ErrorFilePath is where Ray writes 500.http: beside the config.
func ErrorFilePath(configFile string) string {
	return filepath.Join(filepath.Dir(configFile), "500.http")
}

// ErrorFileContent is the full 500 response Ray writes to 500.http.
const ErrorFileContent = "HTTP/1.1 500 Internal Server Error\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Length: 21\r\n" +
	"\r\n" +
	"Internal Server Error"

// LuaPath is where master writes ingress_request_router.lua: beside the config.
func LuaPath(configFile string) string {
	return filepath.Join(filepath.Dir(configFile), "ingress_request_router.lua")
}

// backend is an app resolved for rendering.
type backend struct {
	App
	name    string
	servers []Target
	routers []Target
}

// Render returns the config Ray would generate for opts, byte for byte in
// the shape's template, including the jinja whitespace quirks and the final
// newline Ray appends.
func Render(opts Options) ([]byte, error) {
	if opts.Shape == "" {
		opts.Shape = Shape255
	}
	s, err := ReadEnv(opts.Env, opts.Shape)
	if err != nil {
		return nil, err
	}
	return RenderSettings(opts, s), nil
}

// RenderSettings is Render with the environment already read by ReadEnv, for
// callers that render many times from one environment.
func RenderSettings(opts Options, s Settings) []byte {
	if opts.HTTPPort == 0 {
		opts.HTTPPort = 8000
	}
	if opts.KeepAliveTimeoutS == 0 {
		opts.KeepAliveTimeoutS = 90
	}
	statsPort := 8404
	if opts.Shape == ShapeMaster {
		statsPort = s.StatsPort
	}
	if opts.StatsPort != 0 {
		statsPort = opts.StatsPort
	}
	master := opts.Shape == ShapeMaster

	var http, grpc []backend
	for _, a := range opts.Apps {
		b := backend{App: a, name: BackendName(a)}
		for _, t := range a.Replicas {
			t.Name = SafeName(t.Name)
			b.servers = append(b.servers, t)
		}
		for _, t := range a.IngressRouters {
			t.Name = SafeName(t.Name)
			b.routers = append(b.routers, t)
		}
		if b.Fallback != nil {
			f := *b.Fallback
			f.Name = SafeName(f.Name)
			b.Fallback = &f
		}
		if a.GRPC && master {
			grpc = append(grpc, b)
		} else {
			http = append(http, b)
		}
	}
	byPrefix := func(bs []backend) {
		sort.SliceStable(bs, func(i, j int) bool {
			pi, pj := bs[i].RoutePrefix, bs[j].RoutePrefix
			if len(pi) != len(pj) {
				return len(pi) > len(pj)
			}
			return pi < pj
		})
	}
	byPrefix(http)
	byPrefix(grpc)

	hasRouter := false
	if master {
		for _, b := range http {
			if len(b.routers) > 0 && routable(b) {
				hasRouter = true
			}
		}
	}
	grpcEnabled := master && opts.GRPCPort != 0

	w := &lines{}
	// global
	w.add("global")
	if master {
		w.add("    log %s local0 debug", s.LogTarget)
	} else {
		w.add("    # Log to the standard system log socket with debug level.")
		w.add("    log /dev/log local0 debug")
		w.add("    log 127.0.0.1:%d local0 debug", s.SyslogPort)
	}
	w.add("    stats socket %s mode 666 level admin expose-fd listeners", s.SocketPath)
	w.add("    stats timeout 30s")
	w.add("    maxconn %d", s.MaxConn)
	w.add("    nbthread %d", s.NBThread)
	if master {
		if hasRouter {
			w.add("    lua-load-per-thread %s", LuaPath(s.ConfigFile))
		}
		if hasRouter && s.RouterForwardBody {
			w.add("    tune.bufsize %d", s.RouterBufsize)
		} else {
			w.add("    tune.bufsize %d", s.TuneBufsize)
		}
	}
	if s.Optimized {
		w.add("    server-state-base %s", s.ServerStateBase)
		w.add("    server-state-file %s", s.ServerStateFile)
	}
	if s.HardStopAfterS != nil {
		w.add("    hard-stop-after %ds", *s.HardStopAfterS)
	}
	if grpcEnabled {
		w.add("    tune.h2.max-frame-size %d", s.H2MaxFrameSize)
		if opts.H26Compat {
			// haproxy 2.6 has only the global forms; the frontend values win.
			w.add("    tune.h2.initial-window-size %d", s.H2FEInitialWindowSize)
			w.add("    tune.h2.max-concurrent-streams %d", s.H2FEMaxConcurrentStreams)
		} else {
			w.add("    tune.h2.be.initial-window-size %d", s.H2BEInitialWindowSize)
			w.add("    tune.h2.be.max-concurrent-streams %d", s.H2BEMaxConcurrentStreams)
			w.add("    tune.h2.fe.initial-window-size %d", s.H2FEInitialWindowSize)
			w.add("    tune.h2.fe.max-concurrent-streams %d", s.H2FEMaxConcurrentStreams)
		}
	}

	// defaults: the six timeout tags are inline and untrimmed in the jinja
	// template, so an unset timeout leaves a line of exactly four spaces.
	w.add("defaults")
	w.add("    mode http")
	w.add("    option log-health-checks")
	timeout := func(name string, v *int) {
		if v == nil {
			w.add("    ")
			return
		}
		w.add("    timeout %s %ds", name, *v)
	}
	keepAlive := opts.KeepAliveTimeoutS
	timeout("connect", s.TimeoutConnectS)
	timeout("client", s.TimeoutClientS)
	timeout("server", s.TimeoutServerS)
	timeout("http-request", nil) // timeout_http_request_s is always None
	timeout("http-keep-alive", &keepAlive)
	timeout("queue", nil) // timeout_queue_s is always None
	w.add("    log global")
	w.add("    option httplog")
	w.add("    option abortonclose")
	if master {
		w.add("    option splice-request")
		w.add("    option splice-response")
	}
	if opts.Shape != ShapeV1 && s.TCPNoDelay {
		w.add("    # Set TCP_NODELAY on all connections")
		w.add("    option http-no-delay")
	}
	if s.Optimized {
		w.add("    option idle-close-on-response")
	}
	w.add("    # Normalize 502 and 504 errors to 500 per Serve's default behavior")
	errFile := ErrorFilePath(s.ConfigFile)
	w.add("    errorfile 502 %s", errFile)
	w.add("    errorfile 504 %s", errFile)
	if s.Optimized {
		w.add("    load-server-state-from-file global")
	}
	if opts.Shape != ShapeV1 {
		w.add("    balance %s", s.BalanceAlgorithm)
	}

	w.add("frontend prometheus")
	w.add("    bind :%d", s.MetricsPort)
	w.add("    mode http")
	w.add("    http-request use-service prometheus-exporter if { path /metrics }")
	w.add("    no log")

	// http_frontend
	host := opts.HTTPHost
	if host == "" || host == "0.0.0.0" || host == "::" || master {
		host = "*"
	}
	w.add("frontend http_frontend")
	w.add("    bind %s:%d", host, opts.HTTPPort)
	if master && hasRouter && s.RouterMetrics {
		w.add("    log global")
		w.add("    # Per-request metrics for the ingress request router. Goes only to the")
		w.add("    # rfc5424 target below; the inherited rfc3164 targets do not include the")
		w.add("    # SD section, so their byte stream is unchanged.")
		w.add("    log %s len 8192 format rfc5424 local1 info", s.MetricsSocketPath)
		w.add(`    log-format-sd "%%{+Q,+E}o [serve@1 app=%%[var(txn.ingress_request_router_app)] intended=%%[var(txn.ingress_request_router_target)] actual=%%s router_latency_us=%%[var(txn.ingress_request_router_latency_us)] body_truncated_full_length=%%[var(txn.ingress_request_router_truncated_full_length)] via_router=%%[var(txn.via_ingress_request_router)] failed=%%[var(txn.ingress_request_router_failed)]]"`)
	}
	hr := healthRoute(opts, http, grpc)
	w.add("    # Health check endpoint")
	w.add("    acl healthcheck path -i /-/healthz")
	w.add("    # Suppress logging for health checks")
	w.add("    http-request set-log-level silent if healthcheck")
	switch {
	case !hr.healthy:
		w.add("    # Override: force health checks to fail (used by drain/disable)")
		w.add(`    http-request return status %d content-type text/plain string "%s" if healthcheck`, hr.status, hr.message)
	case len(http) > 0:
		w.add("    # 200 if any backend has at least one server UP")
		for _, b := range http {
			w.add("    acl backend_%s_server_up nbsrv(%s) ge 1", b.name, b.name)
		}
		w.add("    # Any backend with a server UP passes the health check (OR logic)")
		for _, b := range http {
			w.add(`    http-request return status %d content-type text/plain string "%s" if healthcheck backend_%s_server_up`, hr.status, hr.message, b.name)
		}
		w.add(`    http-request return status 503 content-type text/plain string "Service Unavailable" if healthcheck`)
	}
	w.add("    # Routes endpoint")
	w.add("    acl routes path -i /-/routes")
	w.add(`    http-request return status %d content-type %s string "%s" if routes`, hr.status, hr.routesType, hr.routes)
	if master {
		w.add("    # Per-backend path ACLs (used for both ingress-request-router dispatch")
		w.add("    # and static use_backend selection below).")
		for _, b := range http {
			pathACLs(w, b)
		}
		if hasRouter {
			w.add("    # Set txn.ingress_request_router_app to the first matching router-bearing")
			w.add("    # backend. Backends are sorted longest-prefix-first, and the !found guard")
			w.add("    # ensures only the longest match wins.")
			for _, b := range http {
				if len(b.routers) > 0 {
					w.add("    http-request set-var(txn.ingress_request_router_app) str(%s) if is_%s !{ var(txn.ingress_request_router_app) -m found }", b.name, b.name)
				}
			}
			w.add("    acl has_ingress_request_router_app var(txn.ingress_request_router_app) -m found")
			if s.RouterForwardBody {
				w.add("    http-request wait-for-body time %ds if METH_POST has_ingress_request_router_app", s.RouterTimeoutS)
			}
			w.add("    http-request lua.route_via_ingress_request_router if METH_POST has_ingress_request_router_app")
			w.add("    # Fail loudly when the Lua dispatch did not pick a replica. Must appear")
			w.add("    # before the use_backend rules below so the request never falls back to")
			w.add("    # the primary backend (which would be a silent bypass of the configured")
			w.add("    # router policy).")
			w.add(`    http-request return status 503 content-type text/plain lf-string "Ingress request router failed: %%[var(txn.ingress_request_router_failed)]" hdr X-Serve-Reason %%[var(txn.ingress_request_router_failed)] if { var(txn.ingress_request_router_failed) -m found }`)
		}
		w.add("    # Static routing based on path prefixes in decreasing length then alphabetical order")
		for _, b := range http {
			if hasRouter && len(b.routers) > 0 {
				w.add("    use_backend %s-via-ingress-request-router if is_%s { var(txn.via_ingress_request_router) -m found }", b.name, b.name)
			}
			w.add("    use_backend %s if is_%s", b.name, b.name)
		}
	} else {
		w.add("    # Static routing based on path prefixes in decreasing length then alphabetical order")
		for _, b := range http {
			pathACLs(w, b)
			w.add("    use_backend %s if is_%s", b.name, b.name)
		}
	}
	w.add("    default_backend default_backend")
	w.add("backend default_backend")
	w.add(`    http-request return status 404 content-type text/plain lf-string "Path '%%[path]' not found. Ping http://.../-/routes for available routes."`)

	for _, b := range http {
		w.add("backend %s", b.name)
		w.add("    log global")
		if opts.Shape == ShapeV1 {
			w.add("    balance leastconn")
		}
		w.add("    # Enable HTTP connection reuse for better performance")
		w.add("    http-reuse always")
		w.add("    # Set backend-specific timeouts, overriding defaults if specified")
		w.add("    # Set timeouts to support keep-alive connections")
		w.add("    # Health check configuration - use backend-specific or global defaults")
		w.add("    # HTTP health check with custom path")
		w.add("    option httpchk GET /-/healthz")
		w.add("    http-check expect status 200")
		w.add("    %s", defaultServer(s))
		w.add("    # Servers in this backend")
		for _, t := range b.servers {
			w.add("    server %s %s:%d check", t.Name, t.Host, t.Port)
		}
		if master && b.Fallback != nil {
			w.add("    # Fallback to head node's Serve proxy when no ingress replicas are available")
			w.add("    server %s %s:%d check backup", b.Fallback.Name, b.Fallback.Host, b.Fallback.Port)
		}
		if hasRouter && len(b.routers) > 0 {
			routerBackend(w, b, s)
		}
	}
	if grpcEnabled {
		grpcSections(w, opts, s, hr, grpc, host)
	}
	// `listen stats` keeps the template's 2-space indentation.
	w.add("listen stats")
	w.add("  bind *:%d", statsPort)
	w.add("  stats enable")
	w.add("  stats uri /stats")
	w.add("  stats refresh 1s")
	return w.buf.Bytes()
}

// routable reports whether a router-bearing backend has replicas with IDs,
// the condition under which master writes the Lua file.
func routable(b backend) bool {
	for _, t := range b.servers {
		if t.ReplicaID != "" {
			return true
		}
	}
	return false
}

func pathACLs(w *lines, b backend) {
	beg, exact := "/", "/"
	if b.RoutePrefix != "" && b.RoutePrefix != "/" {
		beg = b.RoutePrefix + "/"
	}
	if b.RoutePrefix != "" {
		exact = b.RoutePrefix
	}
	w.add("    acl is_%s path_beg %s", b.name, beg)
	w.add("    acl is_%s path %s", b.name, exact)
}

// defaultServer is BackendConfig.build_health_check_config's directive.
func defaultServer(s Settings) string {
	var parts []string
	if s.HealthCheckFastinter != nil {
		parts = append(parts, "fastinter "+*s.HealthCheckFastinter)
	}
	if s.HealthCheckDowninter != nil {
		parts = append(parts, "downinter "+*s.HealthCheckDowninter)
	}
	if s.HealthCheckFall != nil {
		parts = append(parts, "fall "+strconv.Itoa(*s.HealthCheckFall))
	}
	if s.HealthCheckRise != nil {
		parts = append(parts, "rise "+strconv.Itoa(*s.HealthCheckRise))
	}
	if s.HealthCheckInter != nil {
		parts = append(parts, "inter "+*s.HealthCheckInter)
	}
	parts = append(parts, "check")
	return "default-server " + strings.Join(parts, " ")
}

func routerBackend(w *lines, b backend, s Settings) {
	w.add("backend %s-via-ingress-request-router", b.name)
	w.add("    log global")
	w.add("    # Keep the pinned data-plane path on the same connection policy as the")
	w.add("    # primary backend. For streamed responses, forcing server-close can leave")
	w.add("    # HAProxy holding unread server-side FINs under a burst while worker")
	w.add("    # threads are still routing other requests.")
	w.add("    http-reuse always")
	w.add("    # use-server falls through to LB if the pinned server is DOWN. Combined")
	w.add("    # with `retry-on` below (when configured), this lets HAProxy redispatch")
	w.add("    # a slow-first-byte request to a different replica instead of head-of-")
	w.add("    # line-blocking on the original pick.")
	w.add("    option redispatch")
	if s.IngressRetryOn != "" {
		w.add("    retry-on %s", s.IngressRetryOn)
	}
	if s.IngressRetries != nil {
		w.add("    retries %d", *s.IngressRetries)
	}
	if s.IngressTimeoutServerS != nil {
		w.add("    timeout server %ds", *s.IngressTimeoutServerS)
	}
	for _, t := range b.servers {
		w.add(`    use-server %s if { var(txn.ingress_request_router_target) -m str "%s" }`, t.Name, t.Name)
	}
	w.add("    # `track` allows us to mirror primary-backend health and avoid double-checking.")
	for _, t := range b.servers {
		w.add("    server %s %s:%d track %s/%s", t.Name, t.Host, t.Port, b.name, t.Name)
	}
	if b.Fallback != nil {
		w.add("    server %s %s:%d track %s/%s backup", b.Fallback.Name, b.Fallback.Host, b.Fallback.Port, b.name, b.Fallback.Name)
	}
}

func grpcSections(w *lines, opts Options, s Settings, hr healthRouteInfo, grpc []backend, host string) {
	w.add("frontend grpc_frontend")
	w.add("    # gRPC requires HTTP/2. HAProxy decodes H2 frames into HTTP request")
	w.add("    # semantics in `mode http` when `proto h2` is on the bind line.")
	w.add("    bind %s:%d proto h2", host, opts.GRPCPort)
	w.add("    mode http")
	w.add("    log global")
	// The template has literal blank lines around the included gRPC rules.
	w.add("")
	w.add("    # Health check endpoint (gRPC `Healthz`)")
	w.add("    acl is_healthz path /ray.serve.RayServeAPIService/Healthz")
	w.add("    # Suppress logging for health checks")
	w.add("    http-request set-log-level silent if is_healthz")
	switch {
	case !hr.healthy:
		w.add("    # Override: force health checks to fail (used by drain/disable)")
		w.add(`    http-request return status 200 content-type application/grpc hdr grpc-status 14 hdr grpc-message "%s" if is_healthz`, hr.message)
	case len(grpc) > 0:
		w.add("    # OK if any backend has at least one server UP")
		for _, b := range grpc {
			w.add("    acl backend_%s_server_up nbsrv(%s) ge 1", b.name, b.name)
		}
		w.add("    # Any backend with a server UP passes the health check (OR logic)")
		for _, b := range grpc {
			w.add("    http-request return status 200 content-type application/grpc hdr grpc-status 0 if is_healthz backend_%s_server_up", b.name)
		}
		w.add(`    http-request return status 200 content-type application/grpc hdr grpc-status 14 hdr grpc-message "Service Unavailable" if is_healthz`)
	}
	w.add("")
	w.add("    # ListApplications must aggregate across all apps, so it goes to the")
	w.add("    # head-node fallback Serve proxy rather than an individual replica.")
	w.add("    acl is_list_applications path /ray.serve.RayServeAPIService/ListApplications")
	if opts.GRPCFallback != nil {
		w.add("    use_backend grpc_fallback_backend if is_list_applications")
	} else {
		w.add(`    http-request return status 200 content-type application/grpc hdr grpc-status 14 hdr grpc-message "ListApplications is unavailable" if is_list_applications`)
	}
	w.add("")
	w.add("    # Route per-app on the `application` metadata that Ray Serve clients attach.")
	for _, b := range grpc {
		w.add("    acl is_%s req.hdr(application) -m str %s", b.name, b.Name)
		w.add("    use_backend %s if is_%s", b.name, b.name)
	}
	if len(grpc) == 1 {
		w.add("    # With exactly one app deployed, route there regardless of metadata so")
		w.add("    # clients can call it without setting the `application` header.")
		w.add("    default_backend %s", grpc[0].name)
	} else {
		w.add("    # Zero apps, or multiple apps without a matching `application` header.")
		w.add("    default_backend default_grpc_backend")
	}
	if f := opts.GRPCFallback; f != nil {
		w.add("backend grpc_fallback_backend")
		w.add("    mode http")
		w.add("    log global")
		w.add("    # `proto h2` makes HAProxy speak HTTP/2 cleartext to the fallback gRPC server.")
		w.add("    server %s %s:%d proto h2 check", SafeName(f.Name), f.Host, f.Port)
	}
	if len(grpc) != 1 {
		w.add("backend default_grpc_backend")
		w.add("    mode http")
		w.add("    log global")
		w.add("    # Trailers-only NOT_FOUND. gRPC clients surface this as")
		w.add("    # grpc.StatusCode.NOT_FOUND; an HTTP 503 would map to UNAVAILABLE instead.")
		w.add("    acl has_application_header req.hdr(application) -m found")
		w.add(`    http-request return status 200 content-type application/grpc hdr grpc-status 5 hdr grpc-message "Application '%%[req.hdr(application)]' not found. Ping /ray.serve.RayServeAPIService/ListApplications for available applications." if has_application_header`)
		w.add(`    http-request return status 200 content-type application/grpc hdr grpc-status 5 hdr grpc-message "Application metadata not set. Ping /ray.serve.RayServeAPIService/ListApplications for available applications."`)
	}
	for _, b := range grpc {
		w.add("backend %s", b.name)
		w.add("    mode http")
		w.add("    log global")
		w.add("    http-reuse always")
		w.add("    # TCP-level health checks: replica direct-ingress gRPC servers don't")
		w.add("    # expose an HTTP healthz path. Promote to gRPC `Health/Check` later.")
		w.add("    option tcp-check")
		w.add("    %s", defaultServer(s))
		w.add("    # `proto h2` makes HAProxy speak HTTP/2 cleartext to backend gRPC servers.")
		for _, t := range b.servers {
			w.add("    server %s %s:%d proto h2", t.Name, t.Host, t.Port)
		}
		if b.Fallback != nil {
			w.add("    server %s %s:%d proto h2 backup", b.Fallback.Name, b.Fallback.Host, b.Fallback.Port)
		}
	}
}

type healthRouteInfo struct {
	healthy    bool
	status     int
	message    string
	routes     string
	routesType string
}

// healthRoute is HAProxyConfig.build_health_route_info. Routes and "has
// received routes" count every target group; the routes JSON lists the HTTP
// ones (master builds it from HTTP backends only).
func healthRoute(opts Options, http, grpc []backend) healthRouteInfo {
	hadServers := opts.HadServers
	for _, b := range append(append([]backend{}, http...), grpc...) {
		if len(b.servers) > 0 {
			hadServers = true
		}
	}
	ready, msg := true, ""
	switch {
	case len(opts.Apps) == 0:
		ready, msg = false, noRoutesMessage
	case hadServers || (opts.Shape == ShapeMaster && opts.IsHead):
	default:
		ready, msg = false, noReplicasMessage
	}
	info := healthRouteInfo{healthy: true, status: 200, message: healthyMessage}
	switch {
	case opts.Draining:
		info = healthRouteInfo{message: drainingMessage}
	case !ready:
		info = healthRouteInfo{message: msg}
	}
	if !info.healthy {
		info.status = 503
		info.routes = info.message
		info.routesType = "text/plain"
		return info
	}
	routeBackends := http
	if opts.Shape != ShapeMaster {
		routeBackends = append(append([]backend{}, http...), grpc...)
	}
	info.routesType = "application/json"
	info.routes = routesJSON(routeBackends)
	return info
}

// routesJSON renders Ray's json.dumps({prefix: app}, separators=(",", ":"),
// ensure_ascii=False) in backend order, escaped for a haproxy "..." string.
func routesJSON(bs []backend) string {
	var b strings.Builder
	b.WriteByte('{')
	seen := map[string]int{}
	type kv struct{ k, v string }
	var items []kv
	for _, be := range bs {
		if be.Name == "" || be.RoutePrefix == "" {
			continue
		}
		// A Python dict keeps the first position of a key and the last value.
		if i, ok := seen[be.RoutePrefix]; ok {
			items[i].v = be.Name
			continue
		}
		seen[be.RoutePrefix] = len(items)
		items = append(items, kv{be.RoutePrefix, be.Name})
	}
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(pyJSONString(it.k))
		b.WriteByte(':')
		b.WriteString(pyJSONString(it.v))
	}
	b.WriteByte('}')
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(b.String())
}

// pyJSONString encodes like Python's json.dumps with ensure_ascii=False:
// no HTML escaping, non-ASCII kept as is.
func pyJSONString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes; bytes.Buffer never fails
	return strings.TrimSuffix(buf.String(), "\n")
}

// lines accumulates the config; every line ends in "\n", which also gives
// the trailing newline Ray appends to the rendered template.
type lines struct{ buf bytes.Buffer }

func (l *lines) add(format string, args ...any) {
	if len(args) == 0 {
		format = strings.ReplaceAll(format, "%%", "%")
		l.buf.WriteString(format)
	} else {
		fmt.Fprintf(&l.buf, format, args...)
	}
	l.buf.WriteByte('\n')
}
