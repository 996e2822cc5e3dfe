// Package compose proposes runtime hardening for the docker-compose
// services that build the analyzed Dockerfiles: dropped capabilities, a
// read-only root filesystem with tmpfs where the image writes,
// no-new-privileges, a health check and a memory limit. It is a `review`
// change: each setting can stop an app that relied on what it takes away.
//
// Editing approach: the file is parsed with yaml.v3's Node API only to
// find things (the services, their existing keys, the line and column
// each starts at); new keys are then inserted as text after the last line
// of each service's block, at the indentation that block already uses.
// Re-encoding the node tree would keep comments but not the author's
// blank lines, quoting, flow sequences or line width, so every line of
// the original would be at risk of a diff; inserting text leaves every
// original byte where it was, and the result is parsed again before it is
// returned so that a bad insertion is an error, never a broken file.
package compose

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ServiceFacts is what the analysis knows about the image a service runs.
type ServiceFacts struct {
	// Kind is the analyzer kind of the Dockerfile (static-site, …).
	Kind string
	// NonRoot is true when the image runs as a non-root user.
	NonRoot bool
	// Port is the lowest port the image exposes: below 1024, binding it
	// needs NET_BIND_SERVICE.
	Port int
	// WritablePaths are folders the image writes to at run time, besides /tmp.
	WritablePaths []string
	// HealthCmd is the image's health check command in exec form
	// (["wget", "-q", "--spider", "http://…"]), nil when it has none.
	HealthCmd []string
}

// memoryByKind are starting memory limits; the note says to tune them.
var memoryByKind = map[string]string{
	"static-site":    "128m",
	"go-service":     "256m",
	"node-service":   "512m",
	"python-service": "512m",
}

// Harden returns src with hardening added to the named services, notes
// saying what was added or why not, and an error when src is not a
// compose file it can edit. Services absent from services are untouched;
// keys a service already has are never changed, so hardening twice gives
// the same bytes as hardening once.
func Harden(path string, src []byte, services map[string]ServiceFacts) (out []byte, notes []string, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%s: not a compose file (no top-level mapping)", path)
	}
	root := doc.Content[0]
	svcs := lookup(root, "services")
	if svcs == nil || svcs.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%s: no services mapping", path)
	}
	if svcs.Style&yaml.FlowStyle != 0 {
		return src, []string{"services are written in flow style; add the hardening by hand"}, nil
	}
	nl := "\n"
	if bytes.Contains(src, []byte("\r\n")) {
		nl = "\r\n"
	}
	lines := strings.SplitAfter(string(src), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	// Insertions by line index (after that line), applied bottom-up so
	// that earlier indices stay valid.
	type insertion struct {
		after int
		text  string
	}
	var inserts []insertion
	names := make([]string, 0, len(services))
	for i := 0; i < len(svcs.Content); i += 2 {
		names = append(names, svcs.Content[i].Value)
	}
	for _, name := range sortedKeys(services) {
		if !slices.Contains(names, name) {
			notes = append(notes, fmt.Sprintf("%s: no such service in %s", name, path))
		}
	}
	for i := 0; i < len(svcs.Content); i += 2 {
		key, svc := svcs.Content[i], svcs.Content[i+1]
		facts, ok := services[key.Value]
		if !ok {
			continue
		}
		switch {
		case svc.Kind != yaml.MappingNode || len(svc.Content) == 0:
			notes = append(notes, key.Value+": not a mapping with keys; left as it is")
			continue
		case svc.Style&yaml.FlowStyle != 0:
			notes = append(notes, key.Value+": written in flow style; add the hardening by hand")
			continue
		case lookup(svc, "<<") != nil:
			notes = append(notes, key.Value+": inherits keys through a merge (<<); left as it is so that nothing is set twice")
			continue
		}
		indent := strings.Repeat(" ", svc.Content[0].Column-1)
		unit := svc.Content[0].Column - key.Column
		if unit <= 0 {
			return nil, nil, fmt.Errorf("%s: service %s: cannot tell its indentation", path, key.Value)
		}
		add, what := additions(svc, facts, indent, strings.Repeat(" ", unit))
		if len(add) == 0 {
			continue
		}
		end := blockEnd(lines, svcs, i, root)
		text := strings.Join(add, nl) + nl
		if !strings.HasSuffix(lines[end], "\n") {
			text = nl + text
			text = strings.TrimSuffix(text, nl)
		}
		inserts = append(inserts, insertion{after: end, text: text})
		notes = append(notes, key.Value+": "+strings.Join(what, "; "))
	}
	if len(inserts) == 0 {
		return src, notes, nil
	}
	slices.SortFunc(inserts, func(a, b insertion) int { return b.after - a.after })
	for _, ins := range inserts {
		lines = slices.Insert(lines, ins.after+1, ins.text)
	}
	out = []byte(strings.Join(lines, ""))
	if err := check(out, services); err != nil {
		return nil, nil, fmt.Errorf("%s: hardening produced invalid YAML (not applied): %w", path, err)
	}
	return out, notes, nil
}

// additions returns the lines to add to one service and what they do.
func additions(svc *yaml.Node, f ServiceFacts, indent, unit string) (lines, what []string) {
	has := func(k string) bool { return lookup(svc, k) != nil }
	var body []string
	if !has("cap_drop") && !has("cap_add") {
		if f.NonRoot {
			body = append(body, indent+"cap_drop: [ALL]")
			what = append(what, "drops every Linux capability")
			if f.Port > 0 && f.Port < 1024 {
				body = append(body, indent+"cap_add: [NET_BIND_SERVICE]")
				what = append(what, fmt.Sprintf("keeps NET_BIND_SERVICE to bind port %d", f.Port))
			}
		} else {
			what = append(what, "capabilities not dropped: the image runs as root, which usually needs some (make it non-root first)")
		}
	}
	if !has("read_only") && !has("tmpfs") {
		paths := writable(f)
		body = append(body, indent+"read_only: true", indent+"tmpfs: ["+strings.Join(paths, ", ")+"]")
		what = append(what, "read-only root filesystem with tmpfs at "+strings.Join(paths, ", ")+" (add volumes for any other path the app writes)")
	}
	if opts := lookup(svc, "security_opt"); opts == nil {
		body = append(body, indent+"security_opt: [\"no-new-privileges:true\"]")
		what = append(what, "no-new-privileges, so setuid binaries cannot raise privileges")
	} else if !containsValue(opts, "no-new-privileges") {
		what = append(what, "security_opt exists without no-new-privileges; add `no-new-privileges:true` to it")
	}
	if !has("healthcheck") && len(f.HealthCmd) > 0 {
		q := make([]string, 0, len(f.HealthCmd)+1)
		q = append(q, strconv.Quote("CMD"))
		for _, w := range f.HealthCmd {
			q = append(q, strconv.Quote(w))
		}
		body = append(body,
			indent+"healthcheck:",
			indent+unit+"test: ["+strings.Join(q, ", ")+"]",
			indent+unit+"interval: 30s",
			indent+unit+"timeout: 5s",
			indent+unit+"retries: 3",
			indent+unit+"start_period: 10s",
		)
		what = append(what, "a healthcheck that runs the image's own check, so `depends_on: condition: service_healthy` can use it")
	}
	if !has("mem_limit") && !hasPath(svc, "deploy", "resources", "limits", "memory") {
		mem := memoryByKind[f.Kind]
		if mem == "" {
			mem = "512m"
		}
		body = append(body, indent+"mem_limit: "+mem)
		what = append(what, "mem_limit "+mem+", a starting point to tune from the service's real use, so one leak cannot starve the host")
	}
	if len(body) == 0 {
		return nil, what
	}
	return append([]string{indent + "# Runtime hardening proposed by dockopt; see the report for each setting."}, body...), what
}

// writable lists the tmpfs mounts: /tmp always, nginx's cache and pid
// folders for a static site, and what the facts name.
func writable(f ServiceFacts) []string {
	paths := []string{"/tmp"}
	if f.Kind == "static-site" {
		paths = append(paths, "/var/cache/nginx", "/var/run")
	}
	for _, p := range f.WritablePaths {
		if !slices.Contains(paths, p) && strings.HasPrefix(p, "/") && !strings.ContainsAny(p, " ,[]{}#") {
			paths = append(paths, p)
		}
	}
	return paths
}

// blockEnd is the index of the last line that belongs to service i of
// svcs: the last non-blank, non-comment line before the next service (or
// the next top-level key, or the end of the file). Comments just above
// the next key belong to it, as yaml.v3 also reads them.
func blockEnd(lines []string, svcs *yaml.Node, i int, root *yaml.Node) int {
	next := len(lines) // 0-based index of the first line not in the block
	if i+2 < len(svcs.Content) {
		next = svcs.Content[i+2].Line - 1
	} else {
		for j := 0; j < len(root.Content); j += 2 {
			if root.Content[j+1] == svcs {
				if j+2 < len(root.Content) {
					next = root.Content[j+2].Line - 1
				}
				break
			}
		}
	}
	start := svcs.Content[i].Line - 1
	end := next - 1
	for end > start {
		t := strings.TrimSpace(lines[end])
		if t != "" && !strings.HasPrefix(t, "#") && t != "---" && t != "..." {
			break
		}
		end--
	}
	return end
}

// check parses the result and confirms each hardened service is still a
// mapping, so an insertion at the wrong place cannot pass silently.
func check(out []byte, services map[string]ServiceFacts) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(out, &doc); err != nil {
		return err
	}
	if len(doc.Content) == 0 {
		return errors.New("empty document")
	}
	svcs := lookup(doc.Content[0], "services")
	if svcs == nil {
		return errors.New("services vanished")
	}
	for name := range services {
		if s := lookup(svcs, name); s != nil && s.Kind != yaml.MappingNode {
			return fmt.Errorf("service %s is no longer a mapping", name)
		}
	}
	var v map[string]any
	return yaml.Unmarshal(out, &v)
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func hasPath(m *yaml.Node, keys ...string) bool {
	for _, k := range keys {
		if m = lookup(m, k); m == nil {
			return false
		}
	}
	return true
}

func containsValue(n *yaml.Node, prefix string) bool {
	for _, c := range n.Content {
		if strings.HasPrefix(c.Value, prefix) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]ServiceFacts) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
