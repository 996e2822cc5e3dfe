package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// Budgets of one `dockopt analyze` on hostile input (issue #14). CPU time
// is the budget, so that a machine shared with other work does not fail
// the test (a wall-time budget of 30 s did: the 20,000-file case took
// 33.6 s of wall time on two cores at a load average of 10);
// a hang is caught by killing the process after hostileKill.
const (
	hostileCPU    = 10 * time.Second
	hostileKill   = 60 * time.Second
	hostileMemory = 512 << 20
)

// hostileCase is one input and what must come of it: a clear error or a
// correct result.
type hostileCase struct {
	name string
	// setup writes the input under dir and returns the folder under dir
	// the command runs in ("" for dir) and its arguments.
	setup func(t *testing.T, dir string) (string, []string)
	check func(t *testing.T, dir string, r hostileRun)
}

type hostileRun struct {
	code           int
	stdout, stderr string
	wall, cpu      time.Duration
	maxRSS         int64
}

// json decodes the JSON output, failing the test when it is not JSON.
func (r hostileRun) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("output is not JSON (%v); exit %d, stderr:\n%s", err, r.code, r.stderr)
	}
	return v
}

func symlink(t *testing.T, dir, name, target string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

const analyzerMaxInstructions = analyzer.MaxInstructions

// repeated is a Dockerfile of n copies of a line after FROM.
func repeated(n int, line string) string {
	return "FROM debian:12\n" + strings.Repeat(line+"\n", n)
}

// doubling is a Dockerfile whose variables double 64 times: 1.4 KB that
// expanded would need exabytes.
func doubling(keyword string) string {
	var b strings.Builder
	b.WriteString("FROM alpine:3.20\n" + keyword + " E0=xxxxxxxxxxxxxxxx\n")
	for i := 1; i <= 64; i++ {
		fmt.Fprintf(&b, "%s E%d=${E%d}${E%d}\n", keyword, i, i-1, i-1)
	}
	return b.String()
}

// corpusBad names a Dockerfile of the analyzer's corpus of bad input.
func corpusBad(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "analyzer", "testdata", "corpus", "bad", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// analyzes expects a correct result: JSON with the file analyzed, not
// refused, and exit 0 or 1.
func analyzes(t *testing.T, _ string, r hostileRun) {
	t.Helper()
	v := r.json(t)
	if r.code != 0 && r.code != 1 {
		t.Errorf("exit %d, want 0 or 1; stderr:\n%s", r.code, r.stderr)
	}
	for _, f := range v["files"].([]any) {
		if e, _ := f.(map[string]any)["error"].(string); e != "" {
			t.Errorf("%v was not analyzed: %s", f.(map[string]any)["path"], e)
		}
	}
}

// says expects the output (JSON's skipped, limits or an error) or stderr
// to hold every text.
func says(texts ...string) func(t *testing.T, dir string, r hostileRun) {
	return func(t *testing.T, _ string, r hostileRun) {
		t.Helper()
		for _, s := range texts {
			if !strings.Contains(r.stdout, s) && !strings.Contains(r.stderr, s) {
				t.Errorf("output does not say %q; exit %d\nstdout: %.2000s\nstderr: %s", s, r.code, r.stdout, r.stderr)
			}
		}
	}
}

// saysNot expects neither the output nor stderr to hold text.
func saysNot(text string) func(t *testing.T, dir string, r hostileRun) {
	return func(t *testing.T, _ string, r hostileRun) {
		t.Helper()
		if strings.Contains(r.stdout, text) || strings.Contains(r.stderr, text) {
			t.Errorf("output says %q; exit %d\nstdout: %.2000s\nstderr: %s", text, r.code, r.stdout, r.stderr)
		}
	}
}

// both runs two checks.
func both(a, b func(t *testing.T, dir string, r hostileRun)) func(t *testing.T, dir string, r hostileRun) {
	return func(t *testing.T, dir string, r hostileRun) { a(t, dir, r); b(t, dir, r) }
}

// exits expects an exit status.
func exits(code int) func(t *testing.T, dir string, r hostileRun) {
	return func(t *testing.T, _ string, r hostileRun) {
		t.Helper()
		if r.code != code {
			t.Errorf("exit %d, want %d; stderr:\n%s", r.code, code, r.stderr)
		}
	}
}

// keepsSecret expects nothing from outside the analyzed folder in the
// output, and the outside files unchanged.
func keepsSecret(t *testing.T, dir string, r hostileRun) {
	t.Helper()
	if strings.Contains(r.stdout, "SECRET") || strings.Contains(r.stderr, "SECRET") {
		t.Errorf("the output holds a file from outside the analyzed folder:\n%.2000s\n%s", r.stdout, r.stderr)
	}
	for name, want := range outsideFiles {
		got, err := os.ReadFile(filepath.Join(dir, "outside", name))
		if err != nil || string(got) != want {
			t.Errorf("outside/%s changed: %q, %v", name, got, err)
		}
	}
}

// outsideFiles are what symbolic links in the analyzed folders point at.
var outsideFiles = map[string]string{
	"Dockerfile":  "FROM debian:12\nRUN echo SECRET && apt-get install -y curl\n",
	"ignore":      "SECRET\n",
	"dockopt.yml": "rules:\n  SECRET: off\n",
}

func withOutside(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{}
	for name, content := range outsideFiles {
		files["outside/"+name] = content
	}
	testfiles.Write(t, dir, files)
}

func hostileCases() []hostileCase {
	one := func(content string, args ...string) func(t *testing.T, dir string) (string, []string) {
		return func(t *testing.T, dir string) (string, []string) {
			testfiles.Write(t, dir, map[string]string{"repo/Dockerfile": content})
			return "", append(append([]string{"analyze"}, args...), "repo")
		}
	}
	bad := func(name string) func(t *testing.T, dir string) (string, []string) {
		return func(t *testing.T, dir string) (string, []string) {
			return "", []string{"analyze", "--format", "json", corpusBad(t, name)}
		}
	}
	return []hostileCase{
		{"ENV doubling 64 times", one(doubling("ENV"), "--format", "json"), says("variable-expansion-too-large")},
		{"ARG doubling 64 times", one(doubling("ARG"), "--format", "json"), says("variable-expansion-too-large")},
		{"heredoc of doubled ARGs", bad("heredoc-doubling.Dockerfile"), says("variable-expansion-too-large")},
		{"LABEL fan-out", bad("label-fanout.Dockerfile"), exits(1)},
		{"deep subshells", bad("deep-subshells.Dockerfile"), analyzes},
		{"deep command substitution", bad("deep-command-substitution.Dockerfile"), analyzes},
		// A file BuildKit cannot parse is unreadable input: exit 2.
		{"256 KB line", bad("long-line.Dockerfile"), both(exits(2), says("line greater than max"))},
		{"many continuations", bad("many-continuations.Dockerfile"), analyzes},
		{"many stages", bad("many-stages.Dockerfile"), analyzes},
		{"binary file", bad("binary.Dockerfile"), says("binary")},
		{"invalid UTF-8", bad("invalid-utf8.Dockerfile"), says("UTF-8")},
		{"10k RUN lines (json)", one(repeated(10000, "RUN apt-get install -y curl"), "--format", "json"),
			both(analyzes, says("BuildKit's own checks were not run"))},
		{"16k RUN lines (json)", one(repeated(16000, "RUN apt-get install -y curl"), "--format", "json"), analyzes},
		{"16k RUN lines (sarif)", one(repeated(16000, "RUN apt-get install -y curl"), "--format", "sarif"), says("toolExecutionNotifications")},
		{"16k RUN lines (markdown)", one(repeated(16000, "RUN apt-get install -y curl"), "--format", "markdown"), says("## What this analysis did not cover")},
		{"1,999 RUN lines, fixes past BuildKit's limit", one(repeated(1999, "RUN apt-get install -y curl"), "--format", "json"), analyzes},
		{"100k LABEL lines (with FROM, the most analyzed)", one(repeated(analyzerMaxInstructions-1, "LABEL a=b"), "--format", "json"), analyzes},
		{"100k USER lines", one(repeated(analyzerMaxInstructions-1, "USER a"), "--format", "json"), analyzes},
		{"19,999 one-word RUNs", one(repeated(19999, "RUN a"), "--format", "json"), analyzes},
		{"1 MiB of one-word RUNs", one(repeated(174000, "RUN a"), "--format", "json"), says("Dockerfiles with more than 100000 are not analyzed")},
		{"20,001 one-word RUNs", one(repeated(20001, "RUN a"), "--format", "json"), says("Dockerfiles with more than 20000 are not analyzed")},
		{"just over 1 MiB", one("FROM debian:12\n# "+strings.Repeat("x", 1<<20)+"\n", "--format", "json"), says("Dockerfiles that large are not analyzed")},
		// package-cache-mount-missing asks, for every install, what each
		// earlier instruction put in the cache: minutes for either file
		// until that question stopped at its first answer and cost a few
		// comparisons per instruction.
		{"19,999 RUN npm ci (what fills a cache, per RUN)", one(repeated(19999, "RUN npm ci"), "--format", "json"), analyzes},
		{"3k COPY . /root/ then 3k RUN npm ci", one(repeated(3000, "COPY . /root/")+strings.Repeat("RUN npm ci\n", 3000), "--format", "json"), analyzes},
		{"8k rm of what an earlier RUN wrote", one(repeated(4000, "RUN curl -o /tmp/x https://x\nRUN rm -rf /tmp"), "--format", "json"), analyzes},
		// apt-no-install-recommends reads the comments above each
		// install for one that wants the recommended packages: once read
		// the whole block, again for every line of it, for every install.
		{"10k comment lines above 300 installs on one line", one("FROM debian:12\n"+strings.Repeat("# c\n", 10000)+
			"RUN "+strings.Repeat("apt-get install -y a; ", 300)+"true\n", "--format", "json"), analyzes},
		// full-base-image asks whether package-lock.json records each git
		// devDependency of an install that omits dev: it parsed the whole
		// lockfile again for every one.
		{"7k git devDependencies, each in a 800 KB package-lock.json", func(t *testing.T, dir string) (string, []string) {
			var dev, locked []string
			for i := range 7000 {
				dev = append(dev, fmt.Sprintf(`"d%d": "github:o/r%d#main"`, i, i))
				locked = append(locked, fmt.Sprintf(`"node_modules/d%d": {"version": "1.0.0", "resolved": "git+ssh://git@github.com/o/r%d.git#abc", "dev": true}`, i, i))
			}
			testfiles.Write(t, dir, map[string]string{
				"repo/Dockerfile":        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci --omit=dev\nCOPY . .\nCMD [\"node\", \"index.js\"]\n",
				"repo/package.json":      `{"name": "x", "dependencies": {"a": "1"}, "devDependencies": {` + strings.Join(dev, ", ") + `}}`,
				"repo/package-lock.json": `{"name": "x", "lockfileVersion": 3, "packages": {"": {"name": "x"}, ` + strings.Join(locked, ", ") + `}}`,
				"repo/index.js":          "x\n",
			})
			return "", []string{"analyze", "--format", "json", "repo"}
		}, analyzes},
		{"40k-line heredoc", one("FROM debian:12\nRUN <<EOF\n"+strings.Repeat("apt-get install -y curl\n", 40000)+"EOF\n", "--format", "markdown"),
			says("would be larger than the 1 MiB")},
		{"200k-deep subshell", one("FROM debian:12\nRUN "+strings.Repeat("( \\\n", 200000)+"true\n", "--format", "json"), analyzes},
		{"10k chained stages", one("FROM debian:12 AS s0\n"+func() string {
			var b strings.Builder
			for i := range 9999 {
				fmt.Fprintf(&b, "FROM s%d AS s%d\nRUN apt-get install -y curl\n", i, i+1)
			}
			return b.String()
		}(), "--format", "json"), analyzes},
		{"5k stages, each a piped RUN and a piped HEALTHCHECK", one("FROM alpine:3.21 AS s0\n"+func() string {
			var b strings.Builder
			for i := range 4999 {
				fmt.Fprintf(&b, "FROM s%d AS s%d\nRUN wget -O- http://x/%d | tar -x\nHEALTHCHECK CMD wget -q -O- http://127.0.0.1/ | grep -q ok\n", i, i+1, i)
			}
			return b.String()
		}(), "--format", "json"), analyzes},
		{"10k accounts given sudo", one("FROM ubuntu:24.04\n"+func() string {
			var b strings.Builder
			for i := range 10000 {
				fmt.Fprintf(&b, "RUN useradd -m u%d && echo \"u%d ALL=(ALL) NOPASSWD:ALL\" > /etc/sudoers.d/u%d\n", i, i, i)
			}
			return b.String()
		}(), "--format", "json"), analyzes},
		// Four checks of one session were quadratic before these cases
		// (a review measured 8 to 210 s): one walk of a RUN's script per
		// go command, the user asked per RUN, the cgo verdict per port,
		// .npmrc read per npm install.
		{"20k go builds of one RUN, the probe copied to distroless", one("FROM golang:1.23 AS build\nRUN "+strings.Repeat("export CGO_ENABLED=0 && go build -o /o/p . && \\\n", 20000)+
			"true\nFROM gcr.io/distroless/static-debian12\nCOPY --from=build /o/p /bin/grpc_health_probe\nEXPOSE 50051\nENTRYPOINT [\"/bin/grpc_health_probe\"]\n", "--format", "json"), analyzes},
		{"40k ENV then 15k RUN apt-get installs, tini to join", one("FROM python:3.12-slim\n"+strings.Repeat("ENV a=1\n", 40000)+
			strings.Repeat("RUN apt-get update && apt-get install -y x\n", 15000)+"CMD [\"python\", \"app.py\"]\n", "--format", "json"), analyzes},
		{"20k EXPOSE of a gRPC probe copied to distroless", one("FROM golang:1.23 AS build\nRUN go install github.com/grpc-ecosystem/grpc-health-probe@v0.4.34\n"+
			"FROM gcr.io/distroless/static-debian12\nCOPY --from=build /go/bin/grpc-health-probe /bin/grpc_health_probe\n"+func() string {
			var b strings.Builder
			for i := range 20000 {
				fmt.Fprintf(&b, "EXPOSE %d\n", 30000+i)
			}
			return b.String()
		}()+"ENTRYPOINT [\"/app\"]\n", "--format", "json"), analyzes},
		{"20k RUN make over a 1 MiB Makefile", func(t *testing.T, dir string) (string, []string) {
			testfiles.Write(t, dir, map[string]string{"repo/Dockerfile": "FROM debian:12\nCOPY . /src\n" + strings.Repeat("RUN make build\n", 19990),
				"repo/Makefile": strings.Repeat("x:\n\techo hi\n", 100000)})
			return "", []string{"analyze", "--format", "json", "repo"}
		}, analyzes},
		{"10k ENV, COPY . ., then 10k COPY --from that stage", one("FROM node:20 AS deps\nWORKDIR /app\n"+strings.Repeat("ENV a=1\n", 10000)+
			"COPY . .\nFROM node:20-slim\nCOPY . /x\n"+strings.Repeat("COPY --from=deps /app/node_modules/a node_modules/a\n", 9980), "--format", "json"), analyzes},
		{"18k RUN apt-get install, then 40 RUN of 9k-line context scripts on node:20", func(t *testing.T, dir string) (string, []string) {
			files := map[string]string{"repo/Dockerfile": "FROM node:20\nWORKDIR /app\nCOPY . .\n" + strings.Repeat("RUN apt-get install -y git\n", 18000) + func() string {
				var b strings.Builder
				for i := range 40 {
					fmt.Fprintf(&b, "RUN ./s%d.sh\n", i)
				}
				return b.String()
			}() + "CMD [\"node\", \"server.js\"]\n"}
			for i := range 40 {
				files[fmt.Sprintf("repo/s%d.sh", i)] = strings.Repeat("make x && tar -xzf a.tgz\n", 9000)
			}
			testfiles.Write(t, dir, files)
			return "", []string{"analyze", "--format", "json", "repo"}
		}, analyzes},
		{"19k RUN npm ci under a 1 MiB .npmrc", func(t *testing.T, dir string) (string, []string) {
			testfiles.Write(t, dir, map[string]string{"repo/Dockerfile": repeated(19000, "RUN npm ci"),
				"repo/.npmrc": strings.Repeat("registry=https://registry.npmjs.org/\n", 27000) + "cache=./vendor/npm-cache\n",
				"repo/go.mod": "module x\n"})
			return "", []string{"analyze", "--format", "json", "repo"}
		}, analyzes},
		{"20,000 Dockerfiles", func(t *testing.T, dir string) (string, []string) {
			files := map[string]string{}
			for i := range 20000 {
				files[fmt.Sprintf("repo/s%05d/Dockerfile", i)] = "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nCOPY . /app\n"
			}
			testfiles.Write(t, dir, files)
			return "", []string{"analyze", "--format", "json", "repo"}
		}, says("only the first 2000 Dockerfiles")},
		{"config: alias bomb", func(t *testing.T, dir string) (string, []string) {
			anchor := "a: &a [" + strings.Repeat("x,", 12000) + "x]\n"
			testfiles.Write(t, dir, map[string]string{"repo/Dockerfile": "FROM debian:12\n",
				"repo/.github/dockopt.yml": anchor + "b: [" + strings.Repeat("*a,", 19000) + "*a]\n"})
			return "", []string{"analyze", "--format", "json", "repo"}
		}, both(exits(2), says("aliases"))},
		{"config: two YAML documents", func(t *testing.T, dir string) (string, []string) {
			testfiles.Write(t, dir, map[string]string{"repo/Dockerfile": "FROM debian:12\n", "repo/.github/dockopt.yml": "rules: {}\n---\nrules: {}\n"})
			return "", []string{"analyze", "--format", "json", "repo"}
		}, both(exits(2), says("2 YAML documents"))},
		{"config: oversized .hadolint.yaml", func(t *testing.T, dir string) (string, []string) {
			testfiles.Write(t, dir, map[string]string{"repo/Dockerfile": "FROM debian:12\n", "repo/.hadolint.yaml": "ignored:\n" + strings.Repeat("  - DL3008\n", 30000)})
			return "", []string{"analyze", "--format", "json", "repo"}
		}, both(says(".hadolint.yaml is larger than 256 KiB and was not read"), func(t *testing.T, _ string, r hostileRun) {
			// Like an unknown key in a file that was read, it is a warning
			// on stderr as well as a limit in the output.
			if !strings.Contains(r.stderr, "dockopt analyze: warning: .hadolint.yaml is larger than 256 KiB and was not read") {
				t.Errorf("stderr does not warn of the file left unread:\n%s", r.stderr)
			}
		})},
		{"fixes with no fixed point", one("ARG REG0000Y\nARG $ARSION 000000\nFROM 000000000000000000000000$A0RSION\nCOPY 000 0000\n", "--format", "markdown"),
			func(t *testing.T, dir string, r hostileRun) {
				says("failed verification (no fixed point after 10 passes), so none of its fixes is proposed")(t, dir, r)
				if strings.Contains(r.stdout, "## Files modified or created") {
					t.Errorf("a file that failed verification is changed:\n%s", r.stdout)
				}
			}},
		// A FIFO blocks the open of a reader until a writer comes: a
		// local folder (not a git checkout, which holds none) stopped
		// dockopt for good with one named like a file it reads.
		{"FIFOs named package.json, .dockerignore and a compose file's Dockerfile", func(t *testing.T, dir string) (string, []string) {
			testfiles.Write(t, dir, map[string]string{"repo/Dockerfile": "FROM node:20\nCOPY . /app\nCMD [\"node\", \"/app\"]\n",
				"repo/compose.yaml": "services:\n  web:\n    build:\n      context: .\n      dockerfile: deploy/Dockerfile\n"})
			for _, name := range []string{"package.json", ".dockerignore", "deploy/Dockerfile"} {
				p := filepath.Join(dir, "repo", filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := syscall.Mkfifo(p, 0o644); err != nil {
					t.Skipf("no FIFOs here: %v", err)
				}
			}
			return "", []string{"analyze", "--format", "json", "repo"}
			// The FIFO .dockerignore is listed as not read, and not called
			// missing (its fix would have replaced it).
		}, both(both(exits(2), says(`"path": "deploy/Dockerfile"`, "not a regular file or folder", `"rule": "final-user-root"`)),
			both(says(`"path": ".dockerignore",`+"\n"+`      "reason": "not a regular file or folder`), saysNot("dockerignore-missing")))},
		{"link: walk", func(t *testing.T, dir string) (string, []string) {
			withOutside(t, dir)
			testfiles.Write(t, dir, map[string]string{"repo/Dockerfile": "FROM debian:12\n"})
			symlink(t, dir, "repo/Dockerfile.prod", "../outside/Dockerfile")
			return "", []string{"analyze", "--format", "json", "repo"}
		}, both(keepsSecret, says(`"path": "Dockerfile.prod"`, "a symbolic link that leads outside the analyzed folder"))},
		{"link: compose", func(t *testing.T, dir string) (string, []string) {
			withOutside(t, dir)
			testfiles.Write(t, dir, map[string]string{"repo/Dockerfile": "FROM debian:12\n",
				"repo/compose.yaml": "services:\n  web:\n    build:\n      context: .\n      dockerfile: deploy/Dockerfile\n"})
			symlink(t, dir, "repo/deploy/Dockerfile", "../../outside/Dockerfile")
			return "", []string{"analyze", "--format", "markdown", "repo"}
		}, both(keepsSecret, says("`deploy/Dockerfile` was not read"))},
		{"link: config", func(t *testing.T, dir string) (string, []string) {
			withOutside(t, dir)
			testfiles.Write(t, dir, map[string]string{"repo/Dockerfile": "FROM debian:12\n"})
			symlink(t, dir, "repo/.github/dockopt.yml", "../../outside/dockopt.yml")
			return "", []string{"analyze", "repo"}
		}, both(both(keepsSecret, exits(2)), says(".github/dockopt.yml: a symbolic link that leads outside"))},
		{"link: .dockerignore with --fix", func(t *testing.T, dir string) (string, []string) {
			withOutside(t, dir)
			testfiles.Write(t, dir, map[string]string{"repo/Dockerfile": "FROM node:20\nCOPY . /app\nRUN npm install\n", "repo/package.json": "{}"})
			symlink(t, dir, "repo/.dockerignore", "../outside/ignore")
			return "", []string{"analyze", "--fix", "--apply", "review", "repo"}
			// It is listed as not read, never called missing: a new one
			// would replace the linked one the builder reads.
		}, both(both(keepsSecret, exits(1)), both(says("not read  .dockerignore: a symbolic link that leads outside"), saysNot("dockerignore-missing")))},
		{"link: --out OUT ../../r1 ../../r2", func(t *testing.T, dir string) (string, []string) {
			testfiles.Write(t, dir, map[string]string{"r1/Dockerfile": "FROM debian:12\nRUN apt-get install -y curl\n",
				"r2/Dockerfile": "FROM debian:12\nRUN apt-get install -y curl\n", "a/b/.keep": ""})
			return "a/b", []string{"analyze", "--out", "OUT", "../../r1", "../../r2"}
		}, func(t *testing.T, dir string, r hostileRun) {
			exits(2)(t, dir, r)
			says("../../r1/Dockerfile would be written outside OUT", "nothing was written")(t, dir, r)
			for _, p := range []string{"a/b/OUT", "r1/Dockerfile.optimized", "r1/REPORT.md", "REPORT.md"} {
				if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
					t.Errorf("%s was written", p)
				}
			}
		}},
	}
}

// runHostile runs the CLI in dir as a child process and measures it. The
// child is started through GNU time when there is one: Go starts children
// with vfork, and the kernel then counts the parent's own peak memory in
// the child's, so the child's peak is read by a forking parent.
func runHostile(t *testing.T, bin, dir string, args []string) hostileRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	argv := append([]string{bin}, args...)
	measure := filepath.Join(t.TempDir(), "time")
	gnuTime, timeErr := exec.LookPath("time")
	if timeErr == nil {
		argv = append([]string{gnuTime, "-f", "%M %U %S", "-o", measure}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// dockopt runs under GNU time: a hang is ended by killing both, as a
	// process group. Killing time alone left dockopt holding the output
	// pipes, and Wait waiting with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var killed atomic.Bool
	timer := time.AfterFunc(hostileKill, func() {
		killed.Store(true)
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	cmd.Wait()
	if !timer.Stop() && killed.Load() {
		t.Fatalf("dockopt %s was killed after %s; stderr:\n%s", strings.Join(args, " "), hostileKill, stderr.String())
	}
	r := hostileRun{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String(), wall: time.Since(start),
		cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss << 10 // kilobytes on Linux
	}
	if timeErr == nil {
		b, err := os.ReadFile(measure)
		var kb int64
		var user, sys float64
		// GNU time reports a signal or an exit status on a line of its own
		// before the figures.
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if _, serr := fmt.Sscanf(lines[len(lines)-1], "%d %f %f", &kb, &user, &sys); err != nil || serr != nil {
			t.Fatalf("reading GNU time's figures %q: %v %v", b, err, serr)
		}
		r.maxRSS, r.cpu = kb<<10, time.Duration((user+sys)*float64(time.Second))
	}
	return r
}

// TestHostileInputs runs `dockopt analyze` as a child process on each
// hostile input of issue #14 and its relatives, within a time and memory
// budget, and checks that it ends with a clear error or a correct result.
// With -v it prints a table of the inputs, their time and peak memory.
func TestHostileInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("the hostile inputs take a minute")
	}
	bin, err := exec.LookPath("dockopt")
	if err != nil {
		t.Skip("dockopt is not on PATH (TestMain puts it there)")
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-48s %8s %8s %9s %5s\n", "input", "wall s", "cpu s", "peak MiB", "exit")
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cwd, args := c.setup(t, dir)
			r := runHostile(t, bin, filepath.Join(dir, cwd), args)
			fmt.Fprintf(&table, "%-48s %8.2f %8.2f %9.0f %5d\n", c.name, r.wall.Seconds(), r.cpu.Seconds(), float64(r.maxRSS)/(1<<20), r.code)
			if r.wall >= hostileKill {
				t.Fatalf("killed after %v", hostileKill)
			}
			if r.cpu > hostileCPU {
				t.Errorf("used %v of CPU, budget %v", r.cpu, hostileCPU)
			}
			if r.maxRSS > hostileMemory {
				t.Errorf("peak memory %d MiB, budget %d MiB", r.maxRSS>>20, hostileMemory>>20)
			}
			c.check(t, dir, r)
		})
	}
	if testing.Verbose() {
		fmt.Print(table.String())
	}
}
