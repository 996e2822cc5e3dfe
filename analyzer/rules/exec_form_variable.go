package rules

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"
)

// ExecFormVariable finds `CMD ["uvicorn", "main:app", "--port", "$PORT"]`
// and the like in an ENTRYPOINT or HEALTHCHECK: no shell runs in the exec
// form, so the program gets the text "$PORT".
var ExecFormVariable = &analyzer.Rule{
	ID:       "exec-form-variable",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityError,
	Title:    "Exec-form CMD, ENTRYPOINT or HEALTHCHECK passes a variable that nothing expands",
	Rationale: `Docker expands variables in a RUN, COPY or ENV, but never in a CMD, ENTRYPOINT or HEALTHCHECK in exec (JSON) form: ` +
		`there the program is started directly, with no shell, and gets ` + "`$PORT`" + ` as five characters. ` +
		"`CMD [\"uvicorn\", \"main:app\", \"--port\", \"$PORT\"]`" + ` makes uvicorn exit with an invalid port, and the ` +
		`container never serves; ` + "`HEALTHCHECK CMD [\"curl\", \"-f\", \"http://localhost:$PORT/\"]`" + ` gives curl a URL whose port ` +
		`is the text $PORT, which it rejects, so every probe fails and the container is reported unhealthy for good. The official images' docker-entrypoint.sh scripts end in ` + "`exec \"$@\"`" + `, ` +
		`which does not expand either. dockopt reports it only when it knows what receives the words: not a shell ` +
		`with -c (which expands its script), not a script that could evaluate them, not a program that reads ` +
		"`${...}`" + ` placeholders itself (Java: Spring Boot and Quarkus resolve them), and, for a CMD, not behind a ` +
		`base image ENTRYPOINT dockopt does not know unless the CMD plainly starts a program. The fix runs the ` +
		`command through sh -c with ` + "`exec`" + `, so that the program stays the container's main process and gets ` +
		`the signals (a HEALTHCHECK needs no exec), and quotes each variable; it needs review and is offered only where the image has /bin/sh ` +
		`(not on distroless or scratch images).`,
	Bad:       "FROM python:3.12-slim\nRUN pip install --no-cache-dir uvicorn\nCMD [\"uvicorn\", \"main:app\", \"--port\", \"$PORT\"]\n",
	Good:      "FROM python:3.12-slim\nRUN pip install --no-cache-dir uvicorn\nCMD [\"sh\", \"-c\", \"exec uvicorn main:app --port \\\"$PORT\\\"\"]\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		seen := map[*analyzer.Instruction]bool{}
		starts := map[*analyzer.Stage]stageStart{}
		for _, s := range p.File.Stages {
			st := starts[s.BaseStage]
			for _, in := range s.Instructions {
				switch in.Keyword {
				case "ENTRYPOINT":
					st = stageStart{entry: in}
				case "CMD":
					st.cmd = in
				case "HEALTHCHECK":
					st.health = in
				}
			}
			starts[s] = st
			if s.Windows {
				continue
			}
			for _, in := range []*analyzer.Instruction{st.entry, st.cmd, st.health} {
				if in == nil || !in.JSON || seen[in] || !mentionsVariable(in) {
					continue
				}
				seen[in] = true
				checkExecVariables(p, s, in, st.entry)
			}
		}
	},
}

// stageStart is the ENTRYPOINT, CMD and HEALTHCHECK in effect at the end
// of a stage, its own or inherited from the stage it is built on; an
// ENTRYPOINT resets an inherited CMD. Carried from stage to stage, so that
// a file of many chained stages is read once.
type stageStart struct{ entry, cmd, health *analyzer.Instruction }

// mentionsVariable is the cheap test before the facts are asked.
func mentionsVariable(in *analyzer.Instruction) bool {
	words, _ := startForm(in)
	for _, w := range words {
		if strings.Contains(w, "$") {
			return true
		}
	}
	return false
}

// startArgv is the argument vector a start instruction's words end up in.
type startArgv struct {
	words []string
	// own is the index of the instruction's first word in words.
	own int
	// entry is a clause on the ENTRYPOINT a CMD is given to, "" for none.
	entry string
	// unknownEntry is set when the base image's ENTRYPOINT is not known.
	unknownEntry string
	// fixable is false, with why, when rewriting the instruction alone
	// would change what its ENTRYPOINT does.
	fixable bool
	why     string
}

func checkExecVariables(p *analyzer.Pass, s *analyzer.Stage, in, entry *analyzer.Instruction) {
	sf := p.Facts().Stage(s)
	own, _ := startForm(in)
	argv, ok := argvOf(sf, in, entry, own)
	if !ok {
		return
	}
	prog, ok := receivingProgram(argv.words)
	if !ok || prog >= len(argv.words) {
		return
	}
	vars := literalVariables(argv.words, prog, argv.own)
	if len(vars) == 0 {
		return
	}
	their := "its value"
	if len(vars) > 1 {
		their = "their values"
	}
	msg := fmt.Sprintf("%s is in exec (JSON) form, which runs no shell and expands no variables%s: %s receives %s as written, not %s",
		in.Written, argv.entry, path.Base(argv.words[prog]), quoteList(vars), their)
	if argv.unknownEntry != "" {
		msg += fmt.Sprintf(" (assuming the base image's ENTRYPOINT passes the command on unchanged, as entrypoint scripts do with exec \"$@\": %s)", argv.unknownEntry)
	}
	sh := sf.Tool(0, "sh")
	out := throughShell(in.Keyword, own)
	switch {
	case sh.Presence == analyzer.Absent:
		msg += "; the image has no shell to expand it, so give the program the value another way (an environment variable it reads itself, a configuration file)"
	case argv.own == 0 && (argv.fixable || argv.unknownEntry != ""):
		msg += "; run it through a shell, which expands it: " + jsonArgs(out)
	default:
		// The words are another program's arguments: the shell belongs
		// around the whole command, which the ENTRYPOINT shapes.
		msg += "; run the command through a shell that expands it"
	}
	for _, v := range vars {
		if note := variableSource(sf, v); note != "" {
			msg += "; " + note
		}
	}
	if why, pre := fixRefused(p, sh, in, argv); why != "" {
		p.ReportWithheld(in, msg+"; no fix: "+why, pre)
		return
	}
	fix := &analyzer.Fix{
		Message: "run the command through sh -c with exec, so the shell expands the variables and the program stays the main process",
		Edits:   []analyzer.TextEdit{{Start: in.ArgsStart, End: in.ContentEnd(p.File.Source), New: jsonArgs(out)}},
	}
	if in.Keyword == "HEALTHCHECK" {
		// The array follows the CMD word, which stays.
		i := bytes.IndexByte(p.File.Source[in.ArgsStart:in.ContentEnd(p.File.Source)], '[')
		if i < 0 {
			return
		}
		fix.Message = "run the check through sh -c, so the shell expands the variables"
		fix.Edits[0].Start = in.ArgsStart + i
	}
	p.Report(in, msg, fix)
}

// throughShell is the instruction's words run by sh -c with exec, after
// any init, each variable quoted so that it stays one word.
func throughShell(keyword string, words []string) []string {
	if keyword == "HEALTHCHECK" {
		// A check is no main process that signals must reach, and its
		// exit status is the same through sh.
		return []string{"sh", "-c", shellCommand(words)}
	}
	keep := skipInit(words)
	script := "exec " + shellCommand(words[keep:])
	out := append(append([]string(nil), words[:keep]...), "sh", "-c", script)
	if keyword == "ENTRYPOINT" {
		// A CMD or docker run arguments follow the ENTRYPOINT's words:
		// sh -c gives them to the script as "$@" after its $0.
		out[len(out)-1] += ` "$@"`
		out = append(out, "sh")
	}
	return out
}

// fixRefused says why the sh -c rewrite cannot be offered, "" when it can.
func fixRefused(p *analyzer.Pass, sh analyzer.ToolState, in *analyzer.Instruction, argv startArgv) (string, analyzer.Precondition) {
	switch {
	case sh.Presence == analyzer.Absent:
		return sh.Why, analyzer.PreconditionTool
	case !argv.fixable:
		return argv.why, analyzer.PreconditionUnknown
	case hasCommentLine(p.File, in):
		return "the instruction holds comment lines, which a rewrite would drop", analyzer.PreconditionUnknown
	case sh.Presence != analyzer.Present:
		return "/bin/sh is not known to be in the image: " + sh.Why, analyzer.PreconditionTool
	}
	return "", ""
}

// argvOf works out the words a CMD or ENTRYPOINT ends up in: an
// ENTRYPOINT's own, or a CMD after the ENTRYPOINT it is given to.
func argvOf(sf *analyzer.StageFacts, in, entry *analyzer.Instruction, own []string) (startArgv, bool) {
	if in.Keyword == "ENTRYPOINT" || in.Keyword == "HEALTHCHECK" {
		// A HEALTHCHECK runs its words as they are, whatever the
		// ENTRYPOINT.
		return startArgv{words: own, fixable: true}, true
	}
	if entry != nil {
		ew, shell := startForm(entry)
		if shell {
			// A shell-form ENTRYPOINT ignores the CMD.
			return startArgv{}, false
		}
		if skipInit(ew) == len(ew) {
			return startArgv{words: append(append([]string(nil), ew...), own...), own: len(ew), fixable: true}, true
		}
		return startArgv{words: append(append([]string(nil), ew...), own...), own: len(ew),
			entry: fmt.Sprintf(", and it is the arguments of the ENTRYPOINT on line %d", entry.StartLine),
			why:   fmt.Sprintf("the CMD is the arguments of the ENTRYPOINT on line %d; write the whole command as one sh -c there", entry.StartLine)}, true
	}
	ew, _, known, why := sf.InheritedEntrypoint()
	if !known {
		if len(own) == 0 || !programEvident(sf, own[0]) {
			return startArgv{}, false
		}
		return startArgv{words: own, unknownEntry: why, why: "an unknown ENTRYPOINT of the base image would get sh instead of " + own[0]}, true
	}
	k := skipInit(ew)
	switch {
	case k == len(ew):
		return startArgv{words: own, fixable: true}, true
	case passesCommandOn(ew[k]):
		if len(own) == 0 || strings.HasPrefix(own[0], "-") {
			// The script puts its own program first.
			return startArgv{}, false
		}
		a := startArgv{words: own, entry: fmt.Sprintf(", and the base image's ENTRYPOINT %s runs it with exec \"$@\", which expands nothing either", strings.Join(ew, " "))}
		img, _ := sf.BaseImage()
		if passesAnyCommandOn(img.Entry, ew[k]) {
			a.fixable = true
		} else {
			a.why = fmt.Sprintf("the base image's ENTRYPOINT %s treats some first words of the CMD specially, and would get sh instead of %s", strings.Join(ew, " "), own[0])
		}
		return a, true
	case scriptName(ew[k]):
		// A script of the image's own may evaluate what it is given.
		return startArgv{}, false
	}
	return startArgv{words: append(append([]string(nil), ew...), own...), own: len(ew),
		entry: ", and it is the arguments of the base image's ENTRYPOINT " + strings.Join(ew, " "),
		why:   "the CMD is the arguments of the base image's ENTRYPOINT " + strings.Join(ew, " ")}, true
}

// passesCommandOn reports the official images' entrypoint scripts, read
// from their sources: they may set things up, then run the CMD with
// exec "$@", which expands nothing.
func passesCommandOn(word string) bool {
	switch path.Base(word) {
	case "docker-entrypoint.sh", "docker-php-entrypoint", "__cacert_entrypoint.sh":
		return true
	}
	return false
}

// passesAnyCommandOn reports an entrypoint script that treats no command
// specially (only options, or a first word that is no command), so that
// it runs sh -c as it ran the program: node's and bun's docker-entrypoint.sh,
// php's docker-php-entrypoint and eclipse-temurin's certificate script. The
// databases' scripts initialise and drop privileges when the CMD starts
// their server, which sh in its place would skip.
func passesAnyCommandOn(entry, word string) bool {
	switch path.Base(word) {
	case "docker-php-entrypoint", "__cacert_entrypoint.sh":
		return true
	}
	repo, _, _ := strings.Cut(entry, ":")
	return repo == "node" || repo == "oven/bun"
}

// scriptName reports a start word that names a shell script.
func scriptName(word string) bool {
	b := path.Base(word)
	return strings.HasSuffix(b, ".sh") || strings.HasSuffix(b, ".bash") || passesCommandOn(b)
}

// programEvident reports a CMD's first word that is plainly a program:
// a path, a command the image is known to have, or a well-known runtime
// or server, rather than the arguments of an ENTRYPOINT.
func programEvident(sf *analyzer.StageFacts, word string) bool {
	if strings.ContainsAny(word, "$ ") || strings.HasPrefix(word, "-") {
		return false
	}
	if strings.HasPrefix(word, "/") || strings.HasPrefix(word, "./") || wellKnownPrograms[word] {
		return true
	}
	return sf.Tool(0, word).Presence == analyzer.Present
}

var wellKnownPrograms = wordSet("python", "python3", "node", "java", "ruby", "php", "dotnet", "uv", "uvicorn", "gunicorn",
	"hypercorn", "daphne", "granian", "fastapi", "flask", "streamlit", "celery", "rails", "bundle", "puma", "rackup", "deno",
	"poetry", "pipenv")

// receivingProgram returns the index of the program that gets the words,
// after inits and wrappers that pass them on unchanged; ok is false when
// something on the way may expand them (a shell, a script, a package
// script runner) or the program reads $ itself.
func receivingProgram(words []string) (int, bool) {
	i := skipInit(words)
	for i < len(words) {
		b := path.Base(words[i])
		switch {
		case b == "gosu" || b == "su-exec":
			i += 2
		case b == "env":
			i++
			for i < len(words) && (strings.HasPrefix(words[i], "-") || strings.Contains(words[i], "=")) {
				i++
			}
		case b == "nohup":
			i++
		case runners[b] != "" && i+1 < len(words) && words[i+1] == runners[b]:
			// uv run, poetry run, bundle exec: the program is the first
			// word after their options; an option that takes a value
			// makes it unknown, so the runner is named instead.
			j := i + 2
			for j < len(words) && strings.HasPrefix(words[j], "-") {
				j++
			}
			if j == i+2 || strings.Contains(words[j-1], "=") {
				i = j
				continue
			}
			return i, true
		default:
			if shellNames[b] || scriptName(b) || expanders[b] {
				return 0, false
			}
			return i, true
		}
	}
	return 0, false
}

// runners start a program with the words after them, unchanged.
var runners = map[string]string{"uv": "run", "poetry": "run", "pipenv": "run", "pdm": "run", "bundle": "exec", "hatch": "run", "rye": "run"}

// expanders are programs that may run their arguments through a shell
// or read $ in them as their own syntax: su -c, package script runners
// (old npm joined arguments into the script unquoted), make, the text
// tools whose programs use $ (awk, jq, envsubst, nginx directives), and
// other shells and launchers whose handling dockopt does not read.
var expanders = wordSet("su", "sudo", "runuser", "watch", "flock", "script", "xargs", "ssh", "npm", "npx", "yarn", "pnpm",
	"pnpx", "bun", "bunx", "deno", "make", "just", "task", "supervisord", "envsubst", "awk", "gawk", "mawk", "sed", "perl",
	"jq", "yq", "nginx", "php", "fish", "csh", "tcsh", "pwsh", "powershell", "cmd", "execlineb", "with-contenv", "s6-svscan",
	"caddy", "parallel")

// inlineCode flags give an interpreter its source text, where $ belongs
// to the language (python -c, node -e, ruby -e).
var inlineCode = wordSet("-c", "-e", "--eval", "-p", "--print", "--command")

// interpreters take inline code after the flags of inlineCode.
func interpreter(prog string) bool {
	return strings.HasPrefix(prog, "python") || strings.HasPrefix(prog, "pypy") || prog == "node" || prog == "ruby" ||
		prog == "lua" || prog == "Rscript" || prog == "julia" || prog == "elixir"
}

var variableRef = regexp.MustCompile(`\$(\{[A-Z_][A-Z0-9_]*(?:[:?+=-][^}]*)?\}|[A-Z_][A-Z0-9_]*)`)

// literalVariables returns the variables the instruction's own words (from
// index own on) pass to the program at prog, as written: upper-case
// names, the convention of environment variables, and not `\$` or `$$`,
// which read as a literal $ on purpose.
func literalVariables(words []string, prog, own int) []string {
	name := path.Base(words[prog])
	java, code := name == "java", interpreter(name)
	var out []string
	for k := max(prog+1, own); k < len(words); k++ {
		if code && inlineCode[words[k-1]] {
			continue
		}
		w := words[k]
		for _, m := range variableRef.FindAllStringIndex(w, -1) {
			if m[0] > 0 && strings.ContainsRune(`\${`, rune(w[m[0]-1])) {
				continue
			}
			ref := w[m[0]:m[1]]
			if java && strings.HasPrefix(ref, "${") {
				// Spring Boot and Quarkus resolve ${NAME} in properties.
				continue
			}
			if !slices.Contains(out, ref) {
				out = append(out, ref)
			}
		}
	}
	return out
}

func quoteList(vars []string) string {
	q := make([]string, len(vars))
	for i, v := range vars {
		q[i] = `"` + v + `"`
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// runtimeSet are variables every container has: Docker sets them.
var runtimeSet = wordSet("HOME", "HOSTNAME", "PATH")

// variableSource says where a variable's value would come from when the
// image does not set it, "" when an ENV of the image (or its base) does.
func variableSource(sf *analyzer.StageFacts, ref string) string {
	name := strings.TrimLeft(ref, "${")
	if i := strings.IndexAny(name, ":?+=-}"); i >= 0 {
		name = name[:i]
	}
	if runtimeSet[name] {
		return ""
	}
	if img, known := sf.BaseImage(); known {
		if _, ok := img.Env[name]; ok {
			return ""
		}
	}
	arg := false
	for _, st := range sf.Lineage() {
		for _, in := range st.Instructions {
			switch c := in.Command.(type) {
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					if kv.Key == name {
						return ""
					}
				}
			case *instructions.ArgCommand:
				for _, a := range c.Args {
					arg = arg || a.Key == name
				}
			}
		}
	}
	if strings.Contains(ref, ":-") || strings.Contains(ref, ":=") {
		return ""
	}
	if arg {
		return fmt.Sprintf("%s is only a build ARG, which the running container does not have: set it with ENV, or when the container starts", name)
	}
	return fmt.Sprintf("no ENV of the image sets %s, so it must be set when the container starts (docker run -e %s=…, or a platform that sets it)", name, name)
}

// shellCommand writes words as one shell command line: each variable
// reference of the original words in double quotes, so the shell expands
// it as one word, and everything else quoted literally.
func shellCommand(words []string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = shellWord(w)
	}
	return strings.Join(parts, " ")
}

func shellWord(w string) string {
	refs := variableRef.FindAllStringIndex(w, -1)
	if len(refs) == 0 {
		return quoteLiteral(w)
	}
	var b strings.Builder
	b.WriteByte('"')
	last := 0
	for _, m := range refs {
		if m[0] > 0 && strings.ContainsRune(`\${`, rune(w[m[0]-1])) {
			continue
		}
		b.WriteString(escapeInDouble(w[last:m[0]]))
		b.WriteString(w[m[0]:m[1]])
		last = m[1]
	}
	b.WriteString(escapeInDouble(w[last:]))
	b.WriteByte('"')
	return b.String()
}

// quoteLiteral quotes a word for sh only when it needs it.
func quoteLiteral(w string) string {
	q, err := syntax.Quote(w, syntax.LangPOSIX)
	if err != nil {
		return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return q
}

// escapeInDouble escapes what double quotes would still interpret.
func escapeInDouble(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", "$", `\$`)
	return r.Replace(s)
}
