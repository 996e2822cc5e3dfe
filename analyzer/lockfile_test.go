package analyzer

import (
	"testing"
	"testing/fstest"
)

func TestLockfileMissing(t *testing.T) {
	for _, tc := range []struct {
		name, lockfile, lock, pkg, want string
	}{
		{"npm v3 in step", "package-lock.json", `{"lockfileVersion":3,"packages":{"":{},"node_modules/express":{},"node_modules/@types/node":{}}}`,
			`{"dependencies":{"express":"^4.19.0"},"devDependencies":{"@types/node":"22"}}`, ""},
		{"npm v3 missing", "package-lock.json", `{"lockfileVersion":3,"packages":{}}`, `{"dependencies":{"express":"^4.19.0"}}`, "express"},
		{"npm v1", "package-lock.json", `{"lockfileVersion":1,"dependencies":{"express":{}}}`, `{"dependencies":{"express":"^4.19.0"}}`, ""},
		{"npm unparsable", "package-lock.json", `{`, `{"dependencies":{"express":"^4.19.0"}}`, ""},
		{"workspaces", "package-lock.json", `{"packages":{}}`, `{"workspaces":["a"],"dependencies":{"express":"1"}}`, ""},
		{"yarn in step", "yarn.lock", "# yarn lockfile v1\n\n\"@vitejs/plugin-react@^4.3.0\":\n  version \"4.3.1\"\n\nreact@^18.3.1, react@^18.0.0:\n  version \"18.3.1\"\n",
			`{"dependencies":{"react":"^18.3.1"},"devDependencies":{"@vitejs/plugin-react":"^4.3.0"}}`, ""},
		{"yarn header only", "yarn.lock", "# yarn lockfile v1\n", `{"dependencies":{"react":"^18.3.1","vite":"5"}}`, "react"},
		{"pnpm not read", "pnpm-lock.yaml", "lockfileVersion: '9.0'\n", `{"dependencies":{"react":"^18.3.1"}}`, ""},
	} {
		fsys := fstest.MapFS{"app/" + tc.lockfile: {Data: []byte(tc.lock)}, "app/package.json": {Data: []byte(tc.pkg)}}
		bc := LoadContext(fsys, ".")
		if got := LockfileMissing(bc, "app/"+tc.lockfile); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
