package migrate

import (
	"fmt"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/patch/config"
)

// globalVars are global directives a variable writes, by key.
var globalVars = map[string]string{
	"maxconn":           "RAY_SERVE_HAPROXY_MAXCONN",
	"nbthread":          "RAY_SERVE_HAPROXY_NBTHREAD",
	"hard-stop-after":   "RAY_SERVE_HAPROXY_HARD_STOP_AFTER_S",
	"server-state-base": "RAY_SERVE_HAPROXY_SERVER_STATE_BASE",
	"server-state-file": "RAY_SERVE_HAPROXY_SERVER_STATE_FILE",
}

// defaultsVars are defaults (and proxy) directives a variable writes, by key.
var defaultsVars = map[string]string{
	"timeout connect": "RAY_SERVE_HAPROXY_TIMEOUT_CONNECT_S",
	"timeout client":  "RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S",
	"timeout server":  "RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S",
	"balance":         "RAY_SERVE_HAPROXY_BALANCE_ALGORITHM",
}

// paramVars are server parameters a variable writes on Ray's default-server.
var paramVars = map[string]string{
	"inter":     "RAY_SERVE_HAPROXY_HEALTH_CHECK_INTER",
	"fastinter": "RAY_SERVE_HAPROXY_HEALTH_CHECK_FASTINTER",
	"downinter": "RAY_SERVE_HAPROXY_HEALTH_CHECK_DOWNINTER",
	"fall":      "RAY_SERVE_HAPROXY_HEALTH_CHECK_FALL",
	"rise":      "RAY_SERVE_HAPROXY_HEALTH_CHECK_RISE",
}

// variable carries a setting through a RAY_SERVE_HAPROXY_* variable, or a
// snippet line in t when the value does not fit the variable's type.
func (m *migrator) variable(r *Row, l *config.Line, t target, name, value string, prec int) {
	v, _ := envmap.Lookup(name)
	r.Ray = describeLines(m.rayLines(t, config.Key(l.Words())))
	r.Target = t.selector()
	val, isDefault, why := fitVar(v, value)
	if why != "" {
		m.snippet(r, l, t, prec)
		r.Detail += " (" + why + ")"
		return
	}
	m.setEnv(r, name, val, isDefault, prec, l)
}

// setEnv records a variable's value from their line l; a more specific
// section of theirs wins, as in HAProxy, and so does a later line of the
// same section; a conflict between equals is reported.
func (m *migrator) setEnv(r *Row, name, val string, isDefault bool, prec int, l *config.Line) {
	from, sec := m.from(l), sectionOf(m.their, l)
	if prev, ok := m.env[name]; ok {
		if prev.value == val {
			r.How, r.Detail = prev.row.How, "same as "+posOf(prev.from)
			return
		}
		v := judge(prev.claim, prec, sec, l.Keyword())
		if v == conflicts {
			m.notCarried(r, "conflicts with %s (%s=%s): one variable for all of Ray's application backends", posOf(prev.from), name, prev.value)
			return
		}
		if !m.settle(v, prev.claim, r, l.Keyword(), from) {
			return
		}
	}
	m.env[name] = &envVal{claim: claim{prec: prec, sec: sec, row: r, from: from}, value: val}
	if isDefault {
		r.How, r.Detail = ByDefault, fmt.Sprintf("already the default (%s=%s)", name, val)
		return
	}
	r.How, r.Detail = ByVariable, name+"="+val
}

// fitVar converts their value to the variable's type and says whether it is
// Ray's default; why is set when it does not fit the variable, by the rules
// `serve-launch run` checks the env file with.
func fitVar(v envmap.Var, value string) (val string, isDefault bool, why string) {
	val = value
	if v.Kind == envmap.KindSeconds {
		sec, ok := wholeSeconds(value)
		if !ok {
			return "", false, fmt.Sprintf("%s takes whole seconds", v.Name)
		}
		val = sec
	}
	if want := v.Check(val); want != "" {
		return "", false, fmt.Sprintf("%s takes %s", v.Name, want)
	}
	if v.Omitted {
		return val, false, ""
	}
	if v.Kind == envmap.KindTime {
		return val, sameTime(val, v.Default), ""
	}
	return val, val == v.Default, ""
}
