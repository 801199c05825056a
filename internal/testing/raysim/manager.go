package raysim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/raycfg"
)

// ManagerConfig configures a [Manager]. Every zero value means what Ray does.
type ManagerConfig struct {
	// Options is what the manager renders; Apps and Draining change through
	// [Manager.Update] and [Manager.SetDraining]. A nil Options.Env is filled
	// from Environ, as Ray's constants.py reads its own process environment.
	Options raycfg.Options
	// Environ is the child's environment in os.Environ form, and the PATH
	// used to find `haproxy`; nil means this process's environment. A
	// launcher's shim settings (PATH, RAY_SERVE_HAPROXY_BINARY_PATH) flow
	// through here.
	Environ []string
	// PlainHAProxy runs `haproxy` looked up on PATH, as V1 does, ignoring
	// RAY_SERVE_HAPROXY_BINARY_PATH. Off: the binary path from the
	// environment, as 2.55 with #62610 and master do (default "haproxy").
	PlainHAProxy bool
	// ReadyTimeout bounds the readiness poll; Ray uses 5 s.
	ReadyTimeout time.Duration
	// ReadyInterval is the poll period; Ray uses 0.5 s.
	ReadyInterval time.Duration
	// CheckNewPID also requires `show info` to report the new PID, as #64063
	// (June 2026, after 2.55) does. Off by default: 2.55 accepts the old
	// process answering on the socket during a reload.
	CheckNewPID bool
	// NodeID is the Ray node ID. The master shape scopes the config, admin
	// socket, server state and metrics socket under `<dir>/<NodeID>/`, as
	// HAProxyManager's _per_node does; V1 and 2.55 use the paths as given.
	// Empty means a random 56-hex-digit ID, the form Ray's node IDs take.
	NodeID string
}

// proc is one haproxy process Ray started.
type proc struct {
	cmd    *exec.Cmd
	stdout *os.File // read ends of the pipes, never read while it runs
	stderr *os.File
	done   chan struct{} // closed when the process has exited and been reaped
	err    error         // Wait's result, valid after done
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) kill() {
	if !p.exited() {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.stdout.Close()
	p.stderr.Close()
}

// Manager emulates Ray Serve's HAProxyManager/HAProxyApi process handling:
// it renders and writes the config, starts haproxy with Ray's argv, reloads
// it with -sf/-x on every routing change, and SIGKILLs every process it
// started on stop. It is an emulation, not Ray.
type Manager struct {
	cfg      ManagerConfig
	settings raycfg.Settings
	environ  []string

	mu       sync.Mutex // Ray's reload lock: one start/reload/stop at a time
	opts     raycfg.Options
	cur      *proc
	old      []*proc
	lastArgs []string
	reloads  int
}

// NewManager reads the settings the way Ray would and prepares the
// directories and 500.http, as HAProxyApi's constructor does.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	environ := cfg.Environ
	if environ == nil {
		environ = os.Environ()
	}
	if cfg.Options.Env == nil {
		cfg.Options.Env = envmap.FromEnviron(environ)
	}
	if cfg.Options.Shape == "" {
		cfg.Options.Shape = raycfg.Shape255
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 5 * time.Second
	}
	if cfg.ReadyInterval == 0 {
		cfg.ReadyInterval = 500 * time.Millisecond
	}
	s, err := raycfg.ReadEnv(cfg.Options.Env, cfg.Options.Shape)
	if err != nil {
		return nil, err
	}
	if cfg.Options.Shape == raycfg.ShapeMaster {
		if cfg.NodeID == "" {
			cfg.NodeID = randomNodeID()
		}
		s = perNode(s, cfg.NodeID)
	}
	if err := raycfg.PrepareDirs(s); err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg, settings: s, environ: environ, opts: cfg.Options}, nil
}

// perNode is master's HAProxyManager._per_node applied to the paths it
// scopes: `<dir>/<file>` becomes `<dir>/<nodeID>/<file>`, and the server
// state base gains a `<nodeID>` directory. A shim must read the config path
// from -f: it is not the RAY_SERVE_HAPROXY_CONFIG_FILE_LOC it was given.
func perNode(s raycfg.Settings, nodeID string) raycfg.Settings {
	scope := func(path string) string {
		dir, file := filepath.Split(path)
		return filepath.Join(dir, nodeID, file)
	}
	s.ConfigFile = scope(s.ConfigFile)
	s.SocketPath = scope(s.SocketPath)
	s.ServerStateFile = scope(s.ServerStateFile)
	s.MetricsSocketPath = scope(s.MetricsSocketPath)
	s.ServerStateBase = filepath.Join(s.ServerStateBase, nodeID)
	return s
}

// randomNodeID returns an ID in the form of Ray's NodeID hex: 28 random
// bytes, 56 hex digits.
func randomNodeID() string {
	b := make([]byte, 28)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// Settings returns the settings read from the environment.
func (m *Manager) Settings() raycfg.Settings { return m.settings }

// Start writes the config and starts haproxy, then waits until `show info`
// answers, as HAProxyApi.start does.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur != nil {
		return errors.New("raysim: haproxy already started")
	}
	if err := m.writeConfig(); err != nil {
		return err
	}
	p, err := m.spawnAndWait(ctx, nil)
	if err != nil {
		return fmt.Errorf("failed to initialize and start haproxy: %w", err)
	}
	m.cur = p
	return nil
}

// Update replaces the target groups and reloads, as update_target_groups does.
func (m *Manager) Update(ctx context.Context, apps []raycfg.App) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.opts.Apps {
		if len(a.Replicas) > 0 {
			m.opts.HadServers = true
		}
	}
	m.opts.Apps = apps
	return m.reloadLocked(ctx)
}

// SetDraining regenerates the config with /-/healthz forced to 503 (or back)
// and reloads, as disable/enable do.
func (m *Manager) SetDraining(ctx context.Context, draining bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.opts.Draining = draining
	return m.reloadLocked(ctx)
}

// Reload regenerates the config and reloads haproxy without a routing change.
func (m *Manager) Reload(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reloadLocked(ctx)
}

// reloadLocked is HAProxyApi.reload: write the config, check the old
// process is available, save `show servers state` if optimized, start
// `... -sf <old> [-x <sock>]` and wait for it.
func (m *Manager) reloadLocked(ctx context.Context) error {
	if m.cur == nil {
		return errors.New("raysim: reload before start")
	}
	if err := m.writeConfig(); err != nil {
		return fmt.Errorf("failed to update and reload haproxy: %w", err)
	}
	old := m.cur
	if err := m.waitReady(ctx, old, 0); err != nil {
		return fmt.Errorf("failed to update and reload haproxy: %w", err)
	}
	if m.settings.Optimized {
		state, err := admin.ShowServersState(ctx, m.settings.SocketPath)
		if err != nil {
			return fmt.Errorf("failed to update and reload haproxy: %w", err)
		}
		if err := os.WriteFile(m.settings.ServerStateFile, []byte(state), 0o644); err != nil {
			return fmt.Errorf("failed to update and reload haproxy: %w", err)
		}
	}
	extra := []string{"-sf", strconv.Itoa(old.cmd.Process.Pid)}
	if m.settings.Optimized {
		extra = append(extra, "-x", m.settings.SocketPath)
	}
	p, err := m.spawnAndWait(ctx, extra)
	if err != nil {
		return fmt.Errorf("failed to update and reload haproxy: %w", err)
	}
	m.cur = p
	// Ray keeps every old process and SIGKILLs those still running on stop;
	// the ones already gone are dropped here so their pipes get closed.
	live := m.old[:0]
	for _, o := range m.old {
		if o.exited() {
			o.kill()
			continue
		}
		live = append(live, o)
	}
	m.old = append(live, old)
	m.reloads++
	return nil
}

// Stop sends SIGKILL to the current process and to every older one still
// tracked, as HAProxyApi.stop does, and reaps them.
func (m *Manager) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur != nil {
		m.cur.kill()
		m.cur = nil
	}
	for _, p := range m.old {
		p.kill()
	}
	m.old = nil
}

// PID is the PID of the process Ray tracks as current (0 before start).
func (m *Manager) PID() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil {
		return 0
	}
	return m.cur.cmd.Process.Pid
}

// LivePIDs lists every started process not yet exited, current last.
func (m *Manager) LivePIDs() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	var pids []int
	for _, p := range append(append([]*proc{}, m.old...), m.cur) {
		if p != nil && !p.exited() {
			pids = append(pids, p.cmd.Process.Pid)
		}
	}
	return pids
}

// Exited is closed when the current process exits; nil before start.
func (m *Manager) Exited() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil {
		return nil
	}
	return m.cur.done
}

// LastArgs is the argv of the last spawn, argv[0] included.
func (m *Manager) LastArgs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.lastArgs...)
}

// Reloads counts successful reloads.
func (m *Manager) Reloads() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reloads
}

func (m *Manager) writeConfig() error {
	cfg := raycfg.RenderSettings(m.opts, m.settings)
	if m.opts.Shape == raycfg.ShapeMaster && strings.Contains(string(cfg), "lua-load-per-thread ") {
		if err := raycfg.WriteLua(m.settings.ConfigFile); err != nil {
			return err
		}
	}
	return raycfg.WriteConfig(m.settings.ConfigFile, cfg)
}

// binary resolves the executable the way Ray would, returning the file to
// run and the name Ray puts in argv[0] (execvp keeps "haproxy" as given).
func (m *Manager) binary() (path, argv0 string, err error) {
	name := "haproxy"
	if !m.cfg.PlainHAProxy {
		name = m.settings.BinaryPath
	}
	if strings.Contains(name, "/") {
		return name, name, nil
	}
	for _, kv := range m.environ {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, name, nil
		}
	}
	return "", "", fmt.Errorf("%s: executable not found in PATH %q", name, path)
}

// spawnAndWait is _start_and_wait_for_haproxy: argv `<bin> -db -f <cfg>
// [-dR] extra...`, stdout and stderr piped, then the readiness poll; a
// process that does not become ready is killed.
func (m *Manager) spawnAndWait(ctx context.Context, extra []string) (*proc, error) {
	bin, argv0, err := m.binary()
	if err != nil {
		return nil, err
	}
	args := []string{"-db", "-f", m.settings.ConfigFile}
	if !m.settings.ReusePort {
		args = append(args, "-dR")
	}
	args = append(args, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Args[0] = argv0
	cmd.Env = m.environ
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	// The child holds its own copies; closing ours lets a read see EOF once
	// the child exits.
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, err
	}
	m.lastArgs = append([]string{argv0}, args...)
	p := &proc{cmd: cmd, stdout: outR, stderr: errR, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := m.waitReady(ctx, p, cmd.Process.Pid); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// waitReady is _wait_for_hap_availability: every ReadyInterval, fail if the
// process exited (reporting its stderr, else stdout), succeed if `show info`
// answers; give up after ReadyTimeout. wantPID > 0 with CheckNewPID also
// requires `show info` to name that PID.
func (m *Manager) waitReady(ctx context.Context, p *proc, wantPID int) error {
	deadline := time.Now().Add(m.cfg.ReadyTimeout)
	for time.Now().Before(deadline) {
		if p.exited() {
			return crashError(p)
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		info, err := admin.ShowInfo(cctx, m.settings.SocketPath)
		cancel()
		if err == nil && (!m.cfg.CheckNewPID || wantPID == 0 || info["Pid"] == strconv.Itoa(wantPID)) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
		case <-time.After(m.cfg.ReadyInterval):
		}
	}
	return fmt.Errorf("HAProxy did not enter running state within %s", m.cfg.ReadyTimeout)
}

func crashError(p *proc) error {
	stderr, _ := io.ReadAll(p.stderr)
	stdout, _ := io.ReadAll(p.stdout)
	out := strings.TrimSpace(string(stderr))
	if out == "" {
		out = strings.TrimSpace(string(stdout))
	}
	if out == "" {
		code := -1
		if p.cmd.ProcessState != nil {
			code = p.cmd.ProcessState.ExitCode()
		}
		out = fmt.Sprintf("exit code %d", code)
	}
	return fmt.Errorf("HAProxy crashed during startup: %s", out)
}
