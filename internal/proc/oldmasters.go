package proc

import (
	"os"
	"slices"
	"strconv"
	"strings"
)

// olderMasters lists the haproxy masters, other than this process and the
// PIDs Ray named after -sf/-st, that run one of files (this instance's
// patched or generated configuration): the processes a reload should stop
// besides the one Ray names.
//
// Why: Ray 2.55 counts a reload as done as soon as `show info` answers on
// the admin socket, which the old haproxy still does. When the next reload
// comes before the new haproxy has taken over, Ray's -sf stops that new
// haproxy while it is starting, before it has stopped its own predecessor;
// the predecessor then serves its stale servers until Ray stops (503s once
// those replicas are gone). Stopping every older master of the same
// configuration closes that gap; a soft stop (-sf) of a process already
// stopping changes nothing.
func olderMasters(files, named []string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	running := map[int]int{} // pid -> ppid, every haproxy running files
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self || slices.Contains(named, e.Name()) {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "haproxy" {
			continue
		}
		if !isHAProxyRunning(pid, files) {
			continue
		}
		st, err := procStat(pid)
		if err != nil || st.state == 'Z' {
			continue
		}
		running[pid] = st.ppid
	}
	var masters []int
	for pid, ppid := range running {
		// A worker's parent is its master, also in the list (or named).
		if _, ok := running[ppid]; ok || slices.Contains(named, strconv.Itoa(ppid)) {
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
