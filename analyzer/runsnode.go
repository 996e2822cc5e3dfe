package analyzer

import (
	"path"
	"strings"
)

// nodePrograms start node, or a Node program that the image's node runs.
var nodePrograms = map[string]bool{
	"node": true, "nodejs": true, "npm": true, "npx": true, "yarn": true, "pnpm": true, "corepack": true, "bun": true,
	"pm2": true, "pm2-runtime": true, "forever": true, "nodemon": true, "ts-node": true, "tsx": true, "docker-entrypoint.sh": true,
}

// startBuiltins prepare the shell for the program that follows them.
var startBuiltins = map[string]bool{"cd": true, "export": true, "set": true, "umask": true, "ulimit": true, "source": true, ".": true}

// StartProgram returns the program the final image starts, through what
// only passes the command on (tini, dumb-init, exec, env, sh -c) and the
// package.json scripts npm, yarn or pnpm run; "" when there is no start
// command or it runs several programs in a row. The words are split on white space, enough to recognise it.
func StartProgram(d *Dockerfile, bc *BuildContext) string {
	words := StartCommand(d)
	var pkg *PackageJSON
	if bc != nil {
		pkg = bc.Package
	}
	for range 8 {
		if len(words) == 0 {
			return ""
		}
		base := path.Base(words[0])
		switch {
		case base == "tini" || base == "dumb-init" || base == "exec" || base == "--":
			words = words[1:]
			for len(words) > 0 && strings.HasPrefix(words[0], "-") && words[0] != "--" {
				words = words[1:]
			}
			if len(words) > 0 && words[0] == "--" {
				words = words[1:]
			}
		case base == "env":
			words = words[1:]
			for len(words) > 0 && (strings.Contains(words[0], "=") || strings.HasPrefix(words[0], "-")) {
				words = words[1:]
			}
		case (base == "sh" || base == "bash" || base == "ash") && len(words) >= 3 && words[1] == "-c":
			words = strings.Fields(strings.Trim(strings.Join(words[2:], " "), `"'`))
		case (base == "npm" || base == "yarn" || base == "pnpm") && pkg != nil && len(words) >= 2:
			script := words[1]
			if (words[1] == "run" || words[1] == "run-script") && len(words) >= 3 {
				script = words[2]
			}
			body := pkg.Scripts[script]
			if body == "" {
				return base
			}
			words = strings.Fields(body)
		default:
			for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
				// VAR=value program
				words = words[1:]
				continue
			}
			if len(words) == 0 {
				return ""
			}
			if startBuiltins[words[0]] {
				// cd DIR && program: what follows the first separator.
				i := 0
				for i < len(words) && words[i] != "&&" && words[i] != ";" && !strings.HasSuffix(words[i], ";") {
					i++
				}
				if i >= len(words) {
					return ""
				}
				words = words[i+1:]
				continue
			}
			for _, w := range words[1:] {
				if w == "&&" || w == "||" || w == ";" || w == "|" || strings.HasSuffix(w, ";") {
					// Several programs: which one serves is not told here.
					return ""
				}
			}
			return words[0]
		}
	}
	return ""
}

// RunsOtherThanNode names the program the final image starts when it is
// known not to be a Node program ("mkdocs" of `sh -c "mkdocs serve"`),
// "" when it is node, a package's binary, a Node file, or a script or
// path whose contents decide (those are given the benefit of the doubt).
// An image on node whose command runs something else is no Node service,
// and node's tools are no evidence for what it needs.
func RunsOtherThanNode(d *Dockerfile, bc *BuildContext) string {
	prog := StartProgram(d, bc)
	if prog == "" || strings.ContainsAny(prog, "/$") {
		return ""
	}
	base := path.Base(prog)
	if nodePrograms[base] || strings.Contains(prog, "node_modules") {
		return ""
	}
	switch path.Ext(base) {
	case ".js", ".mjs", ".cjs", ".ts", ".sh":
		return ""
	}
	if bc != nil && bc.Package != nil {
		for _, deps := range []map[string]string{bc.Package.Dependencies, bc.Package.DevDependencies} {
			for name := range deps {
				// A package's binary is mostly named as the package, or as
				// its scope's last part (@strapi/strapi → strapi).
				if name == base || path.Base(name) == base || strings.TrimPrefix(path.Dir(name), "@") == base {
					return ""
				}
			}
		}
	}
	// A program installed in the image by a global npm install.
	for _, s := range d.Stages {
		for _, in := range s.Instructions {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.Commands() {
				if pm, _ := PackageManagerOf(c); pm != Npm && pm != Yarn && pm != Pnpm {
					continue
				}
				for _, a := range c.Args {
					if a.Value == base || path.Base(a.Value) == base || strings.HasPrefix(a.Value, base+"@") {
						return ""
					}
				}
			}
		}
	}
	return base
}
