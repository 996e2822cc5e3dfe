package analyzer_test

import "testing"

// What an earlier RUN wrote under one of its own cache, tmpfs or bind
// mounts, or into a cache it cleaned, never reached a layer: a cache mount
// later does not hide it. What an earlier RUN left in the layer does.
func TestFilledBeforeSkipsWhatNeverReachedTheLayer(t *testing.T) {
	cases := []struct {
		name, dockerfile, dir string
		want                  int
	}{
		{"left in the layer", "FROM eclipse-temurin:21-jdk\nWORKDIR /src\nRUN mvn dependency:go-offline\nRUN mvn -o package\n", "/root/.m2", 1},
		{"under the RUN's own cache mount", "FROM eclipse-temurin:21-jdk\nWORKDIR /src\nRUN --mount=type=cache,target=/root/.m2 mvn dependency:go-offline\nRUN mvn -o package\n", "/root/.m2", 0},
		{"under a tmpfs mount", "FROM node:20-slim\nWORKDIR /app\nRUN --mount=type=tmpfs,target=/root/.npm npm ci\nRUN npm run build\n", "/root/.npm", 0},
		{"cleaned in the same RUN", "FROM node:20-slim\nWORKDIR /app\nRUN npm ci && npm cache clean --force\nRUN npm run build\n", "/root/.npm", 0},
		{"go mod download in a layer", "FROM golang:1.23\nWORKDIR /src\nRUN go mod download\nRUN go build ./...\n", "/go/pkg/mod", 1},
	}
	for _, c := range cases {
		fr := analyzeOne(t, c.dockerfile, map[string]string{"package.json": "{}", "pom.xml": "<project/>", "go.mod": "module x\n"})
		final := fr.Dockerfile.FinalStage()
		last := final.Instructions[len(final.Instructions)-1]
		if got := fr.Facts().Final().FilledBefore(last, c.dir); len(got) != c.want {
			t.Errorf("%s: FilledBefore(%s) = %+v, want %d entries", c.name, c.dir, got, c.want)
		}
	}
}
