package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/state"
	"github.com/serve-launch/serve-launch/internal/testing/raysim"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These scenarios put each fault of the shim's failure semantics in front of
// the emulated Ray (raysim follows Ray's checks: a process it tracks that
// has exited fails every later reload), then go on with further Ray
// reloads, so that a fault which leaves Ray tracking a dead process shows.

// scaleUp makes raysim add a replica to app1 and reload, as Ray does when a
// deployment scales up, and waits for raysim to say how the reload went.
// It returns raysim's line and status.
func (r *run) scaleUp(t *testing.T) (string, raysim.Status) {
	t.Helper()
	line := r.askScaleUp(t)
	return line, r.statusAfter(t, line)
}

// askScaleUp sends raysim the signal to scale up and returns its line on
// the reload.
func (r *run) askScaleUp(t *testing.T) string {
	t.Helper()
	from := r.Log.Len()
	require.NoError(t, syscall.Kill(r.status(t).PID, syscall.SIGUSR1))
	_, line := r.Log.WaitFor(t, from, "raysim: reload ", 30*time.Second, "raysim: reload failed")
	return line
}

// statusAfter is raysim's status once it says what its line on a reload
// says (raysim prints the line, then rewrites the status file).
func (r *run) statusAfter(t *testing.T, line string) raysim.Status {
	t.Helper()
	var st raysim.Status
	testenv.Eventually(t, 10*time.Second, "raysim's status after: "+line, func() (bool, string) {
		st = r.status(t)
		if strings.Contains(line, "reload failed") {
			return st.ReloadFails > 0 && strings.Contains(line, strings.ReplaceAll(st.LastError, "\n", " | ")), st.LastError
		}
		return strings.Contains(line, fmt.Sprintf(" haproxy_pid=%d ", st.HAProxyPID)), fmt.Sprint("haproxy_pid ", st.HAProxyPID)
	})
	return st
}

// requireReloaded fails unless raysim's line says Ray's reload succeeded.
func requireReloaded(t *testing.T, line string) {
	t.Helper()
	require.NotContains(t, line, "reload failed", "Ray's reload must succeed")
}

// metrics reads the launcher's /metrics into name{labels} -> value.
func metricsAt(t *testing.T, addr string) map[string]string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	out := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") || l == "" {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		out[l[:i]] = l[i+1:]
	}
	return out
}

// waitState polls `serve-launch status` until the instance is in state.
func (r *run) waitState(t *testing.T, want string) state.Instance {
	t.Helper()
	var in state.Instance
	testenv.Eventually(t, 15*time.Second, "status says "+want, func() (bool, string) {
		insts, _ := r.statusJSON(t)
		if len(insts) != 1 {
			return false, fmt.Sprintf("%d instances", len(insts))
		}
		in = insts[0]
		return in.State == want, in.State + ": " + in.StateDetail
	})
	return in
}

// waitStateOf is waitState for the haproxy raysim's status st names: after
// a Ray reload, raysim may report the new haproxy (its readiness check is
// Ray's, which the old haproxy can answer) before the new shim has written
// its record, and the old record's state can be the one wanted.
func (r *run) waitStateOf(t *testing.T, want string, st raysim.Status) state.Instance {
	t.Helper()
	var in state.Instance
	testenv.Eventually(t, 15*time.Second, fmt.Sprintf("status says %s of haproxy %d", want, st.HAProxyPID), func() (bool, string) {
		insts, _ := r.statusJSON(t)
		if len(insts) != 1 {
			return false, fmt.Sprintf("%d instances", len(insts))
		}
		in = insts[0]
		return in.State == want && in.MasterPID == st.HAProxyPID, fmt.Sprintf("master %d %s: %s", in.MasterPID, in.State, in.StateDetail)
	})
	return in
}

// waitRate polls until the running haproxy's ConnRateLimit is want (old
// workers may answer for a moment after a reload).
func (r *run) waitRate(t *testing.T, want int) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, fmt.Sprintf("ConnRateLimit %d", want), func() (bool, string) {
		info, err := r.tryInfo()
		if err != nil {
			return false, err.Error()
		}
		return info["ConnRateLimit"] == strconv.Itoa(want), "ConnRateLimit " + info["ConnRateLimit"]
	})
}

// rateTrap fails to render once there are more than 5 servers: a template
// error at a Ray reload, the snippet's own fault.
const rateTrap = `[[edit]]
section = "global"
set = [
  "maxconnrate {{ if gt .Servers 5 }}{{ .NoSuchFact }}{{ else }}{{ mul .Servers 512 }}{{ end }}",
]
`

const rateFixed = `[[edit]]
section = "global"
set = ["maxconnrate {{ mul .Servers 512 }}"]
`

// TestSnippetFailsThenIsFixed: a snippet that fails at one Ray reload is
// left out of that start (Ray's reload succeeds, the other snippets stay in
// force, status and metrics say degraded and name the file:line); once the
// file is fixed, the launcher puts the whole set in force by hot reload,
// and Ray's later reloads succeed with replicas added after the fix taking
// traffic. With a start that failed instead, Ray would track a dead
// process and fail every later reload.
func TestSnippetFailsThenIsFixed(t *testing.T) {
	maddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	r := start(t, opts{apps: 1, replicas: 2, launcher: []string{"--metrics-addr", maddr},
		overrides: func(t *testing.T, dir string) {
			writeAtomic(t, filepath.Join(dir, "10-rate-limits.toml"), rateTrap)
		}})
	r.waitRate(t, 2*512)
	for servers := 3; servers <= 5; servers++ {
		line, _ := r.scaleUp(t)
		requireReloaded(t, line)
		r.waitRate(t, servers*512)
	}
	// The sixth server: the template fails at this Ray reload.
	line, st := r.scaleUp(t)
	requireReloaded(t, line)
	in := r.waitStateOf(t, state.StateDegraded, st)
	require.Len(t, in.Quarantined, 1)
	assert.Equal(t, "10-rate-limits.toml", in.Quarantined[0].Name)
	assert.Contains(t, in.Quarantined[0].Error, "10-rate-limits.toml:4")
	assert.Contains(t, in.Quarantined[0].Error, "NoSuchFact")
	assert.Equal(t, st.HAProxyPID, in.MasterPID, "the haproxy Ray tracks is the one recorded")
	r.waitRate(t, 0) // the failing file is out
	assert.Empty(t, slimMismatches(r.appServers(t), "32"), "the other snippets are in force")
	m := metricsAt(t, maddr)
	assert.Equal(t, "1", m[`serve_launch_instances{state="degraded"}`])
	assert.Equal(t, "1", m["serve_launch_quarantined_snippets"])
	assert.Equal(t, "1", m[`serve_launch_haproxy_starts_total{kind="reload",result="quarantined"}`])

	// The fix: the whole set is in force by hot reload, on the same master.
	from := r.Log.Len()
	fixed := time.Now()
	writeAtomic(t, filepath.Join(r.OverridesDir, "10-rate-limits.toml"), rateFixed)
	r.Log.WaitFor(t, from, "reloaded haproxy", 20*time.Second, keptConfig)
	t.Logf("the fix was in force %s after the file changed", time.Since(fixed).Round(time.Millisecond))
	r.waitRate(t, 6*512)
	in = r.waitState(t, state.StateServing)
	assert.Equal(t, st.HAProxyPID, in.MasterPID)
	assert.Empty(t, in.Quarantined)

	// Ray's next reloads succeed, and the replicas they add take traffic.
	for servers := 7; servers <= 8; servers++ {
		line, st = r.scaleUp(t)
		requireReloaded(t, line)
		r.waitRate(t, servers*512)
	}
	assert.Zero(t, st.ReloadFails, "Ray's reloads failed: %s", st.LastError)
	added := st.Apps[0].Replicas[len(st.Apps[0].Replicas)-1].Server
	l := startLoad(t, []string{r.url("/app1")}, 2, 20*time.Second, 200)
	ok, fail := l.wait()
	assert.Zero(t, fail, "failed requests: %v", l.errors())
	testenv.Eventually(t, 10*time.Second, "the replica added after the fix took requests", func() (bool, string) {
		rows, err := r.tryAppServers()
		if err != nil {
			return false, err.Error()
		}
		row := rows["http-app1/"+added]
		return row != nil && row["stot"] != "0" && row["stot"] != "", fmt.Sprintf("%s: %v (of %d requests)", added, row, ok)
	})
	r.waitStateOf(t, state.StateServing, st)
	m = metricsAt(t, maddr)
	assert.Equal(t, "1", m[`serve_launch_instances{state="serving"}`])
	assert.Equal(t, "0", m["serve_launch_quarantined_snippets"])
	assert.NotEqual(t, "0", m["serve_launch_last_successful_patch_timestamp_seconds"])
	assert.Contains(t, strings.Join(keys(m), "\n"), `serve_launch_build_info{goversion=`)
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// shimOf finds the shim Ray ran for a reload (not yet exec'd: its process
// is the shim binary, and its command line names Ray's config and -sf).
func shimOf(cfg string) int {
	for _, pid := range testenv.ProcessesMentioning(cfg, "") {
		exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		if err == nil && filepath.Base(exe) == "serve-launch-shim" {
			return pid
		}
	}
	return 0
}

// TestShimKilledMidPatch: a shim SIGKILLed before it ran haproxy (the OOM
// killer, say) leaves Ray tracking a dead process. Nothing can undo that
// from outside Ray, so the launcher says it loudly, and status and metrics
// call the instance wedged with what to do; raysim shows the consequence
// (its next reload fails), which is Ray's.
func TestShimKilledMidPatch(t *testing.T) {
	maddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	r := start(t, opts{apps: 1, replicas: 2, launcher: []string{"--metrics-addr", maddr}})
	before := r.status(t).HAProxyPID
	in := r.waitState(t, state.StateServing)

	// The instance lock held here keeps the next shim from patching, so
	// that it can be killed mid-start.
	lock, err := os.OpenFile(filepath.Join(in.Dir, "lock"), os.O_RDWR, 0)
	require.NoError(t, err)
	defer lock.Close()
	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_EX))
	from := r.Log.Len()
	// Ray 2.55 takes the old haproxy answering show info for the new one:
	// it adopts the shim's PID at once.
	line := r.askScaleUp(t)
	requireReloaded(t, line)
	var shim int
	testenv.Eventually(t, 10*time.Second, "the shim of Ray's reload", func() (bool, string) {
		shim = shimOf(r.CfgFile)
		return shim != 0, "no shim process"
	})
	require.Equal(t, shim, r.statusAfter(t, line).HAProxyPID, "Ray tracks the shim's PID")
	// Killed once at work (its first act is to say so; a shim killed in
	// its first millisecond leaves no trace for anyone to see).
	in = r.waitState(t, state.StateStarting)
	require.Equal(t, shim, in.LastStart.PID)
	require.NoError(t, syscall.Kill(shim, syscall.SIGKILL))
	require.NoError(t, testenv.WaitGone([]int{shim}, 10*time.Second))
	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_UN))

	in = r.waitState(t, state.StateWedged)
	assert.Contains(t, in.StateDetail, fmt.Sprintf("(PID %d) died before it ran haproxy", shim))
	assert.Contains(t, in.StateDetail, "restart Serve's proxy")
	assert.Equal(t, before, in.MasterPID, "the haproxy that still serves is the one before")
	assert.True(t, in.Alive)
	_, code := r.statusJSON(t)
	assert.Equal(t, 1, code, "status exits 1 on a wedged instance")
	r.Log.WaitFor(t, from, "is wedged", 10*time.Second)
	assert.Equal(t, "1", metricsAt(t, maddr)[`serve_launch_instances{state="wedged"}`])

	// What Ray does next (emulated): its next reload finds the process it
	// tracks gone.
	line, st := r.scaleUp(t)
	assert.Contains(t, line, "reload failed")
	assert.Contains(t, st.LastError, "HAProxy crashed during startup")
	assert.Equal(t, 200, get(t, r.url("/app1")), "the old haproxy still serves")
}

// get returns the status code of a GET, failing the test on no answer.
func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestFIFOInOverrides: a FIFO named like a snippet is refused without being
// opened (opening one blocks until a writer comes): the hot reload is
// refused, Ray's reload leaves it out and succeeds, and once it is gone
// the instance serves every snippet and Ray's reloads go on.
func TestFIFOInOverrides(t *testing.T) {
	r := start(t, opts{apps: 1, replicas: 2})
	fifo := filepath.Join(r.OverridesDir, "60-x.toml")
	from := r.Log.Len()
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	_, line := r.Log.WaitFor(t, from, "60-x.toml", 20*time.Second)
	assert.Contains(t, line, "not a regular file")

	line, stUp := r.scaleUp(t)
	requireReloaded(t, line)
	in := r.waitStateOf(t, state.StateDegraded, stUp)
	require.Len(t, in.Quarantined, 1, in.StateDetail)
	assert.Equal(t, "60-x.toml", in.Quarantined[0].Name)
	assert.Contains(t, in.Quarantined[0].Error, "not a regular file")
	r.waitRate(t, 3*512)

	require.NoError(t, os.Remove(fifo))
	r.waitState(t, state.StateServing)
	line, st := r.scaleUp(t)
	requireReloaded(t, line)
	r.waitRate(t, 4*512)
	r.waitStateOf(t, state.StateServing, st)
	assert.Zero(t, st.ReloadFails, st.LastError)
}

// TestStateDirRemoved: a tmp cleaner removes the state dir while Ray runs.
// The launcher makes it anew within a second, with the shim link (which a
// Ray that runs plain `haproxy` finds first on PATH) and the record of the
// haproxy that runs; Ray's binary path never depended on it. Ray's next
// reload runs the shim and the overrides, in both ways Ray finds haproxy.
func TestStateDirRemoved(t *testing.T) {
	for _, tc := range []struct {
		name   string
		raysim []string
	}{
		{"binary path", nil},
		{"plain haproxy on PATH", []string{"-plain-haproxy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := start(t, opts{apps: 1, replicas: 2, raysim: tc.raysim})
			before := r.waitState(t, state.StateServing)
			from := r.Log.Len()
			// The launcher may make the directory anew while RemoveAll
			// walks it (ENOTEMPTY), as it would under a tmp cleaner; the
			// cleaner's next pass removes it.
			testenv.Eventually(t, 10*time.Second, "the state dir is removed", func() (bool, string) {
				err := os.RemoveAll(r.StateDir)
				return err == nil, fmt.Sprint(err)
			})
			removed := time.Now()
			testenv.Eventually(t, 10*time.Second, "the shim link is back", func() (bool, string) {
				_, err := os.Readlink(filepath.Join(r.StateDir, "bin", "haproxy"))
				return err == nil, fmt.Sprint(err)
			})
			t.Logf("the state dir was back %s after its removal", time.Since(removed).Round(time.Millisecond))
			r.Log.WaitFor(t, from, "made anew", 10*time.Second)
			in := r.waitState(t, state.StateServing)
			assert.Equal(t, before.MasterPID, in.MasterPID, "status knows the haproxy that runs")

			line, st := r.scaleUp(t)
			requireReloaded(t, line)
			r.waitRate(t, 3*512)
			in = r.waitStateOf(t, state.StateServing, st)
			assert.Equal(t, st.HAProxyPID, in.MasterPID)
			assert.Zero(t, st.ReloadFails, st.LastError)
		})
	}
}

// TestHotReloadNotTaken: a snippet whose new bind haproxy cannot take
// (the port is in use) passes haproxy -c, and the master refuses it at the
// reload. Status goes on showing the listeners haproxy loaded, not the
// refused candidate's, and says the reload was refused. Ray's next reload
// leaves the file out (a start with it would fail on the same port, and Ray
// would track a dead process), until the file changes.
func TestHotReloadNotTaken(t *testing.T) {
	r := start(t, opts{apps: 1, replicas: 2})
	// Not port 0: haproxy binds the port once busy closes, and an ephemeral
	// one may be taken by a client connection by then (see FreePort).
	port := testenv.FreePort(t)
	busy, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	require.NoError(t, err)
	defer busy.Close()
	snippet := fmt.Sprintf("[[section]]\nheader = \"frontend extra\"\nlines = [\"bind 127.0.0.1:%d\", \"default_backend default_backend\"]\n", port)
	path := filepath.Join(r.OverridesDir, "70-extra.toml")
	before := r.waitState(t, state.StateServing)

	from := r.Log.Len()
	writeAtomic(t, path, snippet)
	_, line := r.Log.WaitFor(t, from, keptConfig, 30*time.Second, "reloaded haproxy")
	assert.Contains(t, line, "failed")
	in := r.waitState(t, state.StateDegraded)
	assert.Equal(t, before.Listeners, in.Listeners, "the listeners haproxy loaded, not the refused candidate's")
	assert.NotContains(t, strings.Join(in.Listeners, " "), strconv.Itoa(port))
	assert.Contains(t, in.StateDetail, "the last hot reload was refused")

	line, stUp := r.scaleUp(t)
	requireReloaded(t, line)
	in = r.waitStateOf(t, state.StateDegraded, stUp)
	require.Len(t, in.Quarantined, 1, in.StateDetail)
	assert.Equal(t, "70-extra.toml", in.Quarantined[0].Name)
	assert.Contains(t, in.Quarantined[0].Error, "did not take a hot reload")

	// The port is free and the file changes: it is tried again, and takes.
	require.NoError(t, busy.Close())
	from = r.Log.Len()
	writeAtomic(t, path, "# retried\n"+snippet)
	r.Log.WaitFor(t, from, "reloaded haproxy", 30*time.Second, keptConfig)
	in = r.waitState(t, state.StateServing)
	assert.Contains(t, in.Listeners, fmt.Sprintf("127.0.0.1:%d", port))
	line, st := r.scaleUp(t)
	requireReloaded(t, line)
	r.waitStateOf(t, state.StateServing, st)
	assert.Zero(t, st.ReloadFails, st.LastError)
}

// TestDiskFull: the state dir's file system fills up. Ray's reload still
// succeeds (haproxy runs Ray's file, without the overrides), the record
// that cannot be written is reported stale, from the event slot, which is
// written in place. With room again, Ray's next reload patches as before.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root; this scenario runs in CI, which runs as root")
	}
	mnt := t.TempDir()
	require.NoError(t, syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"))
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	stateDir := filepath.Join(mnt, "state")
	maddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	r := start(t, opts{apps: 1, replicas: 2, launcher: []string{"--state-dir", stateDir, "--metrics-addr", maddr}})
	r.StateDir = stateDir
	r.waitState(t, state.StateServing)

	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	require.NoError(t, err)
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			require.True(t, errors.Is(err, syscall.ENOSPC), "%v", err)
			break
		}
	}
	// The last bytes: a write of a few does not fail before the disk is
	// full to the byte.
	for {
		if _, err := f.Write(chunk[:512]); err != nil {
			break
		}
	}
	require.NoError(t, f.Close())

	line, st := r.scaleUp(t)
	requireReloaded(t, line)
	in := r.waitStateOf(t, state.StateDegraded, st)
	assert.True(t, in.RecordStale, "the record could not be written")
	assert.Contains(t, in.RecordError, "no space left on device")
	assert.Equal(t, st.HAProxyPID, in.MasterPID, "status follows the event slot")
	assert.Equal(t, state.ResultUnpatched, in.Result)
	r.waitRate(t, 0) // haproxy runs Ray's file, without the overrides
	m := metricsAt(t, maddr)
	assert.Equal(t, "1", m["serve_launch_stale_records"])
	assert.Equal(t, "1", m[`serve_launch_instances{state="degraded"}`])

	require.NoError(t, os.Remove(filler))
	line, st = r.scaleUp(t)
	requireReloaded(t, line)
	r.waitRate(t, 4*512)
	in = r.waitStateOf(t, state.StateServing, st)
	assert.False(t, in.RecordStale)
	assert.Equal(t, st.HAProxyPID, in.MasterPID)
	assert.Equal(t, "0", metricsAt(t, maddr)["serve_launch_stale_records"])

	// Once the launcher is gone, status says stopped, and exits 0.
	require.NoError(t, r.Cmd.Process.Signal(syscall.SIGTERM))
	<-r.Exited
	insts, code := r.statusJSON(t)
	require.Len(t, insts, 1)
	assert.Equal(t, state.StateStopped, insts[0].State, insts[0].StateDetail)
	assert.Zero(t, code)
}

// TestStoppedInstance: Ray stops a haproxy (its HAProxyManager goes away,
// SIGKILLing what it tracked) while the launcher runs on, with another Ray
// process starting its own. status and the metrics call the first stopped,
// not dead, and a stopped instance needs no attention (exit 0).
func TestStoppedInstance(t *testing.T) {
	testenv.HAProxy(t)
	dir := t.TempDir()
	maddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	stateDir, overrides := filepath.Join(dir, "state"), filepath.Join(dir, "overrides.d")
	testenv.CopyOverrides(t, overrides)
	statusA, statusB := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	raysimArgs := func(status string) string {
		return fmt.Sprintf("-apps 1 -replicas 1 -http-port %d -stats-port %d -metrics-port %d -status-file %s",
			testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t), status)
	}
	ray2 := filepath.Join(dir, "ray2")
	// The second Ray process has paths of its own (a second node's, say).
	script := fmt.Sprintf(`%[1]s %[2]s; exec env RAY_SERVE_HAPROXY_CONFIG_FILE_LOC=%[3]s/haproxy.cfg RAY_SERVE_HAPROXY_SOCKET_PATH=%[3]s/admin.sock RAY_SERVE_HAPROXY_SERVER_STATE_BASE=%[3]s RAY_SERVE_HAPROXY_SERVER_STATE_FILE=%[3]s/server-state %[1]s %[4]s`,
		bins.Raysim(), raysimArgs(statusA), ray2, raysimArgs(statusB))
	cmd := exec.Command(bins.Launcher(), "run", "--state-dir", stateDir, "--overrides", overrides, "--haproxy", testenv.HAProxy(t),
		"--metrics-addr", maddr, "--grace-period", "3s", "--", "sh", "-c", script)
	cmd.Env = append(os.Environ(), testenv.RayEnv(dir)...)
	log := testenv.NewLineLog()
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = pw, pw
	require.NoError(t, cmd.Start())
	pw.Close()
	go log.Read(pr)
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		testenv.KillMentioning(dir)
		if t.Failed() {
			t.Logf("launcher output:\n%s", strings.Join(log.All(), "\n"))
		}
	})

	log.WaitFor(t, 0, "raysim: ready http=", 30*time.Second)
	a := readSimStatus(t, statusA)
	from := log.Len()
	require.NoError(t, syscall.Kill(a.PID, syscall.SIGTERM))
	log.WaitFor(t, from, "raysim: ready http=", 30*time.Second)

	r := &run{&testenv.Launched{StateDir: stateDir}}
	var insts []state.Instance
	var code int
	testenv.Eventually(t, 15*time.Second, "one stopped instance, one serving", func() (bool, string) {
		insts, code = r.statusJSON(t)
		var got []string
		for _, in := range insts {
			got = append(got, in.State)
		}
		return strings.Join(got, " ") == "stopped serving" || strings.Join(got, " ") == "serving stopped", strings.Join(got, " ")
	})
	assert.Zero(t, code, "a stopped instance needs no attention")
	for _, in := range insts {
		if in.State == state.StateStopped {
			assert.Contains(t, in.StateDetail, fmt.Sprintf("the Ray process that started it (PID %d) has exited", a.PID))
		}
	}
	m := metricsAt(t, maddr)
	assert.Equal(t, "1", m[`serve_launch_instances{state="stopped"}`])
	assert.Equal(t, "1", m[`serve_launch_instances{state="serving"}`])
	assert.Equal(t, "0", m[`serve_launch_instances{state="dead"}`])
}

func readSimStatus(t *testing.T, path string) raysim.Status {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var st raysim.Status
	require.NoError(t, json.Unmarshal(b, &st))
	return st
}
