// Command execfloor execs its arguments at once: argv[1] with argv[1:].
//
// `make bench` starts haproxy through it beside the shim and haproxy started
// directly, so BENCHMARKS.md shows the least any Go program standing in for
// haproxy costs a start (the Go runtime's start and the exec), apart from
// what the shim does. It imports nothing but os and syscall, and is built
// static like serve-launch.
package main

import (
	"os"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		os.Stderr.WriteString("usage: execfloor PROGRAM [ARG...]\n")
		os.Exit(2)
	}
	err := syscall.Exec(os.Args[1], os.Args[1:], os.Environ())
	os.Stderr.WriteString("execfloor: exec " + os.Args[1] + ": " + err.Error() + "\n")
	os.Exit(1)
}
