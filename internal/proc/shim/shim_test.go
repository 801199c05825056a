//go:build linux

package shim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/proc/internal/proctest"
	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/proc/state"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunShim(t *testing.T) {
	real := proctest.FakeHAProxy(t)
	overrides := t.TempDir()
	proctest.WriteFile(t, filepath.Join(overrides, "10-a.toml"), "a")
	proctest.WriteFile(t, filepath.Join(overrides, "20-b.toml"), "b")

	setup := func(t *testing.T, content string) (*state.StateDir, string) {
		s, err := state.OpenStateDir(filepath.Join(t.TempDir(), "state"))
		require.NoError(t, err)
		cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
		proctest.WriteFile(t, cfg, content)
		return s, cfg
	}
	run := func(s *state.StateDir, argv []string, rec *proctest.ExecRecorder) error {
		return shim.RunShim(context.Background(), shim.ShimConfig{
			Argv: argv, RealHAProxy: real, StateDir: s.Path(), Patcher: proctest.ReplacePatcher("maxconn 1000", "maxconn 1500"),
			OverridesDir: overrides, LauncherPID: 4242, Exec: rec.Exec,
		})
	}

	t.Run("start patches and execs with -W and the patched copy", func(t *testing.T) {
		s, cfg := setup(t, "global\n    maxconn 1000\n    stats socket /tmp/x/admin.sock mode 666 level admin expose-fd listeners\nfrontend f\n    bind *:8000\n")
		var rec proctest.ExecRecorder
		require.NoError(t, run(s, []string{"-db", "-f", cfg, "-dR"}, &rec))
		dir := filepath.Join(s.Path(), state.InstanceID([]string{cfg}))
		patched := filepath.Join(dir, state.PatchedFile)
		assert.Equal(t, real, rec.Argv0)
		assert.Equal(t, []string{real, "-W", "-db", "-f", patched, "-dR"}, rec.Argv)
		got, err := os.ReadFile(patched)
		require.NoError(t, err)
		assert.Contains(t, string(got), "maxconn 1500")
		// Only what status and hot reload read is written: no copy of Ray's
		// file, which costs a file per haproxy start and says nothing Ray's
		// own file does not.
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		assert.ElementsMatch(t, []string{state.PatchedFile, state.InstanceFile, state.ShimLogFile, state.EventsFile, "lock"}, names)

		var in state.Instance
		data, err := os.ReadFile(filepath.Join(dir, state.InstanceFile))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &in))
		assert.Equal(t, os.Getpid(), in.MasterPID)
		assert.Equal(t, 4242, in.LauncherPID)
		assert.Equal(t, cfg, in.Generated)
		assert.Equal(t, patched, in.Patched)
		assert.Equal(t, state.ResultPatched, in.Result)
		assert.Equal(t, "/tmp/x/admin.sock", in.AdminSocket)
		assert.Equal(t, []string{"*:8000"}, in.Listeners)
		require.Len(t, in.Snippets, 2)
		assert.Equal(t, "10-a.toml", in.Snippets[0].Name)
		assert.Len(t, in.Snippets[0].SHA256, 64)
		assert.FileExists(t, filepath.Join(dir, state.ShimLogFile))
		ev, err := state.ReadEvents(dir)
		require.NoError(t, err)
		assert.Equal(t, state.Event{At: ev.Start.At, Kind: state.EventStart, PID: os.Getpid(), RayPID: os.Getppid(), Result: state.ResultPatched}, ev.Start)
		assert.Equal(t, in.Seq, ev.Seq, "the record is the slot's latest")
		assert.Equal(t, uint64(1), ev.Counts["start patched"])
	})

	t.Run("reload argv keeps -sf and -x", func(t *testing.T) {
		s, cfg := setup(t, "global\n    maxconn 1000\n")
		var rec proctest.ExecRecorder
		require.NoError(t, run(s, []string{"-db", "-f", cfg, "-dR", "-sf", "99", "-x", "/tmp/a.sock"}, &rec))
		patched := filepath.Join(s.Path(), state.InstanceID([]string{cfg}), state.PatchedFile)
		assert.Equal(t, []string{real, "-W", "-db", "-f", patched, "-dR", "-sf", "99", "-x", "/tmp/a.sock"}, rec.Argv)
	})

	t.Run("version passes straight through", func(t *testing.T) {
		s, _ := setup(t, "")
		var rec proctest.ExecRecorder
		require.NoError(t, run(s, []string{"-vv"}, &rec))
		assert.Equal(t, []string{real, "-vv"}, rec.Argv)
	})

	t.Run("check patches into check.cfg and leaves the record alone", func(t *testing.T) {
		s, cfg := setup(t, "global\n    maxconn 1000\n")
		var rec proctest.ExecRecorder
		require.NoError(t, run(s, []string{"-c", "-f", cfg}, &rec))
		dir := filepath.Join(s.Path(), state.InstanceID([]string{cfg}))
		assert.Equal(t, []string{real, "-c", "-f", filepath.Join(dir, state.CheckFile)}, rec.Argv)
		assert.NoFileExists(t, filepath.Join(dir, state.InstanceFile))
		assert.NoFileExists(t, filepath.Join(dir, state.PatchedFile))
	})

	t.Run("a failing snippet file is quarantined, and haproxy still runs the others", func(t *testing.T) {
		s, cfg := setup(t, "global\n    maxconn 1000\n")
		var rec proctest.ExecRecorder
		require.NoError(t, run(s, []string{"-db", "-f", cfg}, &rec))
		proctest.WriteFile(t, cfg, "global\n    maxconn 1000\n#FAIL\n")
		var rec2 proctest.ExecRecorder
		require.NoError(t, run(s, []string{"-db", "-f", cfg, "-sf", "1"}, &rec2))
		require.True(t, rec2.Called, "a start Ray makes always execs haproxy")
		dir := filepath.Join(s.Path(), state.InstanceID([]string{cfg}))
		in, err := s.LoadInstance(dir)
		require.NoError(t, err)
		assert.Equal(t, state.ResultQuarantined, in.Result)
		assert.Equal(t, os.Getpid(), in.MasterPID, "the new haproxy is recorded")
		require.Len(t, in.Quarantined, 1)
		assert.Equal(t, "20-b.toml", in.Quarantined[0].Name)
		assert.Contains(t, in.Quarantined[0].Error, "20-b.toml:4")
		assert.Equal(t, proctest.TestSnippets[:1], in.Snippets, "the snippets in force")
		patched, err := os.ReadFile(in.Patched)
		require.NoError(t, err)
		assert.Contains(t, string(patched), "maxconn 1500", "the other snippet applies")
		log, err := os.ReadFile(filepath.Join(dir, state.ShimLogFile))
		require.NoError(t, err)
		assert.Contains(t, string(log), "snippet 20-b.toml left out (quarantined)")
		ev, err := state.ReadEvents(dir)
		require.NoError(t, err)
		assert.Equal(t, state.EventReload, ev.Start.Kind)
		assert.Equal(t, state.ResultQuarantined, ev.Start.Result)
		assert.Contains(t, ev.Start.Error, "20-b.toml quarantined")
	})

	t.Run("a failure after the patch is in shim.log too", func(t *testing.T) {
		s, cfg := setup(t, "global\n    maxconn 1000\n")
		err := shim.RunShim(context.Background(), shim.ShimConfig{
			Argv: []string{"-db", "-f", cfg}, RealHAProxy: real, StateDir: s.Path(), Patcher: proctest.ReplacePatcher("x", "y"),
			Exec: func(string, []string, []string) error { return errors.New("exec format error") },
		})
		require.Error(t, err)
		log, rerr := os.ReadFile(filepath.Join(s.Path(), state.InstanceID([]string{cfg}), state.ShimLogFile))
		require.NoError(t, rerr)
		assert.Contains(t, string(log), "error: "+err.Error())
	})

	t.Run("an unpatched result runs a copy of Ray's file and says so loudly", func(t *testing.T) {
		s, cfg := setup(t, "global\n    maxconn 1000\n")
		var rec proctest.ExecRecorder
		err := shim.RunShim(context.Background(), shim.ShimConfig{
			Argv: []string{"-db", "-f", cfg}, RealHAProxy: real, StateDir: s.Path(), Exec: rec.Exec,
			Patcher: func(_ context.Context, req shim.PatchRequest) shim.PatchResult {
				return shim.PatchResult{Data: req.Generated, Unpatched: "on-patch-error=passthrough: 20-b.toml:4: boom"}
			},
		})
		require.NoError(t, err)
		dir := filepath.Join(s.Path(), state.InstanceID([]string{cfg}))
		// A copy, so that a hot reload can bring the snippets in once fixed.
		assert.Equal(t, []string{real, "-W", "-db", "-f", filepath.Join(dir, state.PatchedFile)}, rec.Argv)
		log, err := os.ReadFile(filepath.Join(dir, state.ShimLogFile))
		require.NoError(t, err)
		assert.Contains(t, string(log), "WARNING: haproxy runs Ray's config WITHOUT the overrides: on-patch-error=passthrough")
		in, err := s.LoadInstance(dir)
		require.NoError(t, err)
		assert.Equal(t, state.ResultUnpatched, in.Result)
		assert.Contains(t, in.Unpatched, "20-b.toml:4")
		assert.Empty(t, in.Snippets)
	})

	t.Run("snippet lines haproxy -c could not judge are said in shim.log", func(t *testing.T) {
		s, cfg := setup(t, "global\n    maxconn 1000\n")
		var rec proctest.ExecRecorder
		err := shim.RunShim(context.Background(), shim.ShimConfig{
			Argv: []string{"-db", "-f", cfg}, RealHAProxy: real, StateDir: s.Path(), Exec: rec.Exec,
			Patcher: func(_ context.Context, req shim.PatchRequest) shim.PatchResult {
				return shim.PatchResult{Data: req.Generated, CheckError: "haproxy -c ran longer than 3s"}
			},
		})
		require.NoError(t, err)
		log, err := os.ReadFile(filepath.Join(s.Path(), state.InstanceID([]string{cfg}), state.ShimLogFile))
		require.NoError(t, err)
		assert.Contains(t, string(log), "WARNING: haproxy runs snippet lines haproxy -c did not judge: haproxy -c ran longer than 3s")
	})

	t.Run("a state dir that cannot be used runs Ray's file as it is", func(t *testing.T) {
		_, cfg := setup(t, "global\n    maxconn 1000\n")
		notDir := filepath.Join(t.TempDir(), "state")
		proctest.WriteFile(t, notDir, "a file where the state dir should be")
		var rec proctest.ExecRecorder
		var stderr strings.Builder
		err := shim.RunShim(context.Background(), shim.ShimConfig{
			Argv: []string{"-db", "-f", cfg, "-sf", "7"}, RealHAProxy: real, StateDir: notDir,
			Patcher: proctest.ReplacePatcher("x", "y"), Exec: rec.Exec, Stderr: &stderr,
		})
		require.NoError(t, err)
		assert.Equal(t, []string{real, "-W", "-db", "-f", cfg, "-sf", "7"}, rec.Argv)
		assert.Contains(t, stderr.String(), "is not a directory")
		assert.Contains(t, stderr.String(), "WITHOUT the overrides")
	})

	t.Run("a state dir removed while running is made anew", func(t *testing.T) {
		s, cfg := setup(t, "global\n    maxconn 1000\n")
		require.NoError(t, os.RemoveAll(s.Path()))
		var rec proctest.ExecRecorder
		require.NoError(t, run(s, []string{"-db", "-f", cfg}, &rec))
		patched := filepath.Join(s.Path(), state.InstanceID([]string{cfg}), state.PatchedFile)
		assert.Equal(t, []string{real, "-W", "-db", "-f", patched}, rec.Argv)
		assert.FileExists(t, patched)
	})

	t.Run("no -W when disabled", func(t *testing.T) {
		s, cfg := setup(t, "global\n")
		var rec proctest.ExecRecorder
		err := shim.RunShim(context.Background(), shim.ShimConfig{Argv: []string{"-db", "-f", cfg}, RealHAProxy: real, StateDir: s.Path(),
			Patcher: proctest.ReplacePatcher("x", "y"), NoMasterWorker: true, Exec: rec.Exec})
		require.NoError(t, err)
		assert.Equal(t, "-db", rec.Argv[1])
	})

	t.Run("missing config names the file", func(t *testing.T) {
		s, _ := setup(t, "")
		var rec proctest.ExecRecorder
		err := run(s, []string{"-db", "-f", "/nonexistent/haproxy.cfg"}, &rec)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "/nonexistent/haproxy.cfg")
		assert.False(t, rec.Called)
	})

	t.Run("real haproxy must not be the shim", func(t *testing.T) {
		s, cfg := setup(t, "global\n")
		exe, err := os.Executable()
		require.NoError(t, err)
		link := filepath.Join(t.TempDir(), "haproxy")
		require.NoError(t, os.Symlink(exe, link))
		var rec proctest.ExecRecorder
		err = shim.RunShim(context.Background(), shim.ShimConfig{Argv: []string{"-f", cfg}, RealHAProxy: link, StateDir: s.Path(),
			Patcher: proctest.ReplacePatcher("x", "y"), Exec: rec.Exec})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "is serve-launch itself")
		assert.False(t, rec.Called)
	})
}

func TestResolveRealHAProxy(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	shimDir := t.TempDir()
	require.NoError(t, os.Symlink(exe, filepath.Join(shimDir, "haproxy")))
	real := proctest.FakeHAProxy(t)
	realDir := filepath.Dir(real)

	got, err := shim.ResolveRealHAProxy("", shimDir+":"+realDir)
	require.NoError(t, err)
	assert.Equal(t, real, got, "the shim on PATH is skipped")

	_, err = shim.ResolveRealHAProxy(filepath.Join(shimDir, "haproxy"), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "serve-launch itself")

	_, err = shim.ResolveRealHAProxy("", shimDir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not found")

	got, err = shim.ResolveRealHAProxy(real, "")
	require.NoError(t, err)
	assert.Equal(t, real, got)
}

// BenchmarkRunShim measures the shim's own work before exec (parse, locked
// read, patch, two atomic writes, instance.json), which counts against Ray's
// 5 s readiness check.
func BenchmarkRunShim(b *testing.B) {
	dir := b.TempDir()
	cfg := filepath.Join(dir, "haproxy.cfg")
	var sb strings.Builder
	sb.WriteString("global\n    maxconn 1000\n    stats socket /tmp/x.sock mode 666 level admin expose-fd listeners\n")
	for i := 0; i < 50; i++ {
		sb.WriteString("backend http-app" + strings.Repeat("x", i%5) + "\n    balance leastconn\n    server SERVE_REPLICA_1 127.0.0.1:30000 check\n")
	}
	require.NoError(b, os.WriteFile(cfg, []byte(sb.String()), 0o644))
	s, err := state.OpenStateDir(filepath.Join(dir, "state"))
	require.NoError(b, err)
	real := filepath.Join(dir, "haproxy")
	require.NoError(b, os.WriteFile(real, []byte("#!/bin/sh\n"), 0o755))
	var rec proctest.ExecRecorder
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := shim.RunShim(context.Background(), shim.ShimConfig{Argv: []string{"-db", "-f", cfg, "-dR"}, RealHAProxy: real,
			StateDir: s.Path(), Patcher: proctest.TestPatcher, Exec: rec.Exec, Log: io.Discard})
		require.NoError(b, err)
	}
}
