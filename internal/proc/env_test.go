package proc

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShimEnvRoundTrip(t *testing.T) {
	base := []string{"HOME=/root", "PATH=/usr/bin:/bin", "RAY_SERVE_HAPROXY_BINARY_PATH=/usr/local/bin/haproxy", EnvNoProvenance + "=1"}
	e := ShimEnv{StateDir: "/run/sl", OverridesDir: "/etc/overrides.d", RealHAProxy: "/usr/sbin/haproxy", OnPatchError: OnPatchErrorPassthrough}
	env := ChildEnv(base, "/run/sl/bin", e)
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		_, dup := m[k]
		require.False(t, dup, "duplicate %s", k)
		m[k] = v
	}
	assert.Equal(t, "/root", m["HOME"])
	assert.Equal(t, "/run/sl/bin:/usr/bin:/bin", m["PATH"])
	assert.Equal(t, "/run/sl/bin/haproxy", m["RAY_SERVE_HAPROXY_BINARY_PATH"])
	assert.Equal(t, "1", m["RAY_SERVE_ENABLE_HA_PROXY"])
	assert.NotContains(t, m, EnvNoProvenance)
	assert.Equal(t, strconv.Itoa(os.Getpid()), m[EnvLauncherPID])

	got, err := ReadShimEnv(func(k string) string { return m[k] })
	require.NoError(t, err)
	e.LauncherPID = os.Getpid()
	assert.Equal(t, e, got)

	got, err = ReadShimEnv(func(string) string { return "" })
	require.NoError(t, err)
	assert.Equal(t, "overrides.d", got.OverridesDir)
	assert.Equal(t, OnPatchErrorFail, got.OnPatchError)

	_, err = ReadShimEnv(func(k string) string {
		if k == EnvOnPatchError {
			return "ignore"
		}
		return ""
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), EnvOnPatchError)
}
