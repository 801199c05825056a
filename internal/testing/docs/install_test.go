package docs_test

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/serve-launch/serve-launch/internal/dist"
)

// These tests hold the README (a landing page: what serve-launch is, how to
// install it, a quickstart, links into docs/) and the install examples to
// what the repository really builds: the Dockerfile's wheel names to
// `make dist`'s, its Ray tag to the KubeRay example's, the README's copy of
// it to the file, and every link to a file that exists.

// maxREADME is the README's budget: a landing page, the rest in docs/.
const maxREADME = 16 << 10

const dockerfile = "docs/examples/docker/Dockerfile"

func readRepo(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, rel))
	require.NoError(t, err)
	return string(data)
}

// section returns the part of a Markdown text under the heading (a whole
// line), up to the next heading of the same or a higher level.
func section(t *testing.T, md, heading string) string {
	t.Helper()
	i := strings.Index(md, "\n"+heading+"\n")
	require.GreaterOrEqual(t, i, 0, "no heading %q", heading)
	rest := md[i+len(heading)+2:]
	level := strings.Repeat("#", strings.Index(heading, " "))
	for _, l := range regexp.MustCompile(`(?m)^#+ `).FindAllStringIndex(rest, -1) {
		if h := rest[l[0] : l[1]-1]; len(h) <= len(level) {
			return rest[:l[0]]
		}
	}
	return rest
}

// fenced returns the bodies of the ```lang blocks of md, in order.
func fenced(md, lang string) []string {
	var out []string
	for _, m := range regexp.MustCompile("(?ms)^```"+regexp.QuoteMeta(lang)+"\n(.*?)^```$").FindAllStringSubmatch(md, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestREADMELandingPage(t *testing.T) {
	readme := readRepo(t, "README.md")
	assert.LessOrEqual(t, len(readme), maxREADME, "README.md is a landing page of at most 16 KB: move the detail into docs/")

	install := section(t, readme, "## Install")
	assert.Contains(t, install, "pip install ")
	assert.Contains(t, install, "]("+dockerfile+")")

	// The README's Dockerfile is the example's instructions, line for line.
	blocks := fenced(install, "dockerfile")
	require.Len(t, blocks, 1, "the Install section shows the Dockerfile once")
	var want []string
	for _, l := range strings.Split(readRepo(t, dockerfile), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			want = append(want, l)
		}
	}
	assert.Equal(t, strings.Join(want, "\n")+"\n", blocks[0], "the README's Dockerfile differs from %s", dockerfile)

	// go install names this module's commands, both of them.
	gomod := readRepo(t, "go.mod")
	module := strings.TrimPrefix(strings.SplitN(gomod, "\n", 2)[0], "module ")
	assert.Equal(t, dist.Module, module)
	assert.Contains(t, install, "go install -tags urfave_cli_no_docs "+module+"/cmd/...@latest")

	for _, h := range []string{"## Quickstart", "## How it works", "## Documentation"} {
		section(t, readme, h)
	}
	assert.Contains(t, section(t, readme, "## Quickstart"), "serve-launch init")
}

func TestDockerfile(t *testing.T) {
	df := readRepo(t, dockerfile)
	from := regexp.MustCompile(`(?m)^FROM rayproject/ray:(\S+)$`).FindStringSubmatch(df)
	require.NotNil(t, from, "%s is not FROM rayproject/ray:TAG", dockerfile)
	tag := from[1]
	assert.Regexp(t, `^2\.55\.\d+$`, tag, "serve-launch targets Ray 2.55")

	// The wheels it copies are the ones make dist writes, for both
	// platforms, and pip installs the distribution they hold.
	glob := regexp.MustCompile(`(?m)^COPY dist/(\S+\.whl) `).FindStringSubmatch(df)
	require.NotNil(t, glob, "%s copies no wheel from dist/", dockerfile)
	for _, p := range dist.Platforms {
		w := dist.Wheel{Name: "serve-launch", Version: "1.2.3.post4+gabc1234", Platform: p.WheelTag()}
		ok, err := path.Match(glob[1], w.FileName())
		require.NoError(t, err)
		assert.True(t, ok, "%s does not match %s", glob[1], w.FileName())
	}
	assert.Contains(t, df, "--no-index --find-links /tmp/serve-launch serve-launch ")

	// The RayCluster runs this image, on the Ray it was built from, with
	// the paths the image puts the settings at.
	var rc struct {
		Spec struct {
			RayVersion    string `yaml:"rayVersion"`
			HeadGroupSpec struct {
				Template struct {
					Spec struct {
						Containers []struct {
							Image string   `yaml:"image"`
							Args  []string `yaml:"args"`
						} `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"headGroupSpec"`
		} `yaml:"spec"`
	}
	manifest := readRepo(t, "docs/examples/kuberay/raycluster.yaml")
	require.NoError(t, yaml.Unmarshal([]byte(manifest), &rc))
	assert.Equal(t, tag, rc.Spec.RayVersion)
	assert.Contains(t, manifest, "docs/examples/docker/Dockerfile")
	c := rc.Spec.HeadGroupSpec.Template.Spec.Containers
	require.NotEmpty(t, c)
	assert.True(t, strings.HasSuffix(c[0].Image, ":"+tag), "the RayCluster's image %s is not tagged %s", c[0].Image, tag)
	for _, flag := range []string{"--env-file /etc/serve/env/serve.env", "--overrides /etc/serve/overrides.d"} {
		assert.Contains(t, strings.Join(c[0].Args, " "), flag)
	}
	assert.Contains(t, df, "COPY serve/serve.env /etc/serve/env/serve.env\n")
	assert.Contains(t, df, "COPY serve/overrides.d/ /etc/serve/overrides.d/\n")
	assert.Contains(t, df, "RUN serve-launch check --env-file /etc/serve/env/serve.env --overrides /etc/serve/overrides.d\n")
}

// markdownFiles lists the repository's Markdown files, test data aside.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && p != repoRoot || d.Name() == "testdata" || d.Name() == "bin" || d.Name() == "dist") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".md") {
			out = append(out, p)
		}
		return nil
	}))
	require.NotEmpty(t, out)
	return out
}

var (
	linkRE    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	fenceRE   = regexp.MustCompile("(?ms)^```.*?^```$")
	codeRE    = regexp.MustCompile("`[^`\n]*`")
	headingRE = regexp.MustCompile(`(?m)^#+ (.*)$`)
)

// anchors returns the anchors GitHub gives md's headings: lower case,
// punctuation but "-" and "_" dropped, spaces to "-", "-N" on repeats.
func anchors(md string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, m := range headingRE.FindAllStringSubmatch(fenceRE.ReplaceAllString(md, ""), -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// TestLinks checks every relative link of every Markdown file: it names a
// file of the repository (never one outside it), and an anchor in a
// Markdown file names one of its headings.
func TestLinks(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	require.NoError(t, err)
	for _, file := range markdownFiles(t) {
		md := readRepo(t, strings.TrimPrefix(file, repoRoot+"/"))
		text := codeRE.ReplaceAllString(fenceRE.ReplaceAllString(md, ""), "")
		for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
			link := m[1]
			if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			target, anchor, _ := strings.Cut(link, "#")
			abs := file
			if target != "" {
				abs = filepath.Join(filepath.Dir(file), target)
			}
			abs, err := filepath.Abs(abs)
			require.NoError(t, err)
			if !assert.True(t, abs == root || strings.HasPrefix(abs, root+string(filepath.Separator)), "%s: %s points outside the repository", file, link) {
				continue
			}
			st, err := os.Stat(abs)
			if !assert.NoError(t, err, "%s: %s", file, link) {
				continue
			}
			if anchor != "" && !st.IsDir() && strings.HasSuffix(abs, ".md") {
				data, err := os.ReadFile(abs)
				require.NoError(t, err)
				assert.True(t, anchors(string(data))[anchor], "%s: %s: no heading gives #%s", file, link, anchor)
			}
		}
	}
}

// TestNoPathOutsideTheRepository: no Markdown file and no Go file names a
// file of the directory beside the checkout that the project was first
// written from; a user's checkout has none of them.
func TestNoPathOutsideTheRepository(t *testing.T) {
	needle := "shared" + "/" // spelt so, this file does not hold it
	require.NoError(t, filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != repoRoot {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(p, ".md") && !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			assert.NotContains(t, sc.Text(), needle, "%s:%d", p, n)
		}
		return sc.Err()
	}))
}
