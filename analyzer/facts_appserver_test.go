package analyzer

import "testing"

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
