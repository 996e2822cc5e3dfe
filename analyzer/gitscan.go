package analyzer

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strings"

	"github.com/dockopt/dockopt/internal/nonet"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/util/gitutil"
)

// BuildKit's conversion connects to the host of every git repository an
// ADD names over SSH, to read its host key (llb.Git calls
// sshutil.SSHKeyScan: a DNS lookup, then a TCP connection with no timeout
// and no context). Left alone, a Dockerfile would make dockopt, the App's
// analysis or a test connect wherever it likes and wait for each address
// that never answers, about two minutes. So a source that names such a
// repository is given to BuildKit as one over HTTPS, which it does not
// contact while converting; and a file whose ADD BuildKit expands first
// (variables, quotes, escapes), whose final text only the conversion
// knows, is converted on a thread that cannot open internet sockets
// (nonet.Run). `dockopt analyze` and the App's analysis child also take
// internet sockets from their whole process (nonet.RestrictProcess),
// which covers what a thread cannot: Go's DNS lookups and dual-stack
// dials run on goroutines of their own.

// ErrGitHostScan is the conversion error of a Dockerfile whose ADD
// BuildKit expands, on a system where its conversion cannot be kept off
// the network (nonet.Available).
var ErrGitHostScan = errors.New("BuildKit was not asked to convert it offline")

// sshStandIn is the host an SSH remote is given to BuildKit as: .invalid
// never resolves (RFC 2606), and HTTPS remotes are not contacted while
// converting anyway.
const sshStandIn = "dockopt.invalid"

// addSources yields every source word of every ADD BuildKit dispatches,
// ONBUILD ADD included (a later stage FROM this one runs it), with the
// top-level node it belongs to.
func addSources(ast *parser.Node) iter.Seq2[*parser.Node, string] {
	return func(yield func(*parser.Node, string) bool) {
		if ast == nil {
			return
		}
		for _, top := range ast.Children {
			node := top
			onbuild := strings.EqualFold(node.Value, "onbuild") && node.Next != nil && len(node.Next.Children) > 0
			if onbuild {
				node = node.Next.Children[0]
			}
			if !strings.EqualFold(node.Value, "add") {
				continue
			}
			if onbuild && (len(node.Heredocs) > 0 || len(top.Heredocs) > 0 || strings.Contains(top.Original, "`")) {
				// BuildKit parses the trigger again, alone, with the
				// default escape: heredocs and a backtick escape may read
				// differently then, so its sources are unknown here.
				if !yield(top, "$") {
					return
				}
				continue
			}
			for arg := node.Next; arg != nil && arg.Next != nil; arg = arg.Next {
				if !yield(top, arg.Value) {
					return
				}
			}
		}
	}
}

// expandedByBuildKit reports whether BuildKit's lexer rewrites the word
// (variables, quotes, escapes) before it reads it as a source.
func expandedByBuildKit(word string) bool { return strings.ContainsAny(word, "$'\"\\`") }

// sshRemote returns the git remote a literal source word names over SSH
// (ssh://… or user@host:path), or nil.
func sshRemote(word string) *gitutil.GitURL {
	if expandedByBuildKit(word) {
		return nil
	}
	remote, err := gitutil.ParseURL(word)
	if err != nil || remote.Scheme != gitutil.SSHProtocol {
		return nil
	}
	return remote
}

// mayScanGitHost reports whether a file's conversion could connect to a
// git host if it were converted as written.
func mayScanGitHost(ast *parser.Node) bool {
	for _, word := range addSources(ast) {
		if expandedByBuildKit(word) || sshRemote(word) != nil {
			return true
		}
	}
	return false
}

// MayScanGitHost reports whether converting d as written could make
// BuildKit connect to a git host: an ADD names a repository over SSH, or
// has a source BuildKit expands first.
func MayScanGitHost(d *Dockerfile) bool { return d != nil && mayScanGitHost(d.AST) }

// MayScanGitHostSource is MayScanGitHost for a Dockerfile's text; one
// that does not parse may do anything.
func MayScanGitHostSource(src []byte) bool {
	res, err := parser.Parse(bytes.NewReader(src))
	return err != nil || mayScanGitHost(res.AST)
}

// withoutSSHRemotes returns src with every literal ADD source that names a
// git repository over SSH replaced, on its own lines, by one over HTTPS
// with the same ref, subdirectory and query; whether some ADD source is
// still expanded by BuildKit; and whether anything was replaced.
func withoutSSHRemotes(src []byte, ast *parser.Node) (out []byte, expanded, replaced bool) {
	out = src
	for top, word := range addSources(ast) {
		if expandedByBuildKit(word) {
			expanded = true
			continue
		}
		remote := sshRemote(word)
		if remote == nil {
			continue
		}
		if !replaced {
			out, replaced = bytes.Clone(src), true
		}
		// The stand-in has no newline, so every node keeps its lines.
		from, to := lineRange(lineStarts(out), len(out), top.StartLine, top.EndLine)
		rewritten := bytes.ReplaceAll(out[from:to], []byte(word), []byte(standIn(remote)))
		out = append(out[:from:from], append(rewritten, out[to:]...)...)
	}
	return out, expanded, replaced
}

// standIn is an HTTPS remote with what BuildKit reads of an SSH one besides
// its host: the ref and subdirectory (the fragment) and the query.
func standIn(remote *gitutil.GitURL) string {
	u := url.URL{Scheme: "https", Host: sshStandIn, Path: "/repository.git"}
	if remote.Query != nil {
		u.RawQuery = remote.Query.Encode()
	}
	if o := remote.Opts; o != nil {
		u.Fragment = o.Ref
		if o.Subdir != "" {
			u.Fragment += ":" + o.Subdir
		}
	}
	return u.String()
}

// lineRange returns the byte range of lines first..last (1-based) of a
// text of size n whose lines start at starts.
func lineRange(starts []int, n, first, last int) (from, to int) {
	from, to = 0, n
	if first >= 1 && first <= len(starts) {
		from = starts[first-1]
	}
	if last >= 1 && last < len(starts) {
		to = starts[last]
	}
	return from, to
}

// runOffline is nonet.Run; tests replace it to see what happens where no
// thread can be kept off the network.
var runOffline = nonet.Run

// offline calls convert with the file as BuildKit may see it: SSH remotes
// replaced (withoutSSHRemotes), and on a thread without network when an
// ADD source is still expanded by BuildKit. Where no such thread can be
// made, it refuses the conversion and says why.
func offline(src []byte, ast *parser.Node, convert func(src []byte)) error {
	safe, expanded, replaced := withoutSSHRemotes(src, ast)
	if !expanded && replaced {
		// A remote whose text is not its parsed word (a JSON escape, a
		// line continuation inside it, a word inside another) may have
		// stayed: what BuildKit will read is checked again.
		res, err := parser.Parse(bytes.NewReader(safe))
		expanded = err != nil || mayScanGitHost(res.AST)
	}
	if !expanded {
		convert(safe)
		return nil
	}
	if err := runOffline(func() { convert(safe) }); err != nil {
		return fmt.Errorf("%w: an ADD source may name a git repository over SSH once BuildKit has read it, whose host it would connect to while converting, and %v", ErrGitHostScan, err)
	}
	return nil
}
