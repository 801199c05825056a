package config

// GlobalFirstWins reports whether keyword, in a global section, is one whose
// first line is the one HAProxy uses. HAProxy 2.6 to 3.2 (cfg_parse_global
// in src/cfgparse-global.c) read each of these into a setting once: a later
// line finds the setting taken, is ignored with "'KEYWORD' already
// specified. Continuing." (an alert, a warning from 3.2 on), and `haproxy
// -c` still passes. ca-base and crt-base (src/cfgparse-ssl.c) refuse a
// second line outright, so their first line is the only one too.
//
// So a second line of one of these does nothing: the patch engine refuses
// to add one (set replaces the first instead), and migrate carries the
// first of theirs, not the last. A switch, not a map: it is asked of every
// line a snippet adds.
func GlobalFirstWins(keyword string) bool {
	switch keyword {
	case "maxconn", "maxconnrate", "maxsessrate", "maxsslrate", "maxpipes",
		"fd-hard-limit", "ulimit-n", "spread-checks",
		"user", "uid", "group", "gid", "chroot", "pidfile", "cluster-secret",
		"server-state-base", "server-state-file", "log-send-hostname",
		"tune.runqueue-depth", "tune.maxpollevents", "tune.maxaccept",
		"tune.rcvbuf.client", "tune.rcvbuf.server", "tune.sndbuf.client", "tune.sndbuf.server",
		"ca-base", "crt-base":
		return true
	}
	return false
}
