package rules

import (
	"github.com/dockopt/dockopt/analyzer"
	"mvdan.cc/sh/v3/syntax"
)

// CurlPipeShell finds scripts downloaded and executed unverified.
var CurlPipeShell = &analyzer.Rule{
	ID:       "curl-pipe-shell",
	Category: analyzer.CategorySecurity,
	Severity: analyzer.SeverityWarning,
	Title:    "Downloaded script piped straight into a shell",
	Rationale: `curl … | sh runs whatever the server returns at build time, as root, with nothing to compare it ` +
		`against: a compromised or hijacked download site, a truncated transfer or a changed installer all ` +
		`end up in the image silently, and two builds of the same commit can run different code. Download ` +
		`the script (or better, a release archive) to a file, check it against a published SHA-256 with ` +
		`sha256sum -c, then run it.`,
	Bad: "FROM debian:12-slim\nRUN curl -fsSL https://example.com/install.sh | sh\n",
	Good: "FROM debian:12-slim\nRUN curl -fsSLo /tmp/install.sh https://example.com/install.sh \\\n" +
		" && echo \"<sha256>  /tmp/install.sh\" | sha256sum -c - \\\n && sh /tmp/install.sh && rm /tmp/install.sh\n",
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			s := in.Script
			if s == nil || s.File == nil {
				continue
			}
			reported := false
			syntax.Walk(s.File, func(n syntax.Node) bool {
				if reported {
					return false
				}
				switch n := n.(type) {
				case *syntax.BinaryCmd:
					if n.Op != syntax.Pipe && n.Op != syntax.PipeAll {
						return true
					}
					dl := ""
					for _, st := range pipeline(n) {
						name := stmtCallName(s, st)
						switch {
						case name == "curl" || name == "wget":
							dl = name
						case dl != "" && (shellNames[name] || isInterpreter(name)):
							p.Reportf(in, "%s output is piped into %s and runs unverified; download to a file, check its SHA-256, then run it", dl, name)
							reported = true
							return false
						}
					}
					return false
				case *syntax.CallExpr:
					// sh -c "$(curl …)" and bash <(curl …) do the same.
					c := commandOfCall(s, n)
					if c == nil || !shellNames[c.Name] {
						return true
					}
					for _, a := range c.Args {
						if dl := downloadInWord(s, a.Node); dl != "" {
							p.Reportf(in, "a script fetched by %s runs in %s unverified; download to a file, check its SHA-256, then run it", dl, c.Name)
							reported = true
							return false
						}
					}
				}
				return true
			})
		}
	},
}

// isInterpreter names interpreters that run a script read from stdin.
func isInterpreter(name string) bool {
	switch name {
	case "python", "python3", "perl", "ruby", "node", "php":
		return true
	}
	return false
}

func commandOfCall(s *analyzer.Script, call *syntax.CallExpr) *analyzer.Command {
	if c, ok := s.CommandOf(call); ok {
		return &c
	}
	return nil
}

// downloadInWord returns curl or wget when a word holds a command or
// process substitution that runs one.
func downloadInWord(s *analyzer.Script, w *syntax.Word) string {
	found := ""
	syntax.Walk(w, func(n syntax.Node) bool {
		var stmts []*syntax.Stmt
		switch n := n.(type) {
		case *syntax.CmdSubst:
			stmts = n.Stmts
		case *syntax.ProcSubst:
			stmts = n.Stmts
		default:
			return found == ""
		}
		for _, st := range stmts {
			syntax.Walk(st, func(m syntax.Node) bool {
				if call, ok := m.(*syntax.CallExpr); ok {
					if c := commandOfCall(s, call); c != nil && (c.Name == "curl" || c.Name == "wget") {
						found = c.Name
					}
				}
				return found == ""
			})
		}
		return false
	})
	return found
}
