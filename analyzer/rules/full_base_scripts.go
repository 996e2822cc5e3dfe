package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"mvdan.cc/sh/v3/syntax"
)

// maxScriptRead bounds a context script read for the commands it runs.
const maxScriptRead = 256 << 10

// slimLacksInScripts looks past the RUN lines into what they run: a shell
// script of the build context (./scripts/fetch.sh, sh build.sh) and the
// package.json scripts of npm run, yarn and pnpm. It returns why the slim
// image alt would fail them: a command of theirs the full image ships and
// alt does not, or a script it cannot read to tell; "" when neither.
func slimLacksInScripts(p *analyzer.Pass, sf *analyzer.StageFacts, final *analyzer.Stage, full analyzer.ImageRef, alt string) string {
	slimImage, slimKnown := analyzer.ImageContents(analyzer.ParseImageRef(alt))
	if !slimKnown {
		return ""
	}
	lacking := func(name string, at int) bool {
		st := sf.ToolAtOffset(at, name)
		if st.Presence != analyzer.Present || st.Line != 0 {
			return false
		}
		inSlim, known := slimImage.Tool(path.Base(name))
		return known && !inSlim
	}
	lineage := final.LineageInstructions()
	copies := contextCopies(lineage)
	// Each script is read once, and only the first few distinct ones: a
	// file of thousands of RUN ./x.sh stays linear.
	const maxScripts = 32
	checked := map[string]scriptNeed{}
	for i, in := range lineage {
		if in.Keyword != "RUN" || in.Script == nil {
			continue
		}
		for _, c := range in.Script.Commands() {
			var names []string
			if script, ok := scriptRun(in, c); ok {
				names = append(names, "file:"+script)
			}
			for _, name := range packageScriptsRun(c) {
				names = append(names, "npm:"+name)
			}
			for _, key := range names {
				need, seen := checked[key]
				if !seen {
					if len(checked) >= maxScripts {
						continue
					}
					need = scriptNeeds(p, key, copies, i, func(n string) bool { return lacking(n, c.Start) })
					checked[key] = need
				}
				if need.tool != "" {
					return fmt.Sprintf("%s, which line %d runs, runs %s: %s ships it and %s does not", need.script, in.StartLine, need.tool, full.Raw, alt)
				}
			}
		}
	}
	return ""
}

// scriptNeed is the first command a script runs that the slim image
// lacks (tool "" for none), and how the script is named in a message.
type scriptNeed struct{ script, tool string }

// scriptNeeds reads the script key names (file:/image/path or npm:name)
// for the first command it runs that lacking says the slim image does not
// have; none when it is not the context's to read (the base image's, one
// a RUN wrote, a package.json without it).
func scriptNeeds(p *analyzer.Pass, key string, copies []contextCopy, before int, lacking func(string) bool) scriptNeed {
	if p.Context == nil {
		return scriptNeed{}
	}
	kind, name, _ := strings.Cut(key, ":")
	if kind == "npm" {
		if p.Context.Package == nil {
			return scriptNeed{}
		}
		return scriptNeed{fmt.Sprintf("the package.json script %q", name), firstLacking(p.Context.Package.Scripts[name], lacking)}
	}
	rel, found := contextFileAt(copies, before, name)
	if !found {
		return scriptNeed{}
	}
	b, err := p.Context.ReadFile(rel)
	if err != nil || len(b) > maxScriptRead {
		return scriptNeed{}
	}
	return scriptNeed{rel, firstLacking(string(b), lacking)}
}

// scriptRun returns the image path of a shell script a command runs:
// ./x.sh or a path as the command, or the file of sh/bash FILE.
func scriptRun(in *analyzer.Instruction, c analyzer.Command) (string, bool) {
	file, name := "", commandWord(c)
	switch {
	case c.Name == "sh" || c.Name == "bash":
		if len(c.Args) == 0 || strings.HasPrefix(c.Args[0].Value, "-") || c.Args[0].Dynamic {
			return "", false
		}
		file = c.Args[0].Value
	case strings.HasPrefix(name, "./") || strings.Contains(name, "/") && strings.HasSuffix(name, ".sh"):
		file = name
	default:
		return "", false
	}
	if strings.Contains(file, "$") {
		return "", false
	}
	return analyzer.ResolvePath(in.WorkdirBefore(), file), true
}

// commandWord is the command as written (./scripts/x.sh), where Name is
// its base name.
func commandWord(c analyzer.Command) string {
	if c.Call != nil {
		for _, w := range c.Call.Args {
			if lit := w.Lit(); lit != "" && path.Base(lit) == c.Name {
				return lit
			}
		}
	}
	return c.Name
}

// contextCopy is a COPY of context sources (no --from, no ADD), at its
// position in the lineage, with its destination resolved.
type contextCopy struct {
	at      int
	dest    string
	rawDest string
	sources []string
}

func contextCopies(lineage []*analyzer.Instruction) []contextCopy {
	var out []contextCopy
	for i, x := range lineage {
		c, ok := copyOf(x)
		if !ok || c.from != "" || c.add {
			continue
		}
		out = append(out, contextCopy{at: i, dest: analyzer.ResolvePath(x.WorkdirBefore(), c.dest), rawDest: c.dest, sources: c.contextSources()})
	}
	return out
}

// contextFileAt maps an image path back to the build context file the
// last copy before position before put there: from a copy of the whole
// context, of a folder, or of the file itself. Copies from stages, images
// and URLs, and anything a RUN may have written since, are not followed.
func contextFileAt(copies []contextCopy, before int, imagePath string) (string, bool) {
	for i := len(copies) - 1; i >= 0; i-- {
		c := copies[i]
		if c.at >= before {
			continue
		}
		for _, s := range slices.Backward(c.sources) {
			if strings.ContainsAny(s, "*?[$") {
				continue
			}
			src := path.Clean(strings.TrimPrefix(s, "/"))
			under, ok := strings.CutPrefix(imagePath, strings.TrimSuffix(c.dest, "/")+"/")
			switch {
			case isWholeContext(s):
				if ok {
					return under, true
				}
			case imagePath == c.dest || imagePath == path.Join(c.dest, path.Base(src)) && (strings.HasSuffix(c.rawDest, "/") || len(c.sources) > 1):
				return src, true
			case ok:
				return path.Join(src, under), true
			}
		}
	}
	return "", false
}

// packageScriptsRun returns the package.json scripts a command runs: npm
// run X (with its pre and post scripts), npm start/test, yarn X, pnpm X.
func packageScriptsRun(c analyzer.Command) []string {
	if len(c.Args) == 0 {
		return nil
	}
	sub, rest := c.Args[0].Value, c.Args[1:]
	name := ""
	switch c.Name {
	case "npm":
		switch sub {
		case "run", "run-script":
			if len(rest) > 0 {
				name = rest[0].Value
			}
		case "start", "test":
			name = sub
		}
	case "yarn", "pnpm":
		switch {
		case sub == "run" && len(rest) > 0:
			name = rest[0].Value
		case !strings.HasPrefix(sub, "-") && !slices.Contains([]string{"install", "add", "remove", "exec", "dlx", "create", "global", "config", "cache", "why", "info", "list", "ls", "import", "fetch", "store"}, sub):
			name = sub
		}
	}
	if name == "" || strings.HasPrefix(name, "-") {
		return nil
	}
	return []string{"pre" + name, name, "post" + name}
}

// firstLacking parses a shell script and returns the first command it
// runs for which lacking is true; a script that does not parse returns "".
func firstLacking(src string, lacking func(string) bool) string {
	if strings.TrimSpace(src) == "" {
		return ""
	}
	f, err := syntax.NewParser().Parse(strings.NewReader(src), "")
	if err != nil {
		return ""
	}
	found := ""
	syntax.Walk(f, func(n syntax.Node) bool {
		if found != "" {
			return false
		}
		if call, ok := n.(*syntax.CallExpr); ok && len(call.Args) > 0 {
			if name := call.Args[0].Lit(); name != "" && lacking(name) {
				found = path.Base(name)
				return false
			}
		}
		return true
	})
	return found
}
