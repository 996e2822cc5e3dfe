package compose

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the want/ files of testdata/*.txtar")

// Each case holds compose.yml, facts.json (service name → ServiceFacts)
// and the expected want/compose.yml and want/notes.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test cases: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			in := map[string][]byte{}
			var kept []txtar.File
			for _, f := range ar.Files {
				in[f.Name] = f.Data
				if !strings.HasPrefix(f.Name, "want/") {
					kept = append(kept, f)
				}
			}
			var facts map[string]ServiceFacts
			if err := json.Unmarshal(in["facts.json"], &facts); err != nil {
				t.Fatalf("facts.json: %v", err)
			}
			out, notes, err := Harden("compose.yml", in["compose.yml"], facts)
			var got []txtar.File
			if err != nil {
				got = append(kept, txtar.File{Name: "want/error", Data: []byte(err.Error() + "\n")})
			} else {
				got = append(kept,
					txtar.File{Name: "want/compose.yml", Data: out},
					txtar.File{Name: "want/notes", Data: []byte(strings.Join(notes, "\n") + "\n")})
			}
			if *update {
				ar.Files = got
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				for _, g := range got[len(kept):] {
					if string(in[g.Name]) != string(g.Data) {
						t.Errorf("%s differs (run with -update to accept):\n--- got ---\n%s\n--- want ---\n%s", g.Name, g.Data, in[g.Name])
					}
				}
				if (err != nil) != (in["want/error"] != nil) {
					t.Errorf("error = %v, want/error present = %v", err, in["want/error"] != nil)
				}
			}
			if err != nil {
				return
			}
			// Hardening twice is hardening once.
			again, _, err := Harden("compose.yml", out, facts)
			if err != nil || string(again) != string(out) {
				t.Errorf("second Harden changed the file (err %v):\n%s", err, again)
			}
			// Every comment and every original line is still there, in order.
			assertSubsequence(t, string(in["compose.yml"]), string(out))
			var v map[string]any
			if err := yaml.Unmarshal(out, &v); err != nil {
				t.Errorf("output is not YAML: %v", err)
			}
		})
	}
}

func assertSubsequence(t *testing.T, orig, out string) {
	t.Helper()
	outLines := strings.Split(out, "\n")
	j := 0
	for _, l := range strings.Split(orig, "\n") {
		for j < len(outLines) && outLines[j] != l {
			j++
		}
		if j == len(outLines) {
			t.Errorf("original line %q is missing or out of order in the output", l)
			return
		}
		j++
	}
}

func TestNotCompose(t *testing.T) {
	for _, src := range []string{"- a\n- b\n", "version: '3'\n", "services: [\n"} {
		if _, _, err := Harden("x.yml", []byte(src), map[string]ServiceFacts{"a": {}}); err == nil {
			t.Errorf("Harden(%q): want an error", src)
		}
	}
}

func TestNoFinalNewline(t *testing.T) {
	src := "services:\r\n  app:\r\n    build: .\r\n    read_only: true"
	out, _, err := Harden("c.yml", []byte(src), map[string]ServiceFacts{"app": {Kind: "go-service", NonRoot: true}})
	if err != nil {
		t.Fatal(err)
	}
	want := src + "\r\n" +
		"    # Runtime hardening proposed by dockopt; see the report for each setting.\r\n" +
		"    cap_drop: [ALL]\r\n" +
		"    security_opt: [\"no-new-privileges:true\"]\r\n" +
		"    mem_limit: 256m"
	if string(out) != want {
		t.Errorf("got:\n%q\nwant:\n%q", out, want)
	}
}
