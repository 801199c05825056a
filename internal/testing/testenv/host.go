package testenv

import (
	"fmt"
	"math/rand/v2"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// FreePort returns a TCP port that nothing listens on at 127.0.0.1 now.
//
// It picks at random below the kernel's ephemeral range (32768-60999 by
// default) rather than asking for port 0: a port from port 0 is an
// ephemeral one, and between the moment it is released here and the moment
// haproxy binds it, any of the thousands of client connections the load
// tests make may take it as a source port ("Address already in use"). Below
// that range only another test's FreePort can collide, and at random that is
// rare.
func FreePort(t testing.TB) int {
	t.Helper()
	var err error
	for range 200 {
		port := 20000 + rand.IntN(12000)
		var l net.Listener
		if l, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			l.Close()
			return port
		}
	}
	require.NoError(t, err, "no free port below the ephemeral range")
	return 0
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
