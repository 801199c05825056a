//go:build linux

package state

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// EventsFile is the instance's event slot: a file of exactly [eventsSize]
// bytes, rewritten in place (never replaced) on every haproxy start and hot
// reload. It holds the last start's and the last hot reload's outcome and
// the counters the launcher's metrics report.
//
// Why a slot and not instance.json: instance.json is replaced by writing a
// new file and renaming it, which needs free space; on a full disk that fails
// and the record goes on describing an older start. Overwriting blocks a file
// already has needs no new ones, so the slot stays writable, and a record
// whose sequence number is behind the slot's is known to be stale.
const EventsFile = "events"

// eventsSize is the slot's fixed size; what does not fit (a long error) is cut.
const eventsSize = 4096

// Event kinds.
const (
	EventStart     = "start"      // Ray started haproxy (no -sf)
	EventReload    = "reload"     // Ray reloaded haproxy (-sf)
	EventHotReload = "hot-reload" // serve-launch re-patched a running haproxy
)

// Event results. A start's result says what the haproxy it exec'd runs; a
// hot reload's what the running haproxy runs after it.
const (
	// ResultStarting: the shim is at work; it has not exec'd haproxy yet.
	// Found with a dead PID, the shim died before exec: Ray tracks a dead
	// process (see [StateWedged]).
	ResultStarting = "starting"
	// ResultPatched: every snippet is in force.
	ResultPatched = "patched"
	// ResultQuarantined: some snippet files were left out (see
	// [Instance].Quarantined); the others are in force.
	ResultQuarantined = "quarantined"
	// ResultUnpatched: haproxy runs Ray's generated file as it is (see
	// [Instance].Unpatched for why).
	ResultUnpatched = "unpatched"
	// ResultUnchanged: a hot reload found haproxy already running what the
	// snippets make of Ray's file.
	ResultUnchanged = "unchanged"
	// ResultFailed: a hot reload changed nothing (haproxy refused the
	// candidate, or it could not be delivered).
	ResultFailed = "failed"
)

// Event is one start or hot reload as the slot keeps it.
type Event struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	// PID is the process that did it: a start's shim (which becomes the
	// haproxy master), or the launcher or reload command.
	PID int `json:"pid"`
	// RayPID is the process that ran a start's shim (Ray's).
	RayPID int    `json:"ray_pid,omitempty"`
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
}

// Events is what the slot holds.
type Events struct {
	// Seq counts every write of the slot. An [Instance] record carries the
	// Seq of the event it was written for.
	Seq uint64
	// Start is the last haproxy start or reload Ray made through the shim.
	Start Event
	// HotReload is the last hot reload, zero when none was made.
	HotReload Event
	// RecordError is why the record of the last event could not be
	// written, "" when it was.
	RecordError string
	// Counts counts events by "KIND RESULT", for metrics.
	Counts map[string]uint64
	// LastOK is when a start or hot reload last put every snippet in force.
	LastOK time.Time
}

// Count adds one to the counter of kind and result.
func (e *Events) Count(kind, result string) {
	if e.Counts == nil {
		e.Counts = map[string]uint64{}
	}
	e.Counts[kind+" "+result]++
}

// encode lays e out as `key value` lines, cut to fit the slot, then a
// checksum line, padded with newlines to eventsSize.
func (e *Events) encode() []byte {
	b := make([]byte, 0, eventsSize)
	line := func(k, v string) {
		b = append(b, k...)
		b = append(b, ' ')
		b = append(b, v...)
		b = append(b, '\n')
	}
	ev := func(prefix string, x Event) {
		if x.Kind == "" {
			return
		}
		line(prefix+".at", x.At.UTC().Format(time.RFC3339Nano))
		line(prefix+".kind", x.Kind)
		line(prefix+".pid", strconv.Itoa(x.PID))
		if x.RayPID != 0 {
			line(prefix+".ray_pid", strconv.Itoa(x.RayPID))
		}
		line(prefix+".result", x.Result)
		if x.Error != "" {
			line(prefix+".error", oneLine(x.Error, 1200))
		}
	}
	line("seq", strconv.FormatUint(e.Seq, 10))
	ev("start", e.Start)
	ev("hot", e.HotReload)
	if e.RecordError != "" {
		line("record_error", oneLine(e.RecordError, 600))
	}
	if !e.LastOK.IsZero() {
		line("last_ok", e.LastOK.UTC().Format(time.RFC3339Nano))
	}
	keys := make([]string, 0, len(e.Counts))
	for k := range e.Counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(b) > eventsSize-200 {
			break
		}
		line("count."+strings.ReplaceAll(k, " ", "."), strconv.FormatUint(e.Counts[k], 10))
	}
	sum := crc32.ChecksumIEEE(b)
	b = append(b, "sum "...)
	b = strconv.AppendUint(b, uint64(sum), 16)
	b = append(b, '\n')
	for len(b) < eventsSize {
		b = append(b, '\n')
	}
	return b[:eventsSize]
}

// oneLine makes s fit one slot line of at most n bytes.
func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " | ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

var errTornEvents = errors.New("the event slot changed while it was read")

// decodeEvents reads a slot written by encode.
func decodeEvents(data []byte) (*Events, error) {
	data = bytes.TrimRight(data, "\n\x00")
	i := bytes.LastIndex(data, []byte("\nsum "))
	if i < 0 {
		if len(data) == 0 {
			return &Events{}, nil
		}
		return nil, errTornEvents
	}
	body, sum := data[:i+1], strings.TrimSpace(string(data[i+5:]))
	if want, err := strconv.ParseUint(sum, 16, 32); err != nil || uint32(want) != crc32.ChecksumIEEE(body) {
		return nil, errTornEvents
	}
	e := &Events{}
	for _, l := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
		k, v, _ := strings.Cut(l, " ")
		var x *Event
		switch {
		case strings.HasPrefix(k, "start."):
			x, k = &e.Start, strings.TrimPrefix(k, "start.")
		case strings.HasPrefix(k, "hot."):
			x, k = &e.HotReload, strings.TrimPrefix(k, "hot.")
		}
		if x != nil {
			switch k {
			case "at":
				x.At, _ = time.Parse(time.RFC3339Nano, v)
			case "kind":
				x.Kind = v
			case "pid":
				x.PID, _ = strconv.Atoi(v)
			case "ray_pid":
				x.RayPID, _ = strconv.Atoi(v)
			case "result":
				x.Result = v
			case "error":
				x.Error = v
			}
			continue
		}
		switch {
		case k == "seq":
			e.Seq, _ = strconv.ParseUint(v, 10, 64)
		case k == "record_error":
			e.RecordError = v
		case k == "last_ok":
			e.LastOK, _ = time.Parse(time.RFC3339Nano, v)
		case strings.HasPrefix(k, "count."):
			n, _ := strconv.ParseUint(v, 10, 64)
			kind, result, _ := strings.Cut(strings.TrimPrefix(k, "count."), ".")
			if e.Counts == nil {
				e.Counts = map[string]uint64{}
			}
			e.Counts[kind+" "+result] = n
		}
	}
	return e, nil
}

// ReadEvents reads dir's event slot; a missing slot reads as empty. A read
// that races a write (the checksum does not match) is tried again.
func ReadEvents(dir string) (*Events, error) {
	path := filepath.Join(dir, EventsFile)
	var err error
	for range 5 {
		var data []byte
		data, err = readSlot(path)
		if errors.Is(err, os.ErrNotExist) {
			return &Events{}, nil
		}
		if err != nil {
			return nil, err
		}
		var e *Events
		if e, err = decodeEvents(data); err == nil {
			return e, nil
		}
	}
	return nil, fmt.Errorf("%s: %w", path, err)
}

func readSlot(path string) ([]byte, error) {
	f, _, err := OpenNoFollow(path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, eventsSize)
	n, err := f.ReadAt(buf, 0)
	if n == 0 && err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// UpdateEvents reads dir's slot, lets fn change it, bumps Seq and writes it
// back in place, returning what it wrote. Callers hold the instance lock,
// or accept that a racing writer's update may be lost (the slot is never
// torn for a reader: it checks the checksum). An unreadable slot starts
// afresh rather than blocking a haproxy start.
func UpdateEvents(dir string, fn func(*Events)) (*Events, error) {
	e, err := ReadEvents(dir)
	if err != nil {
		e = &Events{}
	}
	fn(e)
	e.Seq++
	return e, WriteSlot(filepath.Join(dir, EventsFile), e.encode())
}

// WriteSlot overwrites the slot's bytes in place. A missing slot is created
// at its full size, once: from then on writes need no new blocks.
func WriteSlot(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, CleanPathErr(err))
	}
	_, err = f.WriteAt(data, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, CleanPathErr(err))
	}
	return nil
}
