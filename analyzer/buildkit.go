package analyzer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/dockopt/dockopt/internal/offlineresolver"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// BuildKitWarning is one warning of BuildKit's Dockerfile linter, the
// checks behind `docker build --check`.
type BuildKitWarning struct {
	Rule      string
	Message   string
	StartLine int
	EndLine   int
}

// MaxConvertInstructions bounds the Dockerfiles BuildKit is asked to
// convert. Its conversion looks build state up along a chain as long as
// the stage, so its cost grows with the square of the instructions: 2,000
// take about a tenth of a second, 16,000 several seconds, and serializing
// the graph costs ten times that. Larger files are analyzed by dockopt's
// own rules only, and their fixes are not proposed (nothing could check
// that they still build).
const MaxConvertInstructions = 2000

// ErrTooManyInstructions is the conversion error of a Dockerfile with more
// than MaxConvertInstructions instructions.
var ErrTooManyInstructions = errors.New("BuildKit was not asked to convert it")

// CheckConvertLimit returns ErrTooManyInstructions, wrapped, when src has
// more instructions than BuildKit is asked to convert: a cheap test before
// an analysis whose conversion would be refused.
func CheckConvertLimit(src []byte) error {
	if bytes.Count(src, []byte{'\n'}) < MaxConvertInstructions {
		// Every instruction takes a line of its own, so a file of fewer
		// lines is within the limit without a parse.
		return nil
	}
	parsed, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil
	}
	return convertLimit(parsed.AST)
}

func convertLimit(ast *parser.Node) error {
	if n := len(ast.Children); n > MaxConvertInstructions {
		return fmt.Errorf("%w: it has %d instructions, more than the %d dockopt converts", ErrTooManyInstructions, n, MaxConvertInstructions)
	}
	return nil
}

// buildkitTimeout bounds one conversion; with an offline resolver it is
// CPU-only, so this only catches pathological input.
const buildkitTimeout = 10 * time.Second

var (
	allCapsOnce sync.Once
	allCaps     apicaps.CapSet
)

// capabilities returns every LLB capability; without a capability set
// dockerfile2llb panics on `RUN --mount`.
func capabilities() *apicaps.CapSet {
	allCapsOnce.Do(func() {
		allCaps = pb.Caps.CapSet(pb.Caps.All())
	})
	return &allCaps
}

func convertOpt(warn func(rule, url, msg string, loc []parser.Range)) dockerfile2llb.ConvertOpt {
	return dockerfile2llb.ConvertOpt{
		Config:       dockerui.Config{},
		MetaResolver: offlineresolver.Resolver{},
		LLBCaps:      capabilities(),
		AllStages:    true,
		TargetPlatform: &ocispecs.Platform{
			OS: "linux", Architecture: "amd64",
		},
		Warn: func(rulename, description, url, fmtmsg string, location []parser.Range) {
			if warn != nil {
				warn(rulename, url, fmtmsg, location)
			}
		},
	}
}

// BuildKitLint converts every stage of a Dockerfile to a BuildKit build
// graph offline, as a real build would do first, and returns BuildKit's lint
// warnings and the conversion error, if any. A panic inside BuildKit is
// turned into an error for this file only.
func BuildKitLint(ctx context.Context, src []byte) ([]BuildKitWarning, error) {
	return buildkitConvert(ctx, src, false)
}

func buildkitConvert(ctx context.Context, src []byte, marshal bool) (warnings []BuildKitWarning, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("buildkit panicked: %v\n%s", r, firstLines(string(debug.Stack()), 12))
		}
	}()
	parsed, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	c := convertParsed(ctx, src, parsed.AST, CheckExpansion(parsed.AST, parsed.EscapeToken), marshal)
	if marshal {
		c.serialize(ctx)
		return c.warnings, c.serializeErr
	}
	return c.warnings, c.convertErr
}

// conversion is the outcome of one offline conversion.
type conversion struct {
	warnings   []BuildKitWarning
	convertErr error
	// serializeErr is convertErr, or else the error of serializing the
	// build graph; serialized says whether that was tried.
	serializeErr error
	serialized   bool
	// graph is the converted build graph of a conversion asked to
	// serialize it, until serialize does. Serializing was put off because
	// only the version of a file the patcher ends with is verified: the
	// candidates before it (earlier passes, tries of a split batch) were
	// serialized for nothing, a sixth of the serializations of the corpus.
	graph *llb.State
}

// serialize serializes the kept build graph, as a build submits it, and
// drops it; a conversion that failed, was refused, or serialized already
// keeps its result. A panic inside BuildKit is this file's error.
func (c *conversion) serialize(ctx context.Context) {
	if c.serialized || c.graph == nil {
		return
	}
	graph := c.graph
	c.graph, c.serialized = nil, true
	defer func() {
		if r := recover(); r != nil {
			c.serializeErr = fmt.Errorf("buildkit panicked: %v\n%s", r, firstLines(string(debug.Stack()), 12))
		}
	}()
	cctx, cancel := context.WithTimeout(ctx, buildkitTimeout)
	defer cancel()
	_, c.serializeErr = graph.Marshal(cctx)
	if ctx.Err() != nil {
		// Canceled by the caller: that is the error, not the file's.
		c.serializeErr = ctx.Err()
	}
}

// convertDockerfile is buildkitConvert for a file the analyzer has
// parsed: its syntax tree and expansion estimate are reused, so the file
// is parsed once by dockopt and once inside BuildKit's conversion, not a
// third time to decide whether to convert it.
func convertDockerfile(ctx context.Context, d *Dockerfile, marshal bool) (c conversion) {
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("buildkit panicked: %v\n%s", r, firstLines(string(debug.Stack()), 12))
			c = conversion{convertErr: err, serializeErr: err, serialized: true}
		}
	}()
	return convertParsed(ctx, d.Source, d.AST, d.Expansion, marshal)
}

// convertParsed converts src, whose syntax tree is ast, and keeps the
// graph for serialize when marshal is set. BuildKit expands ARG and ENV
// eagerly and without a bound; a file whose values would explode (xerr) is
// refused before it sees them.
func convertParsed(ctx context.Context, src []byte, ast *parser.Node, xerr *ExpansionError, marshal bool) conversion {
	failed := func(err error) conversion {
		return conversion{convertErr: err, serializeErr: err, serialized: true}
	}
	if xerr != nil {
		return failed(xerr)
	}
	if err := convertLimit(ast); err != nil {
		return failed(err)
	}
	cctx, cancel := context.WithTimeout(ctx, buildkitTimeout)
	defer cancel()
	var c conversion
	opt := convertOpt(func(rule, _, msg string, loc []parser.Range) {
		w := BuildKitWarning{Rule: rule, Message: msg}
		if len(loc) > 0 {
			w.StartLine, w.EndLine = loc[0].Start.Line, loc[0].End.Line
		}
		c.warnings = append(c.warnings, w)
	})
	var res *dockerfile2llb.Result
	var err error
	if refused := offline(src, ast, func(src []byte) { res, err = dockerfile2llb.Dockerfile2LLB(cctx, src, opt) }); refused != nil {
		return failed(refused)
	}
	c.convertErr, c.serializeErr, c.serialized = err, err, err != nil
	if err == nil && marshal {
		c.graph = &res.State
	}
	if ctx.Err() != nil {
		// Canceled by the caller: that is the error, not the file's.
		return failed(ctx.Err())
	}
	return c
}

// ConvertLLB proves a Dockerfile is buildable as far as can be known
// without running it: conversion of every stage and serialization of the
// build graph, which is what a build submits.
func ConvertLLB(ctx context.Context, src []byte) error {
	_, err := buildkitConvert(ctx, src, true)
	return err
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
