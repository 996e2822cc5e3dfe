package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
)

// TestOwnDockerfileIsClean: the app's own image passes dockopt with no
// findings at any severity; a tool that asks others for production-ready
// Dockerfiles must ship one.
func TestOwnDockerfileIsClean(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"analyze", "--failure-threshold", "info", "../../Dockerfile"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "no findings") {
		t.Fatalf("dockopt analyze Dockerfile exited %d:\n%s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"multi-stage", "unprivileged user", "HEALTHCHECK", "pinned by digest"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report of the app's Dockerfile should credit %q:\n%s", want, out.String())
		}
	}
}

// TestRulesJSONListsEveryEquivalentFamily: hadolint's DL3000-DL3067 and
// DL4000-DL4006 and every BuildKit check are reachable through `dockopt
// rules --format json`, except the hadolint rules that no longer exist or
// cannot fire (documented in the README).
func TestRulesJSONListsEveryEquivalentFamily(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"rules", "--format", "json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	notMirrored := map[string]string{
		"DL3017": "removed from hadolint: upgrading apk packages is legitimate",
		"DL3031": "removed from hadolint: upgrading yum packages is legitimate",
		"DL3039": "removed from hadolint: upgrading dnf packages is legitimate",
		"DL3043": "BuildKit refuses ONBUILD FROM/MAINTAINER/ONBUILD: reported as a file error",
		"DL4002": "no such hadolint rule",
	}
	for n := 3000; n <= 3067; n++ {
		checkEquivalent(t, out.String(), n, notMirrored)
	}
	for n := 4000; n <= 4006; n++ {
		checkEquivalent(t, out.String(), n, notMirrored)
	}
	for _, name := range []string{"StageNameCasing", "FromAsCasing", "NoEmptyContinuation", "ConsistentInstructionCasing",
		"DuplicateStageName", "ReservedStageName", "JSONArgsRecommended", "MaintainerDeprecated", "UndefinedArgInFrom",
		"WorkdirRelativePath", "UndefinedVar", "MultipleInstructionsDisallowed", "LegacyKeyValueFormat",
		"InvalidBaseImagePlatform", "RedundantTargetPlatform", "SecretsUsedInArgOrEnv", "InvalidDefaultArgInFrom",
		"FromPlatformFlagConstDisallowed", "CopyIgnoredFile", "InvalidDefinitionDescription", "ExposeProtoCasing", "ExposeInvalidFormat"} {
		if !strings.Contains(out.String(), `"buildkit:`+name+`"`) {
			t.Errorf("no rule mirrors BuildKit's %s", name)
		}
	}
}

func checkEquivalent(t *testing.T, catalog string, n int, skip map[string]string) {
	t.Helper()
	id := "DL" + strconv.Itoa(n)
	if _, ok := skip[id]; ok {
		return
	}
	if !strings.Contains(catalog, `"hadolint:`+id+`"`) {
		t.Errorf("no rule carries hadolint:%s", id)
	}
}
