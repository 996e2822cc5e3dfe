package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/imagedata"
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
			if why := needsFullImage(p.Context, final); why != "" {
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

// needsFullImage says why the final stage may depend on the full image,
// "" when nothing suggests it does.
func needsFullImage(bc *analyzer.BuildContext, final *analyzer.Stage) string {
	pkgs := installedPackages(final, slices.Concat(osInstallers, languageInstallers)...)
	for _, n := range nativeBuildPackages {
		if pkgs[n] {
			return "the stage installs " + n + " to compile native code"
		}
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
