package raycfg

import (
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRenderFollowsEnvTable ties the renderer to envmap's table, which the
// variable table of docs/reference.md is generated from. For every variable that
// drives a line of haproxy.cfg, in every shape whose release reads it, a
// render with Ray's default for that release and one with another value
// each show the table's directive with that value, or none at all when the
// variable is unset and Ray omits it. In a shape whose release does not
// read the variable, setting it changes nothing.
func TestRenderFollowsEnvTable(t *testing.T) {
	fixtures := map[Shape]Options{
		ShapeV1:  {Shape: ShapeV1, Apps: twoApps()},
		Shape255: {Shape: Shape255, Apps: twoApps()},
		// Routers and gRPC, so that every master directive can show.
		ShapeMaster: {Shape: ShapeMaster, Apps: masterApps(), GRPCPort: 9000},
	}
	// needs is what else a directive needs to be written at all.
	needs := map[string]map[string]string{
		"RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH":              {"RAY_SERVE_INGRESS_REQUEST_ROUTER_METRICS_ENABLED": "1"},
		"RAY_SERVE_HAPROXY_INGRESS_REQUEST_ROUTER_TIMEOUT_S": {"RAY_SERVE_INGRESS_REQUEST_ROUTER_FORWARD_BODY": "1"},
		"RAY_SERVE_HAPROXY_INGRESS_REQUEST_ROUTER_BUFSIZE":   {"RAY_SERVE_INGRESS_REQUEST_ROUTER_FORWARD_BODY": "1"},
	}
	// fromApps are variables whose effect on the config reaches the renderer
	// through Options.Apps, as Ray's comes through the replicas' ports: the
	// renderer reads no value of theirs.
	fromApps := []string{
		"RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT", "RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT",
		"RAY_SERVE_DIRECT_INGRESS_MIN_GRPC_PORT", "RAY_SERVE_DIRECT_INGRESS_MAX_GRPC_PORT",
	}
	render := func(t *testing.T, opts Options, env map[string]string) string {
		t.Helper()
		opts.Env = env
		out, err := Render(opts)
		require.NoError(t, err)
		return string(out)
	}

	checked := 0
	for _, v := range envmap.All() {
		if v.Section == "argv" || v.Section == "ray" {
			continue // not a line of haproxy.cfg
		}
		for _, shape := range []Shape{ShapeV1, Shape255, ShapeMaster} {
			t.Run(v.Name+"/"+string(shape), func(t *testing.T) {
				opts := fixtures[shape]
				def := v.DefaultIn(shape.release())
				other := otherValue(t, v, def)
				base := map[string]string{}
				for k, val := range needs[v.Name] {
					base[k] = val
				}
				withValue := func(value string) map[string]string {
					env := map[string]string{v.Name: value}
					for k, val := range base {
						env[k] = val
					}
					return env
				}
				unset := render(t, opts, base)

				if !v.ReadIn(shape.release()) || slices.Contains(fromApps, v.Name) {
					assert.Equal(t, unset, render(t, opts, withValue(other)), "%s=%s changes a %s config", v.Name, other, shape)
					return
				}
				checked++
				sections := strings.Split(v.Section, ", ")
				if v.Omitted {
					for _, d := range tableDirectives(v, "{}") {
						d, _, _ = strings.Cut(d, "{}")
						assert.False(t, hasDirective(unset, sections, d), "unset, %q is in %s:\n%s", d, v.Section, unset)
					}
				} else {
					assert.Equal(t, unset, render(t, opts, withValue(def)), "the table's default %s=%s is not the renderer's", v.Name, def)
					checkValue(t, v, sections, def, unset)
				}
				checkValue(t, v, sections, other, render(t, opts, withValue(other)))
			})
		}
	}
	assert.Positive(t, checked)
}

// checkValue asserts that cfg, rendered with v set to value, shows v's
// directives with value in v's sections; for a flag, that "1" shows them
// and anything else does not.
func checkValue(t *testing.T, v envmap.Var, sections []string, value, cfg string) {
	t.Helper()
	for _, d := range tableDirectives(v, value) {
		if v.Kind == envmap.KindFlag && value != "1" {
			assert.False(t, hasDirective(cfg, sections, d), "%s=%s, yet %q is in %s:\n%s", v.Name, value, d, v.Section, cfg)
			continue
		}
		assert.True(t, hasDirective(cfg, sections, d), "%s=%s, yet %q is not in %s:\n%s", v.Name, value, d, v.Section, cfg)
	}
}

// tableDirectives reads the table's Directive as the lines it stands for,
// with value for "{}": directives separated by ", ", up to a "; " that
// starts what happens outside the config, without a closing "(remark)",
// and where "..." stands for the words that follow.
func tableDirectives(v envmap.Var, value string) []string {
	d, _, _ := strings.Cut(v.Directive, "; ")
	if strings.HasSuffix(d, ")") {
		if i := strings.LastIndex(d, " ("); i >= 0 {
			d = d[:i]
		}
	}
	var out []string
	for _, part := range strings.Split(d, ", ") {
		part = strings.TrimSuffix(part, " ...")
		if v.Kind != envmap.KindFlag {
			part = strings.ReplaceAll(part, "{}", value)
		}
		out = append(out, part)
	}
	return out
}

// hasDirective reports whether a section of cfg whose header matches one of
// patterns ("backend <app>" matches every backend) has a line with the
// keyword of directive followed, somewhere after it, by its other words in
// a row: "default-server fall 2" is in "default-server fastinter 250ms
// downinter 250ms fall 2 rise 2 inter 5s check".
func hasDirective(cfg string, patterns []string, directive string) bool {
	want := strings.Fields(directive)
	inSection := false
	for _, line := range strings.Split(cfg, "\n") {
		if line != "" && line[0] != ' ' {
			inSection = false
			for _, p := range patterns {
				if ok, _ := path.Match(strings.ReplaceAll(p, "<app>", "*"), line); ok {
					inSection = true
				}
			}
			continue
		}
		words := strings.Fields(line)
		if !inSection || len(words) == 0 || words[0] != want[0] {
			continue
		}
		rest := want[1:]
		for i := 1; i+len(rest) <= len(words); i++ {
			if slices.Equal(words[i:i+len(rest)], rest) {
				return true
			}
		}
	}
	return false
}

// otherValue returns a valid value of v that is not def: Example for a
// variable Ray omits unset, else one derived from the default.
func otherValue(t *testing.T, v envmap.Var, def string) string {
	t.Helper()
	other := v.Example
	switch {
	case v.Omitted:
	case v.Kind == envmap.KindFlag:
		other = map[string]string{"0": "1", "1": "0"}[def]
	case v.Kind == envmap.KindInt || v.Kind == envmap.KindSeconds || v.Kind == envmap.KindPort:
		n, err := strconv.Atoi(def)
		require.NoError(t, err)
		other = strconv.Itoa(n + 1)
	case v.Kind == envmap.KindTime:
		other = "7s"
	case v.Kind == envmap.KindPath:
		other = "/run/other/" + path.Base(def)
	case v.Kind == envmap.KindAddress:
		other = "10.0.0.9:5514"
	case len(v.Values) > 0:
		other = v.Values[slices.IndexFunc(v.Values, func(s string) bool { return s != def })]
	}
	require.NotEqual(t, def, other, "no other value of %s", v.Name)
	require.Empty(t, v.Check(other), "%s=%s is no valid value", v.Name, other)
	return other
}

// TestShapesAreReleases checks that every shape names a release of envmap's
// table, whose defaults it renders with.
func TestShapesAreReleases(t *testing.T) {
	for _, shape := range []Shape{ShapeV1, Shape255, ShapeMaster} {
		nodelay := slices.IndexFunc(envmap.All(), func(v envmap.Var) bool { return v.Name == "RAY_SERVE_HAPROXY_TCP_NODELAY" })
		require.GreaterOrEqual(t, nodelay, 0)
		s, err := ReadEnv(nil, shape)
		require.NoError(t, err)
		assert.Equal(t, envmap.All()[nodelay].DefaultIn(shape.release()) == "1", s.TCPNoDelay, "%s", shape)
	}
	s, err := ReadEnv(nil, ShapeMaster)
	require.NoError(t, err)
	assert.True(t, s.TCPNoDelay, "#63353 turned TCP_NODELAY on in master")
}
