package build

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/hapcheck"
	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/proc/state"
)

// Builder makes the configuration a haproxy runs from a generated file, for
// the shim at each start Ray makes and for a hot reload alike, so that both
// give haproxy the same thing.
//
// It never fails. A snippet file that does not load, does not apply, or
// writes a line `haproxy -c` refuses is left out whole (quarantined) and the
// other files apply; with [shim.OnPatchErrorPassthrough] any such file
// leaves every snippet out. What cannot be patched at all (Ray's file does
// not parse, the overrides directory cannot be read) runs as Ray wrote it.
// Each of these is said in the result, which the shim records as degraded.
//
// Why quarantine rather than fail the start: Ray 2.55 takes the old haproxy
// answering `show info` for the new one being ready, so a start that exits
// leaves Ray tracking a dead process, and every later Ray reload then fails
// on it until Serve restarts its proxy: replicas added or removed would
// never reach haproxy again. A start that runs without one snippet file
// keeps Ray's routing current and says loudly what is missing; fixing the
// file brings it back by hot reload within a second.
type Builder struct {
	// Load loads the snippets; it is called at every patch, so that each
	// start sees the overrides directory as it is then (the shim calls it
	// under the instance lock, see [ShimPatcher]). It may return snippets
	// that loaded together with the errors of files that did not.
	Load func() (*patch.Overrides, error)
	// Apply is how snippets apply (env, provenance).
	Apply patch.ApplyOptions
	// Policy is what a failing snippet file does.
	Policy shim.OnPatchError
	// HAProxy is the real haproxy, which checks each new set of lines the
	// snippets write with -c before a haproxy runs them; "" checks nothing
	// (unless the request names the instance's haproxy).
	HAProxy string
	// Verdicts is the file remembering which sets of snippet lines this
	// haproxy accepted (see [Verdicts]); "" remembers nothing, so every
	// patch runs -c.
	Verdicts string
	// CheckTimeout bounds one `haproxy -c`. Past it the patch runs
	// unchecked: the shim's time counts against Ray's 5 s readiness wait.
	CheckTimeout time.Duration
}

// Patch is the [shim.Patcher] of b.
func (b *Builder) Patch(ctx context.Context, req shim.PatchRequest) shim.PatchResult {
	unpatched := func(why string) shim.PatchResult {
		return shim.PatchResult{Data: req.Generated, Unpatched: why, Facts: factsOf(req)}
	}
	o, err := b.Load()
	var left []state.QuarantinedSnippet
	if err != nil {
		var list config.ErrorList
		if o == nil || !errors.As(err, &list) {
			return unpatched(oneLineErr(err))
		}
		byFile, rest := patch.SplitByFile(list)
		if len(rest) > 0 {
			return unpatched(rest.Error())
		}
		if b.Policy == shim.OnPatchErrorPassthrough {
			return unpatched("on-patch-error=passthrough: " + list.Error())
		}
		left = append(left, quarantined(byFile)...)
	}
	if refused := (Verdicts{Path: b.Verdicts}).Refused(); len(refused) > 0 {
		for _, sn := range o.Snippets {
			why, ok := refused[sn.Name+" "+sn.SHA256]
			if !ok {
				continue
			}
			msg := fmt.Sprintf("%s: haproxy did not take a hot reload with this version of the file (%s); it stays out until the file changes", sn.Name, why)
			if b.Policy == shim.OnPatchErrorPassthrough {
				return unpatched("on-patch-error=passthrough: " + msg)
			}
			left = append(left, state.QuarantinedSnippet{Name: sn.Name, Error: msg})
			o = o.Without(sn.Name)
		}
	}

	for range len(o.Snippets) + 2 {
		f, out, err := o.ApplyEach(req.Name, req.Generated, b.Apply)
		if err != nil {
			// Nothing to blame on a snippet: Ray's file itself does not
			// parse. haproxy is given it as it is, and judges it.
			return unpatched(err.Error())
		}
		if len(out) > 0 && b.Policy == shim.OnPatchErrorPassthrough {
			return unpatched("on-patch-error=passthrough: " + out[0].Error())
		}
		left = append(left, quarantined(out)...)
		for _, q := range out {
			o = o.Without(q.File)
		}
		// The model itself, not its rendering: the shim writes it out line
		// by line, so a large config is not in memory twice.
		res := shim.PatchResult{File: f, Snippets: Snippets(o), Quarantined: left, Facts: f.Facts()}
		if b.haproxy(req) == "" {
			return res
		}
		bad, checked, err := b.check(ctx, b.haproxy(req), o, f, f, req.Scratch)
		if err != nil {
			// haproxy could not judge it in time: run what the engine
			// accepted, unchecked (a hot reload refuses to).
			res.CheckError = err.Error()
			return res
		}
		res.Checked = checked
		if len(bad) == 0 {
			return res
		}
		if b.Policy == shim.OnPatchErrorPassthrough {
			return unpatched("on-patch-error=passthrough: " + bad[0].Error())
		}
		names := map[string]bool{}
		for _, q := range bad {
			names[q.File] = true
		}
		if !containsSnippet(o, names) {
			// haproxy refuses a line that is Ray's, not a snippet's: Ray's
			// own config, or what a snippet's delete or params made of it.
			res := b.unblamed(ctx, req, bad)
			res.Quarantined = left
			return res
		}
		left = append(left, quarantined(bad)...)
		for n := range names {
			o = o.Without(n)
		}
	}
	return unpatched("the snippets kept failing haproxy -c")
}

// unblamed is the result when haproxy -c refuses lines that no snippet
// wrote: Ray's generated file runs as it is, unless haproxy refuses that too,
// in which case the snippets cannot be blamed and stay in force.
func (b *Builder) unblamed(ctx context.Context, req shim.PatchRequest, bad []patch.Quarantine) shim.PatchResult {
	msg := bad[0].Error()
	f, err := config.Parse(req.Name, req.Generated)
	if err == nil {
		var still []patch.Quarantine
		// Not through the verdict cache: a signature leaves Ray's own lines
		// out, and here they are the question (with no snippet lines, every
		// Ray file has the signature of the first one accepted).
		fresh := *b
		fresh.Verdicts = ""
		if still, _, err = fresh.check(ctx, b.haproxy(req), &patch.Overrides{}, f, bytes.NewReader(req.Generated), req.Scratch); err == nil && len(still) == 0 {
			return shim.PatchResult{Data: req.Generated, Checked: "haproxy -c", Facts: f.Facts(),
				Unpatched: "haproxy -c refuses the patched config at a line of Ray's config, which a snippet changed: " + msg}
		}
	}
	return shim.PatchResult{Data: req.Generated, Unpatched: "haproxy -c refuses Ray's generated config itself: " + msg, Facts: factsOf(req)}
}

// check runs `haproxy -c` on data (f rendered), written to scratch, unless
// the verdict cache knows the lines the snippets wrote. It returns the
// snippet files haproxy refused a line of, each with haproxy's words at the
// snippet's file:line; an unblamed refusal comes back as one entry with no
// file.
func (b *Builder) check(ctx context.Context, haproxy string, o *patch.Overrides, f *config.File, data io.WriterTo, scratch string) (bad []patch.Quarantine, how string, err error) {
	sig := signature(haproxy, o, f)
	v := Verdicts{Path: b.Verdicts}
	if v.Has(sig) {
		return nil, "cached", nil
	}
	if err := state.WriteAtomicFrom(scratch, data, 0o600); err != nil {
		return nil, "", fmt.Errorf("writing the candidate for haproxy -c: %v", err)
	}
	timeout := b.CheckTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := hapcheck.CheckPath(cctx, haproxy, f, scratch)
	if err != nil {
		return nil, "", err
	}
	if res.OK {
		v.Add(sig)
		return nil, "haproxy -c", nil
	}
	var list config.ErrorList
	var other []string
	for _, m := range res.Messages {
		if m.Level != "ALERT" {
			continue
		}
		if m.FromSnippet {
			list = append(list, &config.Error{Pos: m.Source, Err: fmt.Errorf("haproxy -c refuses the line this snippet wrote: %s", m.Text)})
		} else {
			other = append(other, m.String())
		}
	}
	byFile, _ := patch.SplitByFile(list)
	if len(byFile) > 0 {
		return byFile, "haproxy -c", nil
	}
	if len(other) == 0 {
		other = append(other, strings.TrimSpace(res.Output))
	}
	return []patch.Quarantine{{Errs: config.ErrorList{{Err: errors.New(strings.Join(other, "; "))}}}}, "haproxy -c", nil
}

// factsOf reads the facts of Ray's file as it is, for a result that runs it
// unpatched; none when it does not parse (haproxy will say why).
func factsOf(req shim.PatchRequest) config.Facts {
	f, err := config.Parse(req.Name, req.Generated)
	if err != nil {
		return config.Facts{}
	}
	return f.Facts()
}

// haproxy is the binary that judges req: the instance's own, else b's.
func (b *Builder) haproxy(req shim.PatchRequest) string {
	if req.HAProxy != "" {
		return req.HAProxy
	}
	return b.HAProxy
}

// containsSnippet reports whether o has a snippet named in names.
func containsSnippet(o *patch.Overrides, names map[string]bool) bool {
	for _, sn := range o.Snippets {
		if names[sn.Name] {
			return true
		}
	}
	return false
}

func quarantined(qs []patch.Quarantine) []state.QuarantinedSnippet {
	out := make([]state.QuarantinedSnippet, 0, len(qs))
	for _, q := range qs {
		out = append(out, state.QuarantinedSnippet{Name: q.File, Error: q.Error()})
	}
	return out
}

func oneLineErr(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// signature identifies what `haproxy -c` judged of a patched file: the
// haproxy binary (path, size and time), the snippet files applied (their
// deletes leave no line behind), and every line a snippet wrote with the
// title of its section. Ray's own lines are left out: they change at every
// reload (servers come and go) and are Ray's to get right, so a Ray reload
// that only moves servers finds its snippet lines judged already and runs
// no -c.
func signature(haproxy string, o *patch.Overrides, f *config.File) string {
	h := sha256.New()
	if st, err := os.Stat(haproxy); err == nil {
		fmt.Fprintf(h, "%s %d %d\n", haproxy, st.Size(), st.ModTime().UnixNano())
	}
	for _, sn := range o.Snippets {
		fmt.Fprintf(h, "%s %s\n", sn.Name, sn.SHA256)
	}
	// The lines are hashed through one buffer, and the header and body
	// walked apart: the shim keeps all it allocates (its garbage collector
	// is off), and a copy of every body plus one of every line written
	// came to 0.55 MB at 16384 servers.
	var buf []byte
	line := func(s *config.Section, l *config.Line, title *bool) {
		if l.Pos.File == f.Name {
			return
		}
		if !*title {
			// "[" + s.Title() + "]\n", without building the title.
			buf = append(append(buf[:0], '['), s.Kind...)
			if s.Name != "" {
				buf = append(append(buf, ' '), s.Name...)
			}
			buf = append(buf, "]\n"...)
			h.Write(buf)
			*title = true
		}
		buf = append(append(buf[:0], l.Text()...), '\n')
		h.Write(buf)
	}
	for _, s := range f.Sections {
		title := false
		line(s, s.Header, &title)
		for _, l := range s.Body {
			line(s, l, &title)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Verdicts is the file of signatures (see signature) whose patched configs
// `haproxy -c` accepted, one a line, newest last, and of snippet files
// haproxy refused at run time (see [Verdicts.Refuse]). It lives in the
// state directory and is shared by every instance: a signature names the
// haproxy binary, so one instance's verdict holds for another. Acceptance
// is only a cache: a file that cannot be read or written costs a -c, never
// a start.
type Verdicts struct {
	// Path is the file; "" remembers nothing.
	Path string
}

// maxVerdicts bounds the file: past it, the older half is dropped.
const maxVerdicts = 256

// Has reports whether sig was accepted before.
func (v Verdicts) Has(sig string) bool {
	if v.Path == "" {
		return false
	}
	data, err := os.ReadFile(v.Path)
	if err != nil {
		return false
	}
	return bytes.Contains(data, []byte(sig+"\n"))
}

// refusedPrefix starts a line of the verdicts file that names a snippet
// file haproxy did not take at run time: "refused NAME SHA256 WHY".
const refusedPrefix = "refused "

// Refuse records that haproxy did not take these snippet files, for why.
// Unlike an accepted signature it is not a cache: without it Ray's next
// start includes the file and fails the same way, so its error is returned.
func (v Verdicts) Refuse(snippets []state.Snippet, why string) error {
	var errs []error
	for _, sn := range snippets {
		errs = append(errs, v.add(refusedPrefix+sn.Name+" "+sn.SHA256+" "+strings.ReplaceAll(why, "\n", "; ")))
	}
	return errors.Join(errs...)
}

// Refused maps "NAME SHA256" of each refused snippet file to why.
func (v Verdicts) Refused() map[string]string {
	if v.Path == "" {
		return nil
	}
	data, err := os.ReadFile(v.Path)
	if err != nil || !bytes.Contains(data, []byte(refusedPrefix)) {
		return nil
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(l, refusedPrefix)
		if !ok {
			continue
		}
		if f := strings.SplitN(rest, " ", 3); len(f) == 3 {
			out[f[0]+" "+f[1]] = f[2]
		}
	}
	return out
}

// Add records sig. A write that fails is not reported: acceptance is a
// cache, and a signature not remembered costs the next start a haproxy -c.
func (v Verdicts) Add(sig string) { _ = v.add(sig) }

// add appends a line, under an exclusive lock on the file's .lock: the
// shims of several instances and the launcher write it, and the trim
// below rewrites it, which would drop a line another process appended
// between the read and the rename.
func (v Verdicts) add(line string) error {
	if v.Path == "" {
		return nil
	}
	lock, err := state.LockFile(v.Path+".lock", syscall.LOCK_EX, state.LockWait, nil)
	if err != nil {
		return err
	}
	defer lock.Close()
	if data, err := os.ReadFile(v.Path); err == nil && bytes.Count(data, []byte("\n")) >= maxVerdicts {
		// The older half of the accepted signatures goes; refusals stay,
		// they keep a start from failing.
		var refused, sigs []string
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), refusedPrefix) {
				refused = append(refused, sc.Text())
			} else {
				sigs = append(sigs, sc.Text())
			}
		}
		keep := append(refused, sigs[len(sigs)/2:]...)
		if err := state.WriteAtomic(v.Path, []byte(strings.Join(keep, "\n")+"\n"), 0o600); err != nil {
			return fmt.Errorf("trim: %w", err)
		}
	}
	f, err := os.OpenFile(v.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line + "\n")
	return errors.Join(err, f.Close())
}
