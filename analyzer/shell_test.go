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
