package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"mvdan.cc/sh/v3/syntax"
)

// NginxDirectiveUnterminated finds `nginx -g "daemon off"`: the directives
// -g gives are read like nginx.conf, where each ends with a semicolon.
var NginxDirectiveUnterminated = &analyzer.Rule{
	ID:       "nginx-directive-unterminated",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityError,
	Title:    "nginx -g directives without the final semicolon",
	Rationale: `nginx reads the argument of -g as configuration, where every directive ends with a semicolon. ` +
		"`nginx -g \"daemon off\"`" + ` therefore stops at once with ` + "`[emerg] unexpected end of parameter, expecting \";\" in command line`" +
		`, and the container exits as soon as it starts: the image builds, and the mistake shows only when it runs. ` +
		`So does ` + "`CMD [\"nginx\", \"-g\", \"'daemon off;'\"]`" + `: the exec form runs no shell, so the quotes reach nginx, ` +
		`which reads a quoted word and still no final semicolon. ` +
		`Neither hadolint nor BuildKit's checks look inside the command. The fix adds the semicolon (and drops ` +
		`such quotes), which is what nginx asks for and changes nothing else.`,
	Bad:            "FROM nginx:1.27\nCMD [\"nginx\", \"-g\", \"daemon off\"]\n",
	Good:           "FROM nginx:1.27\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n",
	Fix:            analyzer.Safe,
	POSIXOnly:      true,
	Reads:          []string{"CMD", "ENTRYPOINT"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for _, kw := range []string{"CMD", "ENTRYPOINT"} {
			for in := range p.Each(kw) {
				for _, d := range unterminatedDirectives(p.File, in) {
					p.Report(in, d.message(), d.fix())
				}
			}
		}
	},
}

// directive is an -g argument that lacks its semicolon, and the edit
// that ends it: insert at at, or, when end > at, replace [at, end); at is
// -1 when the place is not known.
type directive struct {
	value, insert string
	at, end       int
	// quoted is set when the value is wrapped in quotes that no shell
	// removes (the exec form's "'daemon off;'"): nginx reads them as a
	// quoted word, so they must go rather than get a ";" after them.
	quoted bool
}

const nginxEmerg = `nginx stops with [emerg] unexpected end of parameter, expecting ";" in command line, and the container exits at start`

func (d directive) message() string {
	if d.quoted {
		return fmt.Sprintf(`nginx -g "%s" passes the quotes on to nginx, which reads them as part of the directives (no shell removes quotes inside the value), so they do not end with ";": %s; write "%s"`,
			d.value, nginxEmerg, terminate(unquote(d.value)))
	}
	return fmt.Sprintf(`nginx -g "%s" lacks the ";" that ends each directive: %s; write "%s"`, d.value, nginxEmerg, terminate(d.value))
}

func (d directive) fix() *analyzer.Fix {
	if d.at < 0 {
		return nil
	}
	msg := `end the -g directives with ";"`
	if d.quoted {
		msg = `drop the quotes around the -g directives, which nginx would read, and end them with ";"`
	}
	return &analyzer.Fix{Message: msg, Edits: []analyzer.TextEdit{{Start: d.at, End: max(d.end, d.at), New: d.insert}}}
}

// terminate ends directives with ";".
func terminate(v string) string {
	t := strings.TrimSpace(v)
	if strings.HasSuffix(t, ";") {
		return t
	}
	return t + ";"
}

// unquote drops the quotes a value is wrapped in.
func unquote(v string) string {
	t := strings.TrimSpace(v)
	return strings.TrimSpace(t[1 : len(t)-1])
}

// wrappedInQuotes reports a value written as a shell would quote it.
func wrappedInQuotes(v string) bool {
	t := strings.TrimSpace(v)
	return len(t) >= 2 && (t[0] == '\'' || t[0] == '"') && t[len(t)-1] == t[0] && !strings.ContainsRune(t[1:len(t)-1], rune(t[0]))
}

// unterminatedDirectives reads nginx's -g arguments in a CMD or ENTRYPOINT:
// its exec form, the script of its sh -c, or its shell form.
func unterminatedDirectives(d *analyzer.Dockerfile, in *analyzer.Instruction) []directive {
	if !in.JSON {
		return scriptDirectives(d, d.StartScript(in))
	}
	args, ok := execArgs(d, in)
	if !ok {
		return nil
	}
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = a.Value
	}
	i := skipInit(words)
	if k := shellScriptArg(words[i:]); k >= 0 {
		a := args[i+k]
		if !a.Verbatim {
			// Offsets inside the script would not map to the file.
			return withoutPlace(scriptDirectives(d, analyzer.ScriptAt(a.Value, -1)))
		}
		return scriptDirectives(d, analyzer.ScriptAt(a.Value, a.Start+1))
	}
	if i >= len(words) || !nginxProgram(words[i]) {
		return nil
	}
	var out []directive
	for k := i + 1; k+1 < len(words); k++ {
		if words[k] != "-g" {
			continue
		}
		v, a := words[k+1], args[k+1]
		switch {
		case wrappedInQuotes(v):
			out = append(out, directive{value: v, quoted: true, at: a.Start, end: a.End, insert: jsonString(terminate(unquote(v)))})
		case unterminated(v):
			out = append(out, directive{value: v, at: a.End - 1, insert: ";"})
		}
		k++
	}
	return out
}

// scriptDirectives reads the -g arguments of the nginx commands a script
// runs.
func scriptDirectives(d *analyzer.Dockerfile, s *analyzer.Script) []directive {
	if s == nil || s.Err != nil {
		return nil
	}
	var out []directive
	for _, c := range s.CommandsNamed("nginx", "nginx-debug") {
		for k := 0; k+1 < len(c.Args); k++ {
			if c.Args[k].Value != "-g" || c.Args[k].Dynamic {
				continue
			}
			w := c.Args[k+1]
			k++
			switch {
			case w.Dynamic:
			case wrappedInQuotes(w.Value):
				// Quotes inside quotes: which to drop is for a person.
				out = append(out, directive{value: w.Value, quoted: true, at: -1})
			case unterminated(w.Value):
				out = append(out, appendToWord(d, s, w))
			}
		}
	}
	return out
}

// appendToWord is where a ";" goes at the end of a shell word: inside its
// closing quote, or escaped after a bare word, where it would end the
// command.
func appendToWord(d *analyzer.Dockerfile, s *analyzer.Script, w analyzer.Word) directive {
	dir := directive{value: w.Value, at: -1}
	if lit, ok := w.Node.Parts[0].(*syntax.Lit); ok && len(w.Node.Parts) == 1 {
		// The shell drops the backslashes of a bare word.
		dir.value = unescapeBare(lit.Value)
	}
	if !s.Exact() || w.End <= 0 || w.End > len(d.Source) {
		return dir
	}
	switch w.Node.Parts[len(w.Node.Parts)-1].(type) {
	case *syntax.SglQuoted, *syntax.DblQuoted:
		if q := d.Source[w.End-1]; q == '\'' || q == '"' {
			dir.at, dir.insert = w.End-1, ";"
		}
	case *syntax.Lit:
		dir.at, dir.insert = w.End, `\;`
	}
	return dir
}

func withoutPlace(ds []directive) []directive {
	for i := range ds {
		ds[i].at = -1
	}
	return ds
}

// unterminated reports -g directives whose last one lacks its ";". A
// block's closing brace ends a directive too.
func unterminated(v string) bool {
	t := strings.TrimSpace(v)
	return t != "" && !strings.HasSuffix(t, ";") && !strings.HasSuffix(t, "}")
}

func nginxProgram(w string) bool {
	b := path.Base(w)
	return b == "nginx" || b == "nginx-debug"
}

// unescapeBare is a bare shell word's value: each backslash quotes the
// character after it.
func unescapeBare(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
