package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/templates"
)

// TestTextSectionsInFileOrder checks that the text output of more files
// than one formatting window lists every file once, in path order, each
// with its own findings, and counts the findings of all of them.
func TestTextSectionsInFileOrder(t *testing.T) {
	fsys := fstest.MapFS{}
	n := 2*textWindow + 7
	for i := range n {
		// Every third file has a finding the others do not.
		body := "FROM alpine:3.21\nUSER nobody\nCMD [\"sh\"]\n"
		if i%3 == 0 {
			body = "FROM alpine:3.21\nRUN apk add curl\nUSER nobody\nCMD [\"sh\"]\n"
		}
		fsys[fmt.Sprintf("svc%03d/Dockerfile", i)] = &fstest.MapFile{Data: []byte(body)}
	}
	res, err := analyzer.New(rules.All()).Analyze(t.Context(), fsys, ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != n {
		t.Fatalf("%d files analyzed, want %d", len(res.Files), n)
	}
	var out bytes.Buffer
	figs := templates.Figures{Dockerfiles: n}
	withFix := 0
	for _, f := range res.Files {
		figs.Findings += len(f.Findings)
		for _, fd := range f.Findings {
			if fd.Fix != nil {
				withFix++
			}
		}
	}
	if withFix == 0 {
		t.Fatal("no finding has a fix: the count of fixable findings is not checked")
	}
	if err := writeText(&out, res.Files, nil, notCovered{}, figs, palette{}, false, false); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	last := -1
	for i, f := range res.Files {
		header := f.Path + " ("
		at := strings.Index(text, header)
		if at < 0 || strings.Count(text, header) != 1 {
			t.Fatalf("%s: header found %d times", f.Path, strings.Count(text, header))
		}
		if at < last {
			t.Fatalf("%s is listed before the file ahead of it", f.Path)
		}
		last = at
		section := text[at:]
		if end := strings.Index(section, "\n\n"); end >= 0 {
			section = section[:end]
		}
		hasPackageFinding := strings.Contains(section, "apk-no-cache") || strings.Contains(section, "apk")
		if wantPackage := i%3 == 0; hasPackageFinding != wantPackage {
			t.Errorf("%s: section mentions apk %v, want %v:\n%s", f.Path, hasPackageFinding, wantPackage, section)
		}
	}
	if want := fmt.Sprintf("%d Dockerfiles, %d findings, %d with a fix", n, figs.Findings, withFix); !strings.Contains(text, want) {
		t.Errorf("summary does not say %q:\n%s", want, text[max(0, len(text)-300):])
	}
}
