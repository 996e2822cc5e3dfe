package demo

import (
	"context"
	"io"
	"strings"
	"testing"
)

func TestRunPRShowsAReviewWithSuggestions(t *testing.T) {
	res, err := RunPR(context.Background(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Review == "" || len(res.Comments) < 2 {
		t.Fatalf("want a review with suggestions on the apt-get and pip lines: %+v", res)
	}
	for _, c := range res.Comments {
		if _, ok := suggestionIn(c.Body); !ok {
			t.Errorf("comment on line %d has no suggestion:\n%s", c.Line, c.Body)
		}
	}
	fixed := res.Applied["api/Dockerfile"]
	for _, want := range []string{"--no-install-recommends", "--no-cache-dir", "FROM python:3.12-slim\n", "CMD [\"python\", \"main.py\"]\n"} {
		if !strings.Contains(fixed, want) {
			t.Errorf("after accepting the suggestions the Dockerfile lacks %q:\n%s", want, fixed)
		}
	}
}
