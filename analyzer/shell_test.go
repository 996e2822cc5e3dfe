package analyzer

import (
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"
)

// TestStaticWord: quotes go as the shell removes them; expansions make a
// word dynamic and keep it as written; nothing depends on the machine
// dockopt runs on (no tilde lookup, no globbing).
func TestStaticWord(t *testing.T) {
	for _, tc := range []struct {
		word, value string
		dynamic     bool
	}{
		{`plain`, "plain", false},
		{`'a b'`, "a b", false},
		{`"a"b'c'`, "abc", false},
		{`"it's"`, "it's", false},
		{`*.txt`, "*.txt", false},
		{`{a,b}`, "{a,b}", false},
		{`~/x`, "~/x", false},
		{`~root/'x y'`, "~root/x y", false},
		{`"$HOME"/x`, `"$HOME"/x`, true},
		{`${X:-y}`, "${X:-y}", true},
		{`$(id -u)`, "$(id -u)", true},
	} {
		f, err := syntax.NewParser().Parse(strings.NewReader("echo "+tc.word), "")
		if err != nil {
			t.Fatalf("%s: %v", tc.word, err)
		}
		v, dyn := staticWord(f.Stmts[0].Cmd.(*syntax.CallExpr).Args[1])
		if v != tc.value || dyn != tc.dynamic {
			t.Errorf("%s: %q dynamic=%v, want %q dynamic=%v", tc.word, v, dyn, tc.value, tc.dynamic)
		}
	}
}

// TestDeepScriptIsNotParsed: a script nested deeper than MaxShellNesting
// is left unparsed, with the reason, instead of recursing through it; one
// just within the bound is parsed.
func TestDeepScriptIsNotParsed(t *testing.T) {
	for _, c := range []struct {
		depth  int
		parsed bool
	}{{MaxShellNesting, true}, {MaxShellNesting + 1, false}} {
		src := "FROM debian:12\nRUN " + strings.Repeat("( \\\n", c.depth) + "true" + strings.Repeat(" )", c.depth) + "\n"
		d, err := Parse("Dockerfile", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		sc := d.Instructions[1].Script
		if parsed := sc.File != nil && sc.Err == nil; parsed != c.parsed {
			t.Errorf("depth %d: parsed %v (%v), want %v", c.depth, parsed, sc.Err, c.parsed)
		}
		if !c.parsed && (sc.Err == nil || !strings.Contains(sc.Err.Error(), "nests more than")) {
			t.Errorf("depth %d: error %v", c.depth, sc.Err)
		}
	}
}

// TestAccountOptions: clusters of short options are read as getopt reads
// them, so the account is the first positional and each option gets its
// own value, and an attached value keeps its place in the file.
func TestAccountOptions(t *testing.T) {
	for _, tc := range []struct {
		run, name, shell, uid string
		positional            int
	}{
		{run: "useradd -ms /bin/bash dev", name: "dev", shell: "/bin/bash", positional: 1},
		{run: "useradd -lmu 123456 e", name: "e", uid: "123456", positional: 1},
		{run: "useradd -mUs/bin/zsh -u10 z", name: "z", shell: "/bin/zsh", uid: "10", positional: 1},
		{run: "useradd --uid=7 --shell /bin/sh -- -x", name: "-x", shell: "/bin/sh", uid: "7", positional: 1},
		{run: "useradd app -u 5 -s", name: "app", uid: "5", positional: 1},
		// -h takes the rest of its cluster: its value is "s".
		{run: "adduser -D -hs /home/a /bin/sh a", name: "/home/a", positional: 3},
		{run: "adduser -Dh /home/a -s /bin/ash a", name: "a", shell: "/bin/ash", positional: 1},
		{run: "usermod -l new -s /bin/sh old", name: "old", shell: "/bin/sh", positional: 1},
		{run: "groupadd -rg 10001 data", name: "data", positional: 1},
		{run: "groupmod -n new -g10 old", name: "old", positional: 1},
		{run: "addgroup -g 1000 -S app", name: "app", positional: 1},
	} {
		d, err := Parse("Dockerfile", []byte("FROM debian:12\nRUN "+tc.run+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		in := d.Instructions[1]
		c := in.Script.Commands()[0]
		opts, pos := AccountOptions(c)
		name := ""
		if len(pos) > 0 {
			name = pos[0].Value
		}
		get := func(names ...string) string {
			o, _ := LastOption(opts, names...)
			if o.HasValue && o.Value.Start >= 0 && string(d.Source[o.Value.Start:o.Value.End]) != o.Value.Value {
				t.Errorf("%s: %s value %q is at %d:%d, which holds %q", tc.run, o.Name, o.Value.Value, o.Value.Start, o.Value.End, d.Source[o.Value.Start:o.Value.End])
			}
			return o.Value.Value
		}
		if shell, uid := get("-s", "--shell"), get("-u", "--uid"); name != tc.name || shell != tc.shell || uid != tc.uid || len(pos) != tc.positional {
			t.Errorf("%s: name %q, shell %q, uid %q, %d positional; want %q, %q, %q, %d", tc.run, name, shell, uid, len(pos), tc.name, tc.shell, tc.uid, tc.positional)
		}
	}
}
