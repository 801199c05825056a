package raycfg

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
)

// templateFiles are our text/template counterparts of Ray's Jinja
// templates, one per shape, plus the parts every shape shares
// (common.tmpl). They reproduce Ray's output byte for byte: "{{-" trims
// like Jinja's "{%-", and the quirks that come from untrimmed tags are
// written out where they occur.
//
//go:embed templates/*.tmpl
var templateFiles embed.FS

// shapeTemplates parses every shape's template on first use: only the
// processes that render pay for it, not every shim start.
var shapeTemplates = sync.OnceValues(func() (map[Shape]*template.Template, error) {
	out := map[Shape]*template.Template{}
	for _, shape := range []Shape{ShapeV1, Shape255, ShapeMaster} {
		t, err := template.New(string(shape)).ParseFS(templateFiles, "templates/common.tmpl", "templates/"+string(shape)+".tmpl")
		if err != nil {
			return nil, err
		}
		out[shape] = t
	}
	return out, nil
})

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
	return render(opts, s)
}

// RenderSettings is Render with the environment already read by ReadEnv, for
// callers that render many times from one environment. It panics only on a
// bug in the embedded templates, which every golden test would show.
func RenderSettings(opts Options, s Settings) []byte {
	out, err := render(opts, s)
	if err != nil {
		panic(err)
	}
	return out
}

// backend is an app resolved for rendering, with Ray's BackendConfig names.
type backend struct {
	// Name is the backend's name, BackendName of the app.
	Name string
	// AppName is the app's name, which gRPC routes on.
	AppName string
	// Prefix is the app's route prefix.
	Prefix string
	// Servers, Routers and Fallback are the app's targets, sanitized.
	Servers, Routers []Target
	Fallback         *Target
}

// view is what a shape's template reads: Ray's template context, with what
// Ray computes in Python (the health answers, the default-server line, the
// backends split and sorted) computed here.
type view struct {
	// S is the settings Ray read from its environment.
	S Settings
	// Host and HTTPPort are the HTTP frontend's bind.
	Host     string
	HTTPPort int
	// KeepAliveS is http_options.keep_alive_timeout_s.
	KeepAliveS int
	// StatsPort is the `listen stats` port.
	StatsPort int
	// GRPCEnabled, GRPCPort and GRPCFallback describe the gRPC frontend.
	GRPCEnabled  bool
	GRPCPort     int
	GRPCFallback *Target
	// H26Compat writes the 2.6 forms of the h2 tuning (see [Options]).
	H26Compat bool
	// HTTP and GRPC are the backends, longest prefix first.
	HTTP, GRPC []backend
	// HasRouter is master's has_ingress_request_router.
	HasRouter bool
	// Health is build_health_route_info's answer.
	Health healthRouteInfo
	// DefaultServer is build_health_check_config's default-server line.
	DefaultServer string
	// ErrorFile and LuaPath are the files beside the config.
	ErrorFile, LuaPath string
}

func render(opts Options, s Settings) ([]byte, error) {
	if opts.Shape == "" {
		opts.Shape = Shape255
	}
	tmpls, err := shapeTemplates()
	if err != nil {
		return nil, fmt.Errorf("raycfg templates: %v", err)
	}
	shape := opts.Shape
	if _, ok := tmpls[shape]; !ok {
		// A shape ParseShape would refuse renders as 2.55, as it always has.
		shape = Shape255
	}
	var buf bytes.Buffer
	if err := tmpls[shape].ExecuteTemplate(&buf, string(shape)+".tmpl", newView(opts, s)); err != nil {
		return nil, fmt.Errorf("raycfg template %s: %v", opts.Shape, err)
	}
	// Ray appends a newline when the rendered template does not end in one.
	if !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// newView resolves opts and s as Ray's HAProxyApi does before it renders.
func newView(opts Options, s Settings) view {
	master := opts.Shape == ShapeMaster
	v := view{
		S:             s,
		HTTPPort:      cmp.Or(opts.HTTPPort, 8000),
		KeepAliveS:    cmp.Or(opts.KeepAliveTimeoutS, 90),
		GRPCEnabled:   master && opts.GRPCPort != 0,
		GRPCPort:      opts.GRPCPort,
		H26Compat:     opts.H26Compat,
		DefaultServer: defaultServer(s),
		ErrorFile:     ErrorFilePath(s.ConfigFile),
		LuaPath:       luaPath(s.ConfigFile),
	}
	// Real 2.55 hard-codes the stats port; master reads it (see [Options]).
	v.StatsPort = 8404
	if master {
		v.StatsPort = s.StatsPort
	}
	if opts.StatsPort != 0 {
		v.StatsPort = opts.StatsPort
	}
	v.Host = opts.HTTPHost
	if v.Host == "" || v.Host == "0.0.0.0" || v.Host == "::" || master {
		v.Host = "*"
	}
	if f := opts.GRPCFallback; f != nil {
		v.GRPCFallback = &Target{Name: SafeName(f.Name), Host: f.Host, Port: f.Port, ReplicaID: f.ReplicaID}
	}

	for _, a := range opts.Apps {
		b := backend{Name: BackendName(a), AppName: a.Name, Prefix: a.RoutePrefix}
		for _, t := range a.Replicas {
			t.Name = SafeName(t.Name)
			b.Servers = append(b.Servers, t)
		}
		for _, t := range a.IngressRouters {
			t.Name = SafeName(t.Name)
			b.Routers = append(b.Routers, t)
		}
		if a.Fallback != nil {
			f := *a.Fallback
			f.Name = SafeName(f.Name)
			b.Fallback = &f
		}
		if a.GRPC && master {
			v.GRPC = append(v.GRPC, b)
		} else {
			v.HTTP = append(v.HTTP, b)
		}
	}
	// Ray sorts by (-len(prefix), prefix), stably.
	byPrefix := func(a, b backend) int {
		if len(a.Prefix) != len(b.Prefix) {
			return len(b.Prefix) - len(a.Prefix)
		}
		return strings.Compare(a.Prefix, b.Prefix)
	}
	slices.SortStableFunc(v.HTTP, byPrefix)
	slices.SortStableFunc(v.GRPC, byPrefix)

	v.HasRouter = master && slices.ContainsFunc(v.HTTP, func(b backend) bool { return len(b.Routers) > 0 && routable(b) })
	v.Health = healthRoute(opts, v.HTTP, v.GRPC)
	return v
}

// routable reports whether a router-bearing backend has replicas with IDs,
// the condition under which master writes the Lua file.
func routable(b backend) bool {
	return slices.ContainsFunc(b.Servers, func(t Target) bool { return t.ReplicaID != "" })
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

// healthRouteInfo is Ray's HealthRouteInfo.
type healthRouteInfo struct {
	Healthy    bool
	Status     int
	Message    string
	Routes     string
	RoutesType string
}

// healthRoute is HAProxyConfig.build_health_route_info. Routes and "has
// received routes" count every target group; the routes JSON lists the HTTP
// ones (master builds it from HTTP backends only).
func healthRoute(opts Options, http, grpc []backend) healthRouteInfo {
	hasServers := func(b backend) bool { return len(b.Servers) > 0 }
	hadServers := opts.HadServers || slices.ContainsFunc(http, hasServers) || slices.ContainsFunc(grpc, hasServers)
	ready, msg := true, ""
	switch {
	case len(opts.Apps) == 0:
		ready, msg = false, noRoutesMessage
	case hadServers || (opts.Shape == ShapeMaster && opts.IsHead):
	default:
		ready, msg = false, noReplicasMessage
	}
	info := healthRouteInfo{Healthy: true, Status: 200, Message: healthyMessage}
	switch {
	case opts.Draining:
		info = healthRouteInfo{Message: drainingMessage}
	case !ready:
		info = healthRouteInfo{Message: msg}
	}
	if !info.Healthy {
		info.Status = 503
		info.Routes = info.Message
		info.RoutesType = "text/plain"
		return info
	}
	routeBackends := http
	if opts.Shape != ShapeMaster {
		routeBackends = slices.Concat(http, grpc)
	}
	info.RoutesType = "application/json"
	info.Routes = routesJSON(routeBackends)
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
		if be.AppName == "" || be.Prefix == "" {
			continue
		}
		// A Python dict keeps the first position of a key and the last value.
		if i, ok := seen[be.Prefix]; ok {
			items[i].v = be.AppName
			continue
		}
		seen[be.Prefix] = len(items)
		items = append(items, kv{be.Prefix, be.AppName})
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
