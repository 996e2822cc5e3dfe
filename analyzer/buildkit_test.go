package analyzer

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
)

func TestBuildKitLintOffline(t *testing.T) {
	src := []byte("FROM node:20 as Build\nMAINTAINER someone\nRUN --mount=type=cache,target=/root/.npm npm ci\nCMD node server.js\n")
	ws, err := BuildKitLint(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ws {
		got = append(got, w.Rule)
	}
	want := []string{"FromAsCasing", "StageNameCasing", "MaintainerDeprecated", "JSONArgsRecommended"}
	for _, w := range want {
		if !strings.Contains(strings.Join(got, ","), w) {
			t.Errorf("BuildKit warnings %v lack %s", got, w)
		}
	}
}

func TestConvertLLB(t *testing.T) {
	// Without a capability set, RUN --mount panics inside BuildKit.
	if err := ConvertLLB(t.Context(), []byte("FROM alpine:3.20\nRUN --mount=type=cache,target=/x true\n")); err != nil {
		t.Fatalf("valid Dockerfile refused: %v", err)
	}
	if err := ConvertLLB(t.Context(), []byte("FROM alpine:3.20\nCOPY --chmod=abc a b\n")); err == nil {
		t.Errorf("an invalid --chmod should fail conversion")
	}
	if err := ConvertLLB(t.Context(), []byte("FROM alpine:3.20\nHEALTHCHECK --interval=often CMD true\n")); err == nil {
		t.Errorf("an invalid HEALTHCHECK interval should fail conversion")
	}
}

// A patch candidate's conversion keeps its build graph and serializes it
// only when verification asks (ConvertLLB): the candidates the patcher
// moves past are never serialized. A serialization's error is the file's,
// as when it ran inside the conversion.
func TestSerializationIsPutOffUntilVerificationAsks(t *testing.T) {
	c, err := New(nil).Configure(nil)
	if err != nil {
		t.Fatal(err)
	}
	fr, err := c.AnalyzeCandidate(t.Context(), "Dockerfile", []byte("FROM alpine:3.20\nRUN true\n"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := fr.ConvertError(t.Context()); err != nil {
		t.Fatalf("conversion: %v", err)
	}
	if f := fr.facts; f.conv.serialized || f.graph == nil {
		t.Fatalf("after ConvertError: serialized %v, graph kept %v; want the graph kept and not serialized", f.conv.serialized, f.graph != nil)
	}
	if err := fr.ConvertLLB(t.Context()); err != nil {
		t.Fatalf("serialization: %v", err)
	}
	if f := fr.facts; f.graph != nil {
		t.Fatalf("after ConvertLLB: the graph is still kept")
	}

	// An original's conversion keeps no graph: its facts live as long as
	// its result.
	orig, err := c.AnalyzeSource(t.Context(), "Dockerfile", []byte("FROM alpine:3.20\nRUN true\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := orig.ConvertError(t.Context()); err != nil {
		t.Fatalf("conversion of the original: %v", err)
	}
	if f := orig.facts; f.graph != nil || f.conv.graph != nil || !f.conv.serialized {
		t.Fatalf("original after ConvertError: graph kept %v, serialized %v; want it serialized and no graph", f.graph != nil || f.conv.graph != nil, f.conv.serialized)
	}

	failing := llb.Image("alpine:3.20").Async(func(context.Context, llb.State, *llb.Constraints) (llb.State, error) {
		return llb.State{}, errors.New("the graph does not serialize")
	})
	conv := conversion{graph: &failing}
	conv.serialize(t.Context())
	if conv.serializeErr == nil || !strings.Contains(conv.serializeErr.Error(), "does not serialize") {
		t.Errorf("serializing a failing graph: %v", conv.serializeErr)
	}
}
