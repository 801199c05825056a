//go:build linux

// Package hotreload puts a change of the overrides directory into every
// running haproxy without a restart.
//
// [Watch] notices changes to the directory; [ReloadAll] re-patches the
// latest generated file of every live instance with the caller's
// [shim.Patcher], which checks new snippet lines with `haproxy -c`; saves
// `show servers state` to the configured server-state file; replaces
// patched.cfg; and, once the master handles SIGUSR2, sends it, then waits,
// bounded, for the new worker. A hot reload is all or nothing: when a
// snippet file fails, nothing changes and the refusal is recorded. Each
// reload also drains the stdout and stderr pipes Ray gave haproxy and never
// reads (into shim.log): a SIGUSR2 reload prints about 440 bytes there, and
// a full pipe would block haproxy. Reloads of one instance are serialised
// by its lock, which the shim also takes.
package hotreload
