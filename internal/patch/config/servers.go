package config

import (
	"slices"
	"strconv"
	"strings"
)

// maxTemplateSlots is the most slots a server-template may have and still
// count: a "1-3000000" range would otherwise cost a name each, on every
// haproxy start. haproxy itself takes such a range; none is a replica count.
const maxTemplateSlots = 1 << 16

// Replicas counts replicas from server lines: the distinct names of the
// non-backup servers, plus every slot of a non-backup server-template
// (PREFIX1 to PREFIXn, the names haproxy gives them). It is the one count
// behind both a snippet's .Servers and migrate's replica count.
type Replicas struct {
	names map[string]struct{}
}

// NewReplicas returns an empty count, with room for hint names (the number
// of server lines, say): growing the map costs more than sizing it.
func NewReplicas(hint int) *Replicas {
	return &Replicas{names: make(map[string]struct{}, hint)}
}

// Add counts the line l, if it is a server or server-template line. It
// returns false for a server-template of more than 65536 slots, which
// counts none.
func (r *Replicas) Add(l *Line) bool {
	w := l.Words
	switch {
	case len(w) >= 3 && w[0] == "server" && !slices.Contains(w[3:], "backup"):
		r.names[w[1]] = struct{}{}
	case len(w) >= 4 && w[0] == "server-template" && !slices.Contains(w[4:], "backup"):
		lo, hi, ok := templateRange(w[2])
		if !ok {
			return false
		}
		for i := lo; i <= hi; i++ {
			r.names[w[1]+strconv.Itoa(i)] = struct{}{}
		}
	}
	return true
}

// Len is the number of replicas counted.
func (r *Replicas) Len() int { return len(r.names) }

// ServerCount counts the replicas (see [Replicas]) of the backends and
// listens among sections.
func ServerCount(sections []*Section) int {
	hint := 0
	for _, s := range sections {
		if s.Kind == "backend" || s.Kind == "listen" {
			hint += len(s.Body)
		}
	}
	if len(sections) == 1 {
		// One section, as for a template's .Section.Servers: counted once
		// per templated line it is edited with, so its map is sized by its
		// server lines, not by every line a snippet may have added to it.
		hint = 0
		for _, l := range sections[0].Body {
			if w := l.Words; len(w) > 0 && (w[0] == "server" || w[0] == "server-template") {
				hint++
			}
		}
	}
	r := NewReplicas(hint)
	for _, s := range sections {
		if s.Kind != "backend" && s.Kind != "listen" {
			continue
		}
		for _, l := range s.Body {
			r.Add(l)
		}
	}
	return r.Len()
}

// templateRange reads server-template's "N" or "LOW-HIGH" as the slots
// LOW..HIGH (1..N); an empty range when it is no number or range. ok is
// false for more than maxTemplateSlots slots.
func templateRange(s string) (lo, hi int, ok bool) {
	if a, b, isRange := strings.Cut(s, "-"); isRange {
		lo, err1 := strconv.Atoi(a)
		hi, err2 := strconv.Atoi(b)
		switch {
		case err1 != nil || err2 != nil || lo > hi:
			return 1, 0, true
		case hi-lo >= maxTemplateSlots:
			return 1, 0, false
		}
		return lo, hi, true
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return 1, 0, true
	case n > maxTemplateSlots:
		return 1, 0, false
	}
	return 1, n, true
}
