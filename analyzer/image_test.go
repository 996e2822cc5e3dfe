package analyzer

import "testing"

// The official images' mirrors name the official image, and a reference
// written anew (another tag, a smaller variant) keeps the mirror's path
// as the Dockerfile wrote it: mirror.gcr.io/node is no image.
func TestImageRefOfficialMirrors(t *testing.T) {
	cases := []struct {
		raw, official, slim, alpine string
	}{
		{"node:20", "node", "node:20-slim", "node:20-alpine"},
		{"docker.io/library/node:20", "node", "docker.io/library/node:20-slim", "node:20-alpine"},
		{"public.ecr.aws/docker/library/node:20", "node", "public.ecr.aws/docker/library/node:20-slim", "public.ecr.aws/docker/library/node:20-alpine"},
		{"mirror.gcr.io/library/python:3.12@sha256:abc", "python", "mirror.gcr.io/library/python:3.12-slim", "mirror.gcr.io/library/node:20-alpine"},
		{"public.ecr.aws/bitnami/node:20", "", "public.ecr.aws/bitnami/node:20-slim", "node:20-alpine"},
		{"bitnami/node:20", "", "bitnami/node:20-slim", "node:20-alpine"},
		{"registry.example.com/node:20", "", "registry.example.com/node:20-slim", "node:20-alpine"},
	}
	for _, c := range cases {
		r := ParseImageRef(c.raw)
		if got := r.Official(); got != c.official {
			t.Errorf("%s: Official() = %q, want %q", c.raw, got, c.official)
		}
		if got := r.WithTag(r.Tag + "-slim"); got != c.slim {
			t.Errorf("%s: WithTag = %q, want %q", c.raw, got, c.slim)
		}
		if got := r.OnRegistryOf("node:20-alpine"); got != c.alpine {
			t.Errorf("%s: OnRegistryOf = %q, want %q", c.raw, got, c.alpine)
		}
	}
	if got := ParseImageRef("public.ecr.aws/docker/library/node:20").Distro(); got != "debian" {
		t.Errorf("Distro of node:20 on public.ecr.aws = %q, want debian", got)
	}
}

// openjdk's tags without a variant are Oracle Linux from Java 12 on and
// Debian before (docker-library/openjdk generate-stackbrew-library.sh).
func TestOpenJDKDistro(t *testing.T) {
	cases := map[string]string{
		"openjdk:17": "rhel", "openjdk:18-jdk": "rhel", "openjdk:17-jdk": "rhel", "openjdk:22-ea-30-jdk": "rhel",
		"openjdk:17-oracle": "rhel", "openjdk:17-jdk-oraclelinux8": "rhel",
		"openjdk:11": "debian", "openjdk:8": "debian", "openjdk:8u342-jre": "debian", "openjdk:11-jre": "debian",
		"openjdk:17-slim": "debian", "openjdk:17-jdk-slim-buster": "debian", "openjdk:17-bullseye": "debian", "openjdk:21-bookworm": "debian",
		"openjdk:17-alpine": "alpine", "openjdk:8-jdk-alpine": "alpine",
		"openjdk": "", "openjdk:latest": "", "openjdk:17-windowsservercore": "", "openjdk:11-jdk-centos7": "",
	}
	for raw, want := range cases {
		if got := ParseImageRef(raw).Distro(); got != want {
			t.Errorf("%s: Distro() = %q, want %q", raw, got, want)
		}
	}
}
