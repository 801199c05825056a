//go:build linux

package state

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// marshalInstance encodes in exactly as json.MarshalIndent(in, "", "  ")
// does, without reflection. The shim writes a record on every haproxy start;
// encoding/json's first use in a process builds its encoders by reflecting
// over Instance, a noticeable part of a shim start (BENCHMARKS.md, design
// notes), against a few microseconds here. recordjson_test.go holds it to encoding/json's bytes, so
// a field added to Instance without a line here fails the tests.
func marshalInstance(in *Instance) ([]byte, error) {
	at, err := in.PatchedAt.MarshalJSON()
	if err != nil {
		return nil, err
	}
	w := jsonWriter{b: make([]byte, 0, 2048)}
	w.open('{')
	w.str("id", in.ID)
	w.str("dir", in.Dir)
	w.str("generated", in.Generated)
	w.str("patched", in.Patched)
	w.objects("files", in.Files == nil, len(in.Files), func(i int) {
		w.str("generated", in.Files[i].Generated)
		w.str("patched", in.Files[i].Patched)
	})
	w.strs("running", in.Running, false)
	w.int("master_pid", in.MasterPID)
	if in.LauncherPID != 0 {
		w.int("launcher_pid", in.LauncherPID)
	}
	w.strs("argv", in.Argv, false)
	w.strs("ray_argv", in.RayArgv, false)
	w.str("real_haproxy", in.RealHAProxy)
	if in.OverridesDir != "" {
		w.str("overrides_dir", in.OverridesDir)
	}
	if in.InsecureOverrides {
		w.bool("insecure_overrides", true)
	}
	w.objects("snippets", in.Snippets == nil, len(in.Snippets), func(i int) {
		w.str("name", in.Snippets[i].Name)
		w.str("sha256", in.Snippets[i].SHA256)
	})
	if len(in.Quarantined) > 0 {
		w.objects("quarantined", false, len(in.Quarantined), func(i int) {
			w.str("name", in.Quarantined[i].Name)
			w.str("error", in.Quarantined[i].Error)
		})
	}
	if in.Unpatched != "" {
		w.str("unpatched", in.Unpatched)
	}
	w.key("patched_at")
	w.b = append(w.b, at...)
	w.str("result", in.Result)
	if in.LastError != "" {
		w.str("last_error", in.LastError)
	}
	if in.AdminSocket != "" {
		w.str("admin_socket", in.AdminSocket)
	}
	w.strs("listeners", in.Listeners, true)
	w.key("seq")
	w.b = strconv.AppendUint(w.b, in.Seq, 10)
	if in.RayPID != 0 {
		w.int("ray_pid", in.RayPID)
	}
	w.str("state", in.State)
	if in.StateDetail != "" {
		w.str("state_detail", in.StateDetail)
	}
	w.bool("alive", in.Alive)
	if len(in.WorkerPIDs) > 0 {
		w.key("worker_pids")
		w.open('[')
		for _, p := range in.WorkerPIDs {
			w.elem()
			w.b = strconv.AppendInt(w.b, int64(p), 10)
		}
		w.close(']')
	}
	for _, ev := range []struct {
		key string
		ev  *Event
	}{{"last_start", in.LastStart}, {"last_hot_reload", in.LastHotReload}} {
		if ev.ev == nil {
			continue
		}
		w.key(ev.key)
		w.open('{')
		if err := w.time("at", ev.ev.At); err != nil {
			return nil, err
		}
		w.str("kind", ev.ev.Kind)
		w.int("pid", ev.ev.PID)
		if ev.ev.RayPID != 0 {
			w.int("ray_pid", ev.ev.RayPID)
		}
		w.str("result", ev.ev.Result)
		if ev.ev.Error != "" {
			w.str("error", ev.ev.Error)
		}
		w.close('}')
	}
	if in.RecordStale {
		w.bool("record_stale", true)
	}
	if in.RecordError != "" {
		w.str("record_error", in.RecordError)
	}
	w.close('}')
	return w.b, nil
}

func (w *jsonWriter) bool(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

func (w *jsonWriter) time(k string, t time.Time) error {
	b, err := t.MarshalJSON()
	if err != nil {
		return err
	}
	w.key(k)
	w.b = append(w.b, b...)
	return nil
}

// jsonWriter writes JSON laid out as json.MarshalIndent with a two-space
// indent: one member or element per line, and an empty object or array
// kept on one line.
type jsonWriter struct {
	b     []byte
	depth int
	// first is true right after an opening bracket, before its first
	// member or element.
	first bool
}

func (w *jsonWriter) open(c byte) {
	w.b = append(w.b, c)
	w.depth++
	w.first = true
}

func (w *jsonWriter) close(c byte) {
	w.depth--
	if !w.first {
		w.newline()
	}
	w.first = false
	w.b = append(w.b, c)
}

// elem starts a member or an array element on a line of its own.
func (w *jsonWriter) elem() {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.newline()
}

func (w *jsonWriter) newline() {
	w.b = append(w.b, '\n')
	for range w.depth {
		w.b = append(w.b, ' ', ' ')
	}
}

func (w *jsonWriter) key(k string) {
	w.elem()
	w.b = appendJSONString(w.b, k)
	w.b = append(w.b, ':', ' ')
}

func (w *jsonWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *jsonWriter) str(k, v string) {
	w.key(k)
	w.b = appendJSONString(w.b, v)
}

func (w *jsonWriter) int(k string, v int) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, int64(v), 10)
}

// objects writes a list of n objects, each filled by fields(i); null
// writes a nil list as encoding/json does.
func (w *jsonWriter) objects(k string, null bool, n int, fields func(i int)) {
	w.key(k)
	if null {
		w.raw("null")
		return
	}
	w.open('[')
	for i := range n {
		w.elem()
		w.open('{')
		fields(i)
		w.close('}')
	}
	w.close(']')
}

// strs writes a string list; nil is null unless omitEmpty drops the member
// (as `omitempty` does for a nil or empty list).
func (w *jsonWriter) strs(k string, v []string, omitEmpty bool) {
	if omitEmpty && len(v) == 0 {
		return
	}
	w.key(k)
	if v == nil {
		w.raw("null")
		return
	}
	w.open('[')
	for _, s := range v {
		w.elem()
		w.b = appendJSONString(w.b, s)
	}
	w.close(']')
}

// appendJSONString appends s quoted as encoding/json quotes it (with its
// default HTML escaping): invalid UTF-8 becomes U+FFFD, and control
// characters, <, >, &, U+2028 and U+2029 are escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
