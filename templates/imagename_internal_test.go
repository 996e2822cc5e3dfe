package templates

import (
	"regexp"
	"strings"
	"testing"
)

// imageNameComponent is what docker build -t accepts as a name component.
var imageNameComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$`)

// TestImageNameIsValidWhenCut checks that a folder name cut to 128
// characters still gives a name docker build accepts: the cut must not
// leave a separator at its end.
func TestImageNameIsValidWhenCut(t *testing.T) {
	for _, p := range []string{
		strings.Repeat("a", 127) + "-x/Dockerfile",
		strings.Repeat("a", 127) + "/x/Dockerfile",
		strings.Repeat("a", 127) + "._x/Dockerfile",
		"$(id)/Dockerfile",
	} {
		if got := imageName(p); !imageNameComponent.MatchString(got) || len(got) > 128 {
			t.Errorf("imageName(%q) = %q, which docker build -t refuses", p, got)
		}
	}
}
