// Package docs_test keeps the documentation honest: every cookbook snippet in
// docs/examples/cookbook is applied to a config in Ray 2.55's shape and checked
// by the real haproxy, and the TOML blocks of docs/cookbook.md must be those
// files byte for byte. It is a test-only package.
package docs_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serve-launch/serve-launch/internal/hapkw"
	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/hapcheck"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
	"github.com/serve-launch/serve-launch/internal/raycfg"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
)

const (
	repoRoot    = "../../.."
	cookbookDir = "docs/examples/cookbook"
	errorsDir   = "docs/examples/errors"
	cookbookMD  = "docs/cookbook.md"
)

// rayConfig is a config in Ray 2.55's shape with every path in a temp dir, and
// the environment the snippets' env templates read.
type rayConfig struct {
	dir  string
	cfg  []byte
	env  map[string]string
	apps []raycfg.App
}

// renderRay renders Ray 2.55's config for two apps (3 + 2 replicas, so
// .Servers is 5) with a small maxconn, creates the files haproxy -c opens
// (500.http, the error pages a recipe points at) and returns the environment
// the recipes see: Ray's settings plus SERVE_ERRORS_DIR and SERVE_NODE_NAME.
func renderRay(t *testing.T) rayConfig {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{
		"RAY_SERVE_HAPROXY_MAXCONN":           "2000",
		"RAY_SERVE_HAPROXY_CONFIG_FILE_LOC":   filepath.Join(dir, "haproxy.cfg"),
		"RAY_SERVE_HAPROXY_SOCKET_PATH":       filepath.Join(dir, "admin.sock"),
		"RAY_SERVE_HAPROXY_SERVER_STATE_BASE": dir,
		"RAY_SERVE_HAPROXY_SERVER_STATE_FILE": filepath.Join(dir, "server-state"),
	}
	settings, err := raycfg.ReadEnv(env, raycfg.Shape255)
	require.NoError(t, err)
	require.NoError(t, raycfg.PrepareDirs(settings))

	// The error pages the error-pages recipe names, copied from the examples
	// so that haproxy -c parses the very files the docs ship.
	errDir := filepath.Join(dir, "errors")
	require.NoError(t, os.Mkdir(errDir, 0o755))
	pages, err := filepath.Glob(filepath.Join(repoRoot, errorsDir, "*.http"))
	require.NoError(t, err)
	require.NotEmpty(t, pages, "no error pages in %s", errorsDir)
	for _, p := range pages {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(errDir, filepath.Base(p)), data, 0o644))
	}
	env["SERVE_ERRORS_DIR"] = errDir
	env["SERVE_NODE_NAME"] = "node-a"

	port := 30000
	replicas := func(app string, n int) []raycfg.Target {
		var ts []raycfg.Target
		for i := 0; i < n; i++ {
			ts = append(ts, raycfg.Target{Name: fmt.Sprintf("SERVE_REPLICA::%s#Model#r%d", app, i), Host: "127.0.0.1", Port: port})
			port++
		}
		return ts
	}
	apps := []raycfg.App{
		{Name: "app1", RoutePrefix: "/app1", Replicas: replicas("app1", 3)},
		{Name: "app2", RoutePrefix: "/app2", Replicas: replicas("app2", 2)},
	}
	cfg, err := raycfg.Render(raycfg.Options{Shape: raycfg.Shape255, Env: env, Apps: apps})
	require.NoError(t, err)
	return rayConfig{dir: dir, cfg: cfg, env: env, apps: apps}
}

// haproxyBinary finds the real haproxy; these tests claim haproxy behaviour,
// so a missing binary is a failure, never a skip.
func haproxyBinary(t *testing.T) string {
	t.Helper()
	return testenv.HAProxy(t)
}

// recipeFiles lists docs/examples/cookbook/*.toml in byte order of the name,
// the order serve-launch applies overrides.d in.
func recipeFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, cookbookDir, "*.toml"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recipes in %s", cookbookDir)
	sort.Strings(files)
	return files
}

func loadRecipe(t *testing.T, path string) *snippet.Snippet {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	s, err := snippet.Load(filepath.Base(path), data)
	require.NoError(t, err, "%s does not load", path)
	return s
}

// applyAndCheck applies the snippets to rc's config, runs haproxy -c on the
// result and fails with haproxy's own messages on an ALERT, or on a WARNING
// about a line a snippet wrote (a recipe must not add warnings). It returns
// the patched config. Every keyword the recipes write must be in Ray's
// HAProxy (2.8), which may not be the haproxy at hand.
func applyAndCheck(t *testing.T, haproxy string, rc rayConfig, snippets ...*snippet.Snippet) string {
	t.Helper()
	o := &patch.Overrides{Dir: cookbookDir, Snippets: snippets}
	getenv := func(k string) (string, bool) { v, ok := rc.env[k]; return v, ok }
	f, err := config.Parse("ray-2.55.cfg", rc.cfg)
	require.NoError(t, err)
	require.NoError(t, o.Apply(f, patch.ApplyOptions{Getenv: getenv}))
	// Whatever haproxy runs the test, a recipe must suit the HAProxy Ray ships.
	for _, fd := range hapkw.Check(f, hapkw.Ray()) {
		t.Errorf("a recipe writes a keyword Ray's HAProxy lacks: %s", fd)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := hapcheck.Check(ctx, haproxy, f)
	require.NoError(t, err)
	var problems []string
	for _, m := range res.Messages {
		if m.Level == "ALERT" || m.FromSnippet {
			problems = append(problems, m.String())
		}
	}
	if !res.OK || len(problems) > 0 {
		t.Fatalf("haproxy -c rejects the patched config:\n%s\nhaproxy said:\n%s\npatched config:\n%s",
			strings.Join(problems, "\n"), strings.TrimSpace(res.Output), f.Render())
	}

	// Applying the same snippets to the patched file changes nothing, as the
	// snippet reference (docs/reference.md) promises for every snippet.
	patched := f.Render()
	again, err := o.Patch("patched.cfg", patched, patch.ApplyOptions{Getenv: getenv})
	require.NoError(t, err)
	assert.Equal(t, string(patched), string(again), "applying the recipe twice changed the config")
	return string(patched)
}

// directives returns the config's directive lines, trimmed, with the
// "# serve-launch: FILE:LINE" provenance comment removed.
func directives(cfg string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(cfg))
	for sc.Scan() {
		l := sc.Text()
		if i := strings.Index(l, " # serve-launch: "); i >= 0 {
			l = l[:i]
		}
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func count(cfg, line string) int {
	n := 0
	for _, l := range directives(cfg) {
		if l == line {
			n++
		}
	}
	return n
}

func countPrefix(cfg, prefix string) int {
	n := 0
	for _, l := range directives(cfg) {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func index(cfg, prefix string) int {
	for i, l := range directives(cfg) {
		if strings.HasPrefix(l, prefix) {
			return i
		}
	}
	return -1
}

// expectations says, for each recipe, what it must change in Ray's file, so
// that the cookbook's "what it changes" stays true. Two app backends, five
// replicas.
var expectations = map[string]func(t *testing.T, cfg string, rc rayConfig){
	"rate-limits.toml": func(t *testing.T, cfg string, _ rayConfig) {
		assert.Equal(t, 1, count(cfg, "maxconnrate 2560"), "5 replicas x 512")
		assert.Equal(t, 1, count(cfg, "maxsessrate 2560"))
	},
	"timeout-http-request.toml": func(t *testing.T, cfg string, _ rayConfig) {
		assert.Equal(t, 1, count(cfg, "timeout http-request 30s"))
	},
	"timeout-queue.toml": func(t *testing.T, cfg string, _ rayConfig) {
		assert.Equal(t, 1, count(cfg, "timeout queue 60s"))
	},
	"retries-redispatch.toml": func(t *testing.T, cfg string, _ rayConfig) {
		assert.Equal(t, 1, count(cfg, "retries 1"))
		assert.Equal(t, 1, count(cfg, "option redispatch"))
	},
	"keep-alive.toml": func(t *testing.T, cfg string, _ rayConfig) {
		assert.Equal(t, 1, count(cfg, "option http-keep-alive"))
	},
	"http-reuse.toml": func(t *testing.T, cfg string, _ rayConfig) {
		assert.Equal(t, 2, count(cfg, "http-reuse aggressive"))
		assert.Equal(t, 0, count(cfg, "http-reuse always"))
	},
	"health-check.toml": func(t *testing.T, cfg string, _ rayConfig) {
		assert.Equal(t, 2, count(cfg, "option httpchk GET /health"))
		assert.Equal(t, 0, count(cfg, "option httpchk GET /-/healthz"))
		assert.Equal(t, 2, count(cfg, "http-check expect status 200"), "Ray's expect rule stays")
	},
	"server-maxconn.toml": func(t *testing.T, cfg string, _ rayConfig) {
		assert.Equal(t, 2, count(cfg, "default-server fastinter 250ms downinter 250ms fall 2 rise 2 inter 5s check maxconn 32"))
	},
	"no-downinter.toml": func(t *testing.T, cfg string, _ rayConfig) {
		assert.Equal(t, 2, count(cfg, "default-server fastinter 250ms fall 2 rise 2 inter 5s check"))
		for _, l := range directives(cfg) {
			assert.NotContains(t, l, " downinter ", "a downinter is left")
		}
	},
	"client-rate-limit.toml": func(t *testing.T, cfg string, _ rayConfig) {
		deny := index(cfg, "http-request deny deny_status 429")
		require.GreaterOrEqual(t, deny, 0, "deny rule missing")
		assert.Less(t, index(cfg, "http-request return status 200 content-type text/plain string \"success\""), index(cfg, "http-request track-sc0 src"),
			"Ray's /-/healthz answers come before the tracking, so health checks are not rate limited")
		assert.Less(t, deny, index(cfg, "use_backend "), "the rules go before Ray's use_backend rules")
		assert.Equal(t, 1, countPrefix(cfg, "stick-table type ip"))
	},
	"loopback-stats.toml": func(t *testing.T, cfg string, _ rayConfig) {
		assert.Equal(t, 1, count(cfg, "bind 127.0.0.1:8404"))
		assert.Equal(t, 1, count(cfg, "bind 127.0.0.1:9101"))
		assert.Equal(t, 0, count(cfg, "bind *:8404"))
		assert.Equal(t, 0, count(cfg, "bind :9101"))
		assert.Equal(t, 1, count(cfg, "bind *:8000"), "Ray's HTTP bind is untouched")
	},
	"admin-socket.toml": func(t *testing.T, cfg string, rc rayConfig) {
		assert.Equal(t, 1, countPrefix(cfg, "stats socket "), "one admin socket, replaced in place")
		assert.Equal(t, 1, count(cfg, "stats socket "+filepath.Join(rc.dir, "admin.sock")+" mode 600 level admin expose-fd listeners"))
	},
	"error-pages.toml": func(t *testing.T, cfg string, rc rayConfig) {
		assert.Equal(t, 1, count(cfg, "errorfile 503 "+filepath.Join(rc.dir, "errors", "503.http")))
		assert.Equal(t, 1, count(cfg, "errorfile 429 "+filepath.Join(rc.dir, "errors", "429.http")))
		assert.Equal(t, 1, count(cfg, "errorfile 502 "+filepath.Join(rc.dir, "500.http")), "Ray's errorfiles stay")
	},
	"access-log.toml": func(t *testing.T, cfg string, _ rayConfig) {
		assert.Equal(t, 1, countPrefix(cfg, `log-format "%ci:%cp [%tr] %ft %b/%s`))
		assert.Equal(t, 0, count(cfg, "option httplog"))
	},
	"fast-start.toml": func(t *testing.T, cfg string, _ rayConfig) {
		assert.Equal(t, 1, count(cfg, "httpclient.ssl.verify none"))
	},
	"node-header.toml": func(t *testing.T, cfg string, _ rayConfig) {
		assert.Equal(t, 1, count(cfg, "http-response set-header X-Served-By node-a"))
	},
}

// TestCookbookRecipes applies each recipe alone, then all of them together,
// to Ray's 2.55 config and runs haproxy -c on the result.
func TestCookbookRecipes(t *testing.T) {
	haproxy := haproxyBinary(t)
	rc := renderRay(t)
	var all []*snippet.Snippet
	for _, path := range recipeFiles(t) {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".toml"), func(t *testing.T) {
			s := loadRecipe(t, path)
			all = append(all, s)
			expect, ok := expectations[name]
			require.True(t, ok, "recipe %s has no expectations in docs_test.go: say what it changes", name)
			cfg := applyAndCheck(t, haproxy, rc, s)
			expect(t, cfg, rc)
		})
	}
	t.Run("all together", func(t *testing.T) {
		applyAndCheck(t, haproxy, rc, all...)
	})
	// Ray starts haproxy before its first routes arrive: no app backends,
	// .Servers 0. Every recipe must let that start through too.
	t.Run("on Ray's first start, before any route", func(t *testing.T) {
		first := rc
		cfg, err := raycfg.Render(raycfg.Options{Shape: raycfg.Shape255, Env: rc.env})
		require.NoError(t, err)
		first.cfg, first.apps = cfg, nil
		for _, s := range all {
			t.Run(s.Name, func(t *testing.T) { applyAndCheck(t, haproxy, first, s) })
		}
		applyAndCheck(t, haproxy, first, all...)
	})
	for name := range expectations {
		assert.FileExists(t, filepath.Join(repoRoot, cookbookDir, name), "expectations name a recipe that does not exist")
	}
}

// TestRecipesNeedTheirEnv shows the env templates are really read: without
// SERVE_NODE_NAME (no default) the node-header recipe is an error naming it.
func TestRecipesNeedTheirEnv(t *testing.T) {
	rc := renderRay(t)
	s := loadRecipe(t, filepath.Join(repoRoot, cookbookDir, "node-header.toml"))
	o := &patch.Overrides{Snippets: []*snippet.Snippet{s}}
	_, err := o.Patch("ray.cfg", rc.cfg, patch.ApplyOptions{Getenv: func(string) (string, bool) { return "", false }})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SERVE_NODE_NAME")
	assert.Contains(t, err.Error(), "node-header.toml:")
}

// markerRE is the first line of a cookbook block that mirrors a file.
var markerRE = regexp.MustCompile(`^# (docs/examples/cookbook/[A-Za-z0-9._-]+\.toml)$`)

// TestCookbookBlocksMatchFiles checks that every ```toml block of
// cookbook.md starting with a "# docs/examples/cookbook/NAME.toml" line is
// that file byte for byte, and that every recipe file has its block.
func TestCookbookBlocksMatchFiles(t *testing.T) {
	md, err := os.ReadFile(filepath.Join(repoRoot, cookbookMD))
	require.NoError(t, err)
	blocks := map[string]string{}
	lines := strings.SplitAfter(string(md), "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimRight(lines[i], "\n") != "```toml" || i+1 >= len(lines) {
			continue
		}
		m := markerRE.FindStringSubmatch(strings.TrimRight(lines[i+1], "\n"))
		if m == nil {
			continue
		}
		var b strings.Builder
		j := i + 1
		for ; j < len(lines) && strings.TrimRight(lines[j], "\n") != "```"; j++ {
			b.WriteString(lines[j])
		}
		require.Less(t, j, len(lines), "%s: the block for %s does not close", cookbookMD, m[1])
		_, dup := blocks[m[1]]
		require.False(t, dup, "%s: two blocks for %s", cookbookMD, m[1])
		blocks[m[1]] = b.String()
		i = j
	}
	for _, path := range recipeFiles(t) {
		rel := cookbookDir + "/" + filepath.Base(path)
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			got, ok := blocks[rel]
			require.True(t, ok, "%s has no ```toml block starting with %q", cookbookMD, "# "+rel)
			assert.Equal(t, string(want), got, "the block in %s differs from %s", cookbookMD, rel)
		})
		delete(blocks, rel)
	}
	for rel := range blocks {
		t.Errorf("%s has a block for %s, which does not exist", cookbookMD, rel)
	}
}
