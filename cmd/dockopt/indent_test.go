package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

// indentCases are compact JSON texts with every shape the indenter must
// lay out as encoding/json does: empty and nested containers, escapes
// that hide quotes and backslashes, punctuation inside strings, numbers
// and literals.
var indentCases = []string{
	`{}`, `[]`, `""`, `0`, `-1.5e+10`, `true`, `null`,
	`{"a":[]}`, `{"a":{}}`, `[[],{},[{}]]`,
	`{"a":1,"b":[1,2,{"c":null}],"d":{"e":"f"}}`,
	`{"s":"a \"quoted\" {word}, [list]: ok"}`,
	`{"s":"ends in a backslash \\","t":"\\\"","u":"\\\\"}`,
	`["\u2028","\u003c/script\u003e","tab\there","new\nline"]`,
	`{"RUN":"apt-get install -y \\\n  curl \u0026\u0026 rm -rf /var/lib/apt/lists/*"}`,
	`[{"nested":[{"deeper":[{"deepest":[]}]}]},"",{"":""}]`,
}

func TestAppendIndentedMatchesEncodingJSON(t *testing.T) {
	for _, prefix := range []string{"", "  ", "    "} {
		for _, c := range indentCases {
			var want bytes.Buffer
			if err := json.Indent(&want, []byte(c), prefix, "  "); err != nil {
				t.Fatalf("case %s is not JSON: %v", c, err)
			}
			if got := appendIndented(nil, []byte(c), prefix, "  "); string(got) != want.String() {
				t.Errorf("prefix %q, %s:\n got %s\nwant %s", prefix, c, got, want.String())
			}
		}
	}
}

func FuzzAppendIndented(f *testing.F) {
	for _, c := range indentCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		var compact bytes.Buffer
		if json.Compact(&compact, text) != nil {
			return
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact.Bytes(), "  ", "  "); err != nil {
			t.Fatal(err)
		}
		if got := appendIndented(nil, compact.Bytes(), "  ", "  "); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%q:\n got %q\nwant %q", compact.Bytes(), got, want.Bytes())
		}
	})
}
