package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// InlineConfigFile finds configuration files spelled out inside the
// Dockerfile and moves them into real files.
var InlineConfigFile = &analyzer.Rule{
	ID:       "inline-config-file",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityInfo,
	Title:    "Configuration file written inline in the Dockerfile",
	Rationale: `A configuration file assembled with echo, printf or a heredoc inside the Dockerfile cannot be ` +
		`read, diffed, linted or tested as the file it is, and quoting mistakes (an unescaped $, a missing ` +
		`\n) only show up in the running container. A real file in the repository, copied with COPY, is ` +
		`reviewed like any other code and keeps the Dockerfile about how the image is built. A heredoc ` +
		`(COPY <<EOF, or cat <<EOF in a RUN) keeps its text as written, so it is reported only from 25 lines, ` +
		`where the file is better read on its own.`,
	Bad: "FROM nginx:1.29-alpine\nRUN printf 'server {\\n  listen 8080;\\n  root /usr/share/nginx/html;\\n}\\n' \\\n" +
		"    > /etc/nginx/conf.d/default.conf\n",
	Good:      "FROM nginx:1.29-alpine\nCOPY default.conf /etc/nginx/conf.d/default.conf\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		used := map[string]bool{}
		for in := range p.File.Each("") {
			switch in.Keyword {
			case "RUN":
				checkInlineRun(p, in, used)
			case "COPY", "ADD":
				checkHeredocCopy(p, in, used)
			}
		}
	},
}

// inlineMinLines is the size from which a file is worth its own file.
const inlineMinLines = 4

// heredocCopyMinLines is that size for a COPY heredoc, which keeps the
// text as written: only a long one is better read as a file.
const heredocCopyMinLines = 25

func checkInlineRun(p *analyzer.Pass, in *analyzer.Instruction, used map[string]bool) {
	if in.Script == nil || in.Script.File == nil || in.Script.Err != nil {
		return
	}
	ws := extractInlineWrites(in.Script, in.WorkdirBefore(), echoInterpretsEscapes(in.Stage))
	for _, w := range ws.writes {
		if !w.heredoc && !looksLikeConfig(w.target) {
			continue
		}
		n := strings.Count(strings.TrimSuffix(w.content, "\n"), "\n") + 1
		if n < inlineMinLines || w.heredoc && n < heredocCopyMinLines {
			// A heredoc, like a COPY heredoc, keeps its text as written.
			continue
		}
		msg := fmt.Sprintf("%s (%d lines) is written inline by this RUN; keep it as a file beside the Dockerfile and COPY it", w.target, n)
		var fix *analyzer.Fix
		switch {
		case w.why != "":
			msg += " (no fix: " + w.why + ")"
		case len(ws.writes) != 1 || ws.other > 0:
			msg += " (no fix: the RUN does more than write this file)"
		case in.Onbuild != nil || in.Stage == nil:
		default:
			fix = extractFix(p, in, w.target, w.content, used, "")
		}
		reportNamingContextFiles(p, in, msg, fix, "the file the fix writes")
	}
}

func checkHeredocCopy(p *analyzer.Pass, in *analyzer.Instruction, used map[string]bool) {
	c, ok := in.Command.(*instructions.CopyCommand)
	if !ok || len(c.SourceContents) == 0 {
		return
	}
	for _, sc := range c.SourceContents {
		n := strings.Count(strings.TrimSuffix(sc.Data, "\n"), "\n") + 1
		if n < heredocCopyMinLines {
			// A COPY heredoc writes the text as it stands, with none of
			// echo's quoting traps: a short one is a deliberate choice,
			// and moving it to a file of its own is churn.
			continue
		}
		dest := c.DestPath
		target := dest
		if strings.HasSuffix(dest, "/") {
			target = path.Join(dest, sc.Path)
		}
		msg := fmt.Sprintf("%s (%d lines) is written inline by a COPY heredoc; keep it as a file beside the Dockerfile and COPY it", target, n)
		var fix *analyzer.Fix
		switch {
		case sc.Expand && strings.ContainsAny(sc.Data, "$\\"):
			msg += " (no fix: the heredoc expands build variables)"
		case len(c.SourceContents) != 1 || len(c.SourcePaths) != 0 || in.Onbuild != nil:
		default:
			fix = extractFix(p, in, target, sc.Data, used, dest)
		}
		reportNamingContextFiles(p, in, msg, fix, "the file the fix writes")
	}
}

// extractFix writes content to a new file beside the Dockerfile and
// replaces the instruction with a COPY of it. dest is what the new COPY
// names as destination ("" for target).
func extractFix(p *analyzer.Pass, in *analyzer.Instruction, target, content string, used map[string]bool, dest string) *analyzer.Fix {
	bc := p.Context
	if bc == nil {
		return nil
	}
	name := path.Base(target)
	dfDir := path.Dir(p.File.Path)
	var gen, src string
	for _, cand := range []string{path.Join(dfDir, name), path.Join(dfDir, "config", name)} {
		rel, ok := relUnder(bc.Dir, cand)
		if !ok || bc.Has(rel) || used[cand] || cand == p.File.Path || bc.DockerIgnore.Excludes(rel) {
			continue
		}
		gen, src = cand, rel
		break
	}
	if gen == "" {
		return nil
	}
	used[gen] = true
	if dest == "" {
		dest = target
	}
	head := "COPY"
	if in.Keyword == "COPY" || in.Keyword == "ADD" {
		// Keep the keyword and flags as written (--chown, --chmod …).
		head = strings.TrimRight(string(p.File.Source[in.Start:in.ArgsStart]), " \t")
	} else {
		head = matchCase("COPY", in.Written)
	}
	repl := head + " " + quoteCopy(src) + " " + quoteCopy(dest)
	end := in.End
	for end > in.Start && (p.File.Source[end-1] == '\n' || p.File.Source[end-1] == '\r') {
		// The last instruction of a file ends after its newline; keep it.
		end--
	}
	return &analyzer.Fix{
		Message: "move the file to " + gen + " and COPY it",
		Edits:   []analyzer.TextEdit{{Start: in.Start, End: end, New: repl}},
		Files:   []analyzer.GeneratedFile{{Path: gen, Content: content, Why: "configuration extracted from an inline RUN"}},
	}
}

func quoteCopy(s string) string {
	if strings.ContainsAny(s, " \t\"'$") {
		return `"` + strings.NewReplacer(`"`, `\"`, `$`, `\$`).Replace(s) + `"`
	}
	return s
}

// relUnder returns p relative to dir when p is inside dir.
func relUnder(dir, p string) (string, bool) {
	if dir == "." || dir == "" {
		return p, !strings.HasPrefix(p, "../")
	}
	rel, ok := strings.CutPrefix(p, dir+"/")
	return rel, ok
}

// looksLikeConfig reports paths that hold configuration.
func looksLikeConfig(p string) bool {
	if strings.HasPrefix(p, "/etc/") {
		return true
	}
	switch path.Ext(p) {
	case ".conf", ".cfg", ".ini", ".json", ".yaml", ".yml", ".toml", ".properties", ".xml", ".env":
		return true
	}
	return strings.HasSuffix(path.Base(p), "rc")
}

// echoInterpretsEscapes reports whether `echo -e` is understood by the
// stage's /bin/sh (bash and busybox do; Debian's dash prints "-e").
func echoInterpretsEscapes(s *analyzer.Stage) bool {
	if s == nil {
		return false
	}
	if len(s.Shell) > 0 && strings.HasSuffix(s.Shell[0], "bash") {
		return true
	}
	return s.Root().Base.Distro() == "alpine"
}

// inlineWrite is one file a RUN script writes with echo, printf or cat.
type inlineWrite struct {
	target  string
	content string
	heredoc bool
	// why is set when the exact content cannot be known.
	why string
}

type inlineWrites struct {
	writes []*inlineWrite
	// other counts statements that do something else.
	other int
}

// extractInlineWrites finds the files a script writes and computes the
// bytes the shell would write, where that can be known statically.
func extractInlineWrites(sc *analyzer.Script, workdir string, echoE bool) inlineWrites {
	var res inlineWrites
	cmds := map[*syntax.CallExpr]analyzer.Command{}
	for _, c := range sc.Commands() {
		cmds[c.Call] = c
	}
	byTarget := map[string]*inlineWrite{}
	var leaves []*syntax.Stmt
	var flatten func(st *syntax.Stmt)
	flatten = func(st *syntax.Stmt) {
		if b, ok := st.Cmd.(*syntax.BinaryCmd); ok && b.Op == syntax.AndStmt {
			flatten(b.X)
			flatten(b.Y)
			return
		}
		leaves = append(leaves, st)
	}
	for _, st := range sc.File.Stmts {
		flatten(st)
	}
	var mkdirs []string
	for _, st := range leaves {
		call, ok := st.Cmd.(*syntax.CallExpr)
		if !ok {
			res.other++
			continue
		}
		c, ok := cmds[call]
		if !ok {
			res.other++
			continue
		}
		var out, hdoc *syntax.Redirect
		for _, r := range st.Redirs {
			switch r.Op {
			case syntax.RdrOut, syntax.AppOut, syntax.RdrClob:
				if r.N == nil || r.N.Value == "1" {
					out = r
				}
			case syntax.Hdoc, syntax.DashHdoc:
				hdoc = r
			}
		}
		if out == nil {
			switch {
			case c.Name == "set":
			case c.Name == "mkdir" && c.HasShortFlag('p'):
				for _, a := range c.Positional() {
					mkdirs = append(mkdirs, analyzer.ResolvePath(workdir, a.Value))
				}
			default:
				res.other++
			}
			continue
		}
		targetWord := literalOf(out.Word)
		if targetWord == "" {
			res.other++
			continue
		}
		target := analyzer.ResolvePath(workdir, targetWord)
		var content, why string
		isHeredoc := false
		switch c.Name {
		case "echo":
			content, why = echoContent(c, echoE)
		case "printf":
			content, why = printfContent(c)
		case "cat":
			if hdoc == nil || len(c.Positional()) > 0 {
				res.other++
				continue
			}
			isHeredoc = true
			content, why = heredocContent(hdoc)
		default:
			res.other++
			continue
		}
		w := byTarget[target]
		switch {
		case out.Op == syntax.AppOut && w == nil:
			w = &inlineWrite{target: target, why: "it appends to a file the base image may already have"}
			byTarget[target] = w
			res.writes = append(res.writes, w)
		case out.Op != syntax.AppOut && w != nil:
			w.content, w.why = "", ""
		case w == nil:
			w = &inlineWrite{target: target}
			byTarget[target] = w
			res.writes = append(res.writes, w)
		}
		w.heredoc = w.heredoc || isHeredoc
		w.content += content
		if why != "" && w.why == "" {
			w.why = why
		}
	}
	for _, d := range mkdirs {
		covered := false
		for _, w := range res.writes {
			covered = covered || strings.HasPrefix(w.target, strings.TrimSuffix(d, "/")+"/")
		}
		if !covered {
			res.other++
		}
	}
	return res
}

// literalOf returns a word's value when it is literal text that the shell
// neither expands nor globs.
func literalOf(w *syntax.Word) string {
	v, ok := analyzer.Literal(w)
	if !ok || w == nil {
		return ""
	}
	for _, part := range w.Parts {
		if lit, ok := part.(*syntax.Lit); ok && strings.ContainsAny(lit.Value, "*?[") {
			return ""
		}
	}
	return v
}

func echoContent(c analyzer.Command, echoE bool) (string, string) {
	args := c.Args
	newline, escapes := true, false
	for len(args) > 0 {
		f := args[0].Value
		if len(f) < 2 || f[0] != '-' || strings.Trim(f[1:], "neE") != "" {
			break
		}
		for _, r := range f[1:] {
			switch r {
			case 'n':
				newline = false
			case 'e':
				escapes = true
			case 'E':
				escapes = false
			}
		}
		args = args[1:]
	}
	var parts []string
	why := ""
	for _, a := range args {
		if a.Dynamic {
			why = "the text holds shell expansions"
		}
		parts = append(parts, a.Value)
	}
	s := strings.Join(parts, " ")
	switch {
	case escapes && !echoE:
		why = "echo -e behaves differently under this image's /bin/sh"
	case escapes:
		if bad := unportable(s, false); bad == "" {
			// Without arguments Format reads escapes only, as echo -e does.
			s, _, _ = expand.Format(&expand.Config{}, s, nil)
		} else {
			why = "unsupported escape sequence"
		}
	case strings.Contains(s, `\`):
		why = "echo's handling of backslashes differs between shells"
	}
	if newline {
		s += "\n"
	}
	return s, why
}

func printfContent(c analyzer.Command) (string, string) {
	if len(c.Args) == 0 {
		return "", "printf without a format"
	}
	why := ""
	for _, a := range c.Args {
		if a.Dynamic {
			why = "the text holds shell expansions"
		}
	}
	format := c.Args[0].Value
	if format == "--" && len(c.Args) > 1 {
		format = c.Args[1].Value
		c.Args = c.Args[1:]
	}
	args := make([]string, 0, len(c.Args)-1)
	for _, a := range c.Args[1:] {
		args = append(args, a.Value)
	}
	switch bad := unportable(format, true); {
	case bad == "" || bad == "%":
	case strings.HasPrefix(bad, "%"):
		why = "unsupported printf conversion " + bad
	default:
		// Count lines the way the file would have them.
		return strings.ReplaceAll(format, `\n`, "\n"), "unsupported printf format"
	}
	// printf reuses its format until the arguments run out. Each call
	// gets a Config of its own: with nil, mvdan/sh prepares one shared
	// package-level Config in place (and its string builder), which
	// files analyzed at once raced on, now and then panicking the rule.
	var out strings.Builder
	for {
		s, used, err := expand.Format(&expand.Config{}, format, args)
		if err != nil {
			return strings.ReplaceAll(format, `\n`, "\n"), "unsupported printf format"
		}
		out.WriteString(s)
		args = args[used:]
		if used == 0 || len(args) == 0 {
			break
		}
	}
	return out.String(), why
}

// portableEscapes are the backslash escapes every /bin/sh's printf and
// echo -e read alike. mvdan/sh's Format, which does the interpreting, knows
// bash's (\x, \u, \e …), which dash prints as they are written.
const portableEscapes = `ntr\"'a`

// unportable returns the first escape or, in a printf format, conversion
// whose output could depend on the shell ("\x", "%d"), "%" for a format
// that ends in one, or "" when the text means the same everywhere.
func unportable(s string, format bool) string {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			if !strings.ContainsRune(portableEscapes, rune(s[i])) {
				return s[i-1 : i+1]
			}
		case format && s[i] == '%' && i+1 >= len(s):
			return "%"
		case format && s[i] == '%':
			i++
			if s[i] != '%' && s[i] != 's' {
				return s[i-1 : i+1]
			}
		}
	}
	return ""
}

// heredocContent returns the body of a heredoc as the shell writes it.
func heredocContent(r *syntax.Redirect) (string, string) {
	if r.Hdoc == nil {
		return "", "empty heredoc"
	}
	quoted := false
	for _, part := range r.Word.Parts {
		switch part := part.(type) {
		case *syntax.SglQuoted, *syntax.DblQuoted:
			quoted = true
		case *syntax.Lit:
			if strings.Contains(part.Value, `\`) {
				quoted = true
			}
		}
	}
	var b strings.Builder
	why := ""
	for _, part := range r.Hdoc.Parts {
		lit, ok := part.(*syntax.Lit)
		if !ok {
			why = "the heredoc expands shell variables"
			b.WriteString("$")
			continue
		}
		if !quoted && strings.ContainsAny(lit.Value, "\\`$") {
			why = "the heredoc expands shell variables"
		}
		b.WriteString(lit.Value)
	}
	s := b.String()
	if r.Op == syntax.DashHdoc {
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimLeft(l, "\t")
		}
		s = strings.Join(lines, "\n")
	}
	return s, why
}
