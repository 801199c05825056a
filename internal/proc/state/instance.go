//go:build linux

package state

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/procfs"
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
	dirs, err := s.InstanceDirs()
	if err != nil {
		return nil, err
	}
	var out []Instance
	var errs []error
	for _, dir := range dirs {
		in, err := s.instance(dir, (*Instance).live)
		if err != nil {
			errs = append(errs, err)
		}
		if in != nil {
			out = append(out, *in)
		}
	}
	return out, errors.Join(errs...)
}

// instance reads one instance and decides its state; nil when only a
// check (-c) ran in dir. The files are read first and /proc looked at
// after, so a reload can land in between: its haproxy stops the master
// the record names, which then reads as dead or wedged. A master is only
// stopped after the record of the next one is written, which moves the
// event slot's Seq on: a bad verdict is taken again when the Seq moved,
// a few times at most, since a Ray reloading without pause could keep it
// moving. live is [Instance.live]; a test passes one that lands a reload
// in between.
func (s *StateDir) instance(dir string, live func(*Instance, *Events)) (*Instance, error) {
	var errs []error
	for try := 0; ; try++ {
		errs = errs[:0]
		in, err := s.LoadInstance(dir)
		if err != nil {
			return nil, err
		}
		events, eerr := ReadEvents(dir)
		if eerr != nil {
			errs = append(errs, eerr)
			events = &Events{}
		}
		if in == nil {
			if events.Start.Kind == "" {
				return nil, errors.Join(errs...)
			}
			in = &Instance{ID: filepath.Base(dir), Dir: dir}
		}
		live(in, events)
		if in.State != StateDead && in.State != StateWedged || try == 3 {
			return in, errors.Join(errs...)
		}
		if now, err := ReadEvents(dir); err != nil || now.Seq == events.Seq {
			return in, errors.Join(errs...)
		}
	}
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
	in.Alive = procfs.Runs(in.MasterPID, running) || (in.RecordStale && procfs.Alive(in.MasterPID))
	if in.Alive {
		in.WorkerPIDs = procfs.Children(in.MasterPID)
	}
	in.State, in.StateDetail = in.state(events, starting)
}

// state decides the instance's state and says why.
func (in *Instance) state(events *Events, starting bool) (string, string) {
	if starting {
		pid := events.Start.PID
		if procfs.Alive(pid) {
			return StateStarting, fmt.Sprintf("the shim (PID %d) is preparing a haproxy %s", pid, events.Start.Kind)
		}
		if ray := events.Start.RayPID; ray != 0 && !procfs.Alive(ray) {
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
		if in.MasterPID != 0 && in.shimBeforeExec() {
			return StateStarting, fmt.Sprintf("the shim (PID %d) has written the record of its haproxy %s and is about to exec haproxy",
				in.MasterPID, events.Start.Kind)
		}
		if in.LauncherPID != 0 && !procfs.Alive(in.LauncherPID) {
			return StateStopped, fmt.Sprintf("its launcher (PID %d) has exited", in.LauncherPID)
		}
		if in.RayPID != 0 && !procfs.Alive(in.RayPID) {
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

// shimBeforeExec reports whether MasterPID is still the shim Ray ran, with
// Ray's argv: the shim writes the record (its own PID is the master to be)
// before it execs haproxy, and a look in between, longer on a loaded
// machine, would otherwise call a healthy reload dead.
func (in *Instance) shimBeforeExec() bool {
	args := procfs.ExecdArgs(in.MasterPID)
	return len(args) > 0 && len(in.RayArgv) > 0 && slices.Equal(args[1:], in.RayArgv)
}

// QuarantinedSnippet is a snippet file left out of a patch, whole, and why.
type QuarantinedSnippet struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}

// LogLine appends one line to a shim.log, stamped with the time and the
// writer's PID.
func LogLine(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, "%s pid %d: %s\n", time.Now().UTC().Format(time.RFC3339Nano), os.Getpid(), fmt.Sprintf(format, a...))
}

// Numbered gives the name of the i-th file of a kind: patched.cfg,
// patched-1.cfg, patched-2.cfg...
func Numbered(name string, i int) string {
	if i == 0 {
		return name
	}
	ext := filepath.Ext(name)
	return strings.TrimSuffix(name, ext) + "-" + strconv.Itoa(i) + ext
}
