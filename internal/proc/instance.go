package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/serve-launch/serve-launch/internal/patch/config"
)

// Instance is what the state directory knows about one haproxy started
// through the shim: one per generated configuration path. It is stored as
// instance.json, written by the shim at each start Ray makes and by each hot
// reload; the fields marked "live" are filled in by [Status], which is also
// the documented JSON of `serve-launch status --format json` (see
// docs/status.md; fields are only ever added).
type Instance struct {
	// ID is the instance directory's name (see [InstanceID]).
	ID string `json:"id"`
	// Dir is the instance directory.
	Dir string `json:"dir"`
	// Generated is the configuration file Ray generated (the first one when
	// haproxy loads several).
	Generated string `json:"generated"`
	// Patched is the copy haproxy runs (patched.cfg in Dir); empty when
	// haproxy runs Ray's file itself.
	Patched string `json:"patched"`
	// Files pairs every generated file with its patched copy, in load order.
	Files []FilePair `json:"files"`
	// Running is the files haproxy's -f names: the copies, or Ray's own
	// files when no copy could be written.
	Running []string `json:"running"`
	// MasterPID is the PID Ray started, which became haproxy's master.
	MasterPID int `json:"master_pid"`
	// LauncherPID is the `serve-launch run` this haproxy was started under.
	LauncherPID int `json:"launcher_pid,omitempty"`
	// Argv is the argv the real haproxy was exec'd with (without argv[0]).
	Argv []string `json:"argv"`
	// RayArgv is the argv Ray passed to the shim.
	RayArgv []string `json:"ray_argv"`
	// RealHAProxy is the real haproxy binary.
	RealHAProxy string `json:"real_haproxy"`
	// OverridesDir is the snippet directory.
	OverridesDir string `json:"overrides_dir,omitempty"`
	// InsecureOverrides says the snippets were loaded without the
	// ownership and mode checks (--insecure-overrides).
	InsecureOverrides bool `json:"insecure_overrides,omitempty"`
	// Snippets are the snippet files in force, with their SHA-256.
	Snippets []Snippet `json:"snippets"`
	// Quarantined are the snippet files left out, each with its errors.
	Quarantined []QuarantinedSnippet `json:"quarantined,omitempty"`
	// Unpatched, when set, says why haproxy runs Ray's config without any
	// snippet.
	Unpatched string `json:"unpatched,omitempty"`
	// PatchedAt is when the shim or a hot reload last patched.
	PatchedAt time.Time `json:"patched_at"`
	// Result is what the master runs: "patched" (every snippet),
	// "quarantined" (some left out) or "unpatched" (none).
	Result string `json:"result"`
	// LastError is the last start's or hot reload's error, empty after a
	// success.
	LastError string `json:"last_error,omitempty"`
	// AdminSocket is the `stats socket ... level admin` path of the
	// configuration the master loaded, when it has one.
	AdminSocket string `json:"admin_socket,omitempty"`
	// Listeners are the `bind` addresses of the configuration the master
	// loaded (never those of a candidate it refused).
	Listeners []string `json:"listeners,omitempty"`
	// Seq is the event slot's sequence number this record was written at
	// (see [Events]).
	Seq uint64 `json:"seq"`
	// RayPID is the process that started the shim: Ray's HAProxyManager,
	// which tracks this haproxy. Once it is gone, so is its tracking.
	RayPID int `json:"ray_pid,omitempty"`

	// State is the instance's state (live): one of the State* constants.
	State string `json:"state"`
	// StateDetail says why, and what to do (live).
	StateDetail string `json:"state_detail,omitempty"`
	// Alive reports whether MasterPID is a live haproxy running this
	// instance's file (live).
	Alive bool `json:"alive"`
	// WorkerPIDs are the master's child processes (live).
	WorkerPIDs []int `json:"worker_pids,omitempty"`
	// LastStart is the last haproxy start or reload Ray made through the
	// shim (live, from the event slot).
	LastStart *Event `json:"last_start,omitempty"`
	// LastHotReload is the last hot reload (live, from the event slot).
	LastHotReload *Event `json:"last_hot_reload,omitempty"`
	// RecordStale says this record describes an older start or reload than
	// the last one, whose record could not be written (live).
	RecordStale bool `json:"record_stale,omitempty"`
	// RecordError is why the last record could not be written (live).
	RecordError string `json:"record_error,omitempty"`
}

// States of an [Instance], worst first.
const (
	// StateWedged: a shim died before it exec'd haproxy (killed mid-patch,
	// say). Ray may have taken the old haproxy answering for the new one
	// and now tracks that dead process: every later reload of Ray's fails
	// until Serve restarts its proxy.
	StateWedged = "wedged"
	// StateDead: the master is gone while its launcher runs, and nothing
	// stopped it on purpose.
	StateDead = "dead"
	// StateDegraded: haproxy serves, but some snippet files (or all) are
	// not in force.
	StateDegraded = "degraded"
	// StateStarting: a shim is at work.
	StateStarting = "starting"
	// StateServing: haproxy serves with every snippet in force.
	StateServing = "serving"
	// StateStopped: haproxy was stopped (by Ray's stop or the launcher's
	// exit), or its launcher has exited.
	StateStopped = "stopped"
)

// Unhealthy reports whether the state needs attention: `status` exits
// non-zero for it.
func Unhealthy(state string) bool {
	return state == StateWedged || state == StateDead || state == StateDegraded
}

// FilePair is one generated file and its patched copy.
type FilePair struct {
	Generated string `json:"generated"`
	Patched   string `json:"patched"`
}

// Snippet is one snippet file and its content hash.
type Snippet struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Status lists every instance recorded in the state directory, with its
// state, liveness and worker PIDs filled in from the record, the event slot
// and /proc. Instances whose master is dead are listed too, so a failed
// start's error stays visible.
func Status(s *StateDir) ([]Instance, error) {
	dirs, err := s.instanceDirs()
	if err != nil {
		return nil, err
	}
	var out []Instance
	var errs []error
	for _, dir := range dirs {
		in, err := s.loadInstance(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		events, eerr := ReadEvents(dir)
		if eerr != nil {
			errs = append(errs, eerr)
			events = &Events{}
		}
		if in == nil {
			if events.Start.Kind == "" {
				continue // only a check (-c) ran here
			}
			in = &Instance{ID: filepath.Base(dir), Dir: dir}
		}
		in.live(events)
		out = append(out, *in)
	}
	return out, errors.Join(errs...)
}

// live fills in the live fields of in from its event slot and /proc.
func (in *Instance) live(events *Events) {
	if events.Start.Kind != "" {
		ev := events.Start
		in.LastStart = &ev
	}
	if events.HotReload.Kind != "" {
		ev := events.HotReload
		in.LastHotReload = &ev
	}
	in.RecordError = events.RecordError
	starting := events.Start.Result == ResultStarting
	// A record is written before the slot's final word on a start, with
	// the Seq that word gets; a slot that went further, or says the
	// record failed, outlived the record.
	in.RecordStale = events.RecordError != "" || (!starting && events.Seq > in.Seq)
	if in.RecordStale && !starting && events.Start.PID != 0 {
		// The slot is newer than the record: it knows what runs.
		in.MasterPID = events.Start.PID
		in.Result = events.Start.Result
		in.LastError = events.Start.Error
		if in.Result == ResultUnpatched {
			in.Unpatched = strings.TrimPrefix(events.Start.Error, "unpatched: ")
		}
	}
	running := in.Running
	if in.RecordStale && in.Result == ResultUnpatched && in.Generated != "" {
		running = []string{in.Generated}
	}
	in.Alive = isHAProxyRunning(in.MasterPID, running) || (in.RecordStale && pidAlive(in.MasterPID))
	if in.Alive {
		in.WorkerPIDs = childPIDs(in.MasterPID)
	}
	in.State, in.StateDetail = in.state(events, starting)
}

// state decides the instance's state and says why.
func (in *Instance) state(events *Events, starting bool) (string, string) {
	if starting {
		pid := events.Start.PID
		if pidAlive(pid) {
			return StateStarting, fmt.Sprintf("the shim (PID %d) is preparing a haproxy %s", pid, events.Start.Kind)
		}
		if ray := events.Start.RayPID; ray != 0 && !pidAlive(ray) {
			return StateStopped, fmt.Sprintf("the shim (PID %d) died before it ran haproxy, and so did the Ray process that ran it (PID %d)", pid, ray)
		}
		detail := fmt.Sprintf("the shim Ray ran for a haproxy %s at %s (PID %d) died before it ran haproxy (killed, or out of memory); "+
			"Ray may now track that dead process, and then every later Ray reload fails and replicas added or removed never reach haproxy",
			events.Start.Kind, events.Start.At.Format(time.RFC3339), pid)
		if in.Alive {
			detail += fmt.Sprintf("; haproxy %d still serves the routing of its own start", in.MasterPID)
		}
		return StateWedged, detail + "; restart Serve's proxy on this node (restart `serve run`, or `ray stop` and start again) to recover"
	}
	if !in.Alive {
		if in.LauncherPID != 0 && !pidAlive(in.LauncherPID) {
			return StateStopped, fmt.Sprintf("its launcher (PID %d) has exited", in.LauncherPID)
		}
		if in.RayPID != 0 && !pidAlive(in.RayPID) {
			// Ray stops its haproxy with its HAProxyManager (SIGKILL to
			// every process it tracks), or with the process itself.
			return StateStopped, fmt.Sprintf("the Ray process that started it (PID %d) has exited", in.RayPID)
		}
		if in.MasterPID == 0 {
			return StateDead, "no haproxy was started"
		}
		return StateDead, fmt.Sprintf("haproxy master %d is not running and nothing stopped it on purpose: it failed at start or was killed; "+
			"Ray's next reload of it fails until Serve restarts its proxy", in.MasterPID)
	}
	if hr := events.HotReload; hr.Result == ResultFailed && hr.At.After(events.Start.At) {
		return StateDegraded, "the last hot reload was refused, so haproxy runs the snippets of " + events.Start.At.Format(time.RFC3339) +
			", not those in the overrides directory now: " + hr.Error
	}
	switch {
	case in.Result == ResultUnpatched:
		return StateDegraded, "haproxy runs Ray's config WITHOUT the overrides: " + in.Unpatched
	case len(in.Quarantined) > 0:
		names := make([]string, len(in.Quarantined))
		for i, q := range in.Quarantined {
			names[i] = q.Name
		}
		return StateDegraded, "left out (quarantined): " + strings.Join(names, ", ") + "; fix them and the launcher reloads haproxy with every snippet"
	}
	return StateServing, ""
}

// pidAlive reports whether pid exists (a zombie counts as dead).
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	st, err := procStat(pid)
	return err == nil && st.state != 'Z' && st.state != 'X'
}

// isHAProxyRunning reports whether pid is alive and its command line names
// one of the files (so a recycled PID is never taken for our haproxy). A
// haproxy caught mid-exec counts: its command line is waited for (see
// execdArgs), so that status and the launcher's cleanup see it.
func isHAProxyRunning(pid int, files []string) bool {
	return namesAny(execdArgs(pid), files)
}

// procArgs is the argv of a live pid, nil when it is gone or a zombie.
func procArgs(pid int) []string {
	if !pidAlive(pid) {
		return nil
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil || len(cmdline) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
}

// execWindow bounds how long execdArgs waits for an exec to finish: the
// command line reads empty for about 100 µs, longer on a loaded machine.
const execWindow = 250 * time.Millisecond

// execdArgs is procArgs once pid's exec has finished: a process caught
// mid-exec has an empty command line for a moment, which is waited out up
// to execWindow. It is nil when pid is gone, is a kernel thread (a reused
// PID; its command line is always empty), or is still empty after that.
func execdArgs(pid int) []string {
	deadline := time.Now().Add(execWindow)
	for {
		args := procArgs(pid)
		if args != nil || time.Now().After(deadline) {
			return args
		}
		if st, err := procStat(pid); err != nil || st.state == 'Z' || st.state == 'X' || st.kthread {
			return nil
		}
		// No event marks the end of another process's exec: poll, bounded.
		time.Sleep(time.Millisecond)
	}
}

// namesAny reports whether one of args is one of files.
func namesAny(args, files []string) bool {
	for _, a := range args {
		for _, f := range files {
			if f != "" && a == f {
				return true
			}
		}
	}
	return false
}

type procStatus struct {
	state byte
	ppid  int
	pgrp  int
	// kthread marks a kernel thread, whose command line is always empty.
	kthread bool
}

// procStat reads state, parent and process group from /proc/PID/stat.
func procStat(pid int) (procStatus, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStatus{}, err
	}
	// The command name is in parentheses and may contain spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return procStatus{}, errors.New("bad /proc stat")
	}
	f := strings.Fields(string(data[i+2:]))
	if len(f) < 7 {
		return procStatus{}, errors.New("bad /proc stat")
	}
	ppid, _ := strconv.Atoi(f[1])
	pgrp, _ := strconv.Atoi(f[2])
	flags, _ := strconv.ParseUint(f[6], 10, 64)
	return procStatus{state: f[0][0], ppid: ppid, pgrp: pgrp, kthread: flags&pfKthread != 0}, nil
}

// catches reports whether pid has a handler for sig (the SigCgt mask of
// /proc/PID/status).
func catches(pid int, sig syscall.Signal) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "SigCgt:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<(uint(sig)-1)) != 0
		}
	}
	return false
}

// waitCatches waits, bounded by d, until pid has a handler for sig. A
// haproxy master installs its SIGUSR2 handler only after its worker is up
// and answering: a SIGUSR2 before that is lost (haproxy 2.6 did not reload
// at all), so a hot reload waits for the handler rather than for a worker.
func waitCatches(pid int, sig syscall.Signal, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !catches(pid, sig) {
		if time.Now().After(deadline) || !pidAlive(pid) {
			return false
		}
		// No event marks a handler being installed: poll, bounded.
		time.Sleep(time.Millisecond)
	}
	return true
}

// pfKthread is the kernel's PF_KTHREAD process flag (/proc/PID/stat field 9).
const pfKthread = 0x00200000

// allPIDs lists the numeric entries of /proc.
func allPIDs() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// childPIDs lists the live children of pid.
func childPIDs(pid int) []int {
	var kids []int
	for _, p := range allPIDs() {
		st, err := procStat(p)
		if err == nil && st.ppid == pid && st.state != 'Z' {
			kids = append(kids, p)
		}
	}
	return kids
}

// configFacts are what hot reload and status need from a configuration: the
// admin socket, the server-state file and the listeners.
type configFacts struct {
	adminSocket     string
	serverStateFile string // absolute, after server-state-base
	listeners       []string
}

// scanConfig extracts [configFacts] from the files of one configuration, in
// load order, with a plain line scan: the full model lives in internal/patch
// behind the bytes-to-bytes [Patcher], and these few keywords need no more
// than word splitting. Where sections start is the model's rule
// (config.IsSectionKeyword), not a list of its own.
func scanConfig(files ...[]byte) configFacts {
	var f configFacts
	var base, file string
	var section []byte // the current section's keyword, in data
	// The files are scanned in load order. Only the few lines whose first
	// word matters are split into words: the shim scans a generated config
	// of thousands of server lines on every haproxy start.
	for _, data := range files {
		for len(data) > 0 {
			raw := data
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				raw, data = data[:i], data[i+1:]
			} else {
				data = nil
			}
			if i := bytes.IndexByte(raw, '#'); i >= 0 {
				raw = raw[:i]
			}
			first := firstWord(raw)
			// Sections as the patch model (and haproxy) know them: by the
			// first word, whatever the indentation.
			if config.IsSectionKeyword(string(first)) {
				section = first
				continue
			}
			switch string(first) {
			case "stats", "server-state-base", "server-state-file", "bind":
			default:
				continue
			}
			line := string(raw)
			words := strings.Fields(line)
			switch {
			case string(section) == "global" && words[0] == "stats" && len(words) >= 3 && words[1] == "socket":
				addr := strings.TrimPrefix(words[2], "unix@")
				if strings.HasPrefix(addr, "/") && strings.Contains(line, "level admin") && f.adminSocket == "" {
					f.adminSocket = addr
				}
			case string(section) == "global" && words[0] == "server-state-base" && len(words) >= 2:
				base = words[1]
			case string(section) == "global" && words[0] == "server-state-file" && len(words) >= 2:
				file = words[1]
			case (string(section) == "frontend" || string(section) == "listen") && words[0] == "bind" && len(words) >= 2:
				f.listeners = append(f.listeners, words[1])
			}
		}
	}
	if file != "" {
		if !strings.HasPrefix(file, "/") && base != "" {
			file = filepath.Join(base, file)
		}
		f.serverStateFile = file
	}
	return f
}

// firstWord is the first word of a line, split as strings.Fields splits it
// for the ASCII spaces a config uses.
func firstWord(line []byte) []byte {
	i := 0
	for i < len(line) && isFieldSpace(line[i]) {
		i++
	}
	j := i
	for j < len(line) && !isFieldSpace(line[j]) {
		j++
	}
	return line[i:j]
}

func isFieldSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// signalPID sends sig to pid, ignoring "no such process".
func signalPID(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
