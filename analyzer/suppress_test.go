package analyzer

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// scanWaives is the definition the indexed suppressions answer: every
// suppression whose lines hold the finding and that names its rule, an
// equivalent or "all" is used, and the finding is waived if there is one.
func scanWaives(s *suppressions, f Finding) bool {
	rule := s.analyzer.byID[f.Rule]
	if s.skipAll && rule != nil && hasBuildKitEquivalent(rule) {
		return true
	}
	waived := false
	for _, sp := range s.list {
		if f.Line < sp.startLine || f.Line > sp.endLine {
			continue
		}
		for _, id := range sp.ids {
			if id == f.Rule || (rule != nil && hasEquivalent(rule, id)) || strings.EqualFold(id, "all") {
				sp.used = true
				waived = true
			}
		}
	}
	return waived
}

// TestSuppressionIndexMatchesScan: on random files of ignore comments of
// every form and scope, the index waives the findings and marks the
// comments used exactly as reading every comment for every finding does.
func TestSuppressionIndexMatchesScan(t *testing.T) {
	noop := func(*Pass) {}
	a := New([]*Rule{
		{ID: "apt-pin", Equivalents: []string{"hadolint:DL3008"}, Check: noop},
		{ID: "json-args", Equivalents: []string{"buildkit:JSONArgsRecommended", "hadolint:DL3025"}, Check: noop},
		{ID: "user-root", Equivalents: []string{"trivy:DS002"}, Check: noop},
		{ID: "plain", Check: noop},
	})
	comments := []string{
		"# dockopt ignore=apt-pin", "# dockopt ignore=APT-PIN", "# dockopt ignore=plain,user-root", "# dockopt ignore=all",
		"# dockopt ignore=ALL", "# hadolint ignore=DL3008", "# hadolint ignore=dl3025", "# dockopt ignore=trivy:ds002",
		"# dockopt ignore-stage=plain", "# dockopt ignore-file=json-args", "# hadolint global ignore=DL3008",
		"# dockopt ignore=buildkit:jsonargsrecommended", "# dockopt ignore=nothing", "# just a comment",
		"# hadolint stage ignore=DL3025", "# hadolint ignore=DL3008,DL3025",
	}
	body := []string{"RUN true", "CMD x", "RUN a && \\\n  b", "LABEL a=b"}
	rules := []string{"apt-pin", "json-args", "user-root", "plain", "unknown"}
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 300 {
		var b strings.Builder
		if rng.IntN(4) == 0 {
			b.WriteString("# check=skip=JSONArgsRecommended\n")
		}
		for range 1 + rng.IntN(3) {
			for range rng.IntN(3) {
				b.WriteString(comments[rng.IntN(len(comments))] + "\n")
			}
			b.WriteString("FROM debian:12\n")
			for range rng.IntN(6) {
				for range rng.IntN(3) {
					b.WriteString(comments[rng.IntN(len(comments))] + "\n")
				}
				b.WriteString(body[rng.IntN(len(body))] + "\n")
			}
		}
		d, err := Parse("Dockerfile", []byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		indexed, scanned := collectSuppressions(d, DefaultConfig(), a), collectSuppressions(d, DefaultConfig(), a)
		for range 40 {
			f := Finding{Rule: rules[rng.IntN(len(rules))], Line: 1 + rng.IntN(d.LineCount())}
			if got, want := indexed.waives(f), scanWaives(scanned, f); got != want {
				t.Fatalf("round %d: %s on line %d: waived %v, want %v\n%s", round, f.Rule, f.Line, got, want, b.String())
			}
		}
		for i := range indexed.list {
			if indexed.list[i].used != scanned.list[i].used {
				t.Fatalf("round %d: the comment on line %d is used=%v, want %v\n%s", round, indexed.list[i].line, indexed.list[i].used, scanned.list[i].used, b.String())
			}
		}
	}
}

// TestWaiverWordsInAnyCaseAreRead: the scan that lets most files skip
// reading their comments for waivers must not skip a waiver that
// parseIgnoreComment accepts, in any of the spellings strings.EqualFold
// matches, the Kelvin sign for K among them.
func TestWaiverWordsInAnyCaseAreRead(t *testing.T) {
	noop := func(*Pass) {}
	a := New([]*Rule{{ID: "plain", Equivalents: []string{"hadolint:DL3008"}, Check: noop}})
	cfg := &Config{}
	for _, comment := range []string{
		"# dockopt ignore=plain", "# DOCKOPT ignore=plain", "# DoCkOpT ignore=plain", "# doc\u212aopt ignore=plain",
		"# hadolint ignore=DL3008", "# dockopt ignore-file=plain",
	} {
		src := "FROM alpine:3.20\n" + comment + "\nRUN true\n"
		d, err := Parse("Dockerfile", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if !mayHoldIgnoreComment(d.Source) {
			t.Errorf("%q: the scan says the file holds no waiver", comment)
		}
		s := collectSuppressions(d, cfg, a)
		if !s.waives(Finding{Rule: "plain", Line: 3}) {
			t.Errorf("%q: the finding on the next line is not waived", comment)
		}
	}
	for _, src := range []string{"FROM alpine:3.20\n# docker-compose builds this\nRUN true\n", "FROM alpine\nRUN true\n"} {
		if mayHoldIgnoreComment([]byte(src)) {
			t.Errorf("%q: no waiver word, yet the scan sends it to the slow path", src)
		}
	}
}
