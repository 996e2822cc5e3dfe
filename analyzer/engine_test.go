package analyzer_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
)

func newAnalyzer() *analyzer.Analyzer { return analyzer.New(rules.All()) }

// TestHostileInputs: every file of testdata/corpus/bad gets a result of its
// own — an error that says what is wrong, or findings — and one good file
// analyzed in the same run is unaffected.
func TestHostileInputs(t *testing.T) {
	entries, err := os.ReadDir("testdata/corpus/bad")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"good/Dockerfile": {Data: []byte("FROM alpine:3.20\nRUN apt-get install -y curl\n")}}
	targets := []analyzer.Target{{Path: "good/Dockerfile", Context: "good"}}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata/corpus/bad", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		p := "bad/" + e.Name()
		fsys[p] = &fstest.MapFile{Data: b}
		targets = append(targets, analyzer.Target{Path: p, Context: "bad"})
	}
	large := generateLarge(t)
	fsys["large/Dockerfile"] = &fstest.MapFile{Data: large}
	targets = append(targets, analyzer.Target{Path: "large/Dockerfile", Context: "large"})

	res, err := newAnalyzer().AnalyzeTargets(t.Context(), fsys, targets, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantErr := map[string]string{
		"bad/empty.Dockerfile":                "file is empty",
		"bad/only-comments.Dockerfile":        "no instructions",
		"bad/binary.Dockerfile":               "binary",
		"bad/nul-bytes.Dockerfile":            "binary",
		"bad/invalid-utf8.Dockerfile":         "not valid UTF-8",
		"bad/unterminated-heredoc.Dockerfile": "unterminated heredoc",
		"bad/unknown-instruction.Dockerfile":  "unknown instruction",
		"bad/long-line.Dockerfile":            "line greater than max",
		"bad/no-from.Dockerfile":              "no FROM",
		"large/Dockerfile":                    "not analyzed",
	}
	for _, fr := range res.Files {
		if strings.HasPrefix(fr.Error, "internal error") {
			t.Errorf("%s: %s", fr.Path, fr.Error)
		}
		if want, ok := wantErr[fr.Path]; ok && !strings.Contains(fr.Error, want) {
			t.Errorf("%s: error %q, want it to mention %q", fr.Path, fr.Error, want)
		}
		if fr.Path == "good/Dockerfile" && (fr.Error != "" || len(fr.Findings) == 0) {
			t.Errorf("good file next to hostile ones: error %q, %d findings", fr.Error, len(fr.Findings))
		}
	}
	if len(res.Files) != len(targets) {
		t.Fatalf("got %d results for %d files", len(res.Files), len(targets))
	}
}

func generateLarge(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "Dockerfile")
	cmd := exec.Command("bash", "testdata/corpus/gen-large.sh", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen-large.sh: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 5<<20 {
		t.Fatalf("generated file is only %d bytes", len(b))
	}
	return b
}

// TestCorpusAnalyzes: the whole corpus analyzes without internal errors.
func TestCorpusAnalyzes(t *testing.T) {
	res, err := newAnalyzer().Analyze(t.Context(), os.DirFS("testdata/corpus"), ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) < 150 {
		t.Fatalf("discovered %d Dockerfiles in the corpus, want at least 150", len(res.Files))
	}
	for _, fr := range res.Files {
		if strings.HasPrefix(fr.Error, "internal error") {
			t.Errorf("%s: %s", fr.Path, fr.Error)
		}
		if !strings.HasPrefix(fr.Path, "bad/") && fr.Error != "" {
			t.Errorf("%s: %s", fr.Path, fr.Error)
		}
	}
}

func TestDiscoveryUsesComposeContexts(t *testing.T) {
	fsys := fstest.MapFS{
		"docker-compose.yml": {Data: []byte(`services:
  api:
    build:
      context: ./services/api
      dockerfile: ../../docker/api.Dockerfile
  web:
    build: web
  db:
    image: postgres:16
`)},
		"docker/api.Dockerfile":       {Data: []byte("FROM python:3.12-slim\n")},
		"services/api/app.py":         {Data: []byte("print()\n")},
		"web/Dockerfile":              {Data: []byte("FROM nginx:1.27\n")},
		"web/Dockerfile.dev":          {Data: []byte("FROM node:20\n")},
		"web/Containerfile":           {Data: []byte("FROM node:20\n")},
		"web/Dockerfile.optimized":    {Data: []byte("FROM node:20\n")},
		"web/Dockerfile.dockerignore": {Data: []byte("node_modules\n")},
		"node_modules/x/Dockerfile":   {Data: []byte("FROM node:20\n")},
		"legacy/Dockerfile":           {Data: []byte("FROM node:20\n")},
	}
	cfg := analyzer.DefaultConfig()
	cfg.IgnorePaths = []string{"legacy/**"}
	targets, err := analyzer.Discover(t.Context(), fsys, ".", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range targets {
		got = append(got, tg.Path+" @ "+tg.Context)
	}
	want := []string{
		"docker/api.Dockerfile @ services/api",
		"web/Containerfile @ web",
		"web/Dockerfile @ web",
		"web/Dockerfile.dev @ web",
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("discovered:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	bc := analyzer.ContextFor(fsys, "web/Dockerfile", "web")
	if bc.DockerIgnore == nil || !bc.DockerIgnore.Excludes("node_modules/react/index.js") {
		t.Errorf("Dockerfile.dockerignore beside the Dockerfile should apply")
	}
}

// Without a compose file, a Dockerfile whose COPY sources resolve only
// from a folder above its own is built from there: Visual Studio's
// WebApi/Dockerfile copies "WebApi/WebApi.csproj" and is built from the
// solution folder, whose .dockerignore BuildKit reads. Sources found in
// the Dockerfile's folder, or found nowhere, keep the folder.
func TestDiscoveryInfersContextFromCopySources(t *testing.T) {
	vs := `#See https://aka.ms/customizecontainer to learn how to customize your debug container and how Visual Studio uses this Dockerfile to build your images for faster debugging.

FROM mcr.microsoft.com/dotnet/aspnet:8.0 AS base
USER app
WORKDIR /app
EXPOSE 8080

FROM mcr.microsoft.com/dotnet/sdk:8.0 AS build
ARG BUILD_CONFIGURATION=Release
WORKDIR /src
COPY ["WebApi/WebApi.csproj", "WebApi/"]
RUN dotnet restore "./WebApi/WebApi.csproj"
COPY . .
WORKDIR "/src/WebApi"
RUN dotnet build "./WebApi.csproj" -c $BUILD_CONFIGURATION -o /app/build

FROM build AS publish
ARG BUILD_CONFIGURATION=Release
RUN dotnet publish "./WebApi.csproj" -c $BUILD_CONFIGURATION -o /app/publish /p:UseAppHost=false

FROM base AS final
WORKDIR /app
COPY --from=publish /app/publish .
ENTRYPOINT ["dotnet", "WebApi.dll"]
`
	fsys := fstest.MapFS{
		".dockerignore":           {Data: []byte("**/.git\n**/.env\n**/bin\n**/obj\n")},
		"WebApi/Dockerfile":       {Data: []byte(vs)},
		"WebApi/WebApi.csproj":    {Data: []byte(`<Project Sdk="Microsoft.NET.Sdk.Web"></Project>` + "\n")},
		"WebApi/Program.cs":       {Data: []byte("var app = WebApplication.Create(args);\n")},
		"services/api/Dockerfile": {Data: []byte("FROM golang:1.23\nCOPY --chown=1000 go.mod go.sum ./\nCOPY services/api ./\nRUN go build -o /app .\n")},
		"services/api/main.go":    {Data: []byte("package main\n")},
		"go.mod":                  {Data: []byte("module x\n")},
		"go.sum":                  {Data: []byte("")},
		"web/Dockerfile":          {Data: []byte("FROM nginx:1.27\nCOPY nginx.conf /etc/nginx/\nCOPY dist/ /usr/share/nginx/html/\n")},
		"web/nginx.conf":          {Data: []byte("events {}\n")},
		"worker/Dockerfile":       {Data: []byte("FROM alpine:3.21\nCOPY build/worker /usr/local/bin/\nCOPY --from=tools /bin/tool /bin/\n")},
		"deep/a/b/c/Dockerfile":   {Data: []byte("FROM alpine:3.21\nCOPY WebApi/Program.cs /src/\n")},
		"vars/Dockerfile":         {Data: []byte("FROM alpine:3.21\nARG APP=WebApi\nCOPY $APP/Program.cs /src/\n")},
		// Build outputs the repository ignores are made in the
		// Dockerfile's folder before the build; a folder of that name
		// above (Go's build/ for CI and packaging) is no context.
		".gitignore":       {Data: []byte("# outputs\nfront/dist/\n")},
		"build/ci/run.sh":  {Data: []byte("#!/bin/sh\n")},
		"dist/README.md":   {Data: []byte("releases\n")},
		"site/Dockerfile":  {Data: []byte("FROM nginx:1.27\nCOPY build /usr/share/nginx/html/\n")},
		"site/.gitignore":  {Data: []byte("node_modules\n/build\n")},
		"front/Dockerfile": {Data: []byte("FROM nginx:1.27\nCOPY dist /usr/share/nginx/html/\n")},
		"front/index.html": {Data: []byte("<html></html>\n")},
	}
	targets, err := analyzer.Discover(t.Context(), fsys, ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range targets {
		got = append(got, tg.Path+" @ "+tg.Context)
	}
	want := []string{
		"WebApi/Dockerfile @ .",
		"deep/a/b/c/Dockerfile @ deep/a/b/c",
		"front/Dockerfile @ front",
		"services/api/Dockerfile @ .",
		"site/Dockerfile @ site",
		"vars/Dockerfile @ vars",
		"web/Dockerfile @ web",
		"worker/Dockerfile @ worker",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("discovered:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	res, err := newAnalyzer().Analyze(t.Context(), fsys, ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range res.Files {
		if fr.Path != "WebApi/Dockerfile" {
			continue
		}
		for _, f := range fr.Findings {
			if f.Rule == "dockerignore-missing" {
				t.Errorf("the solution folder's .dockerignore is not read: %s", f.Message)
			}
		}
	}
}

func TestModel(t *testing.T) {
	src := "# syntax=docker/dockerfile:1\nARG BASE=node:20-alpine\nFROM ${BASE} AS Build\nRUN npm ci \\\n    # comment inside\n    && npm run build\nFROM nginx:1.27-alpine\nCOPY --from=Build /app/dist /usr/share/nginx/html\nONBUILD RUN apt-get update; apt-get install -y x\nRUN <<EOF\nset -e\napk add curl\nEOF\n"
	d, err := analyzer.Parse("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := d.Directive("syntax"); v != "docker/dockerfile:1" {
		t.Errorf("syntax directive = %q", v)
	}
	if got := d.Stages[0].Base.Raw; got != "node:20-alpine" {
		t.Errorf("ARG-resolved base = %q", got)
	}
	if d.Stages[0].Name != "Build" || !d.Stages[1].Final || d.Stages[1].Base.Distro() != "alpine" {
		t.Errorf("stages: %+v %+v", d.Stages[0], d.Stages[1])
	}
	run := d.Stages[0].Instructions[0]
	var names []string
	for _, c := range run.Script.Commands() {
		names = append(names, c.Name+" "+c.Subcommand())
		if got := string(d.Source[c.Start:c.End]); !strings.HasPrefix(got, "npm") {
			t.Errorf("command offsets point at %q", got)
		}
	}
	if strings.Join(names, ",") != "npm ci,npm run" {
		t.Errorf("commands across a commented continuation: %v", names)
	}
	var onbuild *analyzer.Instruction
	for in := range d.Each("RUN") {
		if in.Onbuild != nil {
			onbuild = in
		}
	}
	if onbuild == nil || len(onbuild.Script.Commands()) != 2 {
		t.Fatalf("ONBUILD RUN trigger not modelled: %+v", onbuild)
	}
	heredoc := d.Stages[1].Instructions[len(d.Stages[1].Instructions)-1]
	if heredoc.Script == nil || !heredoc.Script.Heredoc || !heredoc.Script.Exact() {
		t.Fatalf("heredoc RUN script: %+v", heredoc.Script)
	}
	apk := heredoc.Script.CommandsNamed("apk")
	if len(apk) != 1 || string(d.Source[apk[0].Start:apk[0].End]) != "apk add curl" {
		t.Errorf("heredoc command offsets wrong: %+v", apk)
	}
}

func TestWindowsImagesGetNoShellRules(t *testing.T) {
	src := "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL [\"powershell\", \"-Command\"]\nRUN apt-get install -y curl; `\n    Write-Host done\n"
	fr, _ := newAnalyzer().AnalyzeSource(t.Context(), "Dockerfile", []byte(src), nil, nil)
	if fr.Error != "" {
		t.Fatal(fr.Error)
	}
	if fr.Kind != analyzer.KindWindows {
		t.Errorf("kind = %s", fr.Kind)
	}
	for _, f := range fr.Findings {
		for _, r := range rules.All() {
			if r.ID == f.Rule && r.POSIXOnly {
				t.Errorf("POSIX rule %s fired on a Windows image: %s", f.Rule, f.Message)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "rulez:\n  x: off\n", "line 1: field rulez not found"},
		{"bad severity", "rules:\n  apt-no-install-recommends: loud\n", "unknown severity \"loud\""},
		{"bad apply", "fixes:\n  apply: everything\n", "fixes.apply"},
		{"bad mode", "output:\n  mode: email\n", "output.mode"},
		{"not yaml", "rules: [\n", ".github/dockopt.yml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := analyzer.ParseConfig(".github/dockopt.yml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to mention %q", err, tc.want)
			}
		})
	}
	cfg, err := analyzer.ParseConfig(".github/dockopt.yml", []byte("rules:\n  no-such-rule: off\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.ResolveRules(newAnalyzer()); err == nil || !strings.Contains(err.Error(), "no-such-rule") {
		t.Errorf("unknown rule in config: %v", err)
	}
}

func TestHadolintConfigCarriesOver(t *testing.T) {
	fsys := fstest.MapFS{
		".hadolint.yaml": {Data: []byte("ignored:\n  - DL3015\nfailure-threshold: error\ndisable-ignore-pragma: true\n")},
		"Dockerfile":     {Data: []byte("FROM debian:12\n# dockopt ignore=something\nRUN apt-get install -y curl\n")},
	}
	cfg, err := analyzer.LoadConfig(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Threshold() != analyzer.SeverityError || cfg.InlineIgnoresEnabled() {
		t.Errorf("threshold %v, inline ignores %v", cfg.Threshold(), cfg.InlineIgnoresEnabled())
	}
	res, err := newAnalyzer().Analyze(t.Context(), fsys, ".", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files[0].Findings {
		if f.Rule == "apt-no-install-recommends" {
			t.Errorf("DL3015 is ignored in .hadolint.yaml but apt-no-install-recommends fired")
		}
		if f.Rule == "unused-suppression" {
			t.Errorf("inline ignores are disabled, so no comment is a waiver: %s", f.Message)
		}
	}
}

// FuzzAnalyze: any input gets a result, never an internal error, within
// bounded time.
func FuzzAnalyze(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/corpus/*/Dockerfile")
	for i, s := range seeds {
		if i%4 != 0 {
			continue
		}
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("FROM a\nRUN <<EOF\n$(\nEOF\n"))
	f.Add([]byte("FROM a\nONBUILD RUN x \\\n"))
	a := newAnalyzer()
	f.Fuzz(func(t *testing.T, src []byte) {
		start := time.Now()
		fr, _ := a.AnalyzeSource(t.Context(), "Dockerfile", src, nil, nil)
		if strings.HasPrefix(fr.Error, "internal error") {
			t.Fatalf("%s\ninput: %q", fr.Error, src)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("analysis took %v", d)
		}
	})
}

// TestExpansionBombs: Dockerfiles whose ARG/ENV values grow exponentially
// (1.4 KB of them killed the server through BuildKit's eager expansion) are
// reported and never handed to BuildKit, by the analysis or by the
// patcher's conversion check.
func TestExpansionBombs(t *testing.T) {
	for _, name := range []string{"env-doubling", "arg-doubling", "label-fanout", "heredoc-doubling"} {
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile("testdata/corpus/bad/" + name + ".Dockerfile")
			if err != nil {
				t.Fatal(err)
			}
			fr, _ := newAnalyzer().AnalyzeSource(t.Context(), "Dockerfile", src, nil, nil)
			if fr.Error != "" {
				t.Fatalf("error %q, want findings", fr.Error)
			}
			found := false
			for _, f := range fr.Findings {
				found = found || f.Rule == "variable-expansion-too-large"
			}
			if !found {
				t.Errorf("no variable-expansion-too-large finding in %v", fr.Findings)
			}
			if err := fr.ConvertError(t.Context()); err == nil || !strings.Contains(err.Error(), "not converted") {
				t.Errorf("ConvertError = %v, want the expansion refusal", err)
			}
			if err := analyzer.ConvertLLB(t.Context(), src); err == nil || !strings.Contains(err.Error(), "not converted") {
				t.Errorf("ConvertLLB = %v, want the expansion refusal", err)
			}
		})
	}
}
