package envmap

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/serve-launch/serve-launch/internal/perm"
)

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
	// Release is the Ray release the settings are for: its defaults, and
	// which variables it reads. The zero value is [DefaultRelease].
	Release Release
	// Strict makes errors of what is otherwise a warning about the env
	// file itself: an unknown or misspelt name, and a setting the release
	// ignores. A CI check of an env file wants those to fail; what only
	// the machine decides (the open-file limit) stays a warning.
	Strict bool
	// FileLimitIsError makes a maxconn the open-file limit cannot hold an
	// error: `run` starts haproxy, which would fail at every start.
	FileLimitIsError bool
}

// Load reads opts.EnvFiles and opts.Environ, applies the precedence rules of
// the package documentation and checks every value. It returns the Env even
// when there are errors, so callers can show what was loaded; the error is
// then of type [Errors] and lists every problem with its FILE:LINE.
func Load(opts Options) (*Env, error) {
	e := &Env{child: map[string]*string{}, release: releaseOrDefault(opts.Release)}

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
	for k, v := range FromEnviron(opts.Environ) {
		if k != "" {
			envVals[k] = assignment{key: k, value: v, source: fromEnvironment()}
		}
	}
	// Ray writes these values into haproxy.cfg unquoted: a control
	// character in one would end or split the line it is written on.
	for _, k := range slices.Sorted(maps.Keys(envVals)) {
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
		s := Setting{Var: v, Value: v.DefaultIn(e.release), Ignored: v.IgnoredBy(e.release)}
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
	names := slices.Collect(maps.Keys(fileVals))
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
	rank := func(k string) (int, int) {
		a, _ := effective(k)
		if a.source.File == environmentFile {
			return len(opts.EnvFiles), 0
		}
		return fileIndex[a.source.File], a.source.Line
	}
	inputOrder := func(a, b string) int {
		fa, la := rank(a)
		fb, lb := rank(b)
		return cmp.Or(cmp.Compare(fa, fb), cmp.Compare(la, lb), strings.Compare(a, b))
	}
	slices.SortStableFunc(badValues, func(a, b Diagnostic) int { return inputOrder(a.Name, b.Name) })
	e.diags = append(e.diags, badValues...)
	slices.SortFunc(names, inputOrder)
	for _, k := range names {
		a, _ := effective(k)
		if msg := unknownName(k); msg != "" {
			e.strictf(opts.Strict, k, a.source, "%s", msg)
		} else if msg := e.ignoredFamily(k, a.value); msg != "" {
			e.strictf(opts.Strict, k, a.source, "%s", msg)
		}
	}

	limit := opts.NoFileLimit
	if limit == 0 {
		limit = rlimitNoFile()
	}
	e.checkMachine(limit, opts)

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
