package main

// This file owns everything serve-launch prints about itself. The rules:
//   - results (rendered configs, diffs, tables) go to stdout, unadorned;
//   - messages go to stderr and start "serve-launch: error: ", "serve-launch: warning: "
//     or "serve-launch: hint: "; the launcher's progress lines start "serve-launch: ";
//   - messages are lower case, carry a file:line where there is one, and end
//     without a period;
//   - the exit status travels as an error with an ExitCode method, and only run()
//     turns it into a number.

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// output writes results and messages for one run of the CLI.
type output struct {
	stdout io.Writer
	stderr io.Writer
}

func newOutput(stdout, stderr io.Writer) *output {
	return &output{stdout: stdout, stderr: stderr}
}

func (o *output) message(kind, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, line := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		fmt.Fprintf(o.stderr, "serve-launch: %s: %s\n", kind, line)
	}
}

// errorf prints an error message.
func (o *output) errorf(format string, args ...any) { o.message("error", format, args...) }

// warnf prints a warning.
func (o *output) warnf(format string, args ...any) { o.message("warning", format, args...) }

// hintf prints a hint, usually after an error.
func (o *output) hintf(format string, args ...any) { o.message("hint", format, args...) }

// infof prints a progress line of the launcher.
func (o *output) infof(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, line := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		fmt.Fprintf(o.stderr, "serve-launch: %s\n", line)
	}
}

// exitCoder is an error that carries the process exit status.
type exitCoder interface {
	error
	ExitCode() int
}

// exitError is an error with an explicit exit status. A nil err means the
// message was already printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }
func (e *exitError) ExitCode() int { return e.code }

// exitWith returns an error that makes run() exit with code, printing err if it
// is not nil.
func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

// exit prints err (unless it was already printed) and returns the exit status.
func (o *output) exit(err error) int {
	code := 1
	var ec exitCoder
	if errors.As(err, &ec) {
		code = ec.ExitCode()
		var ee *exitError
		if errors.As(err, &ee) && ee.err == nil {
			return code
		}
	}
	o.errorf("%s", err)
	return code
}
