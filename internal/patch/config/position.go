package config

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Position is a place in an input file. Line and Col are 1-based; zero means
// unknown.
type Position struct {
	File string
	Line int
	Col  int
}

// String formats the position as file:line:col, leaving out what is unknown.
func (p Position) String() string {
	s := p.File
	if p.Line > 0 {
		if s != "" {
			s += ":"
		}
		s += strconv.Itoa(p.Line)
		if p.Col > 0 {
			s += ":" + strconv.Itoa(p.Col)
		}
	}
	if s == "" {
		s = "-"
	}
	return s
}

// Error is an error at a position in an input file.
type Error struct {
	Pos Position
	Err error
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error at pos.
func Errorf(pos Position, format string, args ...any) *Error {
	return &Error{Pos: pos, Err: fmt.Errorf(format, args...)}
}

// ErrorList collects every error of a run, so that one run reports all bad
// lines rather than the first.
type ErrorList []*Error

// Add appends an error at pos.
func (l *ErrorList) Add(pos Position, format string, args ...any) {
	*l = append(*l, Errorf(pos, format, args...))
}

// Sort orders the list by file, line and column; ties keep their order.
func (l ErrorList) Sort() {
	slices.SortStableFunc(l, func(x, y *Error) int {
		a, b := x.Pos, y.Pos
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
}

// Err returns the list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}
