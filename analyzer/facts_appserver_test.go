package analyzer

import (
	"encoding/json"
	"testing"
)

func TestRuntimeScript(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "server.ts"}, "server.ts"},
		{[]string{"server.ts"}, "server.ts"},
		{[]string{"run", "--allow-net", "--allow-env", "main.ts"}, "main.ts"},
		{[]string{"run", "--config", "deno.json", "main.ts"}, "main.ts"},
		{[]string{"run", "--config=deno.json", "src/main.mts"}, "src/main.mts"},
		{[]string{"run", "start"}, ""}, // a package.json script
		{[]string{"install"}, ""},
		{nil, ""},
	} {
		if got := runtimeScript(tc.args); got != tc.want {
			t.Errorf("runtimeScript(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestStripJSONC(t *testing.T) {
	in := "{\n  // a comment with \"quotes\"\n  \"a\": \"x // not a comment, \\\"}\", /* block */\n  \"b\": [1, 2,],\n}\n"
	var got map[string]any
	if err := json.Unmarshal(stripJSONC([]byte(in)), &got); err != nil {
		t.Fatalf("stripJSONC(%q) is not JSON: %v", in, err)
	}
	if got["a"] != "x // not a comment, \"}" || len(got["b"].([]any)) != 2 {
		t.Errorf("stripJSONC(%q) decodes to %v", in, got)
	}
}

func TestPortFallback(t *testing.T) {
	for _, tc := range []struct {
		text string
		want int
	}{
		{"Bun.serve({ port: process.env.PORT || 3000, fetch })", 3000},
		{"const port = process.env.PORT ?? 3000\nBun.serve({ port })", 3000},
		{"const port = Number(process.env.PORT) || 8080;", 8080},
		{`const port = parseInt(process.env.PORT || "3000");`, 3000},
		{"const port = parseInt(process.env.PORT, 10) || 3000;", 3000},
		{"export default { port: Bun.env.PORT ?? 3000, fetch }", 3000},
		{`const port = Number(Deno.env.get("PORT") ?? 8000);`, 8000},
		{"const port = process.env.PORT || 3000 + 1;", 0},
		{"Bun.serve({ port: process.env.PORT })", 0},
		{"const a = process.env.PORT || 3000; const b = process.env.PORT || 4000;", 0},
		{"const a = process.env.PORT || 3000; log(process.env.PORT);", 0},
		{"const port = process.env.PORT || 99999;", 0},
	} {
		if got := portFallback(tc.text); got != tc.want {
			t.Errorf("portFallback(%q) = %d, want %d", tc.text, got, tc.want)
		}
	}
}
