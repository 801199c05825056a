package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/proc/state"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// firstReplicaSnippet matches only while app1's first replica exists: its
// insert anchor is that server's line. raysim's second churn step removes
// the oldest replica, so the patch stops matching at that Ray reload.
const firstReplicaSnippet = `[[edit]]
section = "backend http-app1"
insert = [
  { before = "server SERVE_REPLICA_app1-Model-1 *", lines = ["http-request set-header X-First-Replica yes"] },
]
`

// Scenario 7: a snippet that stops matching at a Ray reload. By default the
// file is left out (quarantined): the new haproxy runs every other snippet,
// Ray's reload succeeds and the next ones too, and status names the file;
// with --on-patch-error=passthrough the new haproxy runs Ray's unpatched
// config instead.
func TestSnippetStopsMatchingAtRayReload(t *testing.T) {
	for _, mode := range []shim.OnPatchError{shim.OnPatchErrorQuarantine, shim.OnPatchErrorPassthrough} {
		t.Run(string(mode), func(t *testing.T) {
			r := start(t, opts{apps: 1, replicas: 2,
				// The preflight's built-in config has no http-app1.
				launcher: []string{"--skip-preflight", "--on-patch-error=" + string(mode)},
				raysim:   []string{"-churn", "3", "-churn-interval", "1s"},
				overrides: func(t *testing.T, dir string) {
					writeAtomic(t, filepath.Join(dir, "50-first-replica.toml"), firstReplicaSnippet)
				},
			})
			from := r.Log.Len()
			l := startLoad(t, []string{r.url("/app1")}, 2, 30*time.Second, 1<<20)

			// Reload 1 adds a replica (the anchor still matches), reload 2
			// removes Model-1, reload 3 adds one more (still no Model-1).
			// What the test needs of them comes from raysim's lines, which
			// say it for good: the status file is rewritten at every reload,
			// and reload 2 may come a moment after reload 1 on a loaded
			// machine (the churn ticker fires at once when a reload took
			// longer than the interval).
			_, line := r.Log.WaitFor(t, from, "raysim: reload 1 ", 20*time.Second, "raysim: reload failed")
			t.Logf("after the first Ray reload: %s", line)
			// 2 replicas + 1: this is churn step 1, not a later step that
			// took its number because step 1 failed.
			require.Contains(t, line, "replicas(app1)=3", "Ray's reload 1 adds a replica")
			beforeFail := lineInt(t, line, "haproxy_pid=")
			_, line = r.Log.WaitFor(t, from, "raysim: removing replica ", 20*time.Second)
			require.Contains(t, line, " server=SERVE_REPLICA_app1-Model-1 ", "reload 2 removes Model-1")
			_, model1, _ := strings.Cut(line, " addr=")
			require.NotEmpty(t, model1, "Model-1's address in %q", line)
			_, done := r.Log.WaitFor(t, from, "raysim: churn done:", 20*time.Second)
			t.Logf("raysim: %s", done)
			// Ray 2.55 takes the old haproxy answering `show info` for the
			// new one being ready, so raysim may be done before the shim is:
			// poll the state dir.
			var inst state.Instance
			testenv.Eventually(t, 10*time.Second, "serve-launch status names the snippet", func() (bool, string) {
				// The last reload's shim may still be at work when raysim
				// is done (Ray's reload does not wait for it either).
				inst = r.instance(t)
				return inst.State != state.StateStarting && strings.Contains(inst.LastError, "50-first-replica.toml"),
					"state " + inst.State + ", last_error: " + inst.LastError
			})
			t.Logf("serve-launch status: result %s, last_error: %s", inst.Result, inst.LastError)
			shimLog, err := os.ReadFile(filepath.Join(inst.Dir, state.ShimLogFile))
			require.NoError(t, err)
			assert.Contains(t, string(shimLog), "50-first-replica.toml", "shim.log names the snippet")
			st := r.status(t)
			t.Logf("raysim: reloads %d, failures %d, last_error %q", st.Reloads, st.ReloadFails, st.LastError)

			// Ray's reloads all succeeded: no process it tracks ever exited.
			assert.Zero(t, st.ReloadFails, "Ray's reloads failed: %s", st.LastError)
			assert.Equal(t, state.StateDegraded, inst.State, inst.StateDetail)
			assert.NotEqual(t, beforeFail, st.HAProxyPID, "Ray started a new haproxy")
			switch mode {
			case shim.OnPatchErrorQuarantine:
				assert.Equal(t, state.ResultQuarantined, inst.Result)
				require.Len(t, inst.Quarantined, 1)
				assert.Equal(t, "50-first-replica.toml", inst.Quarantined[0].Name)
				assert.Contains(t, inst.Quarantined[0].Error, "50-first-replica.toml:4")
				assert.Contains(t, string(shimLog), "left out (quarantined)", "shim.log says so")
				testenv.Eventually(t, 10*time.Second, "the new haproxy serves with the other snippets", func() (bool, string) {
					info, err := r.tryInfo()
					if err != nil {
						return false, err.Error()
					}
					if master, err := masterOf(info); err != nil || master != st.HAProxyPID {
						return false, fmt.Sprintf("show info answered by worker %s of master %d (%v), want one of %d", info["Pid"], master, err, st.HAProxyPID)
					}
					rows, err := r.tryAppServers()
					if err != nil {
						return false, err.Error()
					}
					if bad := slimMismatches(rows, "32"); len(bad) > 0 {
						return false, fmt.Sprint("want slim 32: ", bad)
					}
					return true, ""
				})
			case shim.OnPatchErrorPassthrough:
				assert.Equal(t, state.ResultUnpatched, inst.Result)
				assert.Contains(t, string(shimLog), "WITHOUT the overrides", "shim.log warns loudly")
				testenv.Eventually(t, 10*time.Second, "the new haproxy serves Ray's unpatched config", func() (bool, string) {
					info, err := r.tryInfo()
					if err != nil {
						return false, err.Error()
					}
					if master, err := masterOf(info); err != nil || master != st.HAProxyPID {
						return false, fmt.Sprintf("show info answered by worker %s of master %d (%v), want one of %d", info["Pid"], master, err, st.HAProxyPID)
					}
					if info["ConnRateLimit"] != "0" {
						return false, "ConnRateLimit " + info["ConnRateLimit"]
					}
					rows, err := r.tryAppServers()
					if err != nil {
						return false, err.Error()
					}
					for name, row := range rows {
						if row["slim"] == "32" {
							return false, name + " still has slim 32"
						}
					}
					return true, ""
				})
				// A hot reload is all or nothing: with the snippet still
				// failing it changes nothing, and the launcher says why
				// rather than staying quiet.
				from := r.Log.Len()
				require.NoError(t, r.Cmd.Process.Signal(syscall.SIGHUP))
				_, line := r.Log.WaitFor(t, from, keptConfig, 20*time.Second, "reloaded haproxy")
				assert.Contains(t, line, fmt.Sprintf("haproxy %d (", st.HAProxyPID))
				assert.Contains(t, line, "50-first-replica.toml:4")
			}

			// Requests keep succeeding, past the end of the removed replica's
			// grace period (2 s after the reload).
			testenv.Eventually(t, 10*time.Second, "the removed replica has stopped", func() (bool, string) {
				c, err := net.DialTimeout("tcp", model1, time.Second)
				if err == nil {
					c.Close()
				}
				return err != nil, "Model-1 still accepts connections"
			})
			l2 := startLoad(t, []string{r.url("/app1")}, 2, 10*time.Second, 50)
			ok2, fail2 := l2.wait()
			ok, fail := l.stop()
			t.Logf("%d requests during the reloads, %d failed; %d after, %d failed", ok, fail, ok2, fail2)
			assert.Zero(t, fail, "failed requests: %v", l.errors())
			assert.Zero(t, fail2, "failed requests: %v", l2.errors())
		})
	}
}

// instance reads the one instance record in the state dir, as
// `serve-launch status --format json` shows it.
func (r *run) instance(t *testing.T) state.Instance {
	t.Helper()
	insts, _ := r.statusJSON(t)
	require.Len(t, insts, 1)
	return insts[0]
}

// statusJSON runs `serve-launch status --format json` and returns the
// instances and its exit status (1 when one needs attention).
func (r *run) statusJSON(t *testing.T) ([]state.Instance, int) {
	t.Helper()
	cmd := exec.Command(bins.Launcher(), "status", "--state-dir", r.StateDir, "--format", "json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err, "serve-launch status")
	}
	require.LessOrEqual(t, code, 1, "status: %s", stderr.String())
	var insts []state.Instance
	require.NoError(t, json.Unmarshal(out, &insts), "%s\n%s", out, stderr.String())
	return insts, code
}

// lineInt reads the integer after key (up to the next space) in line.
func lineInt(t *testing.T, line, key string) int {
	t.Helper()
	_, rest, ok := strings.Cut(line, key)
	require.True(t, ok, "%q in %q", key, line)
	v, _, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(v)
	require.NoError(t, err, "%s in %q", key, line)
	return n
}
