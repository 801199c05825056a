//go:build linux

package state

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// filled returns an Instance with every field set to a value that is not
// its zero value, found by reflection: a field added to Instance later is
// filled too, so the comparison with encoding/json fails until
// marshalInstance writes it.
func filled(t *testing.T) *Instance {
	t.Helper()
	in := &Instance{}
	var fill func(v reflect.Value, name string)
	fill = func(v reflect.Value, name string) {
		switch v.Kind() {
		case reflect.String:
			v.SetString(name + " <&> \"q\" \\ \n\t\x01 \u2028 \xff é")
		case reflect.Int:
			v.SetInt(4242)
		case reflect.Uint64:
			v.SetUint(1 << 40)
		case reflect.Pointer:
			p := reflect.New(v.Type().Elem())
			fill(p.Elem(), name)
			v.Set(p)
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Slice:
			s := reflect.MakeSlice(v.Type(), 2, 2)
			for i := range 2 {
				fill(s.Index(i), name)
			}
			v.Set(s)
		case reflect.Struct:
			if v.Type() == reflect.TypeFor[time.Time]() {
				v.Set(reflect.ValueOf(time.Date(2026, 11, 26, 13, 40, 48, 123456789, time.UTC)))
				return
			}
			for i := range v.NumField() {
				fill(v.Field(i), v.Type().Field(i).Name)
			}
		default:
			t.Fatalf("field %s: kind %s: teach filled and marshalInstance about it", name, v.Kind())
		}
	}
	fill(reflect.ValueOf(in).Elem(), "")
	return in
}

func TestMarshalInstanceMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	tests := []struct {
		name string
		in   *Instance
	}{
		{"zero", &Instance{}},
		{"every field set", filled(t)},
		{"empty lists", &Instance{Files: []FilePair{}, Running: []string{}, Argv: []string{}, RayArgv: []string{}, Snippets: []Snippet{}, Listeners: []string{}, WorkerPIDs: []int{}, PatchedAt: at}},
		{"shim start", &Instance{
			ID: "fefd58dffb3daf6e", Dir: "/run/serve-launch/fefd58dffb3daf6e", Generated: "/tmp/ray/haproxy.cfg",
			Patched: "/run/serve-launch/fefd58dffb3daf6e/patched.cfg",
			Files:   []FilePair{{Generated: "/tmp/ray/haproxy.cfg", Patched: "/run/serve-launch/fefd58dffb3daf6e/patched.cfg"}},
			Running: []string{"/run/serve-launch/fefd58dffb3daf6e/patched.cfg"}, MasterPID: 123,
			Argv: []string{"-W", "-db", "-f", "/run/serve-launch/fefd58dffb3daf6e/patched.cfg", "-sf", "99"}, RayArgv: []string{"-f", "/tmp/ray/haproxy.cfg"},
			RealHAProxy: "/usr/sbin/haproxy", Snippets: []Snippet{{Name: "10-rate-limits.toml", SHA256: "ab"}}, PatchedAt: at,
			Result: ResultPatched, AdminSocket: "/tmp/ray/admin.sock", Listeners: []string{"127.0.0.1:8000", ":9101"},
		}},
		{"negative and odd values", &Instance{MasterPID: -1, LauncherPID: -7, WorkerPIDs: []int{0, -3}, LastError: "x\x00\x1fy\u2029"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.MarshalIndent(tt.in, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got, err := marshalInstance(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("marshalInstance differs from encoding/json\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestMarshalInstanceRefusesWhatEncodingJSONRefuses(t *testing.T) {
	in := &Instance{PatchedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := json.MarshalIndent(in, "", "  "); err == nil {
		t.Fatal("encoding/json accepted year 10000; this test's premise is gone")
	}
	if _, err := marshalInstance(in); err == nil {
		t.Error("marshalInstance accepted a time encoding/json refuses")
	}
}

func FuzzMarshalInstance(f *testing.F) {
	f.Add("/tmp/ray/haproxy.cfg", "a\"b\\c", "\xff\xfe<&>", 5)
	f.Add("", "\u2028\u2029\x7f", "é\x00", -1)
	f.Fuzz(func(t *testing.T, a, b, c string, n int) {
		in := &Instance{ID: a, Dir: b, Generated: c, Patched: a + b, Files: []FilePair{{Generated: b, Patched: c}},
			Running: []string{c}, MasterPID: n, LauncherPID: n, Argv: []string{a, b, c}, RealHAProxy: c,
			OverridesDir: b, Snippets: []Snippet{{Name: a, SHA256: c}}, LastError: c, AdminSocket: a,
			Listeners: []string{b}, Alive: n%2 == 0, WorkerPIDs: []int{n}}
		want, err := json.MarshalIndent(in, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalInstance(in)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("marshalInstance differs from encoding/json\n got: %q\nwant: %q", got, want)
		}
	})
}
