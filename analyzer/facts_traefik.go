package analyzer

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// traefikStart reads the entry point addresses Traefik's start command
// (--entrypoints.NAME.address=ADDR) or its environment
// (TRAEFIK_ENTRYPOINTS_NAME_ADDRESS=ADDR) set, into what the copied
// configuration said (cl, from texts). Traefik takes its static
// configuration from one of three sources, which its documentation
// ("Configuration Introduction") calls mutually exclusive: a file, else
// the command line, else the environment. Where a copied static file
// (traefik.yml, .yaml, .toml) and flags or variables both name entry
// points, which applies is not read: the ports are unknown.
func (sf *StageFacts) traefikStart(cl *configListen, texts []configText) {
	file := ""
	for _, t := range texts {
		if strings.HasPrefix(path.Base(t.dest), "traefik.") {
			file = t.dest
		}
	}
	entry, cmd, entryLine, cmdLine := sf.startInstructions()
	words := sf.StartCommand()
	var args []string
	switch i := slices.IndexFunc(words, func(w string) bool { return path.Base(w) == "traefik" }); {
	case i >= 0:
		args = words[i+1:]
	case len(words) > 0 && strings.HasPrefix(words[0], "-"):
		// The image's entrypoint.sh runs traefik with arguments that
		// start with a dash.
		args = words
	}
	lineOf := func(w string) int {
		if cmd != nil && slices.Contains(cmdWords(cmd), w) {
			return cmdLine
		}
		if entry != nil && slices.Contains(cmdWords(entry), w) {
			return entryLine
		}
		return 0
	}
	var addrs []string
	line, via := 0, ""
	for j := 0; j < len(args); j++ {
		a := args[j]
		lower := strings.ToLower(a)
		if strings.HasPrefix(lower, "--configfile") {
			// A file the flag names: the file applies, as read above.
			return
		}
		key, val, hasValue := strings.Cut(lower, "=")
		name, ok := strings.CutPrefix(key, "--entrypoints.")
		if !ok || !strings.HasSuffix(name, ".address") || strings.Count(name, ".") != 1 {
			continue
		}
		if !hasValue && j+1 < len(args) {
			j++
			val = args[j]
		} else if hasValue {
			val = a[len(key)+1:]
		}
		addrs = append(addrs, val)
		if line == 0 {
			line = lineOf(a)
			via = fmt.Sprintf("the start command on line %d, through its --entrypoints flags,", line)
		}
	}
	if len(args) == 0 {
		for _, w := range words {
			if strings.Contains(strings.ToLower(w), "--entrypoints.") {
				line = lineOf(w)
				if cl.unread == "" {
					cl.unread = fmt.Sprintf("line %d starts traefik inside a shell string, whose --entrypoints flags dockopt does not read", line)
				}
				if cl.line == 0 {
					cl.line = line
				}
				return
			}
		}
		// Without arguments, traefik reads its environment.
		var names []string
		for k := range sf.endEnv {
			if n, ok := strings.CutPrefix(k, "TRAEFIK_ENTRYPOINTS_"); ok && strings.HasSuffix(n, "_ADDRESS") && len(n) > len("_ADDRESS") {
				names = append(names, k)
			}
		}
		slices.Sort(names)
		for _, k := range names {
			addrs = append(addrs, sf.endEnv[k])
			if l := sf.envLine(k); line == 0 || l < line {
				line = l
			}
		}
		if len(names) > 0 {
			via = fmt.Sprintf("the ENV on line %d, through TRAEFIK_ENTRYPOINTS_*_ADDRESS,", line)
		}
	}
	if len(addrs) == 0 {
		return
	}
	if file != "" {
		if cl.unread == "" {
			cl.unread = fmt.Sprintf("%s and the static configuration file copied to %s both name entry points, and traefik reads only one of them", via, file)
		}
		return
	}
	cl.line, cl.source, cl.ports, cl.addr, cl.addrAfter = line, via, nil, "", 0
	for _, a := range addrs {
		port, known := listenAddrPort(a)
		switch {
		case !known:
			if cl.addr == "" {
				cl.addr, cl.addrAfter = a, len(cl.ports)
			}
		case port > 0 && !slices.Contains(cl.ports, port):
			cl.ports = append(cl.ports, port)
		}
	}
}

// envLine is the line of the last ENV of the lineage that sets name, 0
// when none does.
func (sf *StageFacts) envLine(name string) int {
	line := 0
	for _, st := range sf.steps {
		if c, ok := st.in.Command.(*instructions.EnvCommand); ok {
			for _, kv := range c.Env {
				if kv.Key == name {
					line = st.in.StartLine
				}
			}
		}
	}
	return line
}
