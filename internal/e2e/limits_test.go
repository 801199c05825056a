package e2e

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scenario 4: per-replica backpressure. With one replica slowed to 200 ms
// and 200 concurrent clients, `default-server maxconn 32` keeps every
// replica at 32 requests in flight or fewer; the rest queue in haproxy.
func TestBackpressureSlowReplica(t *testing.T) {
	r := start(t, opts{apps: 1, replicas: 2, raysim: []string{"-slow-replica-delay", "200ms"}})
	st := r.status(t)
	require.Len(t, st.Apps[0].Replicas, 2)

	l := startLoad(t, []string{r.url("/app1")}, 200, 4*time.Second, 1<<20)
	ok, fail := l.wait()
	assert.Zero(t, fail, "failed requests: %v", l.errors())

	var report []string
	for i, rep := range st.Apps[0].Replicas {
		s := replicaStats(t, rep.Addr)
		report = append(report, fmt.Sprintf("%s: %d requests, max in flight %d", rep.Server, s.Requests, s.MaxInFlight))
		assert.LessOrEqual(t, s.MaxInFlight, 32, "replica %s", rep.Server)
		if i == 0 {
			// The slow one (raysim slows app1's first replica) was saturated:
			// the limit, not a lack of load, kept it at 32.
			assert.Equal(t, 32, s.MaxInFlight, "the slow replica %s reached the limit", rep.Server)
		}
	}
	t.Logf("200 clients for 4s: %d requests, %d failed; %s", ok, fail, strings.Join(report, "; "))
}

// Scenario 5: a client that sends its request head slowly gets 408 after
// `timeout http-request` (1 s here, set by the test's copy of
// 20-timeouts.toml).
func TestSlowClientGets408(t *testing.T) {
	r := start(t, opts{apps: 1, replicas: 1, overrides: func(t *testing.T, dir string) {
		writeAtomic(t, filepath.Join(dir, "20-timeouts.toml"),
			"[[edit]]\nsection = \"defaults\"\nset = [\"timeout http-request 1s\", \"timeout queue 60s\"]\n")
	}})

	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(r.httpPort), 2*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	began := time.Now()
	require.NoError(t, conn.SetDeadline(began.Add(10*time.Second)))
	_, err = fmt.Fprint(conn, "GET /app1 HTTP/1.1\r\nHost: 127.0.0.1\r\n")
	require.NoError(t, err)

	// One more header line every 300 ms, never the blank line that ends
	// the head, until haproxy answers (bounded: at most 30 lines).
	answered := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(conn).ReadString('\n')
		answered <- line
	}()
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	var status string
	for i := 0; status == "" && i < 30; i++ {
		select {
		case status = <-answered:
		case <-tick.C:
			// A write may fail once haproxy has answered and closed.
			_, _ = fmt.Fprintf(conn, "X-Slow-%d: %d\r\n", i, i)
		}
	}
	took := time.Since(began)
	t.Logf("slow client answered %q after %s", strings.TrimSpace(status), took.Round(time.Millisecond))
	assert.True(t, strings.HasPrefix(status, "HTTP/1.1 408"), "status line %q", status)
	assert.GreaterOrEqual(t, took, 900*time.Millisecond, "not before timeout http-request")
	assert.Less(t, took, 3*time.Second, "soon after timeout http-request 1s")

	// A client that sends its head at once is served.
	l := startLoad(t, []string{r.url("/app1")}, 1, 5*time.Second, 5)
	ok, fail := l.wait()
	assert.Equal(t, int64(5), ok)
	assert.Zero(t, fail, "failed requests: %v", l.errors())
}
