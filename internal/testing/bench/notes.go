package bench

// notes closes BENCHMARKS.md: what profiling by hand found, and what was
// tried. It is prose kept with the generator so that a rerun does not lose
// it; its numbers come from those sessions, never from the run above, and
// it draws no conclusion about the run above.
const notes = `## Notes from profiling (not from the run above)

Numbers here were taken by hand (perf stat, pprof, GODEBUG=inittrace, /usr/bin/time, strace) in
the sessions named; the machine's speed varies several times over with the host's load (see
the load average above), so compare them with each other, not with the run above.

- **The machine.** In session 6 (issue 22) the load average was 3 to 11 on 2 cores. A static Go
  program that only execs (execfloor exec'ing true) took 7.4 ms of CPU per run in perf stat,
  against 1.0-1.4 ms on a quiet host; haproxy -c at 5 servers 49 to 130 ms. In session 7, with
  the load average under 2 (hyperfine, 200 runs each, side by side): /bin/true 1.8 ms, execfloor
  exec'ing true 7.1 ms, the shim at 5 servers exec'ing true 12.7 ms. A bare Go exec costs this
  machine 5.3 ms more than a C one, above the 2.0 ms goal by itself: the summary's execfloor rows
  measure that in every run.
- **Issue 22, page faults.** The machine is a virtual machine whose host shadows the guest's page
  tables (perf: the time of a page fault is in pvm_irq_enable), and a first touch of a 4 KiB
  page costs about 10 us: a C program touching 8 MiB of fresh memory took 20.5 ms in 4 KiB
  pages and 0.5 ms once the memory was marked MADV_HUGEPAGE. At 16384 servers the shim took
  2200 page faults, half of its 45 ms. Go's heap never asks for huge pages, so internal/hugepage
  places the two large slices (Ray's file and its lines) at a 2 MiB boundary and marks them
  (session 7, perf stat, 20 runs each, side by side): the shim at 16384 servers 46.5 to 34.2 ms
  and 2195 to 1210 page faults, its peak RSS unchanged (12.2-12.4 MB); serve-launch render
  49.4 to 35.8 ms against haproxy -c's 407 ms (hyperfine). Prefaulting with
  MADV_POPULATE_WRITE halved the cost in the C program only: the shadow page is still built
  at the first touch.
- **Issue 22, the shim's memory at 16384 servers** (peak RSS of the shim exec'ing true, steady
  state, /usr/bin/time): 22.5 MB before session 6's work, 12.5 MB after it. What went:
  the copy of Ray's file as a string (config.ParseOwned keeps the bytes the shim read: 2.0 MB),
  the rendered file (the shim writes the model out line by line through a 64 KiB buffer: 2.2 MB),
  the comment, key and error of every line as strings of their own (offsets into Raw instead:
  Line from 120 to 88 bytes, 1.1 MB), the replica count's Go map (an open-addressing set of
  indices: 850 to 400 KB), the section bodies' append growth (exact slices with 4 spare
  slots: 0.36 MB) and the words of every line as a []string (a string of offsets into Raw, 4
  bytes a word instead of 16, read by Word(i) and NumWords(); Line to 80 bytes: 16.3 to 12.5 MB,
  worst of 10). The binary's own pages are about 4.2 MB of what is left (text and rodata,
  faulted in 64 KiB at a time).
- **Issue 22, the stamp.** haproxy's master re-execs itself through argv[0] once its worker
  runs; a stamp that kept its own path there ran again inside the master and wrote its 16 bytes
  into the master's socket to its worker, which then exited 1 without a word. The stamp puts
  haproxy's path in argv[0], as the shim does.
- **Issue 22, open files.** At 16384 servers and maxconn 2000 haproxy wants 20421 descriptors
  and refuses to start under a hard limit of 20000, which an unprivileged process cannot raise
  (here even root could not: no CAP_SYS_RESOURCE).
- **Kept in earlier sessions** (shim times, 5 servers, exec'ing true, quiet host): a static
  binary (CGO_ENABLED=0; about 1 ms and 1.3 MB a start); no net/http (about 1 ms and 3 MB); the
  garbage collector off up to 48 MiB in the shim and every command but run (a sixth of a
  4096-server start); a one-pass tokenizer with words in shared chunks, lines in one slice and
  keys sliced from the line (Patch at 4096 servers 10.0 to about 4.5 ms); the record written
  without encoding/json (about 5% of a start); the state files swapped into place with
  RENAME_EXCHANGE (ext4 writes a file renamed over another back at once); a reload's shim no
  longer decoding the previous record. All together 2.93 to 2.25 ms per start in session 4.
- **Tried and dropped (no faster, measured side by side):** parsing on two goroutines; loading
  overrides.d on a goroutine beside the parse; PGO; counting servers by sorted hashes; splitting
  words only when asked for, with the larger Line of session 3; a patch server in the launcher
  (slower, and every start would depend on it); growing the goroutine stack up front; skipping
  the runtime's cgroup read through GOMAXPROCS (the launcher would have to set it in Ray's
  environment).
- **Where a 5-server shim start goes** (issue 22's instrumented build, quiet host): spawn to main
  1.48 ms (runtime and package init of the binary), loading overrides.d 0.36 (go-toml decoding),
  patch 0.10, writes 0.19, exec 0.62 (tearing the Go process down); 430 page faults against 223
  for a bare Go exec. haproxy's own start is mostly OpenSSL loading the system CA store for its
  HTTP client: haproxy -c takes 31-33 ms at 5 servers on a quiet host and about 7 ms with
  httpclient.ssl.verify none (docs/cookbook.md).
- **serve-launch's process start** (render's side at small sizes): the Prometheus client's
  package init (client_golang's default registry with its Go and process collectors, protobuf,
  procfs, expvar) cost 2.5-5 ms of every command, VictoriaMetrics/metrics' about half that, and
  Go runs every linked package's init whatever the command. So internal/metrics now writes the
  text format (0.0.4) by hand and serve-launch links no Prometheus or protobuf package (a test
  holds it; the metrics tests read a scrape with Prometheus's own parser). serve-launch --version,
  both builds side by side in one hyperfine run (-N, 5 warm-up, 50 runs, load average about 3):
  15.0 ms mean before, 12.4 ms after, 1.21 times faster (two more runs: 15.2 to 12.4, 16.4 to
  13.9); the binary went from 18.4 to 14.8 MB.
`
