package dist

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// Wheel is a binary wheel (PEP 427, with PEP 491's .data directory) whose
// only payload is programs: each goes in NAME-VERSION.data/scripts/, which
// an installer puts in the environment's bin/ (a virtualenv's, so the
// programs are on PATH once it is active). No Python module is installed.
type Wheel struct {
	// Name is the distribution name (serve-launch).
	Name string
	// Version is a PEP 440 version (see [PEP440]).
	Version string
	// Platform is the platform tag, possibly compressed (see [Platform.WheelTag]).
	Platform string
	// Summary is the one-line description; Description is the long one,
	// Markdown (the README).
	Summary, Description string
	// URL is the project's home page.
	URL string
	// Scripts are the programs, in the order they are written.
	Scripts []File
	// ModTime is every member's time, so that the same inputs give the
	// same bytes.
	ModTime time.Time
}

// File is a named file of an archive.
type File struct {
	Name string
	Data []byte
	// Mode is its permission bits (0755 for a program).
	Mode uint32
}

// nameRunRE is what a distribution name's escaping replaces (PEP 427,
// as amended by the binary distribution format spec): runs of -, _ and .
var nameRunRE = regexp.MustCompile(`[-_.]+`)

// escapedName is Name as it appears in file and directory names.
func (w *Wheel) escapedName() string {
	return strings.ToLower(nameRunRE.ReplaceAllString(w.Name, "_"))
}

// Tag is the wheel's tag: any Python 3 (the payload is no Python), no ABI,
// the platform.
func (w *Wheel) Tag() string { return "py3-none-" + w.Platform }

// FileName is NAME-VERSION-py3-none-PLATFORM.whl.
func (w *Wheel) FileName() string {
	return w.escapedName() + "-" + w.Version + "-" + w.Tag() + ".whl"
}

func (w *Wheel) distInfo() string { return w.escapedName() + "-" + w.Version + ".dist-info" }
func (w *Wheel) dataDir() string  { return w.escapedName() + "-" + w.Version + ".data" }

// metadata is the core metadata (version 2.1): the long description is
// the body, after a blank line.
func (w *Wheel) metadata() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Metadata-Version: 2.1\nName: %s\nVersion: %s\n", w.Name, w.Version)
	if w.Summary != "" {
		fmt.Fprintf(&b, "Summary: %s\n", w.Summary)
	}
	if w.URL != "" {
		fmt.Fprintf(&b, "Home-page: %s\nProject-URL: Source, %s\n", w.URL, w.URL)
	}
	if w.Description != "" {
		fmt.Fprintf(&b, "Description-Content-Type: text/markdown\n\n%s", w.Description)
	}
	return b.Bytes()
}

// wheelFile is the WHEEL file: format version, and one Tag line per tag
// the compressed platform tag expands to.
func (w *Wheel) wheelFile() []byte {
	var b bytes.Buffer
	b.WriteString("Wheel-Version: 1.0\nGenerator: serve-launch internal/dist\nRoot-Is-Purelib: false\n")
	for _, p := range strings.Split(w.Platform, ".") {
		fmt.Fprintf(&b, "Tag: py3-none-%s\n", p)
	}
	return b.Bytes()
}

// Write writes the wheel: the scripts, then the .dist-info directory with
// RECORD last, as installers expect to find it.
func (w *Wheel) Write(out io.Writer) error {
	if w.Name == "" || w.Version == "" || w.Platform == "" {
		return fmt.Errorf("wheel: name, version and platform are required")
	}
	files := make([]File, 0, len(w.Scripts)+3)
	for _, s := range w.Scripts {
		files = append(files, File{Name: w.dataDir() + "/scripts/" + s.Name, Data: s.Data, Mode: s.Mode})
	}
	files = append(files,
		File{Name: w.distInfo() + "/METADATA", Data: w.metadata(), Mode: 0o644},
		File{Name: w.distInfo() + "/WHEEL", Data: w.wheelFile(), Mode: 0o644})

	// RECORD: every file with its digest (sha256, urlsafe base64 without
	// padding) and size; RECORD itself with neither.
	var record bytes.Buffer
	cw := csv.NewWriter(&record)
	for _, f := range files {
		sum := sha256.Sum256(f.Data)
		if err := cw.Write([]string{f.Name, "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:]), fmt.Sprint(len(f.Data))}); err != nil {
			return err
		}
	}
	recordName := w.distInfo() + "/RECORD"
	if err := cw.Write([]string{recordName, "", ""}); err != nil {
		return err
	}
	cw.Flush()
	files = append(files, File{Name: recordName, Data: record.Bytes(), Mode: 0o644})

	zw := zip.NewWriter(out)
	for _, f := range files {
		if err := addZip(zw, f, w.ModTime); err != nil {
			return err
		}
	}
	return zw.Close()
}

// addZip adds f, deflated, with its mode in the external attributes: pip
// makes a script executable only when the archive says it is.
func addZip(zw *zip.Writer, f File, mtime time.Time) error {
	h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: mtime}
	h.SetMode(fileMode(f.Mode))
	fw, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = fw.Write(f.Data)
	return err
}
