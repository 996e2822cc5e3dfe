package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/imagedata"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// FullBaseImage suggests the slim variant of the final stage's image.
var FullBaseImage = &analyzer.Rule{
	ID:       "full-base-image",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityInfo,
	Title:    "Final stage on a full-size image where a slim variant exists",
	Rationale: `The default tags of the language images carry a complete build toolchain — compilers, headers, ` +
		`version control, hundreds of libraries — that a service rarely needs at run time. They are several ` +
		`times the size of the slim or alpine variants, take longer to pull on every deploy and scale-out, ` +
		`and every extra package is one more source of vulnerability reports. Keep the full image for build ` +
		`stages and run on the smallest variant that works.`,
	Bad:       "FROM python:3.12\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n",
	Good:      "FROM python:3.12-slim\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		final := p.File.FinalStage()
		root := final.Root()
		ref := root.Base
		if ref.Unresolved {
			return
		}
		alt, ok := imagedata.SlimAlternative(ref)
		if !ok {
			return
		}
		msg := fmt.Sprintf("the final image is built on %s; %s is much smaller", root.BaseRaw, alt)
		if full, _, ok := imagedata.CompressedSizeMB(ref); ok {
			if slim, _, ok := imagedata.CompressedSizeMB(analyzer.ParseImageRef(alt)); ok {
				msg = fmt.Sprintf("the final image is built on %s (about %.0f MB compressed); %s is about %.0f MB, roughly %.0f MB less to store and pull (approximate published sizes for linux/amd64 as of %s)",
					root.BaseRaw, full, alt, slim, full-slim, imagedata.AsOf())
			}
		}
		if ref.Name() == "golang" {
			msg += "; build the binary in a golang stage and copy it into " + alt
		}
		var fix *analyzer.Fix
		name := ref.Name()
		if (name == "python" || name == "node") && !ref.Pinned() && !strings.Contains(root.BaseRaw, "$") {
			if ok, why := p.RuntimeChangeAllowed(final); !ok {
				// A base image's users build on what the full image has.
				msg += "; " + why
			} else if why := needsFullImage(p.Context, final, ref, alt); why != "" {
				msg += "; no fix proposed because " + why
			} else {
				fix = slimFix(p.File, root, alt)
			}
		}
		p.Report(root.From, msg, fix)
	},
}

// nativeBuildPackages are packages whose presence means the stage
// compiles native code, which the slim images cannot do out of the box.
var nativeBuildPackages = []string{"gcc", "g++", "build-essential", "make", "cmake", "node-gyp", "python3-dev",
	"python-dev", "libffi-dev", "libssl-dev", "libpq-dev", "default-libmysqlclient-dev", "musl-dev", "clang", "cargo", "rustc"}

// needsFullImage says why the final stage, built on full, may depend on
// it rather than on its slim variant alt, "" when nothing suggests it does.
func needsFullImage(bc *analyzer.BuildContext, final *analyzer.Stage, full analyzer.ImageRef, alt string) string {
	pkgs := installedPackages(final, slices.Concat(osInstallers, languageInstallers)...)
	for _, n := range nativeBuildPackages {
		if pkgs[n] {
			return "the stage installs " + n + " to compile native code"
		}
	}
	if tool := slimLacks(final, full, alt, pkgs); tool != "" {
		return "it runs " + tool + ", which " + full.Raw + " ships and " + alt + " does not"
	}
	for _, in := range final.LineageInstructions() {
		if in.Script == nil {
			continue
		}
		for _, c := range in.Script.Commands() {
			switch c.Name {
			case "gcc", "g++", "make", "cc", "node-gyp", "git":
				if !pkgs[c.Name] {
					return "it runs " + c.Name + ", which the slim image does not have"
				}
			}
		}
	}
	if bc != nil {
		for _, lock := range []string{"package-lock.json", "npm-shrinkwrap.json"} {
			if b, err := bc.ReadFile(lock); err == nil && (strings.Contains(string(b), `"gypfile": true`) || strings.Contains(string(b), `"node_modules/node-gyp"`)) {
				return lock + " holds packages built with node-gyp, which needs the compilers of the full image"
			}
		}
	}
	return ""
}

// slimLacks returns a command the stage runs (in a RUN, or as the
// program of a CMD, ENTRYPOINT or HEALTHCHECK) that the full image ships,
// the slim image alt is known not to, and the stage does not install by
// that name; "" when there is none. curl piped into a shell on the full
// python image is the common case: on -slim the build fails.
func slimLacks(final *analyzer.Stage, full analyzer.ImageRef, alt string, installed map[string]bool) string {
	fullImage, fullKnown := analyzer.ImageContents(full)
	slimImage, slimKnown := analyzer.ImageContents(analyzer.ParseImageRef(alt))
	if !fullKnown || !slimKnown {
		return ""
	}
	lacks := func(name string) bool {
		name = path.Base(name)
		inFull, _ := fullImage.Tool(name)
		inSlim, known := slimImage.Tool(name)
		return inFull && known && !inSlim && !installed[name]
	}
	for _, in := range final.LineageInstructions() {
		if in.Script != nil {
			for _, c := range in.Script.Commands() {
				if lacks(c.Name) {
					return c.Name
				}
			}
			continue
		}
		if program := startProgram(in); program != "" && lacks(program) {
			return path.Base(program)
		}
	}
	return ""
}

// startProgram returns the program a CMD, ENTRYPOINT or HEALTHCHECK runs
// first: the first word of its command, in either form; "" for other
// instructions.
func startProgram(in *analyzer.Instruction) string {
	var words []string
	shell := false
	switch c := in.Command.(type) {
	case *instructions.CmdCommand:
		words, shell = c.CmdLine, c.PrependShell
	case *instructions.EntrypointCommand:
		words, shell = c.CmdLine, c.PrependShell
	case *instructions.HealthCheckCommand:
		if c.Health != nil && len(c.Health.Test) > 1 {
			words, shell = c.Health.Test[1:], c.Health.Test[0] == "CMD-SHELL"
		}
	}
	if shell && len(words) > 0 {
		words = strings.Fields(words[0])
	}
	if len(words) == 0 {
		return ""
	}
	return words[0]
}

// slimFix rewrites the tag of the FROM image word.
func slimFix(d *analyzer.Dockerfile, root *analyzer.Stage, alt string) *analyzer.Fix {
	_, newTag, ok := strings.Cut(alt, ":")
	if !ok {
		return nil
	}
	for _, w := range rawWords(d, root.From.ArgsStart, root.From.End) {
		if w.Text != root.BaseRaw {
			continue
		}
		img := w.Text
		if root.Base.Tag != "" {
			img = strings.TrimSuffix(img, ":"+root.Base.Tag)
		}
		return &analyzer.Fix{
			Message: "run on " + alt + " (check that the service needs nothing the full image adds)",
			Edits:   []analyzer.TextEdit{{Start: w.Start, End: w.End, New: img + ":" + newTag}},
		}
	}
	return nil
}
