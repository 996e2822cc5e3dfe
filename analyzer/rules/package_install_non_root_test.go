package rules

import (
	"testing"

	"github.com/dockopt/dockopt/analyzer"
)

// Which package manager calls need root, and which RUN flags leave the
// user and the written folders as they are.
func TestPackageInstallNonRootCalls(t *testing.T) {
	cases := []struct {
		run  string
		want string // the call reported, "" for none
		from string // alpine:3.20 when ""
	}{
		{"RUN apk add --no-cache curl", "apk add", ""},
		{"RUN apt-get update && apt-get install -y curl", "apt-get update", "debian:12"},
		{"RUN apt-get update && apt-get install -y curl", "", ""},
		{"RUN microdnf install -y curl && microdnf clean all", "microdnf install", "mysql:8.0"},
		{"RUN zypper --non-interactive in curl", "zypper in", "opensuse/leap:15.6"},
		{"RUN apk info -vv", "", ""},
		{"RUN apt-get -o Dir::State=/tmp/s install -y curl", "", ""},
		{"RUN dnf --installroot=/tmp/r install -y curl", "", ""},
		{"RUN apk add --no-cache $PACKAGES", "", ""},
		{"RUN apk add curl || true", "", ""},
		{"RUN gosu root apk add curl", "", ""},
		{"RUN apk() { :; }; apk add curl", "", ""},
		{"RUN --mount=type=cache,target=/var/cache/apk apk add curl", "apk add", ""},
		{"RUN --network=host apk add curl", "apk add", ""},
		{"RUN --mount=type=bind,source=.,target=/src apk add curl", "", ""},
		{"RUN --security=insecure apk add curl", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.run, func(t *testing.T) {
			from := tc.from
			if from == "" {
				from = "alpine:3.20"
			}
			src := "FROM " + from + "\nUSER 1000\n" + tc.run + "\n"
			fr, err := analyzer.New([]*analyzer.Rule{PackageInstallNonRoot}).AnalyzeSource(t.Context(), "Dockerfile", []byte(src), nil, nil)
			if err != nil || fr.Error != "" {
				t.Fatal(err, fr.Error)
			}
			got := ""
			if len(fr.Findings) > 0 {
				got = fr.Findings[0].Message
			}
			if tc.want == "" && got != "" || tc.want != "" && (len(got) < len(tc.want) || got[:len(tc.want)] != tc.want) {
				t.Errorf("finding %q, want one starting %q", got, tc.want)
			}
		})
	}
}
