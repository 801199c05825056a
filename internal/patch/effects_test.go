package patch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"

	"github.com/serve-launch/serve-launch/internal/admin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// replica is a tiny HTTP server standing in for a Ray Serve replica; it
// counts the health checks haproxy sends it.
type replica struct {
	srv          *httptest.Server
	health       atomic.Int64 // GET /health
	rayHealth    atomic.Int64 // GET /-/healthz, Ray's own check path
	applications atomic.Int64 // anything else
}

func startReplica(t *testing.T) *replica {
	r := &replica{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/health":
			r.health.Add(1)
		case "/-/healthz":
			r.rayHealth.Add(1)
		default:
			r.applications.Add(1)
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// freePort returns a 127.0.0.1 address whose port was free a moment ago.
func freePort(t *testing.T) string {
	return fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
}

// TestRepoOverridesEffects runs haproxy on the repository's overrides.d
// applied to a config in Ray's 2.55 shape and asks it, over the admin
// socket, whether the overrides took effect: per-server maxconn 32 (slim),
// the global rate limits at 512 per replica, and health checks on /health.
func TestRepoOverridesEffects(t *testing.T) {
	hap := requireHAProxy(t)
	out, err := repoOverrides(t).Patch("ray-2.55.cfg", mustRead(t, "testdata/ray-2.55.cfg"), ApplyOptions{Getenv: noEnv})
	require.NoError(t, err)

	// Make the patched config run here without changing what is tested:
	// loopback ports that are free, replicas that exist, no syslog socket,
	// and health checks every 100ms instead of 5s so that the first check of
	// every server (haproxy spreads them over one interval) comes quickly.
	cfg := string(out)
	frontend := freePort(t)
	for old, repl := range map[string]string{
		"bind 0.0.0.0:8000":               "bind " + frontend,
		"bind :9101":                      "bind " + freePort(t),
		"bind *:8404":                     "bind " + freePort(t),
		"    log /dev/log local0 debug\n": "",
		" inter 5s ":                      " inter 100ms ",
	} {
		require.Contains(t, cfg, old)
		cfg = strings.ReplaceAll(cfg, old, repl)
	}
	replicas := make([]*replica, 5)
	for i := range replicas {
		replicas[i] = startReplica(t)
		old := fmt.Sprintf(" 127.0.0.1:%d ", 30000+i)
		require.Equal(t, 1, strings.Count(cfg, old), "one server on %s", old)
		cfg = strings.Replace(cfg, old, " "+strings.TrimPrefix(replicas[i].srv.URL, "http://")+" ", 1)
	}
	path := writeRunnable(t, []byte(cfg))
	dir := filepath.Dir(path)
	sock := filepath.Join(dir, "admin.sock")
	require.Contains(t, cfg, "stats socket /tmp/haproxy-serve/admin.sock", "writeRunnable moves the socket into the temp dir")

	logf, err := os.Create(filepath.Join(dir, "haproxy.log"))
	require.NoError(t, err)
	cmd := exec.Command(hap, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logf.Close()
		if t.Failed() {
			log, _ := os.ReadFile(logf.Name())
			t.Logf("haproxy output:\n%s", log)
		}
	})

	testenv.EventuallyNoError(t, 8*time.Second, "show info answers on "+sock, func(ctx context.Context) error {
		_, err := admin.ShowInfo(ctx, sock)
		return err
	})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()

	info, err := admin.ShowInfo(ctx, sock)
	require.NoError(t, err)
	assert.Equal(t, "2560", info["ConnRateLimit"], "maxconnrate = 512 x 5 replicas")
	assert.Equal(t, "2560", info["SessRateLimit"], "maxsessrate = 512 x 5 replicas")

	stat, err := admin.ShowStat(ctx, sock)
	require.NoError(t, err)
	servers := 0
	for _, row := range stat {
		if row["pxname"] != "http-text" && row["pxname"] != "http-image" {
			continue
		}
		if row["svname"] == "FRONTEND" || row["svname"] == "BACKEND" {
			continue
		}
		servers++
		assert.Equal(t, "32", row["slim"], "slim of %s/%s", row["pxname"], row["svname"])
	}
	assert.Equal(t, 5, servers, "every application server is in show stat")

	// Every replica gets health checks on /health (option httpchk GET
	// /health), none on Ray's /-/healthz, and haproxy marks it UP.
	require.Eventually(t, func() bool {
		for _, r := range replicas {
			if r.health.Load() == 0 {
				return false
			}
		}
		stat, err := admin.ShowStat(ctx, sock)
		if err != nil {
			return false
		}
		for _, row := range stat {
			if strings.HasPrefix(row["svname"], "SERVE_REPLICA") && row["status"] != "UP" {
				return false
			}
		}
		return true
	}, 5*time.Second, 50*time.Millisecond, "every replica is checked on /health and UP")
	for i, r := range replicas {
		assert.Zero(t, r.rayHealth.Load(), "replica %d was checked on /-/healthz", i)
	}

	// And the patched config still routes: /text/ reaches a text replica.
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + frontend + "/text/hello")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	text := replicas[0].applications.Load() + replicas[1].applications.Load() + replicas[2].applications.Load()
	assert.EqualValues(t, 1, text, "the request went to one of the three text replicas")
}
