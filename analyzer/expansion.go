package analyzer

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// MaxExpansion bounds what one instruction's variables may expand to before
// BuildKit is asked to expand them. BuildKit expands ARG and ENV values
// eagerly, in memory, while converting a Dockerfile: 64 lines of
// `ENV E1=${E0}${E0}` ask it for 2^64 bytes, which no recover() can catch.
// Real values are at most a few KB.
const MaxExpansion = 1 << 20

// MaxTotalExpansion bounds the sum over a file's instructions.
const MaxTotalExpansion = 16 << 20

// ExpansionError says which instruction would expand past the bounds.
type ExpansionError struct {
	Line int
	// Name is the variable defined there, "" for an instruction that only
	// uses variables.
	Name string
	// Size is a lower bound of the expanded size in bytes, saturated just
	// past the bound that was crossed.
	Size int64
	// Total is set when the file as a whole, not one instruction, is too large.
	Total bool
}

func (e *ExpansionError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason()) }

// Reason is the error without its line, for a finding on that line.
func (e *ExpansionError) Reason() string {
	if e.Total {
		return fmt.Sprintf("the variables used up to here expand to more than %d MiB in all; BuildKit would hold all of it in memory, so the file is not converted", MaxTotalExpansion>>20)
	}
	what := "its variables expand"
	if e.Name != "" {
		what = e.Name + " expands"
	}
	return fmt.Sprintf("%s to more than %d MiB; BuildKit would build that value in memory, so the file is not converted", what, MaxExpansion>>20)
}

// notExpanded are instructions whose arguments BuildKit hands to the shell
// or the runtime as written; the shell expands them at run time, if ever.
var notExpanded = map[string]bool{"run": true, "cmd": true, "entrypoint": true, "healthcheck": true, "shell": true, "onbuild": true}

// CheckExpansion estimates, without expanding anything, how large every
// variable and every instruction of the file becomes once BuildKit
// substitutes ARG and ENV values, and reports the first one past the
// bounds. The estimate is an upper bound for the variables it knows (all
// definitions of a name across stages are merged by their maximum) and
// counts unknown variables as empty: it exists to stop exponential growth,
// not to predict a build.
func CheckExpansion(ast *parser.Node, escape rune) *ExpansionError {
	if ast == nil {
		return nil
	}
	sizes := map[string]int64{}
	var total int64
	for _, node := range ast.Children {
		keyword := strings.ToLower(node.Value)
		if notExpanded[keyword] {
			continue
		}
		defined := ""
		switch keyword {
		case "arg":
			for n := node.Next; n != nil; n = n.Next {
				name, value, ok := strings.Cut(n.Value, "=")
				if !ok {
					continue
				}
				size := estimateExpansion(value, sizes, escape)
				if size > MaxExpansion {
					return &ExpansionError{Line: node.StartLine, Name: name, Size: size}
				}
				sizes[name] = max(sizes[name], size)
				defined = name
			}
		case "env":
			for n := node.Next; n != nil && n.Next != nil; n = n.Next.Next {
				size := estimateExpansion(n.Next.Value, sizes, escape)
				if size > MaxExpansion {
					return &ExpansionError{Line: node.StartLine, Name: n.Value, Size: size}
				}
				sizes[n.Value] = max(sizes[n.Value], size)
				defined = n.Value
			}
		}
		size := estimateExpansion(node.Original, sizes, escape)
		for _, h := range node.Heredocs {
			if h.Expand {
				size = saturatingAdd(size, estimateExpansion(h.Content, sizes, escape))
			}
		}
		if size > MaxExpansion {
			return &ExpansionError{Line: node.StartLine, Name: defined, Size: size}
		}
		if total = saturatingAdd(total, size); total > MaxTotalExpansion {
			return &ExpansionError{Line: node.StartLine, Size: total, Total: true}
		}
	}
	return nil
}

// estimateExpansion returns the length of word once $NAME and ${NAME…}
// are replaced by values of the given sizes; a ${NAME:-word} form counts
// both the value and the word.
func estimateExpansion(word string, sizes map[string]int64, escape rune) int64 {
	var n int64
	for i := 0; i < len(word); i++ {
		c := word[i]
		if rune(c) == escape {
			i++
			n++
			continue
		}
		if c != '$' || i+1 == len(word) {
			n++
			continue
		}
		if word[i+1] == '{' {
			end := matchingBrace(word, i+1)
			if end < i+2 {
				n += int64(len(word) - i)
				break
			}
			inner := word[i+2 : end]
			name := inner
			if j := strings.IndexAny(inner, ":-+?#%/"); j >= 0 {
				name = inner[:j]
				n = saturatingAdd(n, estimateExpansion(inner[j:], sizes, escape))
			}
			n = saturatingAdd(n, sizes[name])
			i = end
			continue
		}
		j := i + 1
		for j < len(word) && (word[j] == '_' || isAlnum(word[j])) {
			j++
		}
		if j == i+1 {
			n++
			continue
		}
		n = saturatingAdd(n, sizes[word[i+1:j]])
		i = j - 1
	}
	return n
}

// matchingBrace returns the index of the '}' closing the '{' at open, or
// the last index when there is none.
func matchingBrace(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return len(s) - 1
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// saturatingAdd adds without overflowing: doubling 64 times must not wrap
// around to a small number.
func saturatingAdd(a, b int64) int64 {
	const ceiling = 1 << 62
	if a > ceiling-b {
		return ceiling
	}
	return a + b
}
