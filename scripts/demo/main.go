// Command demo is `make demo`: it runs EMULATED Ray Serve (raysim, not Ray)
// under `serve-launch run` with the repository's overrides.d, sends some
// requests, and shows the overrides in force: the generated -> patched diff,
// `show stat` and `show info` from haproxy's admin socket, and
// `serve-launch status`. It stops everything it started before it exits.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/serve-launch/serve-launch/internal/admin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "demo: error: %v\n", err)
		os.Exit(1)
	}
}

func step(format string, a ...any) {
	fmt.Printf("\n==> "+format+"\n", a...)
}

func run(ctx context.Context) (err error) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		return errors.New("haproxy is not on PATH: install it first (apt-get install -y haproxy, as .ci/run does)")
	}
	repo, err := os.Getwd()
	if err != nil {
		return err
	}
	overrides := filepath.Join(repo, "overrides.d")
	if _, err := os.Stat(overrides); err != nil {
		return fmt.Errorf("run from the repository root: %v", err)
	}
	tmp, err := os.MkdirTemp("", "serve-launch-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Println("serve-launch demo. Ray is EMULATED here: raysim stands in for `serve run`; it renders")
	fmt.Println("Ray 2.55-shaped haproxy configs and starts/reloads haproxy the way Ray's HAProxyManager")
	fmt.Println("does, with emulated replicas. Nothing below is a Ray result.")

	step("building serve-launch and raysim into %s", tmp)
	bin := filepath.Join(tmp, "bin")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin+string(os.PathSeparator),
		"./cmd/serve-launch", "./cmd/serve-launch-shim", "./internal/testing/raysim/cmd/raysim")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %v", err)
	}
	launcher, raysim := filepath.Join(bin, "serve-launch"), filepath.Join(bin, "raysim")
	// Once built, the demo is bounded: it ends within a minute.
	ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()

	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	httpPort, statsPort, metricsPort := ports[0], ports[1], ports[2]
	rayDir := filepath.Join(tmp, "ray")
	cfg := filepath.Join(rayDir, "haproxy.cfg")
	sock := filepath.Join(rayDir, "admin.sock")
	state := filepath.Join(tmp, "state")
	env := append(os.Environ(),
		"RAY_SERVE_HAPROXY_MAXCONN=2000", // Ray's 20000 needs more open files than small machines allow
		"RAY_SERVE_HAPROXY_CONFIG_FILE_LOC="+cfg,
		"RAY_SERVE_HAPROXY_SOCKET_PATH="+sock,
		"RAY_SERVE_HAPROXY_SERVER_STATE_BASE="+rayDir,
		"RAY_SERVE_HAPROXY_SERVER_STATE_FILE="+filepath.Join(rayDir, "server-state"),
	)
	args := []string{"run", "--state-dir", state, "--overrides", overrides, "--grace-period", "5s", "--",
		raysim, "-apps", "2", "-replicas", "3",
		"-http-port", strconv.Itoa(httpPort), "-stats-port", strconv.Itoa(statsPort),
		"-metrics-port", strconv.Itoa(metricsPort), "-status-file", filepath.Join(tmp, "status.json")}
	step("starting emulated Ray under the launcher, with RAY_SERVE_HAPROXY_MAXCONN=2000:\n    serve-launch %s", strings.Join(args, " "))
	cmd := exec.Command(launcher, args...)
	cmd.Env = env
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		return err
	}
	pw.Close()
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	ready := make(chan string, 1)
	go func() {
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Println("    | " + line)
			if strings.HasPrefix(line, "raysim: ready") {
				select {
				case ready <- line:
				default:
				}
			}
		}
	}()
	defer func() {
		if serr := stopLauncher(cmd, exited, state); serr != nil && err == nil {
			err = serr
		}
	}()

	select {
	case <-ready:
	case <-exited:
		return errors.New("the launcher exited before raysim was ready")
	case <-time.After(30 * time.Second):
		return errors.New("raysim was not ready within 30s")
	case <-ctx.Done():
		return ctx.Err()
	}

	step("sending 60 requests to http://127.0.0.1:%d/app1 and /app2", httpPort)
	codes := map[int]int{}
	client := &http.Client{Timeout: 5 * time.Second}
	for i := 0; i < 60; i++ {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/app%d", httpPort, i%2+1))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	fmt.Printf("    status codes: %v\n", codes)

	step("what the overrides change in the config Ray generated: serve-launch diff --config %s", cfg)
	diff := exec.CommandContext(ctx, launcher, "diff", "--color", "never", "--overrides", overrides, "--config", cfg)
	diff.Stdout, diff.Stderr = os.Stdout, os.Stderr
	if err := diff.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 { // 1: the overrides changed something
			return fmt.Errorf("serve-launch diff: %v", err)
		}
	}

	step("show stat on %s (application servers: slim is the per-replica maxconn)", sock)
	actx, acancel := context.WithTimeout(ctx, 5*time.Second)
	defer acancel()
	rows, err := admin.ShowStat(actx, sock)
	if err != nil {
		return err
	}
	fmt.Printf("    %-10s %-28s %-6s %-5s %-5s %s\n", "pxname", "svname", "status", "slim", "stot", "check")
	for _, r := range rows {
		if strings.HasPrefix(r["pxname"], "http-") && r["svname"] != "BACKEND" {
			fmt.Printf("    %-10s %-28s %-6s %-5s %-5s %s\n", r["pxname"], r["svname"], r["status"], r["slim"], r["stot"], r["check_status"])
		}
	}
	info, err := admin.ShowInfo(actx, sock)
	if err != nil {
		return err
	}
	step("show info (rate limits = 512 x 6 servers, from 10-rate-limits.toml)")
	for _, k := range []string{"Pid", "Maxconn", "ConnRateLimit", "SessRateLimit"} {
		fmt.Printf("    %s: %s\n", k, info[k])
	}

	step("serve-launch status --state-dir %s", state)
	status := exec.CommandContext(ctx, launcher, "status", "--state-dir", state)
	status.Stdout, status.Stderr = os.Stdout, os.Stderr
	if err := status.Run(); err != nil {
		return fmt.Errorf("serve-launch status: %v", err)
	}

	step("stopping: SIGTERM to the launcher, which forwards it to emulated Ray")
	return nil
}

// stopLauncher sends SIGTERM, waits (bounded) for the launcher, and checks
// that no haproxy started under it is left.
func stopLauncher(cmd *exec.Cmd, exited <-chan struct{}, state string) error {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return errors.New("the launcher did not stop within 15s of SIGTERM; killed")
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		left := haproxiesUnder(state)
		if len(left) == 0 {
			fmt.Println("    stopped; no haproxy left running. Done (Ray was emulated).")
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("haproxy processes left running: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// haproxiesUnder lists live haproxy processes whose command line names dir.
func haproxiesUnder(dir string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		cl, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		st, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		zombie := strings.Contains(string(st), ") Z ")
		if strings.TrimSpace(string(comm)) == "haproxy" && strings.Contains(string(cl), dir) && !zombie {
			pids = append(pids, pid)
		}
	}
	return pids
}

// freePorts asks the kernel for n free loopback ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
