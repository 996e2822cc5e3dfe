package rules

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
)

// TestOfficialMirrorsSameFindings holds the official images' own mirrors
// to what they are, the official images: every finding and fix that
// node:20 or python:3.12 gets, the same image pulled from mirror.gcr.io
// or public.ecr.aws gets too, with the mirror's name where the message
// names the image.
func TestOfficialMirrorsSameFindings(t *testing.T) {
	node := `FROM %s
WORKDIR /app
COPY . .
RUN npm install
CMD ["node", "server.js"]
`
	python := `FROM %s
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
`
	cases := []struct{ src, official, mirror string }{
		{node, "node:20", "public.ecr.aws/docker/library/node:20"},
		{node, "node:20", "mirror.gcr.io/library/node:20"},
		{python, "python:3.12", "public.ecr.aws/docker/library/python:3.12"},
		{python, "python:3.12", "mirror.gcr.io/library/python:3.12"},
	}
	a := analyzer.New(All())
	for _, c := range cases {
		t.Run(c.mirror, func(t *testing.T) {
			want := mirrorFindings(t, a, fmt.Sprintf(c.src, c.official))
			if len(want) == 0 {
				t.Fatal("no findings for the official image")
			}
			got := mirrorFindings(t, a, fmt.Sprintf(c.src, c.mirror))
			prefix := strings.TrimSuffix(c.mirror, c.official)
			for i := range want {
				// The messages name the image as the Dockerfile wrote it.
				want[i] = strings.ReplaceAll(want[i], c.official, prefix+c.official)
			}
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("%s misses what %s gets:\n%s\ngot:\n%s", c.mirror, c.official, w, strings.Join(got, "\n"))
				}
			}
			for _, g := range got {
				if !slices.Contains(want, g) {
					t.Errorf("%s gets what %s does not:\n%s", c.mirror, c.official, g)
				}
			}
		})
	}
}

func mirrorFindings(t *testing.T, a *analyzer.Analyzer, src string) []string {
	t.Helper()
	fsys := fstest.MapFS{
		"Dockerfile":       {Data: []byte(src)},
		"package.json":     {Data: []byte(`{"name": "app", "dependencies": {"express": "4.21.2"}}`)},
		"server.js":        {Data: []byte(`require("express")().listen(3000)`)},
		"requirements.txt": {Data: []byte("flask==3.1.0\ngunicorn==23.0.0\n")},
		"app.py":           {Data: []byte("from flask import Flask\napp = Flask(__name__)\n")},
	}
	fr, err := a.AnalyzeSource(context.Background(), "Dockerfile", fsys["Dockerfile"].Data, analyzer.ContextFor(fsys, "Dockerfile", "."), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fr.Findings {
		s := fmt.Sprintf("%s:%d: %s", f.Rule, f.Line, f.Message)
		if f.Fix != nil {
			s += fmt.Sprintf(" [fix %s: %s]", f.Fix.Safety, f.Fix.Message)
			for _, e := range f.Fix.Edits {
				s += fmt.Sprintf(" {%q}", e.New)
			}
		}
		out = append(out, s)
	}
	return out
}
