package raycfg

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// WriteConfig writes content to path the way Ray does: take flock(LOCK_EX)
// on `<path>.lock`, then rewrite the file in place with open(path, "w")
// (truncate and write, no atomic rename), then unlock. A reader that honours
// the same lock never sees a half-written file; one that does not may.
func WriteConfig(path string, content []byte) error {
	lock, err := os.OpenFile(path+".lock", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("write config: lock %s: %w", lock.Name(), err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return fmt.Errorf("write config %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write config %s: %w", path, err)
	}
	return nil
}

// PrepareDirs does what HAProxyApi's constructor does: create the config
// and socket directories (and the state file's, if optimized) and write
// 500.http beside the config.
func PrepareDirs(s Settings) error {
	dirs := []string{filepath.Dir(s.ConfigFile), filepath.Dir(s.SocketPath)}
	if s.Optimized {
		dirs = append(dirs, filepath.Dir(s.ServerStateFile))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("prepare dirs: %w", err)
		}
	}
	if err := os.WriteFile(ErrorFilePath(s.ConfigFile), []byte(ErrorFileContent), 0o644); err != nil {
		return fmt.Errorf("prepare dirs: %w", err)
	}
	return nil
}

// stubLua stands in for master's generated ingress_request_router.lua. The
// real script calls the router's /internal/route and sets
// txn.ingress_request_router_target; this emulation only registers the
// action so haproxy accepts the config, and leaves every request to the
// static use_backend rules.
const stubLua = `-- Emulated by serve-launch's raycfg (raysim): NOT Ray's ingress request router.
core.register_action("route_via_ingress_request_router", { "http-req" }, function(txn)
end, 0)
`

// WriteLua writes the stand-in Lua script master loads when an app has an
// ingress request router.
func WriteLua(configFile string) error {
	if err := os.WriteFile(luaPath(configFile), []byte(stubLua), 0o644); err != nil {
		return fmt.Errorf("write lua: %w", err)
	}
	return nil
}
