package rewrite

import "testing"

// plainProbe decides whether an original HEALTHCHECK can be asked with the
// runtime's interpreter: only a plain GET of the container's own URL, with
// a tool that fails on an error status, translates.
func TestPlainProbe(t *testing.T) {
	cases := []struct {
		test      []string
		tool, url string
	}{
		{[]string{"CMD-SHELL", "curl -f http://localhost:8000/health || exit 1"}, "curl", "http://localhost:8000/health"},
		{[]string{"CMD-SHELL", "curl -fsS -o /dev/null http://127.0.0.1:3000/ || exit 1"}, "curl", "http://127.0.0.1:3000/"},
		{[]string{"CMD", "/usr/bin/curl", "--fail", "--max-time", "2", "http://127.0.0.1/ping"}, "curl", "http://127.0.0.1/ping"},
		{[]string{"CMD", "wget", "-qO-", "http://localhost:8080/healthz"}, "wget", "http://localhost:8080/healthz"},
		{[]string{"CMD", "wget", "-q", "--spider", "http://127.0.0.1:8080/"}, "wget", "http://127.0.0.1:8080/"},
		{[]string{"CMD", "sh", "-c", "curl -f http://localhost:8000/ || exit 1"}, "curl", "http://localhost:8000/"},
		// curl without --fail passes on a 500; the interpreter's probe would not.
		{[]string{"CMD-SHELL", "curl http://localhost:8000/health"}, "curl", ""},
		// A header, another host, HTTPS or a pipe: not a plain local GET.
		{[]string{"CMD-SHELL", `curl -f -H "Host: api" http://localhost:8000/health`}, "curl", ""},
		{[]string{"CMD-SHELL", "curl -f http://db:5432/"}, "curl", ""},
		{[]string{"CMD-SHELL", "curl -f https://localhost:8443/"}, "curl", ""},
		{[]string{"CMD-SHELL", "curl -f http://localhost/ | grep ok"}, "curl", ""},
		{[]string{"CMD", "pg_isready", "-U", "postgres"}, "pg_isready", ""},
		{[]string{"CMD", "python", "-m", "app.health"}, "python", ""},
		{[]string{"CMD", "./healthcheck.sh"}, "./healthcheck.sh", ""},
	}
	for _, tc := range cases {
		tool, url := plainProbe(tc.test)
		if tool != tc.tool || url != tc.url {
			t.Errorf("plainProbe(%q) = %q, %q; want %q, %q", tc.test, tool, url, tc.tool, tc.url)
		}
	}
}

// nodePort reads the port a Node server listens on, and the variable it
// reads it from first, only from what the file states.
func TestNodePort(t *testing.T) {
	cases := []struct {
		src, arg string
		port     int
		env      string
	}{
		{"app.listen(3000)", "3000", 3000, ""},
		{"app.listen(process.env.PORT || 8080)", "process.env.PORT || 8080", 8080, "PORT"},
		{"const port = Number(process.env.PORT || 3000);\napp.listen(port)", "port", 3000, "PORT"},
		{"const PORT = process.env.APP_PORT ?? '4000';\napp.listen(PORT)", "PORT", 4000, "APP_PORT"},
		{"const port = 3001\napp.listen(port)", "port", 3001, ""},
		// Computed, or defined twice: unknown.
		{"const port = base + 1;\napp.listen(port)", "port", 0, ""},
		{"let port = 1;\nlet port = 2;\napp.listen(port)", "port", 0, ""},
		{"app.listen(config.port)", "config.port", 0, ""},
	}
	for _, tc := range cases {
		port, env := nodePort([]byte(tc.src), tc.arg)
		if port != tc.port || env != tc.env {
			t.Errorf("nodePort(%q) = %d, %q; want %d, %q", tc.src, port, env, tc.port, tc.env)
		}
	}
}

// pythonRoute accepts a GET health route on the app object the command
// names, not on a blueprint or router mounted under a prefix.
func TestPythonRoute(t *testing.T) {
	cases := []struct {
		src, app, want string
	}{
		{"@app.get(\"/healthz\")\ndef h(): ...", "app", "/healthz"},
		{"@app.route('/health')\ndef h(): ...", "app", "/health"},
		{"@application.route('/health', methods=['GET'])", "application", "/health"},
		{"@app.route('/health', methods=['POST'])", "app", ""},
		{"@router.get('/healthz')", "app", ""},
		{"@app.get('/health-details')", "app", ""},
		{"# see '/healthz' in the docs", "app", ""},
	}
	for _, tc := range cases {
		if got := pythonRoute([]byte(tc.src), tc.app); got != tc.want {
			t.Errorf("pythonRoute(%q, %s) = %q, want %q", tc.src, tc.app, got, tc.want)
		}
	}
}

func TestSplitBind(t *testing.T) {
	cases := []struct {
		bind string
		host string
		port int
		ok   bool
	}{
		{"0.0.0.0:8000", "0.0.0.0", 8000, true},
		{":5000", "", 5000, true},
		{"[::]:8080", "[::]", 8080, true},
		{"unix:/tmp/app.sock", "", 0, false},
		{"8000", "", 0, false},
		{"0.0.0.0:$PORT", "", 0, false},
	}
	for _, tc := range cases {
		host, port, ok := splitBind(tc.bind)
		if host != tc.host || port != tc.port || ok != tc.ok {
			t.Errorf("splitBind(%q) = %q, %d, %v; want %q, %d, %v", tc.bind, host, port, ok, tc.host, tc.port, tc.ok)
		}
	}
}
