package analyzer_test

import (
	"testing"

	"github.com/dockopt/dockopt/analyzer"
)

// A line holding only the escape character continues into the next, so
// BuildKit reads the instruction from the line after it: the model must
// find its keyword there, or the RUN's script starts with "RUN" and every
// rule that looks for apt-get misses it.
func TestKeywordAfterALoneEscapeLine(t *testing.T) {
	for _, tc := range []struct{ name, src, written, first string }{
		{"lone escape", "FROM debian:12\n\\\nRUN apt-get install curl\n", "RUN", "apt-get"},
		{"blanks and a comment in the continuation", "FROM debian:12\n  \\  \n# why\n run apt-get install curl\n", "run", "apt-get"},
		{"backtick escape", "# escape=`\nFROM debian:12\n`\nRUN apt-get install curl\n", "RUN", ""},
		{"plain", "FROM debian:12\nRUN apt-get install curl\n", "RUN", "apt-get"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := analyzer.Parse("Dockerfile", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			in := d.Instructions[len(d.Instructions)-1]
			if in.Keyword != "RUN" || in.Written != tc.written {
				t.Fatalf("keyword %q written %q", in.Keyword, in.Written)
			}
			if got := string(d.Source[in.KeywordStart : in.KeywordStart+len(in.Written)]); got != tc.written {
				t.Errorf("KeywordStart points at %q", got)
			}
			if tc.first == "" {
				return // a backtick escape makes the stage Windows: no shell model
			}
			if in.Script == nil || len(in.Script.Commands()) == 0 || in.Script.Commands()[0].Name != tc.first {
				t.Errorf("script %+v", in.Script)
			}
		})
	}
}
