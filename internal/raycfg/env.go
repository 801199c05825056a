package raycfg

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Settings holds what Ray's constants.py reads from RAY_SERVE_HAPROXY_* and
// friends, with Ray's defaults. Optional values are nil when unset.
type Settings struct {
	// MaxConn is RAY_SERVE_HAPROXY_MAXCONN (global maxconn), default 20000.
	MaxConn int
	// NBThread is RAY_SERVE_HAPROXY_NBTHREAD, default 4.
	NBThread int
	// ConfigFile is RAY_SERVE_HAPROXY_CONFIG_FILE_LOC.
	ConfigFile string
	// SocketPath is RAY_SERVE_HAPROXY_SOCKET_PATH, the admin socket.
	SocketPath string
	// Optimized is RAY_SERVE_ENABLE_HAPROXY_OPTIMIZED_CONFIG ("1" by default):
	// server-state lines, idle-close-on-response, and -x on reloads.
	Optimized bool
	// ServerStateBase and ServerStateFile are RAY_SERVE_HAPROXY_SERVER_STATE_BASE/_FILE.
	ServerStateBase, ServerStateFile string
	// HardStopAfterS is RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S, default 120.
	HardStopAfterS *int
	// MetricsPort is RAY_SERVE_HAPROXY_METRICS_PORT, default 9101.
	MetricsPort int
	// TimeoutClientS is RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S, default 3600.
	TimeoutClientS *int
	// TimeoutServerS and TimeoutConnectS are unset (omitted) by default.
	TimeoutServerS, TimeoutConnectS *int
	// HealthCheckFall and HealthCheckRise default to 2.
	HealthCheckFall, HealthCheckRise *int
	// HealthCheckInter (5s), HealthCheckFastinter and HealthCheckDowninter
	// (250ms) are haproxy time strings.
	HealthCheckInter, HealthCheckFastinter, HealthCheckDowninter *string
	// SyslogPort is RAY_SERVE_HAPROXY_SYSLOG_PORT, default 514 (V1 and 2.55).
	SyslogPort int
	// TCPNoDelay is RAY_SERVE_HAPROXY_TCP_NODELAY: default off in the 2.55
	// shape, on in master (#63353 flipped it on May 15 2026).
	TCPNoDelay bool
	// BalanceAlgorithm is RAY_SERVE_HAPROXY_BALANCE_ALGORITHM, default leastconn.
	BalanceAlgorithm string
	// BinaryPath is RAY_SERVE_HAPROXY_BINARY_PATH, default "haproxy".
	BinaryPath string
	// ReusePort is SERVE_SOCKET_REUSE_PORT_ENABLED == "1"; unless set, Ray adds -dR.
	ReusePort bool

	// Master ("F") only.

	// StatsPort is RAY_SERVE_HAPROXY_STATS_PORT (master only; 2.55 hard-codes 8404).
	StatsPort int
	// LogTarget is RAY_SERVE_HAPROXY_LOG_TARGET, default 127.0.0.1:514.
	LogTarget string
	// TuneBufsize is RAY_SERVE_HAPROXY_TUNE_BUFSIZE, default 16384.
	TuneBufsize int
	// H2MaxFrameSize and the H2 window/stream values feed tune.h2.* when gRPC
	// is on. Their Ray defaults are not in the stored sources; haproxy's own
	// defaults are assumed.
	H2MaxFrameSize, H2BEInitialWindowSize, H2BEMaxConcurrentStreams int
	H2FEInitialWindowSize, H2FEMaxConcurrentStreams                 int
	// MetricsSocketPath is RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH (router metrics).
	MetricsSocketPath string
	// IngressRetryOn, IngressRetries and IngressTimeoutServerS are the
	// ingress-router knobs (#63415); unset by default.
	IngressRetryOn        string
	IngressRetries        *int
	IngressTimeoutServerS *int
	// RouterTimeoutS and RouterBufsize are RAY_SERVE_HAPROXY_INGRESS_REQUEST_ROUTER_TIMEOUT_S/_BUFSIZE.
	RouterTimeoutS, RouterBufsize int
	// RouterForwardBody is RAY_SERVE_INGRESS_REQUEST_ROUTER_FORWARD_BODY.
	RouterForwardBody bool
	// RouterMetrics is RAY_SERVE_INGRESS_REQUEST_ROUTER_METRICS_ENABLED.
	RouterMetrics bool
}

// envReader reads variables the way Ray's constants.py does and collects
// every malformed value (Ray would fail at import on the first one).
type envReader struct {
	env  map[string]string
	errs []string
}

func (r *envReader) str(name, def string) string {
	if v, ok := r.env[name]; ok {
		return v
	}
	return def
}

func (r *envReader) integer(name string, def int) int {
	v, ok := r.env[name]
	if !ok {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		r.errs = append(r.errs, fmt.Sprintf("%s=%q: not an integer", name, v))
		return def
	}
	return n
}

// optInt is an int whose empty or missing value means "omit the directive".
func (r *envReader) optInt(name string, def *int) *int {
	v, ok := r.env[name]
	if !ok || v == "" {
		return def
	}
	n := r.integer(name, 0)
	return &n
}

func (r *envReader) optStr(name string, def *string) *string {
	if v, ok := r.env[name]; ok && v != "" {
		return &v
	}
	return def
}

// flag is on only when the value is exactly "1", as in Ray.
func (r *envReader) flag(name string, def bool) bool {
	v, ok := r.env[name]
	if !ok {
		return def
	}
	return v == "1"
}

func intp(n int) *int       { return &n }
func strp(s string) *string { return &s }

// ReadEnv returns the settings Ray would derive from env for the given shape.
// Malformed numbers are reported together in one error.
func ReadEnv(env map[string]string, shape Shape) (Settings, error) {
	r := &envReader{env: env}
	s := Settings{
		MaxConn:              r.integer("RAY_SERVE_HAPROXY_MAXCONN", 20000),
		NBThread:             r.integer("RAY_SERVE_HAPROXY_NBTHREAD", 4),
		ConfigFile:           r.str("RAY_SERVE_HAPROXY_CONFIG_FILE_LOC", "/tmp/haproxy-serve/haproxy.cfg"),
		SocketPath:           r.str("RAY_SERVE_HAPROXY_SOCKET_PATH", "/tmp/haproxy-serve/admin.sock"),
		Optimized:            r.flag("RAY_SERVE_ENABLE_HAPROXY_OPTIMIZED_CONFIG", true),
		ServerStateBase:      r.str("RAY_SERVE_HAPROXY_SERVER_STATE_BASE", "/tmp/haproxy-serve"),
		ServerStateFile:      r.str("RAY_SERVE_HAPROXY_SERVER_STATE_FILE", "/tmp/haproxy-serve/server-state"),
		HardStopAfterS:       r.optInt("RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S", intp(120)),
		MetricsPort:          r.integer("RAY_SERVE_HAPROXY_METRICS_PORT", 9101),
		TimeoutClientS:       r.optInt("RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S", intp(3600)),
		TimeoutServerS:       r.optInt("RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S", nil),
		TimeoutConnectS:      r.optInt("RAY_SERVE_HAPROXY_TIMEOUT_CONNECT_S", nil),
		HealthCheckFall:      r.optInt("RAY_SERVE_HAPROXY_HEALTH_CHECK_FALL", intp(2)),
		HealthCheckRise:      r.optInt("RAY_SERVE_HAPROXY_HEALTH_CHECK_RISE", intp(2)),
		HealthCheckInter:     r.optStr("RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER", strp("5s")),
		HealthCheckFastinter: r.optStr("RAY_SERVE_HAPROXY_HEALTH_CHECK_FASTINTER", strp("250ms")),
		HealthCheckDowninter: r.optStr("RAY_SERVE_HAPROXY_HEALTH_CHECK_DOWNINTER", strp("250ms")),
		SyslogPort:           r.integer("RAY_SERVE_HAPROXY_SYSLOG_PORT", 514),
		TCPNoDelay:           r.flag("RAY_SERVE_HAPROXY_TCP_NODELAY", shape == ShapeMaster),
		BalanceAlgorithm:     r.str("RAY_SERVE_HAPROXY_BALANCE_ALGORITHM", "leastconn"),
		BinaryPath:           r.str("RAY_SERVE_HAPROXY_BINARY_PATH", "haproxy"),
		ReusePort:            r.flag("SERVE_SOCKET_REUSE_PORT_ENABLED", false),

		StatsPort:                r.integer("RAY_SERVE_HAPROXY_STATS_PORT", 8404),
		LogTarget:                r.str("RAY_SERVE_HAPROXY_LOG_TARGET", "127.0.0.1:514"),
		TuneBufsize:              r.integer("RAY_SERVE_HAPROXY_TUNE_BUFSIZE", 16384),
		H2MaxFrameSize:           r.integer("RAY_SERVE_HAPROXY_H2_MAX_FRAME_SIZE", 16384),
		H2BEInitialWindowSize:    r.integer("RAY_SERVE_HAPROXY_H2_BE_INITIAL_WINDOW_SIZE", 65535),
		H2BEMaxConcurrentStreams: r.integer("RAY_SERVE_HAPROXY_H2_BE_MAX_CONCURRENT_STREAMS", 100),
		H2FEInitialWindowSize:    r.integer("RAY_SERVE_HAPROXY_H2_FE_INITIAL_WINDOW_SIZE", 65535),
		H2FEMaxConcurrentStreams: r.integer("RAY_SERVE_HAPROXY_H2_FE_MAX_CONCURRENT_STREAMS", 100),
		MetricsSocketPath:        r.str("RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH", "/tmp/haproxy-serve/metrics.sock"),
		IngressRetryOn:           r.str("RAY_SERVE_HAPROXY_INGRESS_RETRY_ON", ""),
		IngressRetries:           r.optInt("RAY_SERVE_HAPROXY_INGRESS_RETRIES", nil),
		IngressTimeoutServerS:    r.optInt("RAY_SERVE_HAPROXY_INGRESS_TIMEOUT_SERVER_S", nil),
		RouterTimeoutS:           r.integer("RAY_SERVE_HAPROXY_INGRESS_REQUEST_ROUTER_TIMEOUT_S", 5),
		RouterBufsize:            r.integer("RAY_SERVE_HAPROXY_INGRESS_REQUEST_ROUTER_BUFSIZE", 65536),
		RouterForwardBody:        r.flag("RAY_SERVE_INGRESS_REQUEST_ROUTER_FORWARD_BODY", false),
		RouterMetrics:            r.flag("RAY_SERVE_INGRESS_REQUEST_ROUTER_METRICS_ENABLED", false),
	}
	if len(r.errs) > 0 {
		sort.Strings(r.errs)
		return s, fmt.Errorf("ray would fail at import: %s", strings.Join(r.errs, "; "))
	}
	return s, nil
}

// EnvMap turns an environment list (os.Environ form) into a map; later
// entries win, as in the process environment.
func EnvMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
