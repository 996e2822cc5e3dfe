package analyzer

import "testing"

// TestPackageManagerOf holds the one table of package managers to every
// spelling the rules and rewrites used to recognise separately; several of
// them knew only some (deps-copied-after-source knew npm ci, install and i;
// npm-install-with-lockfile also knew isntall and friends; the rewrites
// read only pip and pip3 where pip-no-cache-dir read pip3.12).
func TestPackageManagerOf(t *testing.T) {
	for _, tc := range []struct {
		run              string
		manager          string // "" for none
		installs, frozen bool
	}{
		{"npm ci", "npm", true, true},
		{"npm clean-install", "npm", true, true},
		{"npm ic", "npm", true, true},
		{"npm install-clean", "npm", true, true},
		{"npm isntall-clean", "npm", true, true},
		{"npm install", "npm", true, false},
		{"npm i", "npm", true, false},
		{"npm add", "npm", true, false},
		{"npm isntall", "npm", true, false},
		{"npm insta", "npm", true, false},
		{"npm --prefix web ci", "npm", true, true},
		{"sudo npm -w api install", "npm", true, false},
		{"npm run build", "npm", false, false},
		{"npm", "npm", false, false},
		{"yarn", "yarn", true, false},
		{"yarn install --frozen-lockfile", "yarn", true, false},
		{"yarn --cwd web install", "yarn", true, false},
		{"yarn add left-pad", "yarn", false, false},
		{"pnpm install", "pnpm", true, false},
		{"pnpm i --frozen-lockfile", "pnpm", true, false},
		{"pnpm -C web install", "pnpm", true, false},
		{"pnpm", "pnpm", false, false},
		{"pip install -r requirements.txt", "pip", true, false},
		{"pip3 install flask", "pip", true, false},
		{"pip3.12 install flask", "pip", true, false},
		{"pip --no-cache-dir install flask", "pip", true, false},
		{"python -m pip install flask", "pip", true, false},
		{"python3.12 -u -m pip install flask", "pip", true, false},
		{"python3 app.py", "", false, false},
		{"pip freeze", "pip", false, false},
		{"poetry install --no-root", "poetry", true, false},
		{"pipenv install --deploy", "pipenv", true, false},
		{"uv sync --frozen", "uv", true, false},
		{"go mod download", "go", true, false},
		{"go build ./...", "go", false, false},
		{"go mod tidy", "go", false, false},
		{"bundle", "bundler", true, false},
		{"bundle install", "bundler", true, false},
		{"composer install --no-dev", "composer", true, false},
		{"mvn -B dependency:go-offline", "maven", true, false},
		{"./mvnw dependency:resolve", "maven", true, false},
		{"mvn package", "maven", false, false},
		{"cargo build --release", "cargo", false, false},
		{"apt-get install -y curl", "", false, false},
	} {
		d, err := Parse("Dockerfile", []byte("FROM debian:12\nRUN "+tc.run+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		c := d.Stages[0].Instructions[0].Script.Commands()[0]
		pm, pc := PackageManagerOf(c)
		name := ""
		if pm != nil {
			name = pm.Name
		}
		if name != tc.manager {
			t.Errorf("%q: manager %q, want %q", tc.run, name, tc.manager)
			continue
		}
		if pm == nil {
			continue
		}
		if got := pm.InstallsDependencies(pc); got != tc.installs {
			t.Errorf("%q: installs dependencies = %v, want %v", tc.run, got, tc.installs)
		}
		if got := pm.InstallsFrozen(pc); got != tc.frozen {
			t.Errorf("%q: installs the lockfile = %v, want %v", tc.run, got, tc.frozen)
		}
	}
}

func TestCacheIn(t *testing.T) {
	env := map[string]string{"GOPATH": "/work", "CARGO_HOME": "relative"}
	get := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tc := range []struct {
		cache Cache
		image string
		want  string
	}{
		{Go.Caches[0], "debian", "/work/pkg/mod"},
		{Go.Caches[0], "golang", "/work/pkg/mod"},
		{Go.Caches[1], "golang", "/root/.cache/go-build"},
		// A relative value is not a folder the build can know.
		{Cargo.Caches[0], "rust", "/usr/local/cargo/registry"},
		{Cargo.Caches[0], "debian", "/root/.cargo/registry"},
		{Npm.Caches[0], "node", "/root/.npm"},
	} {
		if got := tc.cache.In(tc.image, get); got != tc.want {
			t.Errorf("%s in %s: %s, want %s", tc.cache.Dir, tc.image, got, tc.want)
		}
	}
	if got := Go.Caches[0].In("golang", nil); got != "/go/pkg/mod" {
		t.Errorf("golang image module cache: %s", got)
	}
}
