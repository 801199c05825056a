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
// and 200 concurrent clients, `default-server maxconn 32` keeps the slow
// replica at 32 requests in flight; the rest queue in haproxy.
//
// Exactly 32 holds with one haproxy thread. With Ray's default of 4 threads
// haproxy 2.6.12 lets one more through now and then: its own `show stat`
// then reports smax 33 on a server whose slim is 32, so the extra request
// is haproxy's, a known race of server maxconn under threads (haproxy issue
// #2744, stable branches 2.4 to 3.0). That case allows maxconn + threads
// - 1 (an assumption: 33 is the most seen here, in about 7 runs of 8) and
// logs what it measured.
func TestBackpressureSlowReplica(t *testing.T) {
	for _, tc := range []struct {
		name    string
		threads int
		bound   int
	}{
		{name: "1 thread", threads: 1, bound: 32},
		{name: "Ray's 4 threads", threads: 4, bound: 32 + 4 - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := start(t, opts{apps: 1, replicas: 2, raysim: []string{"-slow-replica-delay", "200ms"},
				env: []string{"RAY_SERVE_HAPROXY_NBTHREAD=" + strconv.Itoa(tc.threads)}})
			st := r.status(t)
			require.Len(t, st.Apps[0].Replicas, 2)

			l := startLoad(t, []string{r.url("/app1")}, 200, 4*time.Second, 1<<20)
			ok, fail := l.wait()
			assert.Zero(t, fail, "failed requests: %v", l.errors())

			var report []string
			for i, rep := range st.Apps[0].Replicas {
				s := replicaStats(t, rep.Addr)
				report = append(report, fmt.Sprintf("%s: %d requests, max in flight %d", rep.Server, s.Requests, s.MaxInFlight))
				assert.LessOrEqual(t, s.MaxInFlight, tc.bound, "replica %s", rep.Server)
				if i == 0 {
					// The slow one (raysim slows app1's first replica) was
					// saturated: the limit, not a lack of load, held it.
					assert.GreaterOrEqual(t, s.MaxInFlight, 32, "the slow replica %s reached the limit", rep.Server)
				}
			}
			for name, row := range r.appServers(t) {
				report = append(report, fmt.Sprintf("haproxy %s: slim %s smax %s", name, row["slim"], row["smax"]))
			}
			t.Logf("200 clients for 4s, nbthread %d: %d requests, %d failed; %s", tc.threads, ok, fail, strings.Join(report, "; "))
		})
	}
}

// Scenario 5: a client that sends its request head slowly gets 408 after
// `timeout http-request` (1 s here, set by the test's copy of
// 20-timeouts.toml).
func TestSlowClientGets408(t *testing.T) {
	r := start(t, opts{apps: 1, replicas: 1, overrides: func(t *testing.T, dir string) {
		writeAtomic(t, filepath.Join(dir, "20-timeouts.toml"),
			"[[edit]]\nsection = \"defaults\"\nset = [\"timeout http-request 1s\", \"timeout queue 60s\"]\n")
	}})

	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(r.HTTPPort), 2*time.Second)
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
