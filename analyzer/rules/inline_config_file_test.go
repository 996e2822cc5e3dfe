package rules

import (
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
)

// TestInlineExtraction checks that the extracted content is byte for byte
// what the shell would have written, and that anything uncertain is left
// without content.
func TestInlineExtraction(t *testing.T) {
	cases := []struct {
		name, run string
		alpine    bool
		target    string
		want      string
		why       bool // no exact content
	}{
		{"printf escapes", `printf 'a\nb\tc\n%%d\n' > /etc/x.conf`, false, "/etc/x.conf", "a\nb\tc\n%d\n", false},
		{"printf args reuse the format", `printf '%s=1\n' A B > /etc/x.conf`, false, "/etc/x.conf", "A=1\nB=1\n", false},
		{"printf other conversion", `printf '%d\n' 3 > /etc/x.conf`, false, "/etc/x.conf", "", true},
		// bash reads \x41 as A, dash writes it as it is.
		{"printf bash-only escape", `printf 'a\x41\n' > /etc/x.conf`, false, "/etc/x.conf", "", true},
		{"echo -e bash-only escape", `echo -e 'a\e' > /etc/x`, true, "/etc/x", "", true},
		{"printf escaped backslash", `printf 'a\\b\n' > /etc/x.conf`, false, "/etc/x.conf", "a\\b\n", false},
		{"quoted target", `echo a > "/etc/x y.conf"`, false, "/etc/x y.conf", "a\n", false},
		{"echo appends", `echo one > /etc/x && echo 'two  spaced' >> /etc/x && echo -n three >> /etc/x`, false, "/etc/x", "one\ntwo  spaced\nthree", false},
		{"echo -e on dash", `echo -e 'a\nb' > /etc/x`, false, "/etc/x", "", true},
		{"echo -e on busybox", `echo -e 'a\nb' > /etc/x`, true, "/etc/x", "a\nb\n", false},
		{"echo backslash without -e", `echo 'a\nb' > /etc/x`, false, "/etc/x", "", true},
		{"expansion", `echo "port $PORT" > /etc/x`, false, "/etc/x", "", true},
		{"single quotes keep dollars", `echo 'try_files $uri;' > /etc/x`, false, "/etc/x", "try_files $uri;\n", false},
		{"relative target", `echo a > app.conf`, false, "/srv/app.conf", "a\n", false},
		{"overwrite resets", `echo a > /etc/x && echo b > /etc/x`, false, "/etc/x", "b\n", false},
		{"quoted heredoc", "cat <<'EOF' > /etc/x\n$HOME \\n\nEOF", false, "/etc/x", "$HOME \\n\n", false},
		{"unquoted heredoc expands", "cat <<EOF > /etc/x\n$HOME\nEOF", false, "/etc/x", "", true},
		{"dash heredoc strips tabs", "cat <<-EOF >/etc/x\n\tindented\n\tEOF", false, "/etc/x", "indented\n", false},
	}
	for _, c := range cases {
		base := "debian:12-slim"
		if c.alpine {
			base = "alpine:3.22"
		}
		src := "FROM " + base + "\nWORKDIR /srv\nRUN " + c.run + "\n"
		d, err := analyzer.Parse("Dockerfile", []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		in := d.Stages[0].Instructions[1]
		ws := extractInlineWrites(in.Script, in.WorkdirBefore(), echoInterpretsEscapes(in.Stage))
		if len(ws.writes) != 1 {
			t.Errorf("%s: %d writes, want 1", c.name, len(ws.writes))
			continue
		}
		w := ws.writes[0]
		if w.target != c.target {
			t.Errorf("%s: target %q, want %q", c.name, w.target, c.target)
		}
		if (w.why != "") != c.why {
			t.Errorf("%s: why = %q, want uncertain=%v", c.name, w.why, c.why)
		}
		if !c.why && w.content != c.want {
			t.Errorf("%s: content %q, want %q", c.name, w.content, c.want)
		}
	}
}

// TestInlineGeneratedFiles checks the files the fix creates, which the
// txtar goldens do not show.
func TestInlineGeneratedFiles(t *testing.T) {
	res := runCaseFixFiles(t, InlineConfigFile, "testdata/inline-config-file/printf-echo.txtar")
	want := "server {\n  listen 80;\n  root /usr/share/nginx/html;\n  index index.html;\n" +
		"  location / { try_files $uri $uri/ /index.html; }\n}\n"
	if got := res["app.conf"]; got != want {
		t.Errorf("app.conf = %q, want %q", got, want)
	}
	res = runCaseFixFiles(t, InlineConfigFile, "testdata/inline-config-file/long-copy-heredoc.txtar")
	if got := res["default.conf"]; !strings.HasPrefix(got, "server {\n    listen 8080;\n") || strings.Count(got, "\n") != 25 {
		t.Errorf("default.conf = %q", got)
	}
	res = runCaseFixFiles(t, InlineConfigFile, "testdata/inline-config-file/heredocs.txtar")
	if _, ok := res["pip.conf"]; ok {
		t.Errorf("a 4-line COPY heredoc was moved to pip.conf; files %v", res)
	}
	res = runCaseFixFiles(t, InlineConfigFile, "testdata/inline-config-file/name-taken.txtar")
	if got, ok := res["config/settings.ini"]; !ok || got != "[server]\nhost = 0.0.0.0\nport = 8000\nworkers = 4\n" {
		t.Errorf("config/settings.ini (settings.ini exists already) = %q, %v; files %v", got, ok, res)
	}
}
