package dist

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testWheel() *Wheel {
	return &Wheel{
		Name: "serve-launch", Version: "1.2.3.post5+gabc1234", Platform: Platforms[0].WheelTag(),
		Summary: "one line", Description: "# Title\n\nbody\n", URL: "https://" + Module,
		Scripts: []File{{Name: "serve-launch", Data: []byte("\x7fELF one"), Mode: 0o755}, {Name: "serve-launch-shim", Data: []byte("\x7fELF two"), Mode: 0o755}},
		ModTime: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
	}
}

func TestWheelFileName(t *testing.T) {
	w := testWheel()
	assert.Equal(t, "serve_launch-1.2.3.post5+gabc1234-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", w.FileName())
	w.Platform = Platforms[1].WheelTag()
	assert.Equal(t, "serve_launch-1.2.3.post5+gabc1234-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", w.FileName())
	w.Name = "Serve.Launch__x"
	assert.Equal(t, "serve_launch_x", w.escapedName())
}

// TestWheelContents reads a wheel back as an installer would: the files
// are where PEP 427 and 491 put them, RECORD's digests and sizes match,
// and the programs keep their executable bits.
func TestWheelContents(t *testing.T) {
	w := testWheel()
	var buf bytes.Buffer
	require.NoError(t, w.Write(&buf))
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)

	files := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		data, err := io.ReadAll(rc)
		require.NoError(t, err)
		files[f.Name] = data
		names = append(names, f.Name)
		assert.True(t, f.Modified.Equal(w.ModTime), "%s: %v", f.Name, f.Modified)
		want := os.FileMode(0o644)
		if strings.Contains(f.Name, ".data/scripts/") {
			want = 0o755
		}
		assert.Equal(t, want, f.Mode().Perm(), f.Name)
		assert.True(t, f.Mode().IsRegular(), f.Name)
	}
	const info = "serve_launch-1.2.3.post5+gabc1234.dist-info/"
	const data = "serve_launch-1.2.3.post5+gabc1234.data/scripts/"
	assert.Equal(t, []string{data + "serve-launch", data + "serve-launch-shim", info + "METADATA", info + "WHEEL", info + "RECORD"}, names)
	assert.Equal(t, "\x7fELF one", string(files[data+"serve-launch"]))

	assert.Equal(t, "Wheel-Version: 1.0\nGenerator: serve-launch internal/dist\nRoot-Is-Purelib: false\n"+
		"Tag: py3-none-manylinux_2_17_x86_64\nTag: py3-none-manylinux2014_x86_64\n", string(files[info+"WHEEL"]))
	assert.Equal(t, "Metadata-Version: 2.1\nName: serve-launch\nVersion: 1.2.3.post5+gabc1234\nSummary: one line\n"+
		"Home-page: https://github.com/serve-launch/serve-launch\nProject-URL: Source, https://github.com/serve-launch/serve-launch\n"+
		"Description-Content-Type: text/markdown\n\n# Title\n\nbody\n", string(files[info+"METADATA"]))

	rows, err := csv.NewReader(bytes.NewReader(files[info+"RECORD"])).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, len(names))
	for _, r := range rows {
		if r[0] == info+"RECORD" {
			assert.Equal(t, []string{r[0], "", ""}, r)
			continue
		}
		content, ok := files[r[0]]
		require.True(t, ok, "RECORD names %s, which the wheel lacks", r[0])
		sum := sha256.Sum256(content)
		assert.Equal(t, "sha256="+base64.RawURLEncoding.EncodeToString(sum[:]), r[1], r[0])
		assert.Equal(t, strconv.Itoa(len(content)), r[2], r[0])
	}

	// The same inputs, the same bytes.
	var again bytes.Buffer
	require.NoError(t, w.Write(&again))
	assert.Equal(t, buf.Bytes(), again.Bytes())
}

func TestWheelNeedsNameVersionPlatform(t *testing.T) {
	w := testWheel()
	w.Version = ""
	require.EqualError(t, w.Write(io.Discard), "wheel: name, version and platform are required")
}

func TestTarGz(t *testing.T) {
	mtime := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	require.NoError(t, writeTarGz(&buf, "top", testWheel().Scripts, mtime))
	gz, err := gzip.NewReader(&buf)
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		assert.True(t, h.ModTime.Equal(mtime))
		assert.Zero(t, h.Uid)
		got = append(got, h.Name+" "+strconv.FormatInt(h.Mode, 8))
	}
	assert.Equal(t, []string{"top/ 755", "top/serve-launch 755", "top/serve-launch-shim 755"}, got)
}

func TestSums(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "d"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.whl"), []byte("b"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "d", "a"), []byte("a"), 0o644))
	path, err := writeSums(dir, []string{"d/a", "b.whl"})
	require.NoError(t, err)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d  b.whl\n"+
		"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb  d/a\n", string(got))
}

func TestPlatformOf(t *testing.T) {
	p, err := PlatformOf("arm64")
	require.NoError(t, err)
	assert.Equal(t, "aarch64", p.Machine)
	_, err = PlatformOf("riscv64")
	require.EqualError(t, err, `no release platform for GOARCH "riscv64" (there are amd64 and arm64)`)
}

func TestEmptyDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, emptyDir(dir))
	require.NoError(t, emptyDir(dir))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "old.whl"), nil, 0o644))
	require.EqualError(t, emptyDir(dir), dir+" is not empty: remove it first (make dist does)")
}
