package analyzer

import (
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
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

// TestShellSourceJoinsLikeBuildKit: the text a RUN's shell is given is the
// line BuildKit's parser joins, for the default escape and for a backtick
// (corpus 154: a backslash with blanks after it continues the line), and
// every byte of it maps back to the same byte of the file.
func TestShellSourceJoinsLikeBuildKit(t *testing.T) {
	for _, tc := range []struct{ name, src string }{
		{"trailing blanks", "FROM alpine:3.20\nRUN apk add --no-cache bash \\   \n    curl\t\n"},
		{"trailing tab", "FROM alpine\nRUN a \\\t\n  b\n"},
		{"word across lines", "FROM alpine\nRUN ba\\\nsh -c x\n"},
		{"escaped escape", "FROM alpine\nRUN echo a\\\\\nRUN b\n"},
		{"escape alone", "FROM alpine\nRUN a \\\n\\\n b\n"},
		{"comment and empty lines", "FROM alpine\nRUN a; \\\n  # comment \\\n\n   \n  b\n"},
		{"comment extended", "FROM alpine\nRUN a # note \\\n  b\n"},
		{"quotes across lines", "FROM alpine\nRUN echo 'x \\\n  y'\n"},
		{"crlf", "FROM alpine\r\nRUN a \\ \r\n  b\r\n"},
		{"carriage return before blank", "FROM alpine\nRUN a \\\r \n"},
		{"backtick", "# escape=`\nFROM alpine\nRUN a `  \n  b \\\n"},
		{"backtick escaped", "# escape=`\nFROM alpine\nRUN a ``\nRUN b\n"},
		{"heredoc", "FROM alpine\nRUN cat <<EOF > /x \\  \n  && echo y\nbody \\\nEOF\n"},
		{"heredoc crlf", "FROM alpine\r\nRUN cat <<EOF > /x && apk add curl\r\nhello\r\nEOF\r\n"},
		{"comment after flags", "FROM alpine\nRUN --mount=type=cache,target=/x \\\n    # install\n    apk add curl \\   \n      git\n"},
	} {
		d, err := Parse("Dockerfile", []byte(tc.src))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		res, err := parser.Parse(strings.NewReader(tc.src))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var runs []*parser.Node
		for _, n := range res.AST.Children {
			if strings.EqualFold(n.Value, "run") {
				runs = append(runs, n)
			}
		}
		var ins []*Instruction
		for _, in := range d.Instructions {
			if in.Keyword == "RUN" {
				ins = append(ins, in)
			}
		}
		if len(ins) != len(runs) {
			t.Fatalf("%s: %d RUNs, BuildKit %d", tc.name, len(ins), len(runs))
		}
		for k, in := range ins {
			src, segs := d.shellSource(in.ArgsStart, in.End)
			want := strings.TrimLeft(runs[k].Original[len("RUN"):], " \t")
			for _, f := range runs[k].Flags {
				want = strings.TrimLeft(strings.TrimPrefix(want, f), " \t")
			}
			for _, h := range runs[k].Heredocs {
				want += "\n" + h.Content + h.Name
			}
			// Blanks before the command are BuildKit's to trim and the
			// shell's to skip (the indentation after a dropped comment line).
			if strings.TrimLeft(src, " \t") != want {
				t.Errorf("%s: shell text %q, BuildKit %q", tc.name, src, want)
			}
			s := &Script{Src: src, Offset: in.ArgsStart, segs: segs}
			for i := 0; i < len(src); i++ {
				if at := s.fileOffset(i); d.Source[at] != src[i] {
					t.Errorf("%s: byte %d (%q) maps to %d (%q)", tc.name, i, src[i], at, d.Source[at])
				}
			}
		}
	}
}
