// Package testenv is the harness the repository's tests share for running
// real processes on 127.0.0.1: building serve-launch and raysim once per
// test binary, starting `serve-launch run -- raysim ...` in a test's temp
// dir and stopping everything it started, collecting a child's output lines
// to wait on, bounded polling, free ports, and the real haproxy: $HAPROXY
// when set (make test HAPROXY=...), else PATH's, found by [HAProxy] alone
// (missing haproxy fails a test, it never skips one).
//
// Only _test.go files import it. It imports nothing from this module, so
// the in-package tests of any package here (admin, proc, raysim) can use it
// without an import cycle.
package testenv
