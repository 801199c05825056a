// Package envmap describes the environment variables Ray Serve reads for its
// HAProxy mode, loads them from env files and the process environment, and
// checks them before Ray sees them.
//
// [Table] is the single source for help text, validation and the README.
// [Load] reads env files (the format of systemd EnvironmentFile and docker
// --env-file, parsed with go-envparse) and the process environment.
//
// Precedence, lowest first:
//  1. Ray's default;
//  2. each env file, in the order given (a later file wins over an earlier
//     one, and a later line over an earlier line of the same file);
//  3. the process environment, unless [Options.EnvFileWins] is set, in which
//     case the env files win over the process environment.
//
// A line "KEY=" (an empty value, quoted or not) means "unset KEY for Ray": Ray
// then uses its default, and [Env.ChildEnviron] removes KEY from the
// environment handed to Ray. An empty value in the process environment means
// the same, because Ray's int() would fail on it.
package envmap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/hashicorp/go-envparse"

	"github.com/serve-launch/serve-launch/internal/perm"
)

// Source is where a value came from: a line of an env file, the process
// environment (File "environment", Line 0), or Ray's default (File empty).
type Source struct {
	File string
	Line int
}

const environmentFile = "environment"

// String returns "FILE:LINE", "environment" or "default".
func (s Source) String() string {
	switch {
	case s.File == "":
		return "default"
	case s.Line == 0:
		return s.File
	default:
		return s.File + ":" + strconv.Itoa(s.Line)
	}
}

func fromEnvironment() Source { return Source{File: environmentFile} }

// Setting is the effective state of one variable of the [Table].
type Setting struct {
	Var Var
	// Value is the value Ray will read; Ray's default when Set is false.
	Value string
	// Set is false when Ray will use its default.
	Set bool
	// Unset reports a "KEY=" that removes the variable from Ray's environment.
	Unset bool
	// Source is where Value came from.
	Source Source
}

// Severity tells warnings from errors.
type Severity int

const (
	// Warning is a problem worth reading that does not stop a start.
	Warning Severity = iota
	// Error is a value Ray cannot use; serve-launch refuses to start.
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Diagnostic is one problem found by [Load].
type Diagnostic struct {
	Severity Severity
	// Name is the variable concerned.
	Name    string
	Source  Source
	Message string
}

// String returns "SOURCE: MESSAGE".
func (d Diagnostic) String() string { return d.Source.String() + ": " + d.Message }

// Errors is every error [Load] found, one per line when printed.
type Errors []Diagnostic

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, d := range e {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Options says where [Load] reads from.
type Options struct {
	// EnvFiles are read in order; a later file wins.
	EnvFiles []string
	// Environ is the process environment, as from os.Environ.
	Environ []string
	// EnvFileWins makes the env files win over Environ.
	EnvFileWins bool
	// NoFileLimit is the open-file limit haproxy will get; 0 reads this
	// process's RLIMIT_NOFILE. Tests set it to make the maxconn check
	// independent of the machine.
	NoFileLimit uint64
	// Perm checks the ownership and mode of every env file before it is
	// read, as snippets are checked: whoever can write one sets
	// RAY_SERVE_HAPROXY_BINARY_PATH, the program Ray runs. Nil means this
	// user or root, writable by the owner only, with no way around named.
	Perm *perm.Checker
	// InsecureFiles skips the Perm check (--insecure-overrides).
	InsecureFiles bool
}

// assignment is one KEY=VALUE from a file or the environment.
type assignment struct {
	key    string
	value  string
	source Source
}

// Env is the loaded and checked set of variables.
type Env struct {
	settings []Setting
	// child holds what ChildEnviron applies on top of its base: a value to
	// set, or nil to remove the key.
	child map[string]*string
	diags []Diagnostic
}

// Load reads opts.EnvFiles and opts.Environ, applies the precedence rules of
// the package documentation and checks every value. It returns the Env even
// when there are errors, so callers can show what was loaded; the error is
// then of type [Errors] and lists every problem with its FILE:LINE.
func Load(opts Options) (*Env, error) {
	e := &Env{child: map[string]*string{}}

	checker := opts.Perm
	if checker == nil {
		checker = perm.New(nil, "")
	}
	fileVals := map[string]assignment{}
	var fileOrder []string
	for _, name := range opts.EnvFiles {
		if !opts.InsecureFiles {
			if p := checker.CheckFile(name, "env file"); p != nil {
				e.diags = append(e.diags, Diagnostic{Severity: Error, Source: Source{File: p.Path}, Message: p.Msg})
				continue
			}
		}
		as, err := readEnvFile(name)
		if err != nil {
			e.diags = append(e.diags, err...)
			continue
		}
		seen := map[string]Source{}
		for _, a := range as {
			if msg := fileOnlyProblem(a); msg != "" {
				e.errorf(a.key, a.source, "%s", msg)
				continue
			}
			if prev, ok := seen[a.key]; ok {
				e.warnf(a.key, a.source, "%s is also set at %s; this later line wins", a.key, prev)
			}
			seen[a.key] = a.source
			if _, ok := fileVals[a.key]; !ok {
				fileOrder = append(fileOrder, a.key)
			}
			fileVals[a.key] = a
		}
	}

	envVals := map[string]assignment{}
	var envNames []string
	for _, kv := range opts.Environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		if _, dup := envVals[k]; !dup {
			envNames = append(envNames, k)
		}
		envVals[k] = assignment{key: k, value: v, source: fromEnvironment()}
	}
	// Ray writes these values into haproxy.cfg unquoted: a control
	// character in one would end or split the line it is written on.
	sort.Strings(envNames)
	for _, k := range envNames {
		if a := envVals[k]; rayValue(k) {
			if msg := controlProblem(a); msg != "" {
				e.errorf(k, a.source, "%s", msg)
			}
		}
	}

	// effective resolves one key by the precedence rules.
	effective := func(key string) (assignment, bool) {
		f, inFile := fileVals[key]
		v, inEnv := envVals[key]
		switch {
		case inFile && (!inEnv || opts.EnvFileWins):
			return f, true
		case inEnv:
			return v, true
		}
		return assignment{}, false
	}

	for _, key := range fileOrder {
		a, _ := effective(key)
		if a.source.File == environmentFile {
			continue // the base environment already has it
		}
		if a.value == "" {
			e.child[key] = nil
		} else {
			val := a.value
			e.child[key] = &val
		}
	}

	// Values that fail their check, reported below in input order (the
	// table's order is not the file's).
	var badValues []Diagnostic
	for _, v := range Table() {
		s := Setting{Var: v, Value: v.Default}
		if a, ok := effective(v.Name); ok {
			s.Source = a.source
			if a.value == "" {
				s.Unset = true
				e.child[v.Name] = nil
			} else {
				s.Value, s.Set = a.value, true
				if controlProblem(a) != "" {
					// Reported where it was read, as it was.
				} else if want := check(v, a.value); want != "" {
					badValues = append(badValues, Diagnostic{Error, v.Name, a.source,
						fmt.Sprintf("%s=%s: expected %s, for example %s=%s", v.Name, a.value, want, v.Name, v.Example)})
				}
			}
		}
		e.settings = append(e.settings, s)
	}

	// Unknown names are reported once, at the place that wins.
	var names []string
	for k := range fileVals {
		names = append(names, k)
	}
	for k := range envVals {
		if _, inFile := fileVals[k]; !inFile {
			names = append(names, k)
		}
	}
	// Report in the order of the input: file by file, line by line, then the
	// environment by name.
	fileIndex := map[string]int{}
	for i, f := range opts.EnvFiles {
		if _, ok := fileIndex[f]; !ok {
			fileIndex[f] = i
		}
	}
	rank := func(k string) (int, int, string) {
		a, _ := effective(k)
		if a.source.File == environmentFile {
			return len(opts.EnvFiles), 0, k
		}
		return fileIndex[a.source.File], a.source.Line, k
	}
	before := func(a, b string) bool {
		fa, la, ka := rank(a)
		fb, lb, kb := rank(b)
		if fa != fb {
			return fa < fb
		}
		if la != lb {
			return la < lb
		}
		return ka < kb
	}
	sort.SliceStable(badValues, func(i, j int) bool { return before(badValues[i].Name, badValues[j].Name) })
	e.diags = append(e.diags, badValues...)
	sort.Slice(names, func(i, j int) bool { return before(names[i], names[j]) })
	for _, k := range names {
		if msg := unknownName(k); msg != "" {
			a, _ := effective(k)
			e.warnf(k, a.source, "%s", msg)
		}
	}

	limit := opts.NoFileLimit
	if limit == 0 {
		limit = rlimitNoFile()
	}
	e.checkMachine(limit)

	if errs := e.Errors(); len(errs) > 0 {
		return e, errs
	}
	return e, nil
}

// rayValue reports whether name is a variable whose value Ray may write
// into haproxy.cfg: every RAY_SERVE_* variable, and every one of the Table.
func rayValue(name string) bool {
	if strings.HasPrefix(name, "RAY_SERVE_") {
		return true
	}
	_, ok := Lookup(name)
	return ok
}

// controlProblem says why a's value cannot be written into haproxy.cfg, or
// "": a control character (a line break, a tab, ...) in it would end the
// line Ray writes it on, or split it, and start a directive of its own.
func controlProblem(a assignment) string {
	if !rayValue(a.key) {
		return ""
	}
	for _, r := range a.value {
		if unicode.IsControl(r) {
			what := ""
			switch r {
			case '\n', '\r':
				what = ", a line break"
			case '\t':
				what = ", a tab"
			}
			return fmt.Sprintf("%s holds the control character %U%s: Ray writes RAY_SERVE_* values into haproxy.cfg unquoted, where it would start a directive of its own; remove it", a.key, r, what)
		}
	}
	return ""
}

// fileOnlyProblem says why an env file may not set a, or "". Env files are
// for Ray's settings and serve-launch's; anything else they set reaches the
// environment Ray starts in, where LD_PRELOAD or PATH run code of their
// choice. Unsetting ("KEY=") is allowed: it only takes away.
func fileOnlyProblem(a assignment) string {
	if msg := controlProblem(a); msg != "" {
		return msg
	}
	if a.value == "" || raySetting(a.key) {
		return ""
	}
	return fmt.Sprintf("%s is not a setting of Ray or serve-launch: env files are for Ray's settings (RAY_*, SERVE_*, and the accelerator lists such as CUDA_VISIBLE_DEVICES); set %s in the environment serve-launch runs in if you mean it", a.key, a.key)
}

// raySetting reports whether an env file may set name: Ray's variables
// (RAY_*), Ray Serve's and serve-launch's (SERVE_*), and the accelerator
// lists Ray reads to assign devices. The prefixes match in any case, so
// that a misspelt ray_serve_* name gets its warning with the right name.
func raySetting(name string) bool {
	upper := strings.ToUpper(name)
	if strings.HasPrefix(upper, "RAY_") || strings.HasPrefix(upper, "SERVE_") {
		return true
	}
	switch name {
	case "CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES",
		"NEURON_RT_VISIBLE_CORES", "TPU_VISIBLE_CHIPS", "ONEAPI_DEVICE_SELECTOR",
		"ASCEND_RT_VISIBLE_DEVICES":
		return true
	}
	return false
}

func (e *Env) warnf(name string, src Source, format string, args ...any) {
	e.diags = append(e.diags, Diagnostic{Warning, name, src, fmt.Sprintf(format, args...)})
}

func (e *Env) errorf(name string, src Source, format string, args ...any) {
	e.diags = append(e.diags, Diagnostic{Error, name, src, fmt.Sprintf(format, args...)})
}

// MaxEnvFileSize bounds one env file: far more than any real one, so a larger
// file is a mistake (a binary or log given as --env-file), reported at once.
const MaxEnvFileSize = 1 << 20

// MaxEnvLineSize bounds one line, below go-envparse's own limit (which
// would say only "token too long").
const MaxEnvLineSize = 32 << 10

var errTooLarge = errors.New("file too large")

// readLimited reads name, or fails with errTooLarge past limit bytes without
// reading the rest (the file may be a device or a huge log).
func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

// readEnvFile returns the assignments of one env file with their lines. Each
// line is parsed by go-envparse on its own: the format has no multi-line
// values, so this gives the same values as parsing the whole file while
// keeping the line number and the empty values go-envparse would not report
// reliably.
func readEnvFile(name string) ([]assignment, []Diagnostic) {
	data, err := readLimited(name, MaxEnvFileSize)
	if errors.Is(err, errTooLarge) {
		return nil, []Diagnostic{{Severity: Error, Source: Source{File: name}, Message: fmt.Sprintf("env file is larger than the limit of %d bytes", MaxEnvFileSize)}}
	}
	if err != nil {
		msg := err.Error()
		var pe *os.PathError
		if errors.As(err, &pe) {
			msg = "cannot read env file: " + pe.Err.Error()
		}
		return nil, []Diagnostic{{Severity: Error, Source: Source{File: name}, Message: msg}}
	}
	// A file saved by a Windows editor may start with a UTF-8 byte order
	// mark; docker --env-file skips it, and so does this, rather than
	// reading it as part of the first name ("found 'ï'").
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var out []assignment
	var diags []Diagnostic
	sc := bufio.NewScanner(bytes.NewReader(data))
	// Larger than the file limit, so no line is ever too long for the scanner.
	sc.Buffer(make([]byte, 0, 64*1024), MaxEnvFileSize+1)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		src := Source{File: name, Line: n}
		if len(line) > MaxEnvLineSize {
			diags = append(diags, Diagnostic{Severity: Error, Source: src, Message: fmt.Sprintf("line of %d bytes is longer than the limit of %d", len(line), MaxEnvLineSize)})
			continue
		}
		m, err := envparse.Parse(strings.NewReader(line))
		if err != nil {
			var pe *envparse.ParseError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			diags = append(diags, Diagnostic{Severity: Error, Source: src, Message: "not an env line: " + err.Error()})
			continue
		}
		for k, v := range m { // exactly one key
			out = append(out, assignment{key: k, value: v, source: src})
		}
		if len(m) == 0 {
			// A key with an empty value: recover its name for "KEY=".
			k := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.SplitN(trimmed, "=", 2)[0]), "export "))
			out = append(out, assignment{key: k, value: "", source: src})
		}
	}
	if err := sc.Err(); err != nil {
		diags = append(diags, Diagnostic{Severity: Error, Source: Source{File: name}, Message: "cannot read env file: " + err.Error()})
	}
	return out, diags
}

// Settings returns every variable of the [Table] with its effective value,
// in table order.
func (e *Env) Settings() []Setting { return append([]Setting(nil), e.settings...) }

// Setting returns the effective setting of the variable called name.
func (e *Env) Setting(name string) (Setting, bool) {
	for _, s := range e.settings {
		if s.Var.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

// Get returns the value Ray will use for name: the value set, else Ray's
// default. It reports false when name is not in the [Table] or when it is
// unset and Ray then omits its directive.
func (e *Env) Get(name string) (string, bool) {
	s, ok := e.Setting(name)
	if !ok || !s.Set && s.Var.Omitted {
		return "", false
	}
	return s.Value, true
}

// Diagnostics returns every warning and error, in the order found.
func (e *Env) Diagnostics() []Diagnostic { return append([]Diagnostic(nil), e.diags...) }

// Warnings returns the warnings.
func (e *Env) Warnings() []Diagnostic { return e.filter(Warning) }

// Errors returns the errors; nil when there are none.
func (e *Env) Errors() Errors { return e.filter(Error) }

func (e *Env) filter(sev Severity) []Diagnostic {
	var out []Diagnostic
	for _, d := range e.diags {
		if d.Severity == sev {
			out = append(out, d)
		}
	}
	return out
}

// ChildEnviron returns the environment to start Ray with: base with the env
// files applied by the precedence rules. base should be the environment
// given as [Options.Environ] (usually os.Environ), since values that won
// from the environment are not copied again. Keys set
// to an empty value are removed. Keys base already has keep their place;
// new keys are appended in sorted order.
func (e *Env) ChildEnviron(base []string) []string {
	out := make([]string, 0, len(base)+len(e.child))
	done := map[string]bool{}
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		v, ok := e.child[k]
		switch {
		case !ok:
			out = append(out, kv)
		case v == nil || done[k]:
			// removed, or a duplicate in base already replaced
		default:
			out = append(out, k+"="+*v)
			done[k] = true
		}
	}
	var added []string
	for k, v := range e.child {
		if v != nil && !done[k] {
			added = append(added, k+"="+*v)
		}
	}
	sort.Strings(added)
	return append(out, added...)
}
