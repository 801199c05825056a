package envmap

import (
	"strconv"
	"strings"
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
