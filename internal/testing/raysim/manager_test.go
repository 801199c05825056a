package raysim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
	"github.com/serve-launch/serve-launch/internal/raycfg"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixture is a manager on the real haproxy with replicas, all on loopback.
type fixture struct {
	m         *Manager
	env       map[string]string
	httpPort  int
	statsPort int
	replicas  []*Replica
}

func startReplicas(t *testing.T, app string, n, first int) []*Replica {
	t.Helper()
	var rs []*Replica
	for i := 0; i < n; i++ {
		r, err := StartReplica(fmt.Sprintf("SERVE_REPLICA::%s#Model#r%d", app, first+i), 0)
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		rs = append(rs, r)
	}
	return rs
}

func newFixture(t *testing.T, shape raycfg.Shape, replicas int, extraEnv map[string]string) *fixture {
	t.Helper()
	bin := testenv.HAProxy(t)
	env := testenv.RayEnvMap(t)
	env["RAY_SERVE_HAPROXY_BINARY_PATH"] = bin
	// Ray's default inter (5s) doubles as the check timeout, so a loaded CI
	// machine does not mark replicas DOWN; faster transitions keep it short.
	env["RAY_SERVE_HAPROXY_HEALTH_CHECK_FASTINTER"] = "100ms"
	env["RAY_SERVE_HAPROXY_HEALTH_CHECK_DOWNINTER"] = "100ms"
	env["RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S"] = "5"
	for k, v := range extraEnv {
		env[k] = v
	}
	f := &fixture{env: env, httpPort: testenv.FreePort(t), statsPort: testenv.FreePort(t)}
	f.replicas = startReplicas(t, "app1", replicas, 1)
	m, err := NewManager(ManagerConfig{
		Options: raycfg.Options{Shape: shape, Env: env, HTTPHost: "127.0.0.1", HTTPPort: f.httpPort, StatsPort: f.statsPort,
			Apps: []raycfg.App{{Name: "app1", RoutePrefix: "/app1", Replicas: targets(f.replicas)}}},
		Environ: os.Environ(),
	})
	require.NoError(t, err)
	f.m = m
	t.Cleanup(m.Stop)
	return f
}

func (f *fixture) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", f.httpPort, path)
}

// waitAllUp polls `show stat` until every server of http-app1 is UP (in
// haproxy's sense, which takes traffic; Ray's serving() wants exactly "UP").
func (f *fixture) waitAllUp(t *testing.T, want int) {
	t.Helper()
	sock := f.m.Settings().SocketPath
	var last []string
	testenv.Eventually(t, 10*time.Second, "servers all UP", func() (bool, string) {
		rows, err := admin.ShowStat(context.Background(), sock)
		if err != nil {
			return false, err.Error()
		}
		up, all := 0, []string{}
		for _, r := range rows {
			if r["pxname"] == "http-app1" && r["svname"] != "BACKEND" {
				all = append(all, r["svname"]+"="+r["status"])
				// "UP 1/2" (a new server's first checks pending) takes traffic too.
				if strings.HasPrefix(r["status"], "UP") {
					up++
				}
			}
		}
		if fmt.Sprint(all) != fmt.Sprint(last) {
			t.Logf("%s servers: %v", time.Now().Format("15:04:05.000"), all)
		}
		last = all
		return up == want && len(all) == want, fmt.Sprint(all)
	})
}

func TestManagerServesThroughRealHAProxy(t *testing.T) {
	f := newFixture(t, raycfg.Shape255, 2, nil)
	ctx := context.Background()
	require.NoError(t, f.m.Start(ctx))

	s := f.m.Settings()
	assert.Equal(t, []string{f.env["RAY_SERVE_HAPROXY_BINARY_PATH"], "-db", "-f", s.ConfigFile, "-dR"}, f.m.LastArgs())
	info, err := admin.ShowInfo(ctx, s.SocketPath)
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(f.m.PID()), info["Pid"])
	assert.Equal(t, "2000", info["Maxconn"])
	_, err = os.Stat(raycfg.ErrorFilePath(s.ConfigFile))
	assert.NoError(t, err, "500.http is written beside the config")

	f.waitAllUp(t, 2)
	for i := 0; i < 4; i++ {
		resp, err := http.Get(f.url("/app1/x"))
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
		assert.Contains(t, string(body), "SERVE_REPLICA::app1#Model#r")
	}
	resp, err := http.Get(f.url("/-/healthz"))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "200 success", fmt.Sprint(resp.StatusCode, " ", string(body)))
	resp, err = http.Get(f.url("/nope"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode)
	hz, _ := f.replicas[0].HealthChecks()
	assert.Positive(t, hz, "haproxy health-checks /-/healthz")

	t.Run("draining", func(t *testing.T) {
		require.NoError(t, f.m.SetDraining(ctx, true))
		// Ray's readiness check accepts the old process answering on the
		// socket, so the new one may take over a moment after the reload
		// returns: poll, bounded, on fresh connections. Until then the old,
		// soft-stopping process may answer anything its config allows,
		// including its own 503 "Service Unavailable" (CI saw one), so only
		// the drained message ends the poll. The bound is generous: on a
		// loaded machine the new process may take seconds to start.
		const want = "503 This node is being drained."
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		got := ""
		testenv.Eventually(t, 15*time.Second, "/-/healthz answering "+want, func() (bool, string) {
			resp, err := client.Get(f.url("/-/healthz"))
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if answer := fmt.Sprint(resp.StatusCode, " ", string(body)); answer != got {
				t.Logf("%s /-/healthz: %s", time.Now().Format("15:04:05.000"), answer)
				got = answer
			}
			return got == want, got
		})

		// With #64063's check the reload returns only once the new PID answers.
		f.m.cfg.CheckNewPID = true
		require.NoError(t, f.m.SetDraining(ctx, false))
		info, err := admin.ShowInfo(ctx, f.m.Settings().SocketPath)
		require.NoError(t, err)
		assert.Equal(t, strconv.Itoa(f.m.PID()), info["Pid"])
	})
}

// TestManagerReloadsUnderLoad does five Ray-style reloads (replica added or
// removed, -sf/-x each time) while Go clients send requests: none may fail.
func TestManagerReloadsUnderLoad(t *testing.T) {
	f := newFixture(t, raycfg.Shape255, 2, nil)
	ctx := context.Background()
	require.NoError(t, f.m.Start(ctx))
	f.waitAllUp(t, 2)

	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Bounded: stops on the signal or after 3000 requests per client.
			for i := 0; i < 3000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(f.url("/app1/work"))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d at %s (replica %q)", resp.StatusCode, time.Now().Format("15:04:05.000"), resp.Header.Get("X-Replica"))
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				ok.Add(1)
			}
		}()
	}

	live := append([]*Replica{}, f.replicas...)
	next := 3
	pids := []int{f.m.PID()}
	for i := 0; i < 5; i++ {
		var gone *Replica
		if i%2 == 0 {
			live = append(live, startReplicas(t, "app1", 1, next)...)
			next++
		} else {
			gone, live = live[0], live[1:]
		}
		require.NoError(t, f.m.Update(ctx, []raycfg.App{{Name: "app1", RoutePrefix: "/app1", Replicas: targets(live)}}))
		args := f.m.LastArgs()
		assert.Equal(t, []string{"-sf", strconv.Itoa(pids[len(pids)-1]), "-x", f.m.Settings().SocketPath}, args[len(args)-4:])
		pids = append(pids, f.m.PID())
		t.Logf("reload %d done at %s", i, time.Now().Format("15:04:05.000"))
		f.waitAllUp(t, len(live))
		if gone != nil {
			// Ray stops a replica only after routing moved away from it: the
			// old haproxy still routes requests that arrive on its open
			// keep-alive connections until it exits, and Ray's config has no
			// redispatch, so a replica stopped before then fails requests.
			old := pids[len(pids)-2]
			testenv.Eventually(t, 10*time.Second, "the old haproxy exiting after -sf", func() (bool, string) {
				live := f.m.LivePIDs()
				return !slices.Contains(live, old), fmt.Sprintf("live %v", live)
			})
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			require.NoError(t, gone.Shutdown(sctx))
			cancel()
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("requests: %d ok, %d failed; pids %v", ok.Load(), failed.Load(), pids)
	assert.Zero(t, failed.Load(), "first failure: %v", firstErr.Load())
	assert.Positive(t, ok.Load())
	assert.Equal(t, 5, f.m.Reloads())
	state, err := os.ReadFile(f.m.Settings().ServerStateFile)
	require.NoError(t, err)
	assert.Contains(t, string(state), "http-app1", "show servers state saved before the reload")

	// Stop: SIGKILL to every tracked process; the ports are free soon after
	// (the bound is generous for a loaded machine; the poll ends early).
	f.m.Stop()
	assert.Empty(t, f.m.LivePIDs())
	for _, pid := range pids {
		assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "pid %d is gone", pid)
	}
	metrics, _ := strconv.Atoi(f.env["RAY_SERVE_HAPROXY_METRICS_PORT"])
	for _, port := range []int{f.httpPort, f.statsPort, metrics} {
		assertPortFree(t, port, 10*time.Second)
	}
}

func assertPortFree(t *testing.T, port int, within time.Duration) {
	t.Helper()
	testenv.Eventually(t, within, fmt.Sprintf("port %d free", port), func() (bool, string) {
		if err := testenv.PortFree(port); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}

// writeScript writes an executable shell script into dir.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755))
	return p
}

func TestManagerStartFailures(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		timeout time.Duration
		want    string
	}{
		{"crash reports stderr", "echo 'fatal: bad config' >&2\necho 'on stdout'\nexit 3\n", 0, "HAProxy crashed during startup: fatal: bad config"},
		{"crash reports stdout when stderr is empty", "echo 'only stdout'\nexit 3\n", 0, "HAProxy crashed during startup: only stdout"},
		{"crash without output reports exit code", "exit 7\n", 0, "HAProxy crashed during startup: exit code 7"},
		{"never ready", "exec sleep 30\n", 300 * time.Millisecond, "HAProxy did not enter running state within 300ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := testenv.RayEnvMap(t)
			env["RAY_SERVE_HAPROXY_BINARY_PATH"] = writeScript(t, t.TempDir(), "fake-haproxy", tc.script)
			m, err := NewManager(ManagerConfig{Options: raycfg.Options{Env: env}, Environ: os.Environ(),
				ReadyTimeout: tc.timeout, ReadyInterval: 50 * time.Millisecond})
			require.NoError(t, err)
			t.Cleanup(m.Stop)
			err = m.Start(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, m.LivePIDs(), "a process that failed to start is killed")
		})
	}
}

// TestManagerBinaryChoice checks which executable is run: V1's plain
// `haproxy` from the child's PATH, or RAY_SERVE_HAPROXY_BINARY_PATH; and that
// SERVE_SOCKET_REUSE_PORT_ENABLED=1 drops -dR.
func TestManagerBinaryChoice(t *testing.T) {
	real := testenv.HAProxy(t)
	tests := []struct {
		name      string
		plain     bool
		env       map[string]string
		wantBin   string // "shim" = the shim on PATH, "real" = real haproxy
		wantDashR bool
	}{
		{name: "plain haproxy from PATH", plain: true, env: map[string]string{"RAY_SERVE_HAPROXY_BINARY_PATH": "/nonexistent"}, wantBin: "shim", wantDashR: true},
		{name: "binary path", env: nil, wantBin: "real", wantDashR: true},
		{name: "reuse port", env: map[string]string{"SERVE_SOCKET_REUSE_PORT_ENABLED": "1"}, wantBin: "real", wantDashR: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			shimDir := t.TempDir()
			argsFile := filepath.Join(shimDir, "args")
			writeScript(t, shimDir, "haproxy", fmt.Sprintf("echo \"$0 $*\" > %s\nexec %s \"$@\"\n", argsFile, real))
			env := testenv.RayEnvMap(t)
			env["RAY_SERVE_HAPROXY_BINARY_PATH"] = real
			for k, v := range tc.env {
				env[k] = v
			}
			environ := append(os.Environ(), "PATH="+shimDir+":"+os.Getenv("PATH"))
			m, err := NewManager(ManagerConfig{PlainHAProxy: tc.plain, Environ: environ,
				Options: raycfg.Options{Env: env, HTTPHost: "127.0.0.1", HTTPPort: testenv.FreePort(t), StatsPort: testenv.FreePort(t)}})
			require.NoError(t, err)
			t.Cleanup(m.Stop)
			require.NoError(t, m.Start(context.Background()))
			args := m.LastArgs()
			if tc.wantBin == "shim" {
				assert.Equal(t, "haproxy", args[0], "argv[0] as Ray passes it")
				got, err := os.ReadFile(argsFile)
				require.NoError(t, err)
				assert.Equal(t, filepath.Join(shimDir, "haproxy")+" -db -f "+m.Settings().ConfigFile+" -dR\n", string(got))
			} else {
				assert.Equal(t, real, args[0])
			}
			assert.Equal(t, tc.wantDashR, strings.Contains(strings.Join(args, " "), " -dR"))
		})
	}
}

// TestManagerPerNodePaths checks where each shape puts its files: master
// scopes the config, admin socket and server state under `<dir>/<node_id>/`
// (HAProxyManager._per_node), so the -f Ray passes is not
// RAY_SERVE_HAPROXY_CONFIG_FILE_LOC; V1 and 2.55 use the paths as given.
func TestManagerPerNodePaths(t *testing.T) {
	bin := testenv.HAProxy(t)
	const node = "0123456789abcdef0123456789abcdef0123456789abcdef01234567"
	for _, shape := range []raycfg.Shape{raycfg.Shape255, raycfg.ShapeV1, raycfg.ShapeMaster} {
		t.Run(string(shape), func(t *testing.T) {
			// A short directory: a unix socket path must stay under 108
			// bytes, and the node ID adds 57.
			dir, err := os.MkdirTemp("", "rs")
			require.NoError(t, err)
			t.Cleanup(func() { os.RemoveAll(dir) })
			env := testenv.RayEnvMap(t)
			env["RAY_SERVE_HAPROXY_BINARY_PATH"] = bin
			env["RAY_SERVE_HAPROXY_CONFIG_FILE_LOC"] = filepath.Join(dir, "haproxy.cfg")
			env["RAY_SERVE_HAPROXY_SOCKET_PATH"] = filepath.Join(dir, "admin.sock")
			env["RAY_SERVE_HAPROXY_SERVER_STATE_BASE"] = dir
			env["RAY_SERVE_HAPROXY_SERVER_STATE_FILE"] = filepath.Join(dir, "server-state")
			env["RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH"] = filepath.Join(dir, "metrics.sock")
			m, err := NewManager(ManagerConfig{NodeID: node, Environ: os.Environ(),
				Options: raycfg.Options{Shape: shape, Env: env, HTTPHost: "127.0.0.1", HTTPPort: testenv.FreePort(t), StatsPort: testenv.FreePort(t)}})
			require.NoError(t, err)
			t.Cleanup(m.Stop)
			require.NoError(t, m.Start(context.Background()))

			want := dir
			if shape == raycfg.ShapeMaster {
				want = filepath.Join(dir, node)
			}
			s := m.Settings()
			assert.Equal(t, filepath.Join(want, "haproxy.cfg"), s.ConfigFile)
			assert.Equal(t, filepath.Join(want, "admin.sock"), s.SocketPath)
			assert.Equal(t, filepath.Join(want, "server-state"), s.ServerStateFile)
			assert.Equal(t, want, s.ServerStateBase)
			assert.Equal(t, filepath.Join(want, "metrics.sock"), s.MetricsSocketPath)
			assert.Equal(t, []string{bin, "-db", "-f", filepath.Join(want, "haproxy.cfg"), "-dR"}, m.LastArgs())
			cfg, err := os.ReadFile(filepath.Join(want, "haproxy.cfg"))
			require.NoError(t, err)
			assert.Contains(t, string(cfg), "stats socket "+filepath.Join(want, "admin.sock")+" mode 666 level admin expose-fd listeners\n")
			assert.Contains(t, string(cfg), "errorfile 502 "+filepath.Join(want, "500.http")+"\n")
			assert.FileExists(t, filepath.Join(want, "500.http"))
			_, err = admin.ShowInfo(context.Background(), filepath.Join(want, "admin.sock"))
			assert.NoError(t, err, "show info on the admin socket")
			if shape == raycfg.ShapeMaster {
				assert.NoFileExists(t, filepath.Join(dir, "haproxy.cfg"), "master never writes the configured path")
			}
		})
	}
}

// TestManagerStopKillsDrainingOldProcess pins HAProxyApi.stop: SIGKILL to
// the current haproxy and to an older one still soft-stopping after -sf
// (it finishes a slow request first), not a graceful signal.
func TestManagerStopKillsDrainingOldProcess(t *testing.T) {
	f := newFixture(t, raycfg.Shape255, 1, map[string]string{"RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S": "60"})
	ctx := context.Background()
	require.NoError(t, f.m.Start(ctx))
	f.waitAllUp(t, 1)
	old := f.m.PID()

	// A request the replica holds keeps the old haproxy alive after -sf.
	f.replicas[0].SetDelay(30 * time.Second)
	reqDone := make(chan struct{})
	go func() {
		defer close(reqDone)
		if resp, err := http.Get(f.url("/app1/slow")); err == nil {
			resp.Body.Close()
		}
	}()
	testenv.Eventually(t, 10*time.Second, "request in flight on the replica", func() (bool, string) {
		n := f.replicas[0].InFlight()
		return n == 1, fmt.Sprint(n, " in flight")
	})
	require.NoError(t, f.m.Reload(ctx))
	cur := f.m.PID()
	require.NotEqual(t, old, cur)
	require.Equal(t, []int{old, cur}, f.m.LivePIDs(), "the old haproxy still drains its request")

	procs := []*proc{f.m.old[0], f.m.cur}
	f.m.Stop()
	for _, p := range procs {
		<-p.done
		ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
		require.True(t, ok)
		assert.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "pid %d ended by SIGKILL, got %v", p.cmd.Process.Pid, p.cmd.ProcessState)
	}
	assert.Empty(t, f.m.LivePIDs())
	f.replicas[0].Close()
	<-reqDone
}

// TestManagerReloadNotOptimized pins the reload argv without
// RAY_SERVE_ENABLE_HAPROXY_OPTIMIZED_CONFIG: `-sf <old>` and no `-x`, and
// no `show servers state` saved.
func TestManagerReloadNotOptimized(t *testing.T) {
	f := newFixture(t, raycfg.Shape255, 1, map[string]string{"RAY_SERVE_ENABLE_HAPROXY_OPTIMIZED_CONFIG": "0"})
	ctx := context.Background()
	require.NoError(t, f.m.Start(ctx))
	old := f.m.PID()
	require.NoError(t, f.m.Reload(ctx))
	s := f.m.Settings()
	assert.Equal(t, []string{f.env["RAY_SERVE_HAPROXY_BINARY_PATH"], "-db", "-f", s.ConfigFile, "-dR", "-sf", strconv.Itoa(old)}, f.m.LastArgs())
	assert.NoFileExists(t, s.ServerStateFile)
}
