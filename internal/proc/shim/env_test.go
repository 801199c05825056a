//go:build linux

package shim_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShimEnvRoundTrip(t *testing.T) {
	base := []string{"HOME=/root", "PATH=/usr/bin:/bin", "RAY_SERVE_HAPROXY_BINARY_PATH=/usr/local/bin/haproxy", shim.EnvNoProvenance + "=1"}
	e := shim.ShimEnv{StateDir: "/run/sl", OverridesDir: "/etc/overrides.d", RealHAProxy: "/usr/sbin/haproxy", OnPatchError: shim.OnPatchErrorPassthrough}
	env := shim.ChildEnv(base, "/run/sl/bin", shim.ShimBinaryPath(os.Getpid(), 7), e)
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		_, dup := m[k]
		require.False(t, dup, "duplicate %s", k)
		m[k] = v
	}
	assert.Equal(t, "/root", m["HOME"])
	assert.Equal(t, "/run/sl/bin:/usr/bin:/bin", m["PATH"])
	assert.Equal(t, "/proc/"+strconv.Itoa(os.Getpid())+"/fd/7", m["RAY_SERVE_HAPROXY_BINARY_PATH"], "the launcher's descriptor of the shim, which no tmp cleaner can remove")
	assert.Equal(t, "1", m["RAY_SERVE_ENABLE_HA_PROXY"])
	assert.NotContains(t, m, shim.EnvNoProvenance)
	assert.Equal(t, strconv.Itoa(os.Getpid()), m[shim.EnvLauncherPID])

	got, err := shim.ReadShimEnv(func(k string) string { return m[k] })
	require.NoError(t, err)
	e.LauncherPID = os.Getpid()
	assert.Equal(t, e, got)

	got, err = shim.ReadShimEnv(func(string) string { return "" })
	require.NoError(t, err)
	assert.Equal(t, "overrides.d", got.OverridesDir)
	assert.Equal(t, shim.OnPatchErrorQuarantine, got.OnPatchError)

	// A bad value is reported, and the default taken: the shim must still
	// start haproxy.
	got, err = shim.ReadShimEnv(func(k string) string {
		if k == shim.EnvOnPatchError {
			return "fail"
		}
		return ""
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), shim.EnvOnPatchError)
	assert.Contains(t, err.Error(), "no longer supported")
	assert.Equal(t, shim.OnPatchErrorQuarantine, got.OnPatchError)
}

func TestParseOnPatchError(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want shim.OnPatchError
		err  string
	}{
		{"", shim.OnPatchErrorQuarantine, ""},
		{"quarantine", shim.OnPatchErrorQuarantine, ""},
		{"passthrough", shim.OnPatchErrorPassthrough, ""},
		{"fail", "", "every later Ray reload fails"},
		{"ignore", "", `must be quarantine or passthrough, not "ignore"`},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := shim.ParseOnPatchError(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
