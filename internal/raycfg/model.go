package raycfg

import (
	"path/filepath"
	"strings"
)

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

// SafeName is Ray's get_safe_name: `#` -> `-`, `/` -> `.`, then every run of
// other characters outside [A-Za-z0-9._-] -> `_`. Ray does it with a
// replace and a regular expression; one pass over the runes gives the same
// names (FuzzSafeName checks) and costs a large render less.
func SafeName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	inRun := false
	for _, r := range name {
		switch r {
		case '#':
			r = '-'
		case '/':
			r = '.'
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			b.WriteRune(r)
			inRun = false
		} else if !inRun {
			b.WriteByte('_')
			inRun = true
		}
	}
	return b.String()
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

// luaPath is where master writes ingress_request_router.lua: beside the config.
func luaPath(configFile string) string {
	return filepath.Join(filepath.Dir(configFile), "ingress_request_router.lua")
}
