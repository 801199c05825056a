package config

import (
	"hash/maphash"
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
	// A set of names: open addressing over slots holding 1 + an index
	// into names, 0 for empty. A Go map of 16384 strings took 850 KB,
	// which the shim, with the garbage collector off, keeps to its exit;
	// this takes 400 KB and counts as fast.
	names []string
	slots []uint32
	seed  maphash.Seed
}

// NewReplicas returns an empty count, with room for hint names (the number
// of server lines, say): growing the set costs more than sizing it.
func NewReplicas(hint int) *Replicas {
	r := &Replicas{seed: maphash.MakeSeed(), names: make([]string, 0, hint)}
	r.slots = make([]uint32, slotsFor(hint))
	return r
}

// slotsFor is the table size for n names: a power of two at least twice n,
// so probes stay short.
func slotsFor(n int) int {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return size
}

// add puts name into the set.
func (r *Replicas) add(name string) {
	if 2*(len(r.names)+1) > len(r.slots) {
		old := r.names
		r.names = make([]string, 0, 2*len(old)+1)
		r.slots = make([]uint32, slotsFor(2*len(old)+1))
		for _, n := range old {
			r.add(n)
		}
	}
	mask := uint64(len(r.slots) - 1)
	for i := maphash.String(r.seed, name) & mask; ; i = (i + 1) & mask {
		switch k := r.slots[i]; {
		case k == 0:
			r.names = append(r.names, name)
			r.slots[i] = uint32(len(r.names))
			return
		case r.names[k-1] == name:
			return
		}
	}
}

// Add counts the line l, if it is a server or server-template line. It
// returns false for a server-template of more than 65536 slots, which
// counts none.
func (r *Replicas) Add(l *Line) bool {
	n := l.NumWords()
	switch kw := l.Keyword(); {
	case n >= 3 && kw == "server" && !hasWordFrom(l, 3, "backup"):
		r.add(l.Word(1))
	case n >= 4 && kw == "server-template" && !hasWordFrom(l, 4, "backup"):
		lo, hi, ok := templateRange(l.Word(2))
		if !ok {
			return false
		}
		prefix := l.Word(1)
		for i := lo; i <= hi; i++ {
			r.add(prefix + strconv.Itoa(i))
		}
	}
	return true
}

// hasWordFrom reports whether w is among l's words from the i-th on.
func hasWordFrom(l *Line, i int, w string) bool {
	for ; i < l.NumWords(); i++ {
		if l.Word(i) == w {
			return true
		}
	}
	return false
}

// Len is the number of replicas counted.
func (r *Replicas) Len() int { return len(r.names) }

// ServerCount counts the replicas (see [Replicas]) of the backends and
// listens among sections.
func ServerCount(sections []*Section) int {
	// The map is sized by the server lines, counted first: growing it
	// cost about a tenth of a 4096-server render, and sizing it by every
	// line of the backends made it half as large again as it needs, which
	// the shim, with the garbage collector off, keeps to its exit.
	hint := 0
	for _, s := range sections {
		if s.Kind != "backend" && s.Kind != "listen" {
			continue
		}
		for _, l := range s.Body {
			if kw := l.Keyword(); kw == "server" || kw == "server-template" {
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
