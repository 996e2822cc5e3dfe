package analyzer

import (
	"testing"
	"testing/fstest"
)

// Two fixes that append lines to the same .dockerignore (secrets-copied
// and dockerignore-incomplete) both reach the candidate's context: the
// second merges into the first's result, not into the file on disk, so
// the candidate is not re-analyzed without the first's lines.
func TestWithGeneratedMergesAppendsToOneFile(t *testing.T) {
	bc := LoadContext(fstest.MapFS{
		"Dockerfile":        {Data: []byte("FROM alpine:3.20\nCOPY . .\n")},
		".dockerignore":     {Data: []byte(".git\n")},
		".aws/credentials":  {Data: []byte("aws_secret_access_key = x\n")},
		"__pycache__/a.pyc": {Data: []byte("x")},
	}, ".")
	candidate := bc.WithGenerated([]GeneratedFile{
		{Path: ".dockerignore", Content: "/.aws/credentials\n", Merge: "append-lines"},
		{Path: ".dockerignore", Content: "**/__pycache__\n", Merge: "append-lines"},
	}, "Dockerfile")
	got, err := candidate.ReadFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	if want := ".git\n/.aws/credentials\n**/__pycache__\n"; string(got) != want {
		t.Errorf("candidate .dockerignore = %q, want %q", got, want)
	}
	for _, p := range []string{".aws/credentials", "__pycache__/a.pyc"} {
		if !candidate.DockerIgnore.Excludes(p) {
			t.Errorf("candidate .dockerignore does not exclude %s", p)
		}
	}
}
