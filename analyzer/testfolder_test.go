package analyzer

import "testing"

func TestInTestFolder(t *testing.T) {
	for p, want := range map[string]bool{
		"test/db.sqlite3":                   true,
		"app/spec/fixtures/data.sqlite":     true,
		"web/__fixtures__/seed.db":          true,
		"Tests/data.db":                     true,
		"integration-tests/docker/app.db":   true,
		"data/app.sqlite":                   false,
		"db.sqlite3":                        false,
		"contest/app.db":                    false,
		"src/testing_utils/not-a-folder.db": false,
	} {
		if got := InTestFolder(p); got != want {
			t.Errorf("InTestFolder(%q) = %v, want %v", p, got, want)
		}
	}
}
