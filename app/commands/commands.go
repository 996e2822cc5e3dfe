// Package commands parses the comments people address to dockopt into a
// closed set of results: run a command, reply with usage, or ignore the
// comment. It decides nothing about permissions or GitHub; the worker checks
// who may run what before anything runs.
//
// A comment addresses dockopt on a line that starts (after at most three
// spaces, as Markdown allows) with "/dockopt" or with a mention of the bot
// ("@dockopt"). The comment is read as GitHub renders it: lines in code
// blocks, block quotes, lists and HTML blocks are never commands, because
// people paste examples and quote each other, and dockopt quotes the
// command it answers. Only the first command of a comment counts, so one
// comment is one request.
package commands

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/templates"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// Name is a command dockopt understands.
type Name string

const (
	Rerun    Name = "rerun"
	Recreate Name = "recreate"
	Ignore   Name = "ignore"
	Explain  Name = "explain"
	Help     Name = "help"
)

// ChangesState reports whether a command changes what dockopt publishes,
// and so needs write access to the repository.
func (n Name) ChangesState() bool {
	switch n {
	case Rerun, Recreate, Ignore:
		return true
	}
	return false
}

// Command is one parsed command.
type Command struct {
	Name Name
	// Rule is the rule ID (or equivalent) of ignore and explain.
	Rule string
	// Path limits an ignore to a path or glob; "" means everywhere.
	Path string
	// Line is the comment line the command was read from, trimmed.
	Line string
}

// Key identifies identical requests, so that a flood of the same command
// on one pull request can be answered once.
func (c Command) Key() string {
	return strings.Join([]string{string(c.Name), strings.ToLower(c.Rule), c.Path}, "\x00")
}

// Result is what a comment asks for: exactly one of NotACommand, Run and
// Usage.
type Result interface{ result() }

// NotACommand: the comment does not address dockopt; do nothing at all.
type NotACommand struct{}

// Run: run the command (after checking permission).
type Run struct{ Command Command }

// Usage: the comment addresses dockopt but is not a valid command; reply
// with Problem and the help text.
type Usage struct {
	Line    string
	Problem string
}

func (NotACommand) result() {}
func (Run) result()         {}
func (Usage) result()       {}

// Parser recognises commands for one bot.
type Parser struct {
	// Mention is the bot's login without "[bot]", e.g. "dockopt"; comments
	// may start with "@dockopt" instead of "/dockopt".
	Mention string
}

// MentionOf turns an app's bot login ("dockopt[bot]") into the name people
// mention ("dockopt").
func MentionOf(botLogin string) string { return strings.TrimSuffix(botLogin, "[bot]") }

// Parse reads a comment body.
func (p Parser) Parse(body string) Result {
	for _, line := range commandLines(body) {
		rest, ok := p.addressed(line)
		if !ok {
			continue
		}
		return parseCommand(line, strings.Fields(rest))
	}
	return NotACommand{}
}

// addressed reports whether a line starts with "/dockopt" or the mention,
// as a whole word, and returns what follows.
func (p Parser) addressed(line string) (string, bool) {
	prefixes := []string{"/dockopt"}
	if m := strings.TrimPrefix(p.Mention, "@"); m != "" {
		prefixes = append(prefixes, "@"+m)
	}
	for _, pre := range prefixes {
		if len(line) < len(pre) || !strings.EqualFold(line[:len(pre)], pre) {
			continue
		}
		rest := line[len(pre):]
		if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
			continue // "/dockopt-x", "@dockopt2": someone else
		}
		return rest, true
	}
	return "", false
}

func parseCommand(line string, words []string) Result {
	if len(words) == 0 {
		return Run{Command{Name: Help, Line: line}}
	}
	name, args := Name(strings.ToLower(words[0])), words[1:]
	usage := func(format string, a ...any) Result {
		return Usage{Line: line, Problem: fmt.Sprintf(format, a...)}
	}
	switch name {
	case Rerun, Recreate, Help:
		if len(args) > 0 {
			return usage("`%s` takes no arguments, but got %s.", name, Code(strings.Join(args, " ")))
		}
		return Run{Command{Name: name, Line: line}}
	case Explain:
		if len(args) != 1 {
			return usage("`explain` takes one rule ID, for example `/dockopt explain apt-no-install-recommends`.")
		}
		return Run{Command{Name: name, Rule: args[0], Line: line}}
	case Ignore:
		if len(args) == 0 || len(args) > 2 {
			return usage("`ignore` takes a rule ID and optionally a path, for example `/dockopt ignore apt-pin-versions api/Dockerfile`.")
		}
		c := Command{Name: name, Rule: args[0], Line: line}
		if len(args) == 2 {
			c.Path = strings.TrimPrefix(args[1], "./")
			if strings.HasPrefix(c.Path, "/") || strings.Contains("/"+c.Path+"/", "/../") {
				return usage("the path %s must be relative to the repository root.", Code(args[1]))
			}
		}
		return Run{c}
	}
	return usage("%s is not a dockopt command.", Code(words[0]))
}

// markdown reads comments the way GitHub renders them: CommonMark with
// GitHub's extensions.
var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM)).Parser()

// commandLines returns the lines of body that may hold a command: those
// of the comment's own paragraphs (and headings), trimmed, indented by at
// most three columns. Lines that render inside a code block, a block
// quote, a list or an HTML block belong to another block and are skipped.
func commandLines(body string) []string {
	src := []byte(strings.ReplaceAll(body, "\r\n", "\n"))
	doc := markdown.Parse(text.NewReader(src))
	var out []string
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if n.Kind() != ast.KindParagraph && n.Kind() != ast.KindHeading {
			continue
		}
		lines := n.Lines()
		for i := range lines.Len() {
			line := lineAround(src, lines.At(i).Start)
			expanded := strings.ReplaceAll(line, "\t", "    ")
			if len(expanded)-len(strings.TrimLeft(expanded, " ")) >= 4 {
				continue // a paragraph's continuation line may be indented; a command may not
			}
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// lineAround returns the whole source line holding offset: a block's
// lines start after the indentation and the heading marker, which a
// command line must be read with.
func lineAround(src []byte, offset int) string {
	start := bytes.LastIndexByte(src[:offset], '\n') + 1
	end := bytes.IndexByte(src[offset:], '\n')
	if end < 0 {
		return string(src[start:])
	}
	return string(src[start : offset+end])
}

// HelpText is the reply to /dockopt help and to an invalid command.
func HelpText(mention string) string {
	var b strings.Builder
	b.WriteString("dockopt understands these commands, each on its own line at the start of a new comment")
	if mention != "" {
		fmt.Fprintf(&b, " (`@%s` works as well as `/dockopt`)", strings.TrimPrefix(mention, "@"))
	}
	b.WriteString(":\n\n")
	b.WriteString("| command | what it does | who |\n| --- | --- | --- |\n")
	b.WriteString("| `/dockopt rerun` | analyze again now: the check run, and the review or dockopt's pull request | write access |\n")
	b.WriteString("| `/dockopt recreate` | rebuild dockopt's branch from scratch, discarding commits people made on it | write access |\n")
	b.WriteString("| `/dockopt ignore RULE [PATH]` | stop reporting a rule (everywhere, or under PATH) once the waiver is in `.github/dockopt.yml` | write access |\n")
	b.WriteString("| `/dockopt explain RULE` | say what a rule checks and why | anyone |\n")
	b.WriteString("| `/dockopt help` | this list | anyone |\n")
	b.WriteString("\nCommands in code blocks, in quotes, or edited into older comments are not run.\n")
	return b.String()
}

// Code quotes what a commenter or a repository wrote (a word of a
// command, a branch name) as Markdown code that no backtick in it can end,
// with control and bidi characters shown as escapes: dockopt's answers
// must not turn someone's words into links or HTML.
func Code(s string) string { return templates.CodeSpan(analyzer.PrintableName(s)) }
