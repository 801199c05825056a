package envmap

import (
	"fmt"
	"slices"
	"strings"
)

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
	// Ignored reports that the target release does not read the variable
	// (see [Var.IgnoredBy]): Value, set or not, is not in force.
	Ignored bool
}

// Env is the loaded and checked set of variables.
type Env struct {
	// release is the Ray release the settings are for.
	release  Release
	settings []Setting
	// child holds what ChildEnviron applies on top of its base: a value to
	// set, or nil to remove the key.
	child map[string]*string
	diags []Diagnostic
}

func (e *Env) warnf(name string, src Source, format string, args ...any) {
	e.diags = append(e.diags, Diagnostic{Warning, name, src, fmt.Sprintf(format, args...)})
}

func (e *Env) errorf(name string, src Source, format string, args ...any) {
	e.diags = append(e.diags, Diagnostic{Error, name, src, fmt.Sprintf(format, args...)})
}

// strictf records a warning, or with strict ([Options.Strict]) an error.
func (e *Env) strictf(strict bool, name string, src Source, format string, args ...any) {
	if strict {
		e.errorf(name, src, format, args...)
	} else {
		e.warnf(name, src, format, args...)
	}
}

// Release returns the Ray release the settings are for ([Options.Release]).
func (e *Env) Release() Release { return e.release }

// Settings returns every variable of the [Table] with its effective value,
// in table order.
func (e *Env) Settings() []Setting { return slices.Clone(e.settings) }

// Setting returns the effective setting of the variable called name.
func (e *Env) Setting(name string) (Setting, bool) {
	i := slices.IndexFunc(e.settings, func(s Setting) bool { return s.Var.Name == name })
	if i < 0 {
		return Setting{}, false
	}
	return e.settings[i], true
}

// Diagnostics returns every warning and error, in the order found.
func (e *Env) Diagnostics() []Diagnostic { return slices.Clone(e.diags) }

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
	slices.Sort(added)
	return append(out, added...)
}

// FromEnviron turns an environment list (os.Environ's KEY=VALUE form) into a
// map. A later entry for a key wins, as it does for os/exec; an entry
// without "=" is skipped.
func FromEnviron(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
