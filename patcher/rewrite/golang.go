package rewrite

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// GoRuntimeImage has no shell, no package manager and a non-root user: a
// static Go binary needs nothing else.
const GoRuntimeImage = "gcr.io/distroless/static-debian12:nonroot"

// goBuildValued are go build flags that take the next word as value.
var goBuildValued = []string{"-o", "-tags", "-ldflags", "-gcflags", "-mod", "-p", "-pkgdir", "-buildmode", "-modfile", "-overlay", "-C"}

// assetExtensions are files a Go service may read at run time, which a
// distroless image would not have unless they are embedded.
var assetExtensions = []string{".html", ".tmpl", ".gohtml", ".tpl", ".css", ".js", ".sql", ".yaml", ".yml", ".toml", ".json", ".env", ".pem"}

func planGo(o *original) (*Rewrite, *Withheld) {
	if o.stage.Base.Name() != "golang" || !o.bc.Has("go.mod") {
		return nil, nil
	}
	if o.setsEnvValue("CGO_ENABLED", "1") {
		return nil, nil
	}
	var build *analyzer.Command
	cmds, ok := classify(o, func(c analyzer.Command) step {
		if c.Name != "go" || len(c.Args) == 0 {
			return stepUnknown
		}
		switch c.Args[0].Value {
		case "mod":
			return stepNoop
		case "build", "install":
			if build != nil {
				return stepUnknown
			}
			cc := c
			build = &cc
			return stepBuild
		case "vet", "test", "generate":
			return stepUnknown
		}
		return stepUnknown
	})
	if !ok || hasStep(cmds, stepPackages) {
		// OS packages mean cgo or tools at run time; neither fits a
		// static, shell-less image.
		return nil, nil
	}
	pkgs, extra, binary, ok := goTarget(o, build)
	if !ok || hasRuntimeAssets(o.bc) {
		return nil, nil
	}
	for _, in := range o.copies {
		srcs, rel, dirDest, ok := copySources(o, in)
		if !ok || !mirrorsContext(o.bc, srcs, rel, dirDest) {
			return nil, nil
		}
	}
	if w := goPreconditions(o, cmds); w != nil {
		return nil, w
	}
	mods := []string{"go.mod"}
	if o.bc.Has("go.sum") {
		mods = append(mods, "go.sum")
	}
	name := path.Base(binary)
	if name == "." || name == "/" || name == "" {
		name = "app"
	}
	bin := "/usr/local/bin/" + name
	if len(o.cmd) > 0 && path.IsAbs(o.cmd[0]) && !strings.HasPrefix(o.cmd[0], "/go/") && !inRootHome(o.cmd[0]) {
		// The path the original runs is the one people and manifests
		// name (docker run IMAGE /app/worker, a pod's command): kept,
		// unless it is in /root, which the nonroot user cannot enter.
		bin = o.cmd[0]
	}
	entrypoint := o.setsEntrypoint()

	var w dockerfile
	w.b.WriteString(o.headerText())
	w.line("# build compiles a static binary; BuildKit keeps the module and build caches.")
	w.line("FROM %s AS build", o.stage.BaseRaw)
	w.raw(o.args...)
	var runtimeEnv []string
	for _, e := range o.envs {
		if goOnly(e.keys) {
			w.raw(e.text)
		} else {
			runtimeEnv = append(runtimeEnv, e.text)
		}
	}
	modCache, buildCache := analyzer.Go.Caches[0].In("golang", nil), analyzer.Go.Caches[1].In("golang", nil)
	w.line("WORKDIR /src")
	w.line("COPY %s ./", strings.Join(mods, " "))
	vendored := o.bc.Has("vendor/modules.txt")
	if !vendored {
		w.line("RUN --mount=type=cache,target=%s go mod download", modCache)
	}
	w.line("COPY . .")
	args := append([]string{"go", "build", "-trimpath", `-ldflags="-s -w"`}, extra...)
	args = append(args, "-o", bin)
	args = append(args, pkgs...)
	w.line("RUN --mount=type=cache,target=%s \\\n    --mount=type=cache,target=%s \\\n    CGO_ENABLED=0 %s", modCache, buildCache, strings.Join(args, " "))
	w.blank()
	w.line("FROM %s", GoRuntimeImage)
	w.raw(o.labels...)
	w.raw(runtimeEnv...)
	w.line("COPY --from=build %s %s", bin, bin)
	w.raw(o.keep...)
	// By number, which the runtime can check (runAsNonRoot) and
	// user-non-numeric asks for; the image's own USER is this one.
	w.line("USER 65532:65532")
	if len(o.ports) > 0 {
		w.line("EXPOSE %s", joinPorts(o.ports))
	}
	// Only HEALTHCHECK NONE gets this far (goPreconditions).
	w.raw(o.health)
	if entrypoint {
		w.line("ENTRYPOINT %s", execForm([]string{bin}))
		if len(o.cmdArgs()) > 0 {
			w.line("CMD %s", execForm(o.cmdArgs()))
		}
	} else {
		// A CMD stays a CMD: docker run IMAGE ARGS… replaces it, as
		// before, instead of passing ARGS to the binary.
		w.line("CMD %s", execForm(append([]string{bin}, o.cmdArgs()...)))
	}

	rw := &Rewrite{
		Title:   titleGo,
		Content: w.bytes(),
		Resolves: []string{"build-toolchain-in-final-image", "final-user-root", "full-base-image", "exec-form-cmd",
			"package-cache-mount-missing"},
	}
	rw.Explanation = append(rw.Explanation,
		fmt.Sprintf("A build stage on `%s` copies %s first and downloads modules with a cache mount, then builds with the module and build caches mounted: rebuilds after a source change reuse both.", o.stage.BaseRaw, code(mods)),
		"`CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\"` makes a static binary without local paths or debug symbols, so it runs on an image with no C library.",
		fmt.Sprintf("The runtime is `%s`: no shell, no package manager, no Go toolchain — only the binary, run as `nonroot` (uid 65532).", GoRuntimeImage),
		startExplanation(entrypoint, bin),
	)
	if len(o.cmd) > 0 && inRootHome(o.cmd[0]) {
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("The binary moves from `%s` to `%s`: /root is mode 700, and the nonroot user could not run it there. A command or manifest that names the old path must change with it.", o.cmd[0], bin))
	}
	if f, ok := dockerignore(o, []string{".git", "*.test", "*.out", "coverage.*"}, nil, mods); ok {
		rw.Files = append(rw.Files, f)
		rw.Explanation = append(rw.Explanation, "`.dockerignore` keeps `.git` and test output out of the build context.")
	}
	return rw, nil
}

// startExplanation describes how the rewritten image starts its binary.
func startExplanation(entrypoint bool, bin string) string {
	if entrypoint {
		return fmt.Sprintf("`ENTRYPOINT [\"%s\"]` is exec form, so the binary is PID 1 and receives `SIGTERM` directly.", bin)
	}
	return fmt.Sprintf("The start stays a `CMD`, now in exec form with `%s` first: the binary is PID 1 and receives `SIGTERM` directly, and `docker run` arguments replace the command as before.", bin)
}

// setsEntrypoint reports whether the original's final stage, or a stage it
// builds on, sets an ENTRYPOINT.
func (o *original) setsEntrypoint() bool {
	for s := o.d.FinalStage(); s != nil; s = s.BaseStage {
		for _, in := range s.Instructions {
			if in.Keyword == "ENTRYPOINT" {
				return true
			}
		}
	}
	return false
}

// goPreconditions are what the Go rewrite must know before it is offered.
// Its runtime is fixed: distroless, no shell, the nonroot user, only the
// binary. So each precondition withholds the whole rewrite: the image's
// role; no folder the original prepares (the runtime gets none); a user
// that can run the process (no port below 1024, nothing written as root);
// no HEALTHCHECK to carry (nothing in distroless could run it); no cgo
// (the binary is built with CGO_ENABLED=0).
func goPreconditions(o *original, cmds []command) *Withheld {
	withhold := func(pc analyzer.Precondition, why string) *Withheld {
		return &Withheld{Kind: analyzer.KindGoService, Title: titleGo, Precondition: pc, Reason: why}
	}
	if w := o.roleWithheld(analyzer.KindGoService, titleGo); w != nil {
		return w
	}
	// The module files the rewrite copies by name are in the context.
	mods := []string{"go.mod"}
	if o.bc.Has("go.sum") {
		mods = append(mods, "go.sum")
	}
	if why := o.ignoredWithheld(mods); why != "" {
		return withhold(analyzer.PreconditionContext, why)
	}
	for _, c := range cmds {
		if c.step == stepChown || c.cmd.Name == "mkdir" {
			return withhold(analyzer.PreconditionUnknown, fmt.Sprintf("%s on line %d prepares the image, and the distroless runtime receives only the binary", c.cmd.Name, o.d.Line(c.cmd.Start)))
		}
	}
	ports := goListenPorts(o.runArgs)
	for _, p := range ports {
		if p < 1024 {
			return withhold(analyzer.PreconditionPort, fmt.Sprintf("the binary listens on port %d, which the distroless runtime's nonroot user cannot bind", p))
		}
	}
	if p, why := o.facts().PrivilegedPort(); p != 0 {
		return withhold(analyzer.PreconditionPort, why+", and the distroless runtime runs as nonroot")
	}
	if ok, why := o.userAllowed(ports); !ok {
		return withhold(analyzer.PreconditionUser, why+"; the distroless runtime runs as nonroot")
	}
	if o.healthIn != nil && !strings.Contains(o.health, "NONE") {
		return withhold(analyzer.PreconditionTool, "the original HEALTHCHECK needs a program the distroless runtime does not have (no shell, curl or wget); dropping it would hide a failing service")
	}
	if f := cgoFile(o.bc); f != "" {
		return withhold(analyzer.PreconditionTool, f+` imports "C" (cgo), which a binary built with CGO_ENABLED=0 for a runtime without a C library cannot use`)
	}
	return nil
}

// goListenPorts reads the ports a Go binary's arguments name: ":8080",
// "0.0.0.0:8080", "-port 8080", "--port=8080".
func goListenPorts(args []string) []int {
	var out []int
	for i, a := range args {
		v := a
		if k, val, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "-") {
			v = val
		} else if strings.HasPrefix(a, "-") {
			continue
		} else if i > 0 && !strings.Contains(a, ":") && !strings.Contains(strings.ToLower(args[i-1]), "port") {
			continue
		}
		if m := goPortArg.FindStringSubmatch(v); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

var goPortArg = regexp.MustCompile(`^(?:(?:[\w.-]*|\[[0-9a-fA-F:]*\]):)?(\d{1,5})$`)

// cgoFile returns a Go file (of the first 200) that uses cgo, "" for none.
func cgoFile(bc *analyzer.BuildContext) string {
	read := 0
	for _, f := range bc.Files {
		if path.Ext(f) != ".go" || strings.HasSuffix(f, "_test.go") || strings.HasPrefix(f, "vendor/") || read > 200 {
			continue
		}
		read++
		if b, err := bc.ReadFile(f); err == nil && cgoImport.Match(b) {
			return f
		}
	}
	return ""
}

var cgoImport = regexp.MustCompile(`(?m)^import\s+"C"\s*$`)

// setsEnvValue reports an ENV of the original setting key to value.
func (o *original) setsEnvValue(key, value string) bool {
	for _, in := range o.stage.Instructions {
		if in.Keyword != "ENV" {
			continue
		}
		for _, a := range in.Args {
			if a == key+"="+value {
				return true
			}
		}
		if len(in.Args) >= 2 && in.Args[0] == key && in.Args[1] == value {
			return true
		}
	}
	return false
}

func goOnly(keys []string) bool {
	for _, k := range keys {
		if !strings.HasPrefix(k, "GO") && !strings.HasPrefix(k, "CGO_") {
			return false
		}
	}
	return true
}

// goTarget finds what to build and how the original runs it: from its go
// build command and a CMD naming the output, or from `go run PKG`.
func goTarget(o *original, build *analyzer.Command) (pkgs, extra []string, binary string, ok bool) {
	words := o.cmd
	if len(words) >= 2 && words[0] == "go" && words[1] == "run" {
		if build != nil {
			return nil, nil, "", false
		}
		rest := words[2:]
		for len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
			return nil, nil, "", false
		}
		if len(rest) == 0 {
			return nil, nil, "", false
		}
		pkg := rest[0]
		o.runArgs = rest[1:]
		if strings.HasSuffix(pkg, ".go") {
			pkg = "."
		}
		return []string{pkg}, nil, moduleName(o.bc), true
	}
	if build == nil || !plainWords(words) {
		return nil, nil, "", false
	}
	args := build.Args[1:]
	out := ""
	for i := 0; i < len(args); i++ {
		v := args[i].Value
		switch {
		case v == "-o" && i+1 < len(args):
			out = args[i+1].Value
			i++
		case v == "-tags" && i+1 < len(args):
			extra = append(extra, "-tags", args[i+1].Value)
			i++
		case strings.HasPrefix(v, "-tags="):
			extra = append(extra, v)
		case slices.Contains(goBuildValued, v):
			// Options this rewrite would have to merge with its own.
			return nil, nil, "", false
		case strings.HasPrefix(v, "-"):
			if v == "-v" || v == "-trimpath" || v == "-a" || v == "-x" {
				continue
			}
			if strings.HasPrefix(v, "-ldflags") || strings.HasPrefix(v, "-o=") {
				return nil, nil, "", false
			}
		default:
			pkgs = append(pkgs, v)
		}
	}
	if len(pkgs) == 0 {
		pkgs = []string{"."}
	}
	if build.Args[0].Value == "install" {
		out = path.Join("/go/bin", path.Base(strings.TrimSuffix(pkgs[0], "/...")))
	}
	if out == "" {
		// go build names the binary after the module or folder; trust the
		// CMD that runs it.
		out = words[0]
	}
	absOut := out
	if !path.IsAbs(absOut) {
		absOut = path.Join(o.workdir, out)
	}
	first := words[0]
	if !path.IsAbs(first) {
		first = path.Join(o.workdir, first)
	}
	if first != absOut && path.Base(words[0]) != path.Base(out) {
		return nil, nil, "", false
	}
	o.runArgs = words[1:]
	return pkgs, extra, out, true
}

// moduleName is the last element of the module path, the name `go build`
// gives the binary of the module's root package.
func moduleName(bc *analyzer.BuildContext) string {
	b, err := bc.ReadFile("go.mod")
	if err != nil {
		return "app"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			name := path.Base(strings.Trim(f[1], `"`))
			if strings.HasPrefix(name, "v") && len(name) > 1 && strings.Trim(name[1:], "0123456789") == "" {
				name = path.Base(path.Dir(strings.Trim(f[1], `"`)))
			}
			return name
		}
	}
	return "app"
}

func (o *original) cmdArgs() []string { return o.runArgs }

// hasRuntimeAssets reports files a Go service may read at run time that
// the sources do not embed; shipping only the binary would lose them.
func hasRuntimeAssets(bc *analyzer.BuildContext) bool {
	assets := false
	for _, f := range bc.Files {
		if strings.HasPrefix(f, ".") || strings.Contains(f, "/.") || strings.HasPrefix(f, "testdata/") || strings.Contains(f, "/testdata/") ||
			strings.HasPrefix(f, "vendor/") || strings.HasPrefix(f, "docs/") {
			continue
		}
		if slices.Contains(assetExtensions, path.Ext(f)) && !strings.HasPrefix(path.Base(f), "docker-compose") {
			assets = true
			break
		}
	}
	if !assets {
		return false
	}
	read := 0
	for _, f := range bc.Files {
		if path.Ext(f) != ".go" || strings.HasSuffix(f, "_test.go") || read > 200 {
			continue
		}
		read++
		if b, err := bc.ReadFile(f); err == nil && bytes.Contains(b, []byte("//go:embed")) {
			return false
		}
	}
	return true
}
