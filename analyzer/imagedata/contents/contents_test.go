package contents

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	cases := []struct {
		registry, repo, tag string
		entry               string // "" when unknown
		distro, userland    string
		tool                string
		present, known      bool
		user                string
	}{
		{"docker.io", "debian", "bookworm-slim", "debian:slim", "debian", "gnu", "bash", true, true, ""},
		{"docker.io", "debian", "12", "debian", "debian", "gnu", "curl", false, true, ""},
		{"docker.io", "alpine", "3.20", "alpine", "alpine", "busybox", "wget", true, true, ""},
		{"docker.io", "alpine", "3.20", "alpine", "alpine", "busybox", "bash", false, true, ""},
		{"docker.io", "alpine", "3.20", "alpine", "alpine", "busybox", "apk", true, true, ""},
		{"docker.io", "python", "3.12-slim", "python:slim", "debian", "gnu", "apt-get", true, true, ""},
		{"docker.io", "node", "20-alpine", "node:alpine", "alpine", "busybox", "apt-get", false, true, ""},
		{"docker.io", "node", "20-alpine3.20", "node:alpine", "alpine", "busybox", "curl", false, true, ""},
		{"docker.io", "node", "20-bookworm-slim", "node:slim", "debian", "gnu", "curl", false, true, ""},
		{"docker.io", "node", "20", "node", "debian", "gnu", "curl", true, true, ""},
		{"docker.io", "python", "3.12-slim", "python:slim", "debian", "gnu", "ca-certificates", true, true, ""},
		{"docker.io", "php", "8.3-apache", "php:apache", "debian", "gnu", "curl", true, true, ""},
		{"docker.io", "php", "8.3-fpm-alpine", "php:fpm-alpine", "alpine", "busybox", "curl", true, true, ""},
		{"docker.io", "php", "8.3-fpm", "php:fpm", "debian", "gnu", "curl", true, true, ""},
		{"docker.io", "postgres", "16-alpine3.20", "postgres:alpine", "alpine", "busybox", "su-exec", true, true, ""},
		{"docker.io", "redis", "7.4-bookworm", "redis", "debian", "gnu", "redis-cli", true, true, ""},
		{"docker.io", "memcached", "1.6", "memcached", "debian", "gnu", "bash", true, true, "memcache"},
		{"docker.io", "nginx", "1.27-alpine", "nginx:alpine", "alpine", "busybox", "curl", true, true, ""},
		{"docker.io", "nginx", "1.27-alpine-slim", "nginx:alpine-slim", "alpine", "busybox", "curl", false, true, ""},
		{"docker.io", "nginx", "1.27-alpine-slim", "nginx:alpine-slim", "alpine", "busybox", "wget", true, true, ""},
		{"docker.io", "nginxinc/nginx-unprivileged", "1.27-alpine", "nginxinc/nginx-unprivileged:alpine", "alpine", "busybox", "curl", false, false, "101"},
		// oven/bun's variants, from oven-sh/bun's dockerhub/ Dockerfiles:
		// the default on full Debian, slim, alpine and distroless; root.
		{"docker.io", "oven/bun", "1.2", "oven/bun", "debian", "gnu", "curl", false, true, ""},
		{"docker.io", "oven/bun", "latest", "oven/bun", "debian", "gnu", "bun", true, true, ""},
		{"docker.io", "oven/bun", "1.2-slim", "oven/bun:slim", "debian", "gnu", "wget", false, true, ""},
		{"docker.io", "oven/bun", "1.2-alpine", "oven/bun:alpine", "alpine", "busybox", "wget", true, true, ""},
		{"docker.io", "oven/bun", "1-distroless", "oven/bun:distroless", "distroless", "none", "sh", false, true, ""},
		// Variants the table has no entry for: the image on its
		// distribution, not the Debian-based default with curl.
		{"docker.io", "ruby", "3.2-alpine", "ruby:alpine", "alpine", "busybox", "curl", false, true, ""},
		{"docker.io", "ruby", "3.2-alpine", "ruby:alpine", "alpine", "busybox", "wget", true, true, ""},
		{"docker.io", "memcached", "1.6-alpine", "memcached:alpine", "alpine", "busybox", "bash", false, true, "memcache"},
		{"docker.io", "ruby", "3.2-alpine", "ruby:alpine", "alpine", "busybox", "apt-get", false, true, ""},
		{"docker.io", "ruby", "3.2-alpine", "ruby:alpine", "alpine", "busybox", "groupadd", false, false, ""},
		{"docker.io", "golang", "1.23-alpine3.20", "golang:alpine", "alpine", "busybox", "git", false, true, ""},
		{"docker.io", "rust", "1.80-slim-bookworm", "rust:slim", "debian", "gnu", "curl", false, false, ""},
		// What the product's own entry says survives the other
		// distribution: the dev container image installs curl and git on
		// Alpine too, and memcached's unknown ca-certificates stays unknown.
		{"mcr.microsoft.com", "devcontainers/base", "alpine", "mcr.microsoft.com/devcontainers/*:alpine", "alpine", "busybox", "curl", true, true, ""},
		{"mcr.microsoft.com", "devcontainers/base", "alpine-3.20", "mcr.microsoft.com/devcontainers/*:alpine", "alpine", "busybox", "apt-get", false, true, ""},
		{"docker.io", "memcached", "1.6-bookworm-slim", "memcached:slim", "debian", "gnu", "ca-certificates", false, false, "memcache"},
		{"docker.io", "nginx", "1.27", "nginx", "debian", "gnu", "curl", false, false, ""},
		{"gcr.io", "distroless/static-debian12", "nonroot", "gcr.io/distroless/*", "distroless", "none", "sh", false, true, ""},
		{"gcr.io", "distroless/base-debian12", "debug", "gcr.io/distroless/*:debug", "distroless", "busybox", "sh", true, true, ""},
		{"mcr.microsoft.com", "windows/nanoserver", "ltsc2022", "mcr.microsoft.com/windows/nanoserver", "windows", "windows", "sh", false, true, "ContainerUser"},
		{"mcr.microsoft.com", "devcontainers/base", "bookworm", "mcr.microsoft.com/devcontainers/*", "debian", "gnu", "git", true, true, ""},
		{"registry.example.com:5000", "redis", "7", "redis", "debian", "gnu", "gosu", true, true, ""},
		// Infrastructure images read from their own Dockerfiles: a USER of
		// their own, a drop to node, or root with nothing dropping it.
		{"docker.io", "elasticsearch", "8.15.0", "elasticsearch", "", "", "tini", true, true, "1000"},
		{"docker.elastic.co", "elasticsearch/elasticsearch", "8.15.5", "docker.elastic.co/elasticsearch/elasticsearch", "", "", "tini", true, true, "1000"},
		{"docker.io", "jenkins/jenkins", "lts-jdk17", "jenkins/jenkins", "", "", "apt-get", false, false, "jenkins"},
		{"docker.io", "sonarqube", "10.6-community", "sonarqube", "", "", "curl", false, false, "sonarqube"},
		{"docker.io", "ghost", "5", "ghost", "debian", "gnu", "gosu", true, true, ""},
		{"docker.io", "ghost", "5-alpine", "ghost:alpine", "alpine", "busybox", "su-exec", true, true, ""},
		{"docker.io", "registry", "2", "registry", "alpine", "busybox", "wget", true, true, ""},
		// grafana/grafana: Alpine from 6.4.0 on, with curl known in 12
		// only; Ubuntu on -ubuntu tags and before 6.4.
		{"docker.io", "grafana/grafana", "11.2.0", "grafana/grafana", "alpine", "busybox", "curl", false, false, "472"},
		{"docker.io", "grafana/grafana", "10.4.0", "grafana/grafana", "alpine", "busybox", "wget", true, true, "472"},
		{"docker.io", "grafana/grafana", "12.0.2", "grafana/grafana", "alpine", "busybox", "curl", true, true, "472"},
		{"docker.io", "grafana/grafana", "latest", "grafana/grafana", "alpine", "busybox", "apk", true, true, "472"},
		{"docker.io", "grafana/grafana", "11.2.0-ubuntu", "grafana/grafana:ubuntu", "debian", "gnu", "apt-get", true, true, "472"},
		{"docker.io", "grafana/grafana", "12.0.2-ubuntu", "grafana/grafana:ubuntu", "debian", "gnu", "curl", true, true, "472"},
		{"docker.io", "grafana/grafana", "6.3.6", "grafana/grafana:ubuntu", "debian", "gnu", "apk", false, true, "472"},
		{"docker.io", "grafana/grafana", "12.3.0-slim", "", "", "", "", false, false, ""},
		// Read from each image's own Dockerfile and entrypoint: mosquitto
		// and nats' alpine variant on Alpine, nats' default tags on
		// scratch, ClickHouse on Ubuntu, Keycloak on UBI micro as 1000.
		{"docker.io", "eclipse-mosquitto", "2.0.18-openssl", "eclipse-mosquitto", "alpine", "busybox", "mosquitto_pub", true, true, ""},
		{"docker.io", "eclipse-mosquitto", "2.0.18", "eclipse-mosquitto", "alpine", "busybox", "curl", false, true, ""},
		{"docker.io", "nats", "2.10", "nats", "scratch", "none", "sh", false, true, ""},
		{"docker.io", "nats", "2.10-alpine3.20", "nats:alpine", "alpine", "busybox", "nats-server", true, true, ""},
		{"docker.io", "clickhouse/clickhouse-server", "24.8", "clickhouse/clickhouse-server", "debian", "gnu", "wget", true, true, ""},
		{"docker.io", "neo4j", "5.26", "neo4j", "", "", "tini", true, true, ""},
		{"quay.io", "keycloak/keycloak", "25.0", "quay.io/keycloak/keycloak", "rhel", "gnu", "curl", false, true, "1000"},
		// Official images that leave root in their entrypoints, or set a USER.
		{"docker.io", "rabbitmq", "3.13-management", "rabbitmq", "debian", "gnu", "gosu", true, true, ""},
		{"docker.io", "rabbitmq", "3.13-management-alpine", "rabbitmq:alpine", "alpine", "busybox", "su-exec", true, true, ""},
		{"docker.io", "cassandra", "5.0", "cassandra", "debian", "gnu", "gosu", true, true, ""},
		{"docker.io", "couchdb", "3.3", "couchdb", "debian", "gnu", "setpriv", true, true, ""},
		{"docker.io", "zookeeper", "3.9", "zookeeper", "debian", "gnu", "gosu", true, true, ""},
		{"docker.io", "solr", "9.10", "solr", "debian", "gnu", "gosu", true, true, "solr"},
		{"docker.io", "consul", "1.15", "consul", "alpine", "busybox", "su-exec", true, true, ""},
		{"docker.io", "vault", "1.13", "vault", "alpine", "busybox", "su-exec", true, true, ""},
		// mysql's entry is Oracle Linux; its -debian tags are Debian.
		{"docker.io", "mysql", "8.0", "mysql", "rhel", "gnu", "apt-get", false, true, ""},
		{"docker.io", "mysql", "8.0-debian", "mysql:debian", "debian", "gnu", "apt-get", true, true, ""},
		{"docker.io", "mysql", "8.0.40-bookworm", "mysql:bookworm", "debian", "gnu", "gosu", true, true, ""},
		// Tags of versions built before the move to Oracle Linux (July
		// 2022) stay Debian; floating and later ones are Oracle Linux.
		{"docker.io", "mysql", "8.0.28", "mysql:debian", "debian", "gnu", "apt-get", true, true, ""},
		{"docker.io", "mysql", "5.7.37", "mysql:debian", "debian", "gnu", "apt-get", true, true, ""},
		{"docker.io", "mysql", "5.6", "mysql:debian", "debian", "gnu", "apt-get", true, true, ""},
		{"docker.io", "mysql", "5.6.51", "mysql:debian", "debian", "gnu", "gosu", true, true, ""},
		{"docker.io", "mysql", "8.0.29", "mysql", "rhel", "gnu", "apt-get", false, true, ""},
		{"docker.io", "mysql", "8.0.28-oracle", "mysql", "rhel", "gnu", "apt-get", false, true, ""},
		{"docker.io", "mysql", "5.7", "mysql", "rhel", "gnu", "apt-get", false, true, ""},
		{"docker.io", "mysql", "5", "mysql", "rhel", "gnu", "apt-get", false, true, ""},
		{"docker.io", "mysql", "8.4", "mysql", "rhel", "gnu", "apt-get", false, true, ""},
		{"docker.io", "mysql", "", "mysql", "rhel", "gnu", "apt-get", false, true, ""},
		// 8.0 and later are on Oracle Linux 8-slim or 9-slim, with
		// microdnf only; 5.7 on 7-slim, with yum.
		{"docker.io", "mysql", "8.0", "mysql", "rhel", "gnu", "yum", false, true, ""},
		{"docker.io", "mysql", "8.4.3", "mysql", "rhel", "gnu", "dnf", false, true, ""},
		{"docker.io", "mysql", "8.0-oracle", "mysql", "rhel", "gnu", "microdnf", true, true, ""},
		{"docker.io", "mysql", "5.7", "mysql", "rhel", "gnu", "yum", true, true, ""},
		{"docker.io", "mysql", "5.7.44-oraclelinux7", "mysql", "rhel", "gnu", "yum", true, true, ""},
		{"docker.io", "mysql", "5", "mysql", "rhel", "gnu", "microdnf", false, false, ""},
		{"docker.io", "mysql", "5.7", "mysql", "rhel", "gnu", "dnf", false, false, ""},
		{"docker.io", "mysql", "8.0-debian", "mysql:debian", "debian", "gnu", "yum", false, false, ""},
		// A release name keeps a Debian image's own entry (its curl).
		{"docker.io", "buildpack-deps", "bookworm", "buildpack-deps", "debian", "gnu", "curl", true, true, ""},
		{"docker.io", "bitnami/redis", "7", "", "", "", "", false, false, ""},
		// A tag naming a distribution the entry is not on, and the table
		// has no entry for, is unknown rather than the entry's default.
		{"docker.io", "eclipse-temurin", "21-jdk-ubi9-minimal", "", "", "", "", false, false, ""},
		{"docker.io", "tomcat", "10-jdk17-corretto", "", "", "", "", false, false, ""},
		{"docker.io", "python", "3.12-windowsservercore-ltsc2022", "", "", "", "", false, false, ""},
		{"docker.io", "mysql", "8.0-oraclelinux9", "mysql", "rhel", "gnu", "apt-get", false, true, ""},
		{"quay.io", "someone/tool", "1", "", "", "", "", false, false, ""},
		// astral-sh/uv: the bare tags are FROM scratch with the binary;
		// bookworm, trixie and debian are buildpack-deps or python on
		// full Debian, with curl; their -slim tags are not; -dhi tags and
		// words no entry names are unknown.
		{"ghcr.io", "astral-sh/uv", "0.5", "ghcr.io/astral-sh/uv", "scratch", "none", "sh", false, true, ""},
		{"ghcr.io", "astral-sh/uv", "latest", "ghcr.io/astral-sh/uv", "scratch", "none", "uv", true, true, ""},
		{"ghcr.io", "astral-sh/uv", "", "ghcr.io/astral-sh/uv", "scratch", "none", "curl", false, true, ""},
		{"ghcr.io", "astral-sh/uv", "bookworm", "ghcr.io/astral-sh/uv:bookworm", "debian", "gnu", "curl", true, true, ""},
		{"ghcr.io", "astral-sh/uv", "python3.12-bookworm", "ghcr.io/astral-sh/uv:bookworm", "debian", "gnu", "git", true, true, ""},
		{"ghcr.io", "astral-sh/uv", "0.9.5-python3.13-trixie", "ghcr.io/astral-sh/uv:trixie", "debian", "gnu", "curl", true, true, ""},
		{"ghcr.io", "astral-sh/uv", "debian", "ghcr.io/astral-sh/uv:debian", "debian", "gnu", "uvx", true, true, ""},
		{"ghcr.io", "astral-sh/uv", "python3.12-bookworm-slim", "ghcr.io/astral-sh/uv:bookworm-slim", "debian", "gnu", "curl", false, true, ""},
		{"ghcr.io", "astral-sh/uv", "0.5-bookworm-slim", "ghcr.io/astral-sh/uv:bookworm-slim", "debian", "gnu", "uv", true, true, ""},
		{"ghcr.io", "astral-sh/uv", "trixie-slim", "ghcr.io/astral-sh/uv:trixie-slim", "debian", "gnu", "git", false, true, ""},
		{"ghcr.io", "astral-sh/uv", "debian-slim", "ghcr.io/astral-sh/uv:debian-slim", "debian", "gnu", "curl", false, true, ""},
		{"ghcr.io", "astral-sh/uv", "python3.12-alpine", "ghcr.io/astral-sh/uv:alpine", "alpine", "busybox", "wget", true, true, ""},
		{"ghcr.io", "astral-sh/uv", "trixie-dhi", "", "", "", "", false, false, ""},
		{"ghcr.io", "astral-sh/uv", "alpine3.23-dhi", "", "", "", "", false, false, ""},
		{"ghcr.io", "astral-sh/uv", "0.9-python3.14-dhi", "", "", "", "", false, false, ""},
		{"ghcr.io", "astral-sh/uv", "python3.14-forky", "", "", "", "", false, false, ""},
		{"", "scratch", "", "scratch", "scratch", "none", "sh", false, true, ""},
	}
	for _, c := range cases {
		img, ok := Lookup(c.registry, c.repo, c.tag)
		name := c.registry + "/" + c.repo + ":" + c.tag
		if c.entry == "" {
			if ok {
				t.Errorf("%s: found %s, want unknown", name, img.Entry)
			}
			continue
		}
		if !ok || img.Entry != c.entry {
			t.Errorf("%s: entry %q (found %v), want %q", name, img.Entry, ok, c.entry)
			continue
		}
		if img.Distro != c.distro || img.Userland != c.userland {
			t.Errorf("%s: %s/%s, want %s/%s", name, img.Distro, img.Userland, c.distro, c.userland)
		}
		if present, known := img.Tool(c.tool); present != c.present || known != c.known {
			t.Errorf("%s: tool %s = (%v, known %v), want (%v, known %v)", name, c.tool, present, known, c.present, c.known)
		}
		if img.User != c.user {
			t.Errorf("%s: user %q, want %q", name, img.User, c.user)
		}
	}
}

// A product on another distribution keeps its own accounts and has that
// distribution's, not the ones it inherited from Debian.
func TestOnDistributionAccounts(t *testing.T) {
	cases := []struct {
		repo, tag   string
		has, hasNot []string
	}{
		{"ruby", "3.2-alpine", []string{"root", "nobody"}, []string{"www-data", "games"}},
		{"mcr.microsoft.com/devcontainers/base", "alpine", []string{"vscode", "root"}, []string{"www-data"}},
		{"memcached", "1.6-bookworm-slim", []string{"memcache", "www-data"}, nil},
	}
	for _, c := range cases {
		registry, repo := "docker.io", c.repo
		if i := strings.Index(repo, ".com/"); i > 0 {
			registry, repo = repo[:i+4], repo[i+5:]
		}
		img, ok := Lookup(registry, repo, c.tag)
		if !ok {
			t.Errorf("%s:%s: not found", c.repo, c.tag)
			continue
		}
		for _, u := range c.has {
			if !img.HasUser(u) {
				t.Errorf("%s:%s (%s): no account %s in %v", c.repo, c.tag, img.Entry, u, img.Users)
			}
		}
		for _, u := range c.hasNot {
			if img.HasUser(u) {
				t.Errorf("%s:%s (%s): account %s inherited from Debian: %v", c.repo, c.tag, img.Entry, u, img.Users)
			}
		}
	}
}

// A derived entry keeps its parent's accounts and adds its own, and does
// not inherit the parent's USER or privilege dropping.
func TestLikeInheritance(t *testing.T) {
	img, _ := Lookup("docker.io", "postgres", "16")
	if !img.HasUser("postgres") || !img.HasUser("www-data") {
		t.Errorf("postgres users %v: want postgres and Debian's accounts", img.Users)
	}
	if img.DropsPrivileges == "" {
		t.Error("postgres: the entrypoint's gosu step-down is missing")
	}
	node, _ := Lookup("docker.io", "node", "20-alpine")
	if node.DropsPrivileges != "" || node.User != "" {
		t.Errorf("node:alpine inherits %q / %q from alpine", node.DropsPrivileges, node.User)
	}
}

func TestAsOf(t *testing.T) {
	if AsOf() != "2026-11" {
		t.Errorf("AsOf() = %q", AsOf())
	}
}

// An entry's ENTRYPOINT is its own: node's docker-entrypoint.sh, none for
// python, and unknown where the table does not say, even when the entry it
// is like knows its own.
func TestEntrypoint(t *testing.T) {
	cases := []struct {
		repo, tag string
		want      []string
		known     bool
	}{
		{"node", "20-alpine", []string{"docker-entrypoint.sh"}, true},
		{"node", "20-bookworm-slim", []string{"docker-entrypoint.sh"}, true},
		{"python", "3.12-slim", []string{}, true},
		{"debian", "bookworm-slim", []string{}, true},
		{"tomcat", "10.1-jdk21-temurin-jammy", []string{"/__cacert_entrypoint.sh"}, true},
		{"devcontainers/base", "bookworm", nil, false},
	}
	for _, c := range cases {
		img, ok := Lookup("docker.io", c.repo, c.tag)
		if c.repo == "devcontainers/base" {
			img, ok = Lookup("mcr.microsoft.com", c.repo, c.tag)
		}
		if !ok {
			t.Fatalf("%s:%s not in the table", c.repo, c.tag)
		}
		if img.EntrypointKnown != c.known || strings.Join(img.Entrypoint, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s:%s: entrypoint %q (known %v), want %q (known %v)", c.repo, c.tag, img.Entrypoint, img.EntrypointKnown, c.want, c.known)
		}
	}
}

func TestWorkdir(t *testing.T) {
	cases := []struct{ repo, tag, want string }{
		{"golang", "1.22", "/go"},
		{"golang", "1.22-alpine", "/go"},
		{"golang", "1.22-bookworm", "/go"},
		{"httpd", "2.4", "/usr/local/apache2"},
		{"redis", "7-alpine", "/data"},
		{"php", "8.3-apache", "/var/www/html"},
		{"php", "8.3-cli", ""},
		// Not inherited through like: alpine's own is none.
		{"alpine", "3.22", ""},
		{"node", "20", ""},
		{"oven/bun", "1.2", "/home/bun/app"},
		{"oven/bun", "1.2-alpine", "/home/bun/app"},
		{"oven/bun", "1-distroless", ""},
	}
	for _, c := range cases {
		img, ok := Lookup("docker.io", c.repo, c.tag)
		if !ok {
			t.Fatalf("%s:%s not in the table", c.repo, c.tag)
		}
		if img.Workdir != c.want {
			t.Errorf("%s:%s: workdir %q, want %q", c.repo, c.tag, img.Workdir, c.want)
		}
	}
}

// zookeeper's WORKDIR names its version (/apache-zookeeper-3.9.3-bin):
// unknown, and not carried over to an image like it.
func TestWorkdirUnknown(t *testing.T) {
	for _, c := range []struct {
		repo, tag string
		want      bool
	}{{"zookeeper", "3.9", true}, {"zookeeper", "3.9.2-alpine", true}, {"solr", "9.10", false}, {"eclipse-temurin", "21", false}} {
		img, ok := Lookup("docker.io", c.repo, c.tag)
		if !ok || img.WorkdirUnknown != c.want {
			t.Errorf("%s:%s: WorkdirUnknown %v (in the table: %v), want %v", c.repo, c.tag, img.WorkdirUnknown, ok, c.want)
		}
	}
}

// influxdb's lines differ in who runs the server, and the entry describes
// no other line: a 3.x, latest or alpine tag is unknown.
func TestLookupLineUser(t *testing.T) {
	for _, c := range []struct {
		tag         string
		known       bool
		user, drops string
	}{
		{"2.7.12", true, "", "entrypoint.sh re-executes itself as influxdb with gosu"},
		{"2", true, "", "entrypoint.sh re-executes itself as influxdb with gosu"},
		{"1.12", true, "influxdb", ""},
		{"1.11.8", true, "influxdb", ""},
		{"1.8", false, "", ""},
		{"3-core", false, "", ""},
		{"latest", false, "", ""},
		{"", false, "", ""},
		{"2.7-alpine", false, "", ""},
	} {
		img, ok := Lookup("docker.io", "influxdb", c.tag)
		if ok != c.known || img.User != c.user || img.DropsPrivileges != c.drops {
			t.Errorf("influxdb:%s: known %v, user %q, drops %q; want %v, %q, %q", c.tag, ok, img.User, img.DropsPrivileges, c.known, c.user, c.drops)
		}
	}
}
