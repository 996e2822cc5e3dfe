package analyzer

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/internal/githost"
	"github.com/dockopt/dockopt/internal/nonet"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Converting a Dockerfile never connects to the git host an ADD names:
// BuildKit's conversion reads that host's SSH key over the network, which
// would let any repository make the App connect wherever it likes, and
// wait up to minutes for an address that never answers.
func TestConversionDoesNotConnectToGitHosts(t *testing.T) {
	if err := nonet.Available(); err != nil {
		t.Skipf("no thread without network here: %v", err)
	}
	host := githost.Start(t, nil)
	addr, connections := host.Addr, host.Connections
	url := "ssh://git@" + addr + "/org/repo.git"
	files := map[string]string{
		"literal":      "FROM alpine:3.20\nADD " + url + " /src\n",
		"variable":     "FROM alpine:3.20\nARG REPO=" + url + "\nADD ${REPO} /src\n",
		"quoted":       "FROM alpine:3.20\nADD \"" + url + "\" /src\n",
		"json form":    "FROM alpine:3.20\nADD [\"" + url + "\", \"/src\"]\n",
		"keep-git-dir": "FROM alpine:3.20\nADD --keep-git-dir " + url + "#main /src\n",
		// Remotes whose text is not their parsed word (found in review).
		"json escape":  "FROM alpine:3.20\nADD [\"ssh://git@" + addr + "/org/repo\\u002egit\", \"/src\"]\n",
		"continuation": "FROM alpine:3.20\nADD ssh://git@" + addr + "/org/\\\nrepo.git /src\n",
		"word in word": "FROM alpine:3.20\nADD a@b:x ssh://git@" + addr + "/a@b:x /src/\n",
		// A stage built FROM another runs the other's ONBUILD triggers.
		"onbuild": "FROM alpine:3.20 AS base\nONBUILD ADD " + url + " /src\nFROM base\nRUN true\n",
	}
	for name, src := range files {
		t.Run(name, func(t *testing.T) {
			before := connections()
			if _, err := BuildKitLint(t.Context(), []byte(src)); err != nil {
				t.Errorf("lint conversion: %v", err)
			}
			if err := ConvertLLB(t.Context(), []byte(src)); err != nil {
				t.Errorf("conversion with the graph serialized: %v", err)
			}
			c, err := New(nil).Configure(nil)
			if err != nil {
				t.Fatal(err)
			}
			fr, err := c.AnalyzeCandidate(t.Context(), "Dockerfile", []byte(src), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := fr.ConvertLLB(t.Context()); err != nil {
				t.Errorf("analysis's conversion: %v", err)
			}
			if n := connections() - before; n != 0 {
				t.Errorf("the conversions connected to the git host %d times", n)
			}
		})
	}
}

func TestMayScanGitHost(t *testing.T) {
	cases := []struct {
		add  string
		want bool
	}{
		{"ADD ssh://git@example.com/org/repo.git /src", true},
		{"ADD SSH://example.com/org/repo.git /src", true},
		{"ADD git@example.com:org/repo.git /src", true},
		{"ADD --keep-git-dir git@192.0.2.7:org/repo.git#v1:sub /src", true},
		{"ONBUILD ADD git@example.com:org/repo.git /src", true},
		{"ADD $REPO /src", true},
		{"ADD ${JAR_FILE} app.jar", true},
		{`ADD "app.tar.gz" /`, true},
		{`ADD git\@example.com:x /src`, true},
		{"ADD https://example.com/tool.sh /usr/local/bin/tool", false},
		{"ADD https://github.com/org/repo.git#v1 /src", false},
		{"ADD git://example.com/org/repo.git /src", false},
		{"ADD rootfs.tar.gz /", false},
		{"ADD [\"a b.txt\", \"/dst/\"]", false},
		{"COPY git@example.com:org/repo.git /src", false},
		{"RUN git clone git@example.com:org/repo.git", false},
		{"ONBUILD RUN git clone git@example.com:org/repo.git", false},
		{"ADD --chown=$UID app.tar.gz /", false},
		{"ONBUILD ADD <<EOF /x\nhello\nEOF", true},
		{"ADD app.tar.gz $DEST", false},
	}
	for _, c := range cases {
		res, err := parser.Parse(strings.NewReader("FROM alpine:3.20\n" + c.add + "\n"))
		if err != nil {
			t.Fatalf("%s: %v", c.add, err)
		}
		if got := mayScanGitHost(res.AST); got != c.want {
			t.Errorf("%s: mayScanGitHost = %v, want %v", c.add, got, c.want)
		}
	}
}

// Where no thread can be kept off the network, a file whose ADD BuildKit
// expands is not converted, and says why; a literal SSH remote is
// converted as its HTTPS stand-in, and any other file as before.
func TestConversionIsRefusedWithoutAThreadOffTheNetwork(t *testing.T) {
	unavailable := fmt.Errorf("%w: test", nonet.ErrUnavailable)
	restore := runOffline
	runOffline = func(func()) error { return unavailable }
	defer func() { runOffline = restore }()

	_, err := BuildKitLint(t.Context(), []byte("FROM alpine:3.20\nARG REPO=git@example.com:org/repo.git\nADD $REPO /src\n"))
	if !errors.Is(err, ErrGitHostScan) || !strings.Contains(err.Error(), "over SSH") {
		t.Errorf("conversion error = %v, want ErrGitHostScan saying why", err)
	}
	for _, src := range []string{
		"FROM alpine:3.20\nADD git@example.com:org/repo.git /src\n",
		"FROM alpine:3.20\nADD https://example.com/tool.sh /usr/local/bin/tool\n",
	} {
		if _, err := BuildKitLint(t.Context(), []byte(src)); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}

// The stand-in keeps every line where it was, so BuildKit's warnings point
// at the same lines, and keeps what BuildKit checks of the remote.
func TestSSHRemotesAreGivenToBuildKitOverHTTPS(t *testing.T) {
	src := "FROM alpine:3.20\n" +
		"ADD --keep-git-dir \\\n  git@example.com:org/repo.git#v1.2:sub /src\n" +
		"ONBUILD ADD [\"ssh://git@example.com:2222/org/repo.git?ref=main\", \"/x\"]\n" +
		"ADD https://example.com/tool.sh /tool\n" +
		"COPY git@example.com:org/repo.git /y\n"
	res, err := parser.Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	got, expanded, _ := withoutSSHRemotes([]byte(src), res.AST)
	want := "FROM alpine:3.20\n" +
		"ADD --keep-git-dir \\\n  https://dockopt.invalid/repository.git#v1.2:sub /src\n" +
		"ONBUILD ADD [\"https://dockopt.invalid/repository.git?ref=main\", \"/x\"]\n" +
		"ADD https://example.com/tool.sh /tool\n" +
		"COPY git@example.com:org/repo.git /y\n"
	if string(got) != want || expanded {
		t.Errorf("got (expanded=%v)\n%s\nwant\n%s", expanded, got, want)
	}
	in := []byte(src)
	withoutSSHRemotes(in, res.AST)
	if string(in) != src {
		t.Error("the caller's source was changed")
	}
}
