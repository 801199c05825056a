package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scenario 1: the repository's overrides.d is in force on the haproxy Ray
// started through the shim: slim 32 on every application server, the
// connection and session rate limits at 512 per server, health checks on
// /health.
func TestStartAppliesRepositoryOverrides(t *testing.T) {
	r := start(t, opts{apps: 2, replicas: 3})
	t.Logf("ready %s after start", time.Since(r.Started).Round(time.Millisecond))

	servers := r.appServers(t)
	require.Len(t, servers, 6, "2 apps x 3 replicas")
	for name, row := range servers {
		assert.Equal(t, "32", row["slim"], "slim of %s", name)
	}
	info := r.info(t)
	want := strconv.Itoa(512 * len(servers))
	assert.Equal(t, want, info["ConnRateLimit"], "ConnRateLimit = 512 x servers")
	assert.Equal(t, want, info["SessRateLimit"], "SessRateLimit = 512 x servers")
	assert.Equal(t, "2000", info["Maxconn"], "RAY_SERVE_HAPROXY_MAXCONN")

	st := r.status(t)
	for _, app := range st.Apps {
		for _, rep := range app.Replicas {
			testenv.Eventually(t, 10*time.Second, "health checks on /health of "+rep.Name, func() (bool, string) {
				s := replicaStats(t, rep.Addr)
				return s.HealthHits > 0, fmt.Sprintf("/health hits %d, /-/healthz hits %d", s.HealthHits, s.HealthzHits)
			})
		}
	}
	// The checks haproxy runs pass: each server reports a layer-7 OK.
	testenv.Eventually(t, 10*time.Second, "L7OK on every server", func() (bool, string) {
		for name, row := range r.appServers(t) {
			if row["check_status"] != "L7OK" {
				return false, name + " check_status " + row["check_status"]
			}
		}
		return true, ""
	})

	// Traffic reaches both apps through the patched haproxy.
	l := startLoad(t, []string{r.url("/app1"), r.url("/app2/x")}, 4, 10*time.Second, 25)
	ok, fail := l.wait()
	assert.Equal(t, int64(100), ok)
	assert.Zero(t, fail, "failed requests: %v", l.errors())
}
