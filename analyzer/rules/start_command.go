package rules

import (
	"encoding/json"
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// execArg is one string of an exec-form CMD or ENTRYPOINT and where it is
// written: Start and End span the JSON string, quotes included.
type execArg struct {
	Value      string
	Start, End int
	// Verbatim is set when the text between the quotes is the value
	// itself (no escapes), so offsets inside the value map to the file.
	Verbatim bool
}

// execArgs returns the strings of an exec-form instruction with their
// places in the file; ok is false when the written strings cannot be
// matched one for one to the ones BuildKit parsed.
func execArgs(d *analyzer.Dockerfile, in *analyzer.Instruction) (args []execArg, ok bool) {
	words, shell := startForm(in)
	if shell || !in.JSON {
		return nil, false
	}
	src := d.Source[:in.ContentEnd(d.Source)]
	for i := in.ArgsStart; i < len(src); i++ {
		if src[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(src) && src[j] != '"' {
			if src[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(src) {
			return nil, false
		}
		var v string
		if json.Unmarshal(src[i:j+1], &v) != nil {
			return nil, false
		}
		args = append(args, execArg{Value: v, Start: i, End: j + 1, Verbatim: string(src[i+1:j]) == v})
		i = j
	}
	if len(args) != len(words) {
		return nil, false
	}
	for k, a := range args {
		if a.Value != words[k] {
			return nil, false
		}
	}
	return args, true
}

// shellScriptArg returns the index of the script a shell runs with -c
// (sh -c, bash -ec, busybox sh -c), -1 when words[0] is no such shell.
func shellScriptArg(words []string) int {
	if len(words) == 0 || !shellNames[path.Base(words[0])] {
		return -1
	}
	i := 1
	if path.Base(words[0]) == "busybox" {
		if len(words) < 2 || !shellNames[words[1]] || words[1] == "busybox" {
			return -1
		}
		i = 2
	}
	c := false
	for ; i < len(words) && strings.HasPrefix(words[i], "-") && words[i] != "-" && words[i] != "--"; i++ {
		if !strings.HasPrefix(words[i], "--") && strings.Contains(words[i], "c") {
			c = true
		}
	}
	if i < len(words) && words[i] == "--" {
		i++
	}
	if !c || i >= len(words) {
		return -1
	}
	return i
}

// skipInit returns the index of the first word after an init wrapper
// (tini, dumb-init) and its options at the front of a start command.
func skipInit(words []string) int {
	if len(words) == 0 || !initPrograms[path.Base(words[0])] {
		return 0
	}
	i := 1
	for i < len(words) && strings.HasPrefix(words[i], "-") {
		if words[i] == "--" {
			return i + 1
		}
		i++
	}
	return i
}

// initPrograms start the command they are given as PID 1's child.
var initPrograms = wordSet("tini", "tini-static", "dumb-init", "docker-init", "catatonit")

func wordSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// jsonString writes a JSON string without HTML escaping, as jsonArgs does.
func jsonString(v string) string {
	a := jsonArgs([]string{v})
	return a[1 : len(a)-1]
}
