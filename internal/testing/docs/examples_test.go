package docs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
)

// These tests check what can be checked here of the deployment examples:
// the snippets and error pages in the KubeRay ConfigMap really patch Ray's
// config into one haproxy -c accepts, the env files load without errors, and
// the manifests and the systemd unit say what docs/multi-node.md says they
// say. KubeRay, Kubernetes and systemd themselves are not run.

type configMap struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
}

func readConfigMaps(t *testing.T) map[string]configMap {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "docs/examples/kuberay/configmap.yaml"))
	require.NoError(t, err)
	defer f.Close()
	out := map[string]configMap{}
	dec := yaml.NewDecoder(f)
	for {
		var cm configMap
		if err := dec.Decode(&cm); err != nil {
			require.ErrorContains(t, err, "EOF")
			break
		}
		require.Equal(t, "ConfigMap", cm.Kind)
		out[cm.Metadata.Name] = cm
	}
	return out
}

// loadEnvFile loads an example env file the way serve-launch run does, with
// a file limit high enough for the user story's maxconn (the unit and the
// manifest raise it to 300000).
func loadEnvFile(t *testing.T, path string) {
	t.Helper()
	env, err := envmap.Load(envmap.Options{EnvFiles: []string{path}, NoFileLimit: 300000})
	require.NoError(t, err, "%s", path)
	assert.Empty(t, env.Warnings(), "%s", path)
}

func TestKubeRayConfigMap(t *testing.T) {
	haproxy := haproxyBinary(t)
	cms := readConfigMaps(t)
	overrides, ok := cms["serve-launch-overrides"]
	require.True(t, ok, "configmap.yaml lacks serve-launch-overrides")
	errorsCM, ok := cms["serve-launch-errors"]
	require.True(t, ok, "configmap.yaml lacks serve-launch-errors")
	envCM, ok := cms["serve-launch-env"]
	require.True(t, ok, "configmap.yaml lacks serve-launch-env")

	rc := renderRay(t)
	// The error pages come from the ConfigMap, as kubelet would write them.
	errDir := filepath.Join(rc.dir, "cm-errors")
	require.NoError(t, os.Mkdir(errDir, 0o755))
	for name, body := range errorsCM.Data {
		require.NoError(t, os.WriteFile(filepath.Join(errDir, name), []byte(body), 0o644))
	}
	rc.env["SERVE_ERRORS_DIR"] = errDir

	var names []string
	for name := range overrides.Data {
		names = append(names, name)
	}
	sort.Strings(names) // serve-launch's order
	var snippets []*snippet.Snippet
	for _, name := range names {
		require.True(t, strings.HasSuffix(name, ".toml"), "%s: only *.toml snippets belong in the overrides ConfigMap", name)
		s, err := snippet.Load(name, []byte(overrides.Data[name]))
		require.NoError(t, err)
		snippets = append(snippets, s)
	}
	cfg := applyAndCheck(t, haproxy, rc, snippets...)
	assert.Equal(t, 1, count(cfg, "errorfile 503 "+filepath.Join(errDir, "503.http")))
	assert.Equal(t, 1, count(cfg, "maxconnrate 2560"))
	assert.Equal(t, 1, countPrefix(cfg, "stats socket "))

	envFile := filepath.Join(t.TempDir(), "serve.env")
	require.NoError(t, os.WriteFile(envFile, []byte(envCM.Data["serve.env"]), 0o644))
	loadEnvFile(t, envFile)
}

func TestExampleEnvFile(t *testing.T) {
	loadEnvFile(t, filepath.Join(repoRoot, "docs/examples/serve.env"))
}

// graceRE finds serve-launch's --grace-period in a command line.
var graceRE = regexp.MustCompile(`--grace-period[= ](\S+)`)

func gracePeriod(t *testing.T, cmd string) time.Duration {
	t.Helper()
	m := graceRE.FindStringSubmatch(cmd)
	require.NotNil(t, m, "no --grace-period in %q", cmd)
	d, err := time.ParseDuration(m[1])
	require.NoError(t, err)
	return d
}

func TestKubeRayRayCluster(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "docs/examples/kuberay/raycluster.yaml"))
	require.NoError(t, err)
	type container struct {
		Name         string   `yaml:"name"`
		Command      []string `yaml:"command"`
		Args         []string `yaml:"args"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
			SubPath   string `yaml:"subPath"`
		} `yaml:"volumeMounts"`
	}
	type podSpec struct {
		TerminationGracePeriodSeconds int         `yaml:"terminationGracePeriodSeconds"`
		Containers                    []container `yaml:"containers"`
		Volumes                       []struct {
			Name      string `yaml:"name"`
			ConfigMap *struct {
				Name        string `yaml:"name"`
				DefaultMode *int   `yaml:"defaultMode"`
			} `yaml:"configMap"`
		} `yaml:"volumes"`
	}
	type template struct {
		Spec podSpec `yaml:"spec"`
	}
	var rc struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"metadata"`
		Spec struct {
			HeadGroupSpec struct {
				Template template `yaml:"template"`
			} `yaml:"headGroupSpec"`
			WorkerGroupSpecs []struct {
				Template template `yaml:"template"`
			} `yaml:"workerGroupSpecs"`
		} `yaml:"spec"`
	}
	require.NoError(t, yaml.Unmarshal(data, &rc))
	require.Equal(t, "RayCluster", rc.Kind)
	// Without it KubeRay replaces the container command with its own.
	assert.Equal(t, "true", rc.Metadata.Annotations["ray.io/overwrite-container-cmd"])

	cms := readConfigMaps(t)
	pods := map[string]podSpec{"head": rc.Spec.HeadGroupSpec.Template.Spec}
	require.NotEmpty(t, rc.Spec.WorkerGroupSpecs)
	for i, w := range rc.Spec.WorkerGroupSpecs {
		pods[fmt.Sprintf("worker%d", i)] = w.Template.Spec
	}
	for name, pod := range pods {
		t.Run(name, func(t *testing.T) {
			require.Len(t, pod.Containers, 1)
			c := pod.Containers[0]
			cmd := strings.Join(append(c.Command, c.Args...), " ")
			assert.Contains(t, cmd, "exec serve-launch run ")
			assert.Contains(t, cmd, `"$KUBERAY_GEN_RAY_START_CMD"`)
			assert.Contains(t, cmd, "--overrides /etc/serve/overrides.d")
			grace := gracePeriod(t, cmd)
			assert.Greater(t, time.Duration(pod.TerminationGracePeriodSeconds)*time.Second, grace,
				"kubelet's SIGKILL must come after serve-launch's --grace-period")
			volumes := map[string]string{}
			for _, v := range pod.Volumes {
				require.NotNil(t, v.ConfigMap, "volume %s", v.Name)
				_, ok := cms[v.ConfigMap.Name]
				assert.True(t, ok, "volume %s names ConfigMap %s, which configmap.yaml lacks", v.Name, v.ConfigMap.Name)
				if v.ConfigMap.DefaultMode != nil {
					assert.Zero(t, *v.ConfigMap.DefaultMode&0o022, "volume %s: group/other-writable files are refused", v.Name)
				}
				volumes[v.Name] = v.ConfigMap.Name
			}
			mounts := map[string]string{}
			for _, m := range c.VolumeMounts {
				assert.Empty(t, m.SubPath, "%s: a subPath mount never sees ConfigMap updates", m.MountPath)
				mounts[m.MountPath] = volumes[m.Name]
			}
			assert.Equal(t, "serve-launch-overrides", mounts["/etc/serve/overrides.d"])
			assert.Equal(t, "serve-launch-errors", mounts["/etc/serve/errors"])
			assert.Equal(t, "serve-launch-env", mounts["/etc/serve/env"])
		})
	}
}

// unitValues parses the [Service] keys of a systemd unit, joining
// backslash-continued lines.
func unitValues(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	out := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "[") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		require.True(t, ok, "%s: %q", path, l)
		out[k] = strings.Join(strings.Fields(v), " ")
	}
	return out
}

func TestSystemdUnit(t *testing.T) {
	u := unitValues(t, filepath.Join(repoRoot, "docs/examples/systemd/serve-launch.service"))
	assert.Contains(t, u["ExecStart"], "serve-launch run --env-file /etc/serve/serve.env --overrides /etc/serve/overrides.d")
	assert.Contains(t, u["ExecStart"], "-- /opt/ray/bin/ray start --block $RAY_START_ARGS")
	assert.Equal(t, "/bin/kill -HUP $MAINPID", u["ExecReload"], "SIGHUP reloads the overrides")
	assert.Equal(t, "mixed", u["KillMode"])
	stop, err := time.ParseDuration(u["TimeoutStopSec"])
	require.NoError(t, err)
	assert.Greater(t, stop, gracePeriod(t, u["ExecStart"]), "systemd's SIGKILL must come after serve-launch's --grace-period")

	nodeEnv, err := os.ReadFile(filepath.Join(repoRoot, "docs/examples/systemd/node.env"))
	require.NoError(t, err)
	assert.Contains(t, string(nodeEnv), "\nRAY_START_ARGS=--head")
}
