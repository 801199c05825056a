package hapcheck

import (
	"fmt"
	"os"
	"os/exec"

	"github.com/serve-launch/serve-launch/internal/execpath"
	"github.com/serve-launch/serve-launch/internal/hapkw"
	"github.com/serve-launch/serve-launch/internal/patch/config"
)

// VersionExplainer explains haproxy's alert on a line a snippet wrote into
// f when the haproxy at hand (haproxy, a name or path) is older than target
// and lacks a keyword of that line that target has: the snippet is right
// for the HAProxy it is meant for, and this haproxy cannot judge it. The
// explanation replaces the alert; "" leaves the alert as it is. It asks
// `haproxy -v` once, at the first such alert.
func VersionExplainer(haproxy string, f *config.File, target hapkw.Version) func(Message) string {
	var (
		asked bool
		have  hapkw.Version
		known bool
	)
	return func(m Message) string {
		if !m.FromSnippet || m.Line == 0 {
			return ""
		}
		if !asked {
			asked = true
			have, known = localVersion(haproxy)
		}
		if !known || !have.Less(target) {
			return ""
		}
		k, ok := hapkw.Explain(f, m.Line, have, target)
		if !ok {
			return ""
		}
		who, with := fmt.Sprintf("HAProxy %s (--haproxy-version)", target), fmt.Sprintf("BIN, a haproxy %s", target)
		if target == hapkw.Ray() {
			who, with = fmt.Sprintf("Ray's %s", target), "RAY_BIN, the haproxy Ray runs"
		}
		return fmt.Sprintf("%s: this haproxy is %s; %s has %s; check with --haproxy %s (haproxy %s said: %s)",
			m.Source, have, who, k.Context.Describe(k.Name), with, have, m.Text)
	}
}

// localVersion asks the haproxy named name (looked up on PATH) its version.
func localVersion(name string) (hapkw.Version, bool) {
	bin, err := execpath.LookPath(name, os.Getenv("PATH"), nil)
	if err != nil {
		return hapkw.Version{}, false
	}
	b, err := exec.Command(bin, "-v").Output()
	if err != nil {
		return hapkw.Version{}, false
	}
	v, err := hapkw.BannerVersion(string(b))
	return v, err == nil
}
