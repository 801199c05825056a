package patch

import (
	"path/filepath"
	"testing"

	"github.com/serve-launch/serve-launch/internal/patch/config"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
)

// FuzzLoadSnippet feeds arbitrary snippet files to the loader and, when one
// loads, applies it to ray-2.55.cfg. Neither may panic; a successful patch
// must parse again and re-applying the snippet to it must change nothing.
func FuzzLoadSnippet(f *testing.F) {
	for _, pattern := range []string{"testdata/edits/*.toml", "testdata/bad/*.toml", "../../overrides.d/*.toml*"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, path := range paths {
			f.Add(mustRead(f, path))
		}
	}
	for _, seed := range fuzzSeeds {
		f.Add([]byte(seed))
	}
	cfg := mustRead(f, "testdata/ray-2.55.cfg")
	env := func(name string) (string, bool) {
		if name == "SL_FUZZ" {
			return "7", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sn, err := snippet.Load("fuzz.toml", data)
		if err != nil {
			return
		}
		o := &Overrides{Snippets: []*snippet.Snippet{sn}}
		opt := ApplyOptions{Getenv: env}
		out, err := o.Patch("ray-2.55.cfg", cfg, opt)
		if err != nil {
			return
		}
		if _, err := config.Parse("patched.cfg", out); err != nil {
			t.Fatalf("the patched file does not parse: %v\n%s", err, out)
		}
		again, err := o.Patch("patched.cfg", out, opt)
		if err != nil {
			t.Fatalf("re-applying to the patched file fails: %v\nsnippet:\n%s\npatched:\n%s", err, data, out)
		}
		if string(again) != string(out) {
			t.Fatalf("re-applying changed the file\nsnippet:\n%s\nonce:\n%s\ntwice:\n%s", data, out, again)
		}
	})
}

// fuzzSeeds are crashers and near misses found by earlier fuzzing runs, kept
// so that plain go test replays them.
var fuzzSeeds = []string{
	// params with a stray value and an unknown "flag": each merge re-read
	// the line differently and grew it ("check 0 1 0" -> "check 0 0 1 0").
	"[[edit]]\nseCtion = \"backend *******a*e\"\npArAms = [{ on= \"******\", set =\"0\"},{on=\"*\",set=\"1 0\"}]",
	// an unnamed section was never recognised as added by an earlier run
	"[[section]]\nheader=\"userlist\"",
	// a templated header giving a nameless frontend, added again on every run
	"[[section]]\nheader=\"frontend {{\\\"\\\"}}\"",
	"[[edit]]\nsection = \"backend *\"\nparams = [{ on = \"server\", set = \"sticky\" }, { on = \"server\", set = \"maxconn 32\" }]",
	// an add of a key the same edit sets: the set of the second run removed
	// the added line and the add put it back after the next one
	"[[edit]]\nsection=\"defaults\"\nadd=[\"timeout server \",\"0\"]\nset=[\"timeout server 0\"]",
}
