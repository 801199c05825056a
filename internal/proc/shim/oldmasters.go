//go:build linux

package shim

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/serve-launch/serve-launch/internal/proc/procfs"
)

// olderMasters lists the haproxy masters, other than this process and the
// PIDs Ray named after -sf/-st, that run one of files (this instance's
// patched or generated configuration): the processes a reload should stop
// besides the one Ray names. A process running exe (this executable, nil
// when unknown) is a shim that has not exec'd yet, not a master.
//
// Why: Ray 2.55 counts a reload as done as soon as `show info` answers on
// the admin socket, which the old haproxy still does. When the next reload
// comes before the new haproxy has taken over, Ray's -sf stops that new
// haproxy while it is starting, before it has stopped its own predecessor;
// the predecessor then serves its stale servers until Ray stops (503s once
// those replicas are gone). Stopping every older master of the same
// configuration closes that gap; a soft stop (-sf) of a process already
// stopping changes nothing.
func olderMasters(files []string, named []int, exe os.FileInfo) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	running := map[int]int{} // pid -> ppid, every haproxy running files
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self || slices.Contains(named, pid) {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "haproxy" {
			continue
		}
		// Another shim (comm is the symlink's name, haproxy) is not a
		// master yet; after a passthrough its argv names files too.
		if !procfs.Runs(pid, files) || procfs.IsExe(pid, exe) {
			continue
		}
		st, err := procfs.ReadStat(pid)
		if err != nil || st.State == 'Z' {
			continue
		}
		running[pid] = st.PPID
	}
	var masters []int
	for pid, ppid := range running {
		// A worker's parent is its master, also in the list (or named).
		if _, ok := running[ppid]; ok || slices.Contains(named, ppid) {
			continue
		}
		masters = append(masters, pid)
	}
	slices.Sort(masters)
	return masters
}

// withMorePIDs returns argv with pids added to the end of its -sf (or -st)
// list; argv without either is returned unchanged.
func withMorePIDs(argv []string, pids []int) []string {
	if len(pids) == 0 {
		return argv
	}
	i := slices.IndexFunc(argv, func(w string) bool { return w == "-sf" || w == "-st" })
	if i < 0 {
		return argv
	}
	j := i + 1
	for j < len(argv) && !strings.HasPrefix(argv[j], "-") {
		j++
	}
	out := append([]string{}, argv[:j]...)
	for _, p := range pids {
		out = append(out, strconv.Itoa(p))
	}
	return append(out, argv[j:]...)
}

// StartWait bounds how long a reload's shim waits for the haproxy it
// replaces to finish starting (see WaitStarted). The shim waits before
// taking the instance lock, so nothing waits on it meanwhile but Ray, which
// took the reload as done already.
const StartWait = 5 * time.Second

// WaitStarted waits, up to d, until none of pids is still starting (see
// stillStarting; exe is this executable, nil when unknown). It returns how
// long it waited and the PIDs still starting when it gave up.
//
// Why: Ray 2.55 takes a reload as done as soon as the admin socket answers,
// which the old haproxy does, so under quick replica changes the next
// reload's haproxy may start while the last one is still starting. Without
// -W such a haproxy exits when -x finds no socket to take over (haproxy
// 2.6's main() makes the failure fatal only outside master-worker mode);
// with the -W the shim adds, it binds its listeners afresh and renames its
// own admin socket into place, while the one still starting renames its
// socket over that path a moment later and is then stopped by the -sf: the
// path is left to a dead socket and every later reload of Ray's fails.
// Starting one haproxy at a time, each after its predecessor is up, keeps
// -x taking the listeners over and the admin socket path live, and keeps
// the shims of quick reloads in Ray's order.
func WaitStarted(pids []int, files []string, exe os.FileInfo, d time.Duration) (time.Duration, []int) {
	if len(pids) == 0 {
		return 0, nil
	}
	began := time.Now()
	for {
		var starting []int
		for _, pid := range pids {
			if stillStarting(pid, files, exe) {
				starting = append(starting, pid)
			}
		}
		waited := time.Since(began)
		if len(starting) == 0 || waited >= d {
			return waited, starting
		}
		// No event tells that a process forked or exec'd: poll /proc,
		// bounded by d, backing off from 5 to 50 ms (procfs.HasChild may scan
		// /proc on a kernel without the children file).
		time.Sleep(min(5*time.Millisecond+waited/10, 50*time.Millisecond))
	}
}

// stillStarting reports whether pid is on its way to serving one of files
// but not there yet: a shim that has not exec'd haproxy (it runs exe, this
// executable), or a master-worker haproxy (-W) that has not forked its
// worker, which a master does once every listener is bound, its admin
// socket included. A haproxy without -W never forks, and its -x failure is
// fatal: there is nothing to wait for.
func stillStarting(pid int, files []string, exe os.FileInfo) bool {
	// Mid-exec (a shim turning into haproxy) the command line reads empty
	// for a moment: wait that out rather than take it for a stranger.
	args := procfs.ExecdArgs(pid)
	if !procfs.NamesAny(args, files) {
		return false
	}
	if procfs.IsExe(pid, exe) {
		return true
	}
	// -W and its variants (-Ws), as ParseHAProxyArgs reads them.
	mw := slices.ContainsFunc(args[1:], func(a string) bool { return strings.HasPrefix(a, "-W") })
	return mw && !procfs.HasChild(pid)
}

// pidList reads the PIDs of -sf/-st, skipping anything that is not one.
func pidList(words []string) []int {
	var pids []int
	for _, w := range words {
		if pid, err := strconv.Atoi(w); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}
