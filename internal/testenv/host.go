package testenv

import (
	"fmt"
	"net"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// HAProxy returns the haproxy on PATH. Tests that claim haproxy behaviour
// call it first: without haproxy they fail with the way to fix it, because
// a skip would let CI pass while proving nothing.
func HAProxy(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("haproxy")
	require.NoError(t, err, "these tests run the real haproxy and never skip: install it (apt-get install -y haproxy, as .ci/run does)")
	return p
}

// FreePort returns a TCP port that nothing listens on at 127.0.0.1 now.
// Another process may take it before the caller binds it; on a test machine
// that is rare enough to accept.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// PortFree returns nil when nothing listens on port at any address (it binds
// ":port", which also collides with a 127.0.0.1 listener), else the error.
func PortFree(port int) error {
	l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		return err
	}
	return l.Close()
}
