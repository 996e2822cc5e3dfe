package analyzer

import (
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// BuildKit's shell.Lex carries a text/scanner with a 1 KiB buffer, about
// 1.2 KiB a lexer; one was made per file, per stage's facts and per LABEL
// or ENV word a rule evaluated (some 5 % of the bytes an analysis
// allocated). A Lex holds no state between words, so finished ones are
// kept for the next word, one pool per escape token.
var lexPools = [2]sync.Pool{
	{New: func() any { return shell.NewLex('\\') }},
	{New: func() any { return shell.NewLex('`') }},
}

// ProcessWord expands a Dockerfile word as BuildKit's
// shell.NewLex(escape).ProcessWordWithMatches does.
func ProcessWord(escape rune, word string, env shell.EnvGetter) (shell.ProcessWordResult, error) {
	var pool *sync.Pool
	switch escape {
	case '\\':
		pool = &lexPools[0]
	case '`':
		pool = &lexPools[1]
	default:
		return shell.NewLex(escape).ProcessWordWithMatches(word, env)
	}
	lex := pool.Get().(*shell.Lex)
	// The result shares nothing with the lexer: its strings are built
	// afresh and its match sets are new maps each word.
	res, err := lex.ProcessWordWithMatches(word, env)
	pool.Put(lex) // not after a panic, which the analysis recovers from
	return res, err
}

// lexer is ProcessWord for one escape token, where a *shell.Lex was kept.
type lexer rune

func (l lexer) ProcessWordWithMatches(word string, env shell.EnvGetter) (shell.ProcessWordResult, error) {
	return ProcessWord(rune(l), word, env)
}
