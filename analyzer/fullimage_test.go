package analyzer

import (
	"slices"
	"testing"
)

func TestPythonDependencyNames(t *testing.T) {
	for _, tc := range []struct {
		file, src string
		want      []string
	}{
		{"requirements.txt", "Django==5.0\npsycopg2>=2.9 # db\n", []string{"django", "psycopg2"}},
		{"pyproject.toml", `[project]
name = "app"
dependencies = [
  "psycopg[c]>=3.1",  # needs libpq ]
  'Flask_Login',
]
[project.optional-dependencies]
pg = ["psycopg2"]
`, []string{"psycopg[c]", "flask-login"}},
		{"pyproject.toml", `[project]
dependencies = ["requests"]
[tool.poetry.dependencies]
python = "^3.11"
psycopg = { version = "^3.1", extras = ["Binary"] }
"mysqlclient" = "*"
[tool.poetry.group.dev.dependencies]
psycopg2 = "*"
[tool.poetry.dependencies.wand]
version = "*"
`, []string{"requests", "psycopg[binary]", "mysqlclient", "wand"}},
		{"Pipfile", "[packages]\nPsycopg2 = \"*\"\n[dev-packages]\nwand = \"*\"\n", []string{"psycopg2"}},
		{"poetry.lock", `[[package]]
name = "psycopg2"
version = "2.9.9"
category = "dev"

[[package]]
name = "mysqlclient"
version = "2.2.4"

[package.dependencies]
name = "not-a-package"

[metadata]
name = "nor-this"
`, []string{"mysqlclient"}},
		{"uv.lock", "[[package]]\nname = \"psycopg\"\ndependencies = [\n    { name = \"psycopg-binary\" },\n]\n\n[[package]]\nname = \"psycopg-binary\"\n", []string{"psycopg[binary]", "psycopg-binary"}},
		{"uv.lock", "[[package]]\nname = \"psycopg-c\"\n", []string{"psycopg[c]"}},
		{"Pipfile.lock", `{"default": {"psycopg2": {}, "Django": {}}, "develop": {"wand": {}}}`, []string{"django", "psycopg2"}},
	} {
		if got := PythonDependencyNames(tc.file, []byte(tc.src)); !slices.Equal(got, tc.want) {
			t.Errorf("%s %q: got %q, want %q", tc.file, tc.src, got, tc.want)
		}
	}
}
