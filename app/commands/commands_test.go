package commands

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	p := Parser{Mention: "dockopt"}
	run := func(name Name, rule, path, line string) Result {
		return Run{Command{Name: name, Rule: rule, Path: path, Line: line}}
	}
	usage := func(line, problemPart string) Result { return Usage{Line: line, Problem: problemPart} }
	cases := []struct {
		name string
		body string
		want Result
	}{
		{"empty", "", NotACommand{}},
		{"plain text", "LGTM, thanks!", NotACommand{}},
		{"rerun", "/dockopt rerun", run(Rerun, "", "", "/dockopt rerun")},
		{"rerun, trailing spaces and CRLF", "/dockopt rerun  \r\n", run(Rerun, "", "", "/dockopt rerun")},
		{"upper case", "/DockOpt ReRun", run(Rerun, "", "", "/DockOpt ReRun")},
		{"recreate", "/dockopt recreate", run(Recreate, "", "", "/dockopt recreate")},
		{"help", "/dockopt help", run(Help, "", "", "/dockopt help")},
		{"bare /dockopt is help", "/dockopt", run(Help, "", "", "/dockopt")},
		{"mention", "@dockopt rerun", run(Rerun, "", "", "@dockopt rerun")},
		{"mention alone is help", "@dockopt", run(Help, "", "", "@dockopt")},
		{"longer mention is someone else", "@dockopt2 rerun", NotACommand{}},
		{"glued word is not the command", "/dockoptrerun", NotACommand{}},
		{"other bot", "/atlantis plan", NotACommand{}},
		{"up to three spaces", "   /dockopt rerun", run(Rerun, "", "", "/dockopt rerun")},
		{"after prose on another line", "Thanks!\n\n/dockopt rerun\n\nbye", run(Rerun, "", "", "/dockopt rerun")},
		{"not at the start of the line", "please /dockopt rerun", NotACommand{}},
		{"inline code", "`/dockopt rerun`", NotACommand{}},
		{"list item", "- /dockopt rerun", NotACommand{}},
		{"block quote", "> /dockopt rerun\n\nI agree", NotACommand{}},
		{"fenced block", "Try:\n```\n/dockopt rerun\n```", NotACommand{}},
		{"fenced block with info", "```sh\n/dockopt rerun\n```\n", NotACommand{}},
		{"tilde fence", "~~~\n/dockopt rerun\n~~~", NotACommand{}},
		{"longer closing fence needed", "````\n```\n/dockopt rerun\n````", NotACommand{}},
		{"after a closed fence", "```\nx\n```\n/dockopt rerun", run(Rerun, "", "", "/dockopt rerun")},
		{"unclosed fence swallows the rest", "```\n/dockopt rerun", NotACommand{}},
		{"indented code block", "Example:\n\n    /dockopt rerun\n", NotACommand{}},
		{"tab-indented code block", "\t/dockopt rerun", NotACommand{}},
		{"indented block continues", "\n    x\n    /dockopt rerun", NotACommand{}},
		{"lazy continuation of a block quote", "> I agree\n/dockopt rerun", NotACommand{}},
		{"indented continuation of a paragraph", "Please:\n    /dockopt rerun", NotACommand{}},
		{"numbered list item", "1. /dockopt rerun", NotACommand{}},
		{"HTML block", "<details>\n/dockopt rerun\n</details>", NotACommand{}},
		{"heading", "# /dockopt rerun", NotACommand{}},
		{"setext heading text", "/dockopt rerun\n===", run(Rerun, "", "", "/dockopt rerun")},
		{"second line of a paragraph", "Thanks!\n/dockopt rerun", run(Rerun, "", "", "/dockopt rerun")},
		{"first command wins", "/dockopt explain DL3008\n/dockopt rerun", run(Explain, "DL3008", "", "/dockopt explain DL3008")},
		{"explain", "/dockopt explain apt-no-install-recommends", run(Explain, "apt-no-install-recommends", "", "/dockopt explain apt-no-install-recommends")},
		{"explain without rule", "/dockopt explain", usage("/dockopt explain", "`explain` takes one rule ID")},
		{"ignore", "/dockopt ignore apt-pin-versions", run(Ignore, "apt-pin-versions", "", "/dockopt ignore apt-pin-versions")},
		{"ignore with path", "/dockopt ignore DL3008 ./api/Dockerfile", run(Ignore, "DL3008", "api/Dockerfile", "/dockopt ignore DL3008 ./api/Dockerfile")},
		{"ignore with glob", "@dockopt ignore DL3008 services/*", run(Ignore, "DL3008", "services/*", "@dockopt ignore DL3008 services/*")},
		{"ignore without rule", "/dockopt ignore", usage("/dockopt ignore", "`ignore` takes a rule ID")},
		{"ignore absolute path", "/dockopt ignore DL3008 /etc/x", usage("/dockopt ignore DL3008 /etc/x", "must be relative")},
		{"ignore escaping path", "/dockopt ignore DL3008 a/../../x", usage("/dockopt ignore DL3008 a/../../x", "must be relative")},
		{"rerun with arguments", "/dockopt rerun now please", usage("/dockopt rerun now please", "takes no arguments")},
		{"unknown command", "/dockopt deploy", usage("/dockopt deploy", "`deploy` is not a dockopt command")},
		// A commenter's word is quoted as code no backtick in it ends, so
		// dockopt's answer cannot carry their link or HTML.
		{"unknown command with markdown", "/dockopt x`[a](https://evil.example)`<b>", usage("/dockopt x`[a](https://evil.example)`<b>", "``x`[a](https://evil.example)`<b>`` is not a dockopt command")},
		{"escaping path with a backtick", "/dockopt ignore DL3008 /`<img>", usage("/dockopt ignore DL3008 /`<img>", "the path ``/`<img>`` must be relative")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := p.Parse(c.body)
			if u, ok := c.want.(Usage); ok {
				g, ok := got.(Usage)
				if !ok || g.Line != u.Line || !strings.Contains(g.Problem, u.Problem) {
					t.Fatalf("Parse(%q) = %#v, want usage for %q mentioning %q", c.body, got, u.Line, u.Problem)
				}
				return
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Parse(%q) = %#v, want %#v", c.body, got, c.want)
			}
		})
	}
}

func TestMentionOf(t *testing.T) {
	if got := MentionOf("dockopt[bot]"); got != "dockopt" {
		t.Errorf("MentionOf = %q", got)
	}
	p := Parser{Mention: MentionOf("dockopt-test[bot]")}
	if _, ok := p.Parse("@dockopt-test rerun").(Run); !ok {
		t.Errorf("a mention of the bot's login without [bot] should be a command")
	}
}

func TestStateChangingCommands(t *testing.T) {
	for n, want := range map[Name]bool{Rerun: true, Recreate: true, Ignore: true, Explain: false, Help: false} {
		if n.ChangesState() != want {
			t.Errorf("%s.ChangesState() = %v", n, !want)
		}
	}
}

func TestHelpTextListsEveryCommand(t *testing.T) {
	h := HelpText("dockopt")
	for _, n := range []Name{Rerun, Recreate, Ignore, Explain, Help} {
		if !strings.Contains(h, "/dockopt "+string(n)) {
			t.Errorf("help lacks %s", n)
		}
	}
}

// FuzzParse: any comment parses without panicking, and a command is read
// from a line the comment holds.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"/dockopt rerun", "> /dockopt rerun", "```\n/dockopt rerun", "Hi\r\n@dockopt ignore DL3008 a/b", "<div>\n/dockopt", "\t\t/dockopt explain x"} {
		f.Add(s)
	}
	p := Parser{Mention: "dockopt"}
	f.Fuzz(func(t *testing.T, body string) {
		var line string
		switch r := p.Parse(body).(type) {
		case Run:
			line = r.Command.Line
		case Usage:
			line = r.Line
		default:
			return
		}
		if !strings.Contains(strings.ReplaceAll(body, "\r\n", "\n"), line) {
			t.Errorf("Parse(%q) read the command %q, which the comment does not hold", body, line)
		}
	})
}
