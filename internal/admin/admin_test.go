package admin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startHAProxy runs the real haproxy on a small config with an admin socket
// in a temp dir and returns the socket path; the process dies with the test.
func startHAProxy(t *testing.T) string {
	t.Helper()
	bin := testenv.HAProxy(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "admin.sock")
	port := testenv.FreePort(t)
	cfg := fmt.Sprintf(`global
    stats socket %s mode 666 level admin expose-fd listeners
    maxconn 200
    maxconnrate 77
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    default_backend be
backend be
    default-server maxconn 32
    server s1 127.0.0.1:1 disabled
    server s2 127.0.0.1:2 disabled
`, sock, port)
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o644))
	cmd := exec.Command(bin, "-db", "-f", cfgPath)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	testenv.EventuallyNoError(t, 5*time.Second, "show info answers on "+sock, func(ctx context.Context) error {
		_, err := ShowInfo(ctx, sock)
		return err
	})
	return sock
}

func TestAgainstHAProxy(t *testing.T) {
	sock := startHAProxy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	t.Run("show info", func(t *testing.T) {
		info, err := ShowInfo(ctx, sock)
		require.NoError(t, err)
		assert.Equal(t, "200", info["Maxconn"])
		assert.Equal(t, "77", info["ConnRateLimit"])
		assert.NotEmpty(t, info["Pid"])
	})
	t.Run("show stat", func(t *testing.T) {
		rows, err := ShowStat(ctx, sock)
		require.NoError(t, err)
		var servers []string
		for _, r := range rows {
			if r["pxname"] == "be" && r["svname"] != "BACKEND" {
				servers = append(servers, r["svname"])
				assert.Equal(t, "32", r["slim"])
				assert.Equal(t, "MAINT", r["status"])
				assert.Equal(t, "0", r["scur"])
			}
		}
		assert.Equal(t, []string{"s1", "s2"}, servers)
	})
	t.Run("show servers state", func(t *testing.T) {
		st, err := ShowServersState(ctx, sock)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(st, "1\n"), "state file version line, got %q", st)
		assert.Contains(t, st, " be ")
		assert.Contains(t, st, " s2 ")
	})
	t.Run("raw command", func(t *testing.T) {
		out, err := Command(ctx, sock, "show version")
		require.NoError(t, err)
		assert.NotEmpty(t, strings.TrimSpace(out))
	})
}

func TestErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.sock")
	tests := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"command", func(ctx context.Context) error { _, err := Command(ctx, missing, "show info"); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			err := tc.run(ctx)
			require.Error(t, err)
			assert.Contains(t, err.Error(), missing, "the error names the socket")
		})
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []map[string]string
		wantErr bool
	}{
		{
			name: "two rows with trailing commas",
			in:   "# pxname,svname,scur,status,\nbe,s1,3,UP,\nbe,BACKEND,3,UP,\n\n",
			want: []map[string]string{
				{"pxname": "be", "svname": "s1", "scur": "3", "status": "UP"},
				{"pxname": "be", "svname": "BACKEND", "scur": "3", "status": "UP"},
			},
		},
		{name: "not csv", in: "Unknown command\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseStat(tc.in)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
