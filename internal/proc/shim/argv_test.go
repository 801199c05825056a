//go:build linux

package shim_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/serve-launch/serve-launch/internal/proc/internal/proctest"
	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHAProxyArgs(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.cfg")
	b := filepath.Join(dir, "b.cfg")
	proctest.WriteFile(t, a, "global\n")
	proctest.WriteFile(t, b, "global\n")
	cfgDir := filepath.Join(dir, "conf.d")
	// Byte order puts "B" before "a"; hidden, non-.cfg and directory entries are skipped.
	for _, n := range []string{"a.cfg", "B.cfg", "10-x.cfg", ".hidden.cfg", "notes.txt"} {
		proctest.WriteFile(t, filepath.Join(cfgDir, n), "global\n")
	}
	require.NoError(t, os.Mkdir(filepath.Join(cfgDir, "sub.cfg"), 0o755))

	tests := []struct {
		name     string
		argv     []string
		configs  []string
		noConfig bool
		check    bool
		mw       bool
		oldPIDs  []string
		sock     string
	}{
		{name: "ray start", argv: []string{"-db", "-f", a, "-dR"}, configs: []string{a}},
		{name: "ray reload", argv: []string{"-db", "-f", a, "-dR", "-sf", "123", "456", "-x", "/tmp/s.sock"},
			configs: []string{a}, oldPIDs: []string{"123", "456"}, sock: "/tmp/s.sock"},
		{name: "repeated -f", argv: []string{"-f", a, "-f", b}, configs: []string{a, b}},
		{name: "-f dir", argv: []string{"-f", cfgDir}, configs: []string{
			filepath.Join(cfgDir, "10-x.cfg"), filepath.Join(cfgDir, "B.cfg"), filepath.Join(cfgDir, "a.cfg")}},
		{name: "double dash", argv: []string{"-db", "-f", a, "--", b, cfgDir}, configs: []string{
			a, b, filepath.Join(cfgDir, "10-x.cfg"), filepath.Join(cfgDir, "B.cfg"), filepath.Join(cfgDir, "a.cfg")}},
		{name: "value flags do not hide -f", argv: []string{"-p", "/run/x.pid", "-L", "peer", "-n", "100", "-N", "10",
			"-m", "64", "-C", "/", "-S", "/tmp/m.sock", "-f", a}, configs: []string{a}},
		{name: "pidfile named like a flag", argv: []string{"-p", "-f", "-f", a}, configs: []string{a}},
		{name: "sf stops at the next flag", argv: []string{"-sf", "7", "-f", a}, configs: []string{a}, oldPIDs: []string{"7"}},
		{name: "unknown flags pass", argv: []string{"-dW", "-dD", "-Zz", "-f", a}, configs: []string{a}},
		{name: "master worker present", argv: []string{"-Ws", "-f", a}, configs: []string{a}, mw: true},
		{name: "check", argv: []string{"-c", "-f", a}, configs: []string{a}, check: true},
		{name: "version", argv: []string{"-v"}, noConfig: true},
		{name: "vv with config", argv: []string{"-f", a, "-vv"}, configs: []string{a}, noConfig: true},
		{name: "help", argv: []string{"-h"}, noConfig: true},
		{name: "check condition", argv: []string{"-cc", "version_atleast(2.4)"}, noConfig: true},
		{name: "no config", argv: []string{"-db"}, noConfig: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := shim.ParseHAProxyArgs(tt.argv)
			require.NoError(t, err)
			var paths []string
			for _, c := range got.Configs {
				paths = append(paths, c.Path)
			}
			assert.Equal(t, tt.configs, paths)
			assert.Equal(t, tt.noConfig, got.NoConfig, "NoConfig")
			assert.Equal(t, tt.check, got.Check, "Check")
			assert.Equal(t, tt.mw, got.MasterWorker, "MasterWorker")
			assert.Equal(t, tt.oldPIDs, got.OldPIDs)
			assert.Equal(t, tt.sock, got.SocketFrom)
			assert.Equal(t, tt.argv, got.Argv)
		})
	}
}

func TestParseHAProxyArgsErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.cfg")
	unreadable := filepath.Join(dir, "secret.cfg")
	proctest.WriteFile(t, unreadable, "global\n")
	require.NoError(t, os.Chmod(unreadable, 0))
	unreadableDir := filepath.Join(dir, "locked.d")
	proctest.WriteFile(t, filepath.Join(unreadableDir, "x.cfg"), "global\n")

	tests := []struct {
		name    string
		argv    []string
		wantErr string
		root    bool // root reads anything, so permission cases need a non-root user
	}{
		{name: "missing file", argv: []string{"-f", missing}, wantErr: missing + ": no such file or directory"},
		{name: "missing after --", argv: []string{"--", missing}, wantErr: missing},
		{name: "unreadable file", argv: []string{"-f", unreadable}, wantErr: unreadable + ": permission denied", root: true},
		{name: "unreadable dir entry", argv: []string{"-f", unreadableDir}, wantErr: "x.cfg: permission denied", root: true},
		{name: "-f without file", argv: []string{"-db", "-f"}, wantErr: "needs a file"},
		{name: "-x without socket", argv: []string{"-x"}, wantErr: "needs a value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root && os.Geteuid() == 0 {
				// Root bypasses file modes; check the message shape on a missing file instead.
				_, err := shim.ParseHAProxyArgs([]string{"-f", missing})
				require.Error(t, err)
				assert.Contains(t, err.Error(), missing)
				return
			}
			if tt.name == "unreadable dir entry" {
				require.NoError(t, os.Chmod(filepath.Join(unreadableDir, "x.cfg"), 0))
			}
			_, err := shim.ParseHAProxyArgs(tt.argv)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestRewriteArgv(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.cfg")
	b := filepath.Join(dir, "b.cfg")
	proctest.WriteFile(t, a, "global\n")
	proctest.WriteFile(t, b, "global\n")
	cfgDir := filepath.Join(dir, "conf.d")
	proctest.WriteFile(t, filepath.Join(cfgDir, "1.cfg"), "")
	proctest.WriteFile(t, filepath.Join(cfgDir, "2.cfg"), "")
	repl := map[string]string{
		a: "/s/a", b: "/s/b",
		filepath.Join(cfgDir, "1.cfg"): "/s/1", filepath.Join(cfgDir, "2.cfg"): "/s/2",
	}
	tests := []struct {
		name string
		argv []string
		mw   bool
		want []string
	}{
		{name: "ray start", argv: []string{"-db", "-f", a, "-dR"}, mw: true,
			want: []string{"-W", "-db", "-f", "/s/a", "-dR"}},
		{name: "ray reload", argv: []string{"-db", "-f", a, "-dR", "-sf", "12", "-x", "/t/admin.sock"}, mw: true,
			want: []string{"-W", "-db", "-f", "/s/a", "-dR", "-sf", "12", "-x", "/t/admin.sock"}},
		{name: "no second -W", argv: []string{"-W", "-db", "-f", a}, mw: true,
			want: []string{"-W", "-db", "-f", "/s/a"}},
		{name: "without master worker", argv: []string{"-db", "-f", a}, mw: false,
			want: []string{"-db", "-f", "/s/a"}},
		{name: "dir expands", argv: []string{"-f", cfgDir, "-f", b}, mw: false,
			want: []string{"-f", "/s/1", "-f", "/s/2", "-f", "/s/b"}},
		{name: "double dash", argv: []string{"-db", "--", a, cfgDir}, mw: false,
			want: []string{"-db", "--", "/s/a", "/s/1", "/s/2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := shim.ParseHAProxyArgs(tt.argv)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.RewriteArgv(repl, tt.mw))
		})
	}
}
