//go:build linux

// Package procfs reads what Linux's /proc says of a process: whether it is
// alive (a zombie is not), its command line once an exec has finished, its
// parent, process group and children, and whether it handles a signal.
// serve-launch tells a haproxy it started from a recycled PID by its
// command line, and a master ready for SIGUSR2 by its signal handlers.
package procfs
