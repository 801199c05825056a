package raycfg

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/serve-launch/serve-launch/internal/envmap"
)

// Settings holds what Ray's constants.py reads from RAY_SERVE_HAPROXY_* and
// friends. Optional values are nil when unset. Each field names its
// variable; the defaults, and the releases that read it, are in envmap's
// table ([envmap.All]).
type Settings struct {
	// MaxConn is RAY_SERVE_HAPROXY_MAXCONN (global maxconn).
	MaxConn int
	// NBThread is RAY_SERVE_HAPROXY_NBTHREAD.
	NBThread int
	// ConfigFile is RAY_SERVE_HAPROXY_CONFIG_FILE_LOC.
	ConfigFile string
	// SocketPath is RAY_SERVE_HAPROXY_SOCKET_PATH, the admin socket.
	SocketPath string
	// Optimized is RAY_SERVE_ENABLE_HAPROXY_OPTIMIZED_CONFIG: server-state
	// lines, idle-close-on-response, and -x on reloads.
	Optimized bool
	// ServerStateBase and ServerStateFile are RAY_SERVE_HAPROXY_SERVER_STATE_BASE/_FILE.
	ServerStateBase, ServerStateFile string
	// HardStopAfterS is RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S.
	HardStopAfterS *int
	// MetricsPort is RAY_SERVE_HAPROXY_METRICS_PORT.
	MetricsPort int
	// TimeoutClientS is RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S.
	TimeoutClientS *int
	// TimeoutServerS and TimeoutConnectS are RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S/_CONNECT_S.
	TimeoutServerS, TimeoutConnectS *int
	// HealthCheckFall and HealthCheckRise are RAY_SERVE_HAPROXY_HEALTH_CHECK_FALL/_RISE.
	HealthCheckFall, HealthCheckRise *int
	// HealthCheckInter, HealthCheckFastinter and HealthCheckDowninter are
	// RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER/_FASTINTER/_DOWNINTER, haproxy
	// time strings.
	HealthCheckInter, HealthCheckFastinter, HealthCheckDowninter *string
	// SyslogPort is RAY_SERVE_HAPROXY_SYSLOG_PORT (V1 and 2.55).
	SyslogPort int
	// TCPNoDelay is RAY_SERVE_HAPROXY_TCP_NODELAY, whose default depends on
	// the shape: #63353 turned it on in master.
	TCPNoDelay bool
	// BalanceAlgorithm is RAY_SERVE_HAPROXY_BALANCE_ALGORITHM.
	BalanceAlgorithm string
	// BinaryPath is RAY_SERVE_HAPROXY_BINARY_PATH.
	BinaryPath string
	// ReusePort is SERVE_SOCKET_REUSE_PORT_ENABLED == "1"; unless set, Ray adds -dR.
	ReusePort bool

	// Master ("F") only.

	// StatsPort is RAY_SERVE_HAPROXY_STATS_PORT (2.55 hard-codes the default).
	StatsPort int
	// LogTarget is RAY_SERVE_HAPROXY_LOG_TARGET.
	LogTarget string
	// TuneBufsize is RAY_SERVE_HAPROXY_TUNE_BUFSIZE.
	TuneBufsize int
	// H2MaxFrameSize and the H2 window/stream values are
	// RAY_SERVE_HAPROXY_H2_*, which feed tune.h2.* when gRPC is on.
	H2MaxFrameSize, H2BEInitialWindowSize, H2BEMaxConcurrentStreams int
	H2FEInitialWindowSize, H2FEMaxConcurrentStreams                 int
	// MetricsSocketPath is RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH (router metrics).
	MetricsSocketPath string
	// IngressRetryOn, IngressRetries and IngressTimeoutServerS are
	// RAY_SERVE_HAPROXY_INGRESS_RETRY_ON/_RETRIES/_TIMEOUT_SERVER_S, the
	// ingress-router knobs (#63415).
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

// envReader reads variables the way Ray's constants.py does, each with the
// default envmap's table gives for the release, and collects every
// malformed value (Ray would fail at import on the first one). Which
// method reads a variable follows constants.py's code for it, which the
// table's kinds do not tell: int() for some, "None when empty" for others.
type envReader struct {
	env     map[string]string
	release envmap.Release
	vars    []envmap.Var
	errs    []string
}

// def returns name's default in the reader's release, or omitted when Ray
// leaves its directive out.
func (r *envReader) def(name string) (value string, omitted bool) {
	i := slices.IndexFunc(r.vars, func(v envmap.Var) bool { return v.Name == name })
	if i < 0 {
		// Only a variable missing from envmap's table gets here, which every
		// render test would show.
		r.errs = append(r.errs, fmt.Sprintf("%s: not in envmap's table", name))
		return "", true
	}
	v := r.vars[i]
	return v.DefaultIn(r.release), v.Omitted
}

func (r *envReader) str(name string) string {
	if v, ok := r.env[name]; ok {
		return v
	}
	d, _ := r.def(name)
	return d
}

// defInt is name's default as a number; nil when omitted.
func (r *envReader) defInt(name string) *int {
	d, omitted := r.def(name)
	if omitted {
		return nil
	}
	n, err := strconv.Atoi(d)
	if err != nil {
		r.errs = append(r.errs, fmt.Sprintf("%s: envmap's default %q is not an integer", name, d))
	}
	return &n
}

func (r *envReader) integer(name string) int {
	v, ok := r.env[name]
	if !ok {
		if d := r.defInt(name); d != nil {
			return *d
		}
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		r.errs = append(r.errs, fmt.Sprintf("%s=%q: not an integer", name, v))
		if d := r.defInt(name); d != nil {
			return *d
		}
		return 0
	}
	return n
}

// optInt is an int whose empty or missing value means Ray's default, which
// may be "omit the directive".
func (r *envReader) optInt(name string) *int {
	v, ok := r.env[name]
	if !ok || v == "" {
		return r.defInt(name)
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		r.errs = append(r.errs, fmt.Sprintf("%s=%q: not an integer", name, v))
		n = 0
	}
	return &n
}

func (r *envReader) optStr(name string) *string {
	if v, ok := r.env[name]; ok && v != "" {
		return &v
	}
	d, omitted := r.def(name)
	if omitted {
		return nil
	}
	return &d
}

// flag is on only when the value is exactly "1", as in Ray.
func (r *envReader) flag(name string) bool {
	if v, ok := r.env[name]; ok {
		return v == "1"
	}
	d, _ := r.def(name)
	return d == "1"
}

// ReadEnv returns the settings Ray would derive from env for the given shape.
// Malformed numbers are reported together in one error.
func ReadEnv(env map[string]string, shape Shape) (Settings, error) {
	r := &envReader{env: env, release: shape.release(), vars: envmap.All()}
	s := Settings{
		MaxConn:              r.integer("RAY_SERVE_HAPROXY_MAXCONN"),
		NBThread:             r.integer("RAY_SERVE_HAPROXY_NBTHREAD"),
		ConfigFile:           r.str("RAY_SERVE_HAPROXY_CONFIG_FILE_LOC"),
		SocketPath:           r.str("RAY_SERVE_HAPROXY_SOCKET_PATH"),
		Optimized:            r.flag("RAY_SERVE_ENABLE_HAPROXY_OPTIMIZED_CONFIG"),
		ServerStateBase:      r.str("RAY_SERVE_HAPROXY_SERVER_STATE_BASE"),
		ServerStateFile:      r.str("RAY_SERVE_HAPROXY_SERVER_STATE_FILE"),
		HardStopAfterS:       r.optInt("RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S"),
		MetricsPort:          r.integer("RAY_SERVE_HAPROXY_METRICS_PORT"),
		TimeoutClientS:       r.optInt("RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S"),
		TimeoutServerS:       r.optInt("RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S"),
		TimeoutConnectS:      r.optInt("RAY_SERVE_HAPROXY_TIMEOUT_CONNECT_S"),
		HealthCheckFall:      r.optInt("RAY_SERVE_HAPROXY_HEALTH_CHECK_FALL"),
		HealthCheckRise:      r.optInt("RAY_SERVE_HAPROXY_HEALTH_CHECK_RISE"),
		HealthCheckInter:     r.optStr("RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER"),
		HealthCheckFastinter: r.optStr("RAY_SERVE_HAPROXY_HEALTH_CHECK_FASTINTER"),
		HealthCheckDowninter: r.optStr("RAY_SERVE_HAPROXY_HEALTH_CHECK_DOWNINTER"),
		SyslogPort:           r.integer("RAY_SERVE_HAPROXY_SYSLOG_PORT"),
		TCPNoDelay:           r.flag("RAY_SERVE_HAPROXY_TCP_NODELAY"),
		BalanceAlgorithm:     r.str("RAY_SERVE_HAPROXY_BALANCE_ALGORITHM"),
		BinaryPath:           r.str("RAY_SERVE_HAPROXY_BINARY_PATH"),
		ReusePort:            r.flag("SERVE_SOCKET_REUSE_PORT_ENABLED"),

		StatsPort:                r.integer("RAY_SERVE_HAPROXY_STATS_PORT"),
		LogTarget:                r.str("RAY_SERVE_HAPROXY_LOG_TARGET"),
		TuneBufsize:              r.integer("RAY_SERVE_HAPROXY_TUNE_BUFSIZE"),
		H2MaxFrameSize:           r.integer("RAY_SERVE_HAPROXY_H2_MAX_FRAME_SIZE"),
		H2BEInitialWindowSize:    r.integer("RAY_SERVE_HAPROXY_H2_BE_INITIAL_WINDOW_SIZE"),
		H2BEMaxConcurrentStreams: r.integer("RAY_SERVE_HAPROXY_H2_BE_MAX_CONCURRENT_STREAMS"),
		H2FEInitialWindowSize:    r.integer("RAY_SERVE_HAPROXY_H2_FE_INITIAL_WINDOW_SIZE"),
		H2FEMaxConcurrentStreams: r.integer("RAY_SERVE_HAPROXY_H2_FE_MAX_CONCURRENT_STREAMS"),
		MetricsSocketPath:        r.str("RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH"),
		IngressRetryOn:           r.str("RAY_SERVE_HAPROXY_INGRESS_RETRY_ON"),
		IngressRetries:           r.optInt("RAY_SERVE_HAPROXY_INGRESS_RETRIES"),
		IngressTimeoutServerS:    r.optInt("RAY_SERVE_HAPROXY_INGRESS_TIMEOUT_SERVER_S"),
		RouterTimeoutS:           r.integer("RAY_SERVE_HAPROXY_INGRESS_REQUEST_ROUTER_TIMEOUT_S"),
		RouterBufsize:            r.integer("RAY_SERVE_HAPROXY_INGRESS_REQUEST_ROUTER_BUFSIZE"),
		RouterForwardBody:        r.flag("RAY_SERVE_INGRESS_REQUEST_ROUTER_FORWARD_BODY"),
		RouterMetrics:            r.flag("RAY_SERVE_INGRESS_REQUEST_ROUTER_METRICS_ENABLED"),
	}
	if len(r.errs) > 0 {
		slices.Sort(r.errs)
		return s, fmt.Errorf("ray would fail at import: %s", strings.Join(r.errs, "; "))
	}
	return s, nil
}
