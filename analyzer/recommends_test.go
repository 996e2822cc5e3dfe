package analyzer

import (
	"reflect"
	"testing"
)

func TestMissingRecommends(t *testing.T) {
	cases := []struct {
		name  string
		words []string
		want  []MissingRecommend
	}{
		{"curl needs CA certificates for HTTPS", []string{"curl"},
			[]MissingRecommend{{Package: "ca-certificates", NeededBy: "curl", Why: "HTTPS needs"}}},
		{"named once, for the first word that needs it", []string{"wget", "git", "curl"},
			[]MissingRecommend{{Package: "ca-certificates", NeededBy: "wget", Why: "HTTPS needs"}}},
		{"already named", []string{"curl", "ca-certificates"}, nil},
		{"a pinned version is the package", []string{"curl=8.5.0-2", "ca-certificates=20230311"}, nil},
		{"versioned gcc needs the C headers", []string{"gcc-12"},
			[]MissingRecommend{{Package: "libc6-dev", NeededBy: "gcc-12", Why: "compiling needs"}}},
		{"g++ brings the C headers", []string{"gcc", "g++"}, nil},
		{"build-essential brings the C headers", []string{"build-essential", "gcc"}, nil},
		{"both kinds, in the order of their users", []string{"gcc", "curl"},
			[]MissingRecommend{{Package: "libc6-dev", NeededBy: "gcc", Why: "compiling needs"},
				{Package: "ca-certificates", NeededBy: "curl", Why: "HTTPS needs"}}},
		{"a package that needs nothing", []string{"jq", "tzdata"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := MissingRecommends(c.words); !reflect.DeepEqual(got, c.want) {
				t.Errorf("MissingRecommends(%q) = %+v, want %+v", c.words, got, c.want)
			}
		})
	}
}
