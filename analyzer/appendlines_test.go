package analyzer

import "testing"

func TestAppendMissingLines(t *testing.T) {
	tests := []struct {
		name, base, extra, want string
	}{
		{"adds what is missing, in order", ".git\n", ".git\nnode_modules\n.env\n", ".git\nnode_modules\n.env\n"},
		{"ends an unterminated file first", ".git", "node_modules\n", ".git\nnode_modules\n"},
		{"a re-include after the last pattern holds: not repeated", "*.txt\n!requirements.txt\n", "!requirements.txt\n", "*.txt\n!requirements.txt\n"},
		{"a re-include above a later pattern may be undone: appended again",
			"!requirements.txt\n*.txt\n", "# the build copies requirements.txt\n!requirements.txt\n",
			"!requirements.txt\n*.txt\n# the build copies requirements.txt\n!requirements.txt\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AppendMissingLines(tt.base, tt.extra); got != tt.want {
				t.Errorf("AppendMissingLines(%q, %q) = %q, want %q", tt.base, tt.extra, got, tt.want)
			}
		})
	}
}
