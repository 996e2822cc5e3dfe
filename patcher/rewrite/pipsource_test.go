package rewrite

import (
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
)

func TestPipSourceOption(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"-r requirements.txt", ""},
		{"--no-cache-dir -r requirements.txt -i https://pypi.example.com/simple", ""},
		{"-f https://download.pytorch.org/whl/torch_stable.html torch", ""},
		{"--find-links=https://example.com/wheels -r requirements.txt", ""},
		{"--no-index --find-links wheels -r requirements.txt", "--find-links wheels"},
		{"--find-links=./wheels -r requirements.txt", "--find-links ./wheels"},
		{"-f./wheels flask", "-f ./wheels"},
		{"--no-index -r requirements.txt", "--no-index"},
	} {
		var words []analyzer.Word
		for _, f := range strings.Fields(tc.args) {
			words = append(words, analyzer.Word{Value: f})
		}
		if got := pipSourceOption(words); got != tc.want {
			t.Errorf("pip install %s: got %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestRequirementFromSource(t *testing.T) {
	for line, fromSource := range map[string]bool{
		"flask==3.1.0":                            false,
		"# -e ./libs/shared":                      false,
		"-e ./libs/shared":                        true,
		"./libs/shared":                           true,
		"shared @ file:///app/libs/shared":        true,
		"--find-links wheels":                     true,
		"-f https://download.pytorch.org/whl/cpu": false,
		"-e git+https://github.com/o/r.git#egg=r": false,
		"--index-url https://pypi.example.com":    false,
		"requests==2.32.3  # pinned for ./legacy": false,
	} {
		if got := requirementFromSource(line) != ""; got != fromSource {
			t.Errorf("%q: from source %v, want %v", line, got, fromSource)
		}
	}
}
