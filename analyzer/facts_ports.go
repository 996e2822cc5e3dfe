package analyzer

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"gopkg.in/yaml.v3"
)

// Protocols a port can speak, as PortFact reports them.
const (
	ProtoHTTP       = "http"
	ProtoHTTPS      = "https"
	ProtoGRPC       = "grpc"
	ProtoPostgreSQL = "postgresql"
	ProtoMySQL      = "mysql"
	ProtoRedis      = "redis"
	ProtoMemcache   = "memcache"
	ProtoMongoDB    = "mongodb"
	ProtoAMQP       = "amqp"
	ProtoSSH        = "ssh"
	ProtoFastCGI    = "fastcgi"
)

// server is what dockopt knows of one network server: how to recognise
// it in an image, what its ports speak, how it checks itself and where
// it keeps its data.
type server struct {
	name     string
	images   []string // image names (the last path element)
	commands []string // start commands and binaries that mean it is installed
	ports    map[int]string
	// exposes are the ports its official image EXPOSEs, which images
	// built FROM it inherit.
	exposes []int
	// probe is the server's own readiness check, run inside the image.
	// pg_isready names a role and a database as the official image sets
	// them up (without, it connects as root, which the server logs as a
	// FATAL error every interval) and TCP, which the
	// official image's entrypoint keeps closed while its init scripts run.
	probe, probeTool string
	// probeOnPort is the probe for a port other than defaultPort, with
	// %d for the port; "" when dockopt does not read the server's port.
	probeOnPort string
	// dataDirs are where it writes; $VAR is read from the stage's ENV.
	dataDirs []string
	// defaultPort is the port it listens on without configuration.
	defaultPort int
}

var servers = []server{
	{name: "postgres", images: []string{"postgres", "postgis", "timescaledb", "pgvector"}, commands: []string{"postgres", "pg_ctl", "pg_ctlcluster"},
		ports: map[int]string{5432: ProtoPostgreSQL}, exposes: []int{5432}, probe: `pg_isready -h 127.0.0.1 -U "${POSTGRES_USER:-postgres}" -d "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"`, probeTool: "pg_isready",
		probeOnPort: `pg_isready -h 127.0.0.1 -p %d -U "${POSTGRES_USER:-postgres}" -d "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"`,
		dataDirs:    []string{"$PGDATA", "/var/lib/postgresql/data"}, defaultPort: 5432},
	{name: "mysql", images: []string{"mysql", "percona", "percona-server"}, commands: []string{"mysqld"},
		ports: map[int]string{3306: ProtoMySQL, 33060: "mysqlx"}, exposes: []int{3306, 33060}, probe: "mysqladmin ping", probeTool: "mysqladmin",
		dataDirs: []string{"/var/lib/mysql"}, defaultPort: 3306},
	{name: "mariadb", images: []string{"mariadb"}, commands: []string{"mariadbd"},
		ports: map[int]string{3306: ProtoMySQL}, exposes: []int{3306}, probe: "healthcheck.sh --connect --innodb_initialized", probeTool: "healthcheck.sh",
		dataDirs: []string{"/var/lib/mysql"}, defaultPort: 3306},
	{name: "redis", images: []string{"redis", "valkey", "redis-stack-server", "keydb"}, commands: []string{"redis-server", "valkey-server", "keydb-server"},
		ports: map[int]string{6379: ProtoRedis}, exposes: []int{6379}, probe: "redis-cli ping", probeTool: "redis-cli", probeOnPort: "redis-cli -p %d ping",
		dataDirs: []string{"/data"}, defaultPort: 6379},
	{name: "memcached", images: []string{"memcached"}, commands: []string{"memcached"},
		ports: map[int]string{11211: ProtoMemcache}, exposes: []int{11211}, defaultPort: 11211},
	{name: "mongodb", images: []string{"mongo", "mongodb-community-server"}, commands: []string{"mongod"},
		ports: map[int]string{27017: ProtoMongoDB}, exposes: []int{27017}, probe: `mongosh --quiet --eval "db.adminCommand('ping')"`, probeTool: "mongosh",
		dataDirs: []string{"/data/db", "/data/configdb"}, defaultPort: 27017},
	{name: "rabbitmq", images: []string{"rabbitmq"}, commands: []string{"rabbitmq-server"},
		ports:   map[int]string{5672: ProtoAMQP, 5671: "amqps", 15672: ProtoHTTP, 25672: "erlang-distribution", 4369: "epmd", 15691: ProtoHTTP, 15692: ProtoHTTP},
		exposes: []int{4369, 5671, 5672, 15691, 15692, 25672}, probe: "rabbitmq-diagnostics -q ping", probeTool: "rabbitmq-diagnostics",
		dataDirs: []string{"/var/lib/rabbitmq"}, defaultPort: 5672},
	{name: "nginx", images: []string{"nginx", "openresty"}, commands: []string{"nginx", "openresty"},
		ports: map[int]string{80: ProtoHTTP, 443: ProtoHTTPS, 8080: ProtoHTTP}, exposes: []int{80},
		dataDirs: []string{"/var/cache/nginx", "/var/run"}, defaultPort: 80},
	// nginxinc/docker-nginx-unprivileged's Dockerfiles edit the stock
	// default.conf to listen on 8080 and EXPOSE 8080 (facts_nginx.go).
	{name: "nginx-unprivileged", images: []string{"nginx-unprivileged"},
		ports: map[int]string{8080: ProtoHTTP, 8443: ProtoHTTPS}, exposes: []int{8080}, defaultPort: 8080},
	// busybox's httpd applet, told from Apache's httpd by busyboxHTTPD.
	{name: busyboxHTTPDServer, ports: map[int]string{80: ProtoHTTP}, defaultPort: 80},
	{name: "httpd", images: []string{"httpd"}, commands: []string{"httpd"},
		ports: map[int]string{80: ProtoHTTP, 443: ProtoHTTPS}, exposes: []int{80},
		dataDirs: []string{"/usr/local/apache2/logs"}, defaultPort: 80},
	// Debian's apache2 package, which php's apache variant runs.
	{name: "apache2", commands: []string{"apache2", "apache2-foreground", "apachectl"},
		ports: map[int]string{80: ProtoHTTP, 443: ProtoHTTPS}, exposes: []int{80},
		dataDirs: []string{"/var/log/apache2", "/var/run/apache2", "/var/lock/apache2"}, defaultPort: 80},
	{name: "php-fpm", commands: []string{"php-fpm"},
		ports: map[int]string{9000: ProtoFastCGI}, exposes: []int{9000}, defaultPort: 9000},
	{name: "tomcat", images: []string{"tomcat", "tomee"}, commands: []string{"catalina.sh"},
		ports: map[int]string{8080: ProtoHTTP, 8443: ProtoHTTPS, 8009: "ajp", 8005: "tomcat-shutdown"}, exposes: []int{8080},
		dataDirs: []string{"$CATALINA_HOME/webapps", "$CATALINA_HOME/logs", "$CATALINA_HOME/work", "$CATALINA_HOME/temp"}, defaultPort: 8080},
	{name: "sshd", commands: []string{"sshd"}, ports: map[int]string{22: ProtoSSH}, defaultPort: 22},
	{name: "elasticsearch", images: []string{"elasticsearch"}, commands: []string{"elasticsearch"},
		ports: map[int]string{9200: ProtoHTTP, 9300: "elasticsearch-transport"}, exposes: []int{9200, 9300},
		dataDirs: []string{"/usr/share/elasticsearch/data"}, defaultPort: 9200},
	// opensearchproject/opensearch (opensearch-project/opensearch-build
	// docker/release/dockerfiles/opensearch.al2023.dockerfile, and
	// opensearch.al2.dockerfile before 2.10): OpenSearch under
	// /usr/share/opensearch, its data in /usr/share/opensearch/data, USER
	// 1000, EXPOSE 9200 (REST) 9300 (transport) 9600 and 9650 (the
	// Performance Analyzer agent and its root cause analysis), ENTRYPOINT
	// ./opensearch-docker-entrypoint.sh with CMD opensearch.
	{name: "opensearch", images: []string{"opensearch"}, commands: []string{"opensearch"},
		ports:   map[int]string{9200: ProtoHTTP, 9300: "opensearch-transport", 9600: "performance-analyzer", 9650: "performance-analyzer-rca"},
		exposes: []int{9200, 9300, 9600, 9650}, dataDirs: []string{"/usr/share/opensearch/data"}, defaultPort: 9200},
	{name: "caddy", images: []string{"caddy"}, commands: []string{"caddy"},
		ports: map[int]string{80: ProtoHTTP, 443: ProtoHTTPS, 2019: ProtoHTTP}, exposes: []int{80, 443, 2019},
		dataDirs: []string{"/data", "/config"}, defaultPort: 80},
	{name: "traefik", images: []string{"traefik"}, commands: []string{"traefik"},
		ports: map[int]string{80: ProtoHTTP, 443: ProtoHTTPS, 8080: ProtoHTTP}, exposes: []int{80}, defaultPort: 80},
	{name: "dockerd", images: []string{"docker"}, commands: []string{"dockerd", "dockerd-entrypoint.sh"},
		ports: map[int]string{2375: ProtoHTTP, 2376: ProtoHTTPS}, dataDirs: []string{"/var/lib/docker"}, defaultPort: 2376},
	// influxdata/influxdata-docker's 1.11 and 2.7 Dockerfiles both EXPOSE
	// 8086, the HTTP API (/ping on 1.x, /health on 2.x).
	{name: "influxdb", images: []string{"influxdb"}, commands: []string{"influxd"},
		ports: map[int]string{8086: ProtoHTTP}, exposes: []int{8086}, defaultPort: 8086},
	// MinIO's S3 API on 9000: minio/minio Dockerfile and
	// Dockerfile.release EXPOSE 9000 and keep objects in the /data VOLUME.
	// Its web console is where --console-address puts it and on a random
	// port without it, so 9001 (MinIO's examples, the newer Dockerfiles'
	// second EXPOSE) is not taken for the console's.
	{name: "minio", images: []string{"minio"}, commands: []string{"minio"},
		ports: map[int]string{9000: ProtoHTTP}, exposes: []int{9000}, dataDirs: []string{"/data"}, defaultPort: 9000},
	// grafana/grafana's Dockerfile EXPOSEs 3000, where grafana serves its
	// UI and HTTP API (with /api/health), and keeps its database and
	// plugins under /var/lib/grafana (GF_PATHS_DATA).
	{name: "grafana", images: []string{"grafana", "grafana-oss", "grafana-enterprise"}, commands: []string{"grafana-server"},
		ports: map[int]string{3000: ProtoHTTP}, exposes: []int{3000}, dataDirs: []string{"/var/lib/grafana"}, defaultPort: 3000},
	{name: "mosquitto", images: []string{"eclipse-mosquitto"}, commands: []string{"mosquitto"},
		ports: map[int]string{1883: "mqtt", 8883: "mqtts", 9001: "mqtt-websocket"}, exposes: []int{1883}, defaultPort: 1883},
}

// isBitnami reports an image of Bitnami's catalogue (bitnami/nginx,
// bitnami/redis), which packages the same server as the official image of
// that name but not on its ports: its images run unprivileged and move a
// server off the ports below 1024 (bitnami/nginx EXPOSEs 8080 and 8443,
// where the official nginx EXPOSEs 80), so the official image's EXPOSEs
// say nothing about where it listens.
func isBitnami(r ImageRef) bool {
	repo := strings.ToLower(r.Repository)
	// A mirror keeps Bitnami's path under its own (mirror/bitnami/nginx).
	return strings.HasPrefix(repo, "bitnami/") || strings.Contains(repo, "/bitnami/")
}

// wellKnownPorts are ports whose number alone says they are not HTTP.
var wellKnownPorts = map[int]string{
	21: "ftp", 22: ProtoSSH, 25: "smtp", 53: "dns", 389: "ldap", 1883: "mqtt", 2181: "zookeeper", 3306: ProtoMySQL,
	4369: "epmd", 5432: ProtoPostgreSQL, 5672: ProtoAMQP, 6379: ProtoRedis, 9042: "cql", 9092: "kafka",
	11211: ProtoMemcache, 27017: ProtoMongoDB, 50051: ProtoGRPC,
}

// httpsPorts are the ports an HTTP server uses for TLS: an app that speaks
// HTTP and EXPOSEs one of them serves HTTPS there (thruster on 443 with
// TLS_DOMAIN), or nothing at all, never plain HTTP.
var httpsPorts = map[int]bool{443: true, 8443: true}

// ServerFact is a network server the stage runs or installs.
type ServerFact struct {
	Name string
	Why  string
	// Port is the port its command line makes it listen on (busybox
	// httpd -p 8080, redis-server --port 7000) or, for redis, the
	// configuration file it loads; 0 when it names none and the default
	// applies.
	Port int
	// PortWhy says what sets Port, for a server whose probe follows it.
	// PortUnknown says why its port cannot be known: the server loads a
	// configuration file dockopt cannot read, which may set another.
	PortWhy, PortUnknown string
	// PlainOff is set when the configuration turns the server's plain TCP
	// port off (redis port 0): its default port then does not answer.
	// TLSPort is the port it still serves TLS on, 0 when none.
	PlainOff bool
	TLSPort  int
	// Proto, when set, is what the server speaks on its main port, which
	// its version and configuration decide rather than the port
	// (Elasticsearch 8 serves HTTPS on 9200), and ProtoWhy says why.
	// ProtoUnknown says why that cannot be told.
	Proto, ProtoWhy, ProtoUnknown string
	// ProtoUnknownAll says ProtoUnknown holds for every port of the
	// server, not only its main one (MinIO's certificates serve TLS on
	// its API and its console).
	ProtoUnknownAll bool
}

// Servers returns the network servers recognised in the stage: from its
// base image, its start command and the packages it installs.
func (sf *StageFacts) Servers() []ServerFact {
	sf.serversOnce.Do(func() { sf.servers = sf.findServers() })
	return sf.servers
}

func (sf *StageFacts) findServers() []ServerFact {
	out := []ServerFact{}
	seen := map[string]bool{}
	add := func(name, why string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, ServerFact{Name: name, Why: why})
		}
	}
	base := sf.chain[0].Base
	name := base.Name()
	if v, what := variantServer(base); v != "" {
		add(v, "the base image "+base.Raw+" runs "+what)
	}
	for _, s := range servers {
		for _, img := range s.images {
			if name == img {
				add(s.name, "the base image is "+base.Raw)
			}
		}
	}
	words := sf.StartCommand()
	for i, w := range words {
		if path.Base(w) == "httpd" && sf.busyboxHTTPD(words, i) {
			// Not Apache: busybox's applet, on port 80 unless -p says.
			if !seen[busyboxHTTPDServer] {
				seen[busyboxHTTPDServer] = true
				out = append(out, ServerFact{Name: busyboxHTTPDServer, Why: "the image starts busybox httpd", Port: busyboxHTTPDPort(words[i+1:])})
			}
			continue
		}
		for _, s := range servers {
			for _, c := range s.commands {
				if path.Base(w) == c || (c == "php-fpm" && strings.HasPrefix(path.Base(w), "php-fpm")) {
					add(s.name, fmt.Sprintf("the image starts %s", path.Base(w)))
				}
			}
		}
	}
	for _, s := range servers {
		for _, c := range s.commands {
			if t := sf.Tool(0, c); t.Presence == Present && t.Line > 0 {
				add(s.name, t.Why)
			}
		}
	}
	for i := range out {
		switch out[i].Name {
		case "redis":
			out[i].Port, out[i].PortWhy, out[i].PortUnknown, out[i].PlainOff, out[i].TLSPort = sf.redisPort(words)
		case "mongodb":
			out[i].Port, out[i].PortWhy, out[i].PortUnknown = sf.mongoPort(words)
		case "postgres":
			out[i].Port, out[i].PortWhy, out[i].PortUnknown = sf.postgresPort(words)
		case "elasticsearch", "opensearch":
			sf.searchServer(&out[i])
		case "minio":
			out[i].ProtoUnknown = sf.minioTLS(words)
			out[i].ProtoUnknownAll = true
			if addr, moved := minioAddress(words); moved {
				// The S3 API listens elsewhere: nothing serves the
				// default port (PlainOff), and where it went is not
				// followed.
				out[i].PlainOff = true
				out[i].PortUnknown = fmt.Sprintf("the start command moves MinIO's S3 API to %q with --address", addr)
			}
		}
	}
	return out
}

// minioAddress reads a MinIO start command's --address (the S3 API's
// listen address, :9000 by default); moved is set when it names anything
// but port 9000.
func minioAddress(words []string) (addr string, moved bool) {
	for i, w := range words {
		switch {
		case w == "--address" && i+1 < len(words):
			addr = words[i+1]
		case strings.HasPrefix(w, "--address="):
			addr = strings.TrimPrefix(w, "--address=")
		default:
			continue
		}
		// host:port, where the host may be an IPv6 address ([::]:9000).
		return addr, addr[strings.LastIndex(addr, ":")+1:] != "9000"
	}
	return "", false
}

// minioTLS says why MinIO may serve HTTPS rather than HTTP on its ports,
// "" when nothing says so: it serves TLS on its API and console when its
// certs folder (${HOME}/.minio/certs, or the one --certs-dir or -S names)
// holds a certificate (MinIO's "Network Encryption (TLS)" documentation
// and minio server --help).
func (sf *StageFacts) minioTLS(words []string) string {
	for _, w := range words {
		if w == "-S" || strings.HasPrefix(strings.TrimLeft(w, "-"), "certs-dir") {
			return "the start command names MinIO's certs folder (" + w + "), from which it serves HTTPS when the folder holds a certificate"
		}
	}
	for _, st := range sf.steps {
		ins := st.in
		var dest string
		switch cmd := ins.Command.(type) {
		case *instructions.RunCommand:
			if strings.Contains(ins.Text(sf.facts.file.Source), "/.minio") {
				return fmt.Sprintf("line %d writes into a .minio folder in a RUN, and MinIO serves HTTPS when its certs folder holds a certificate", ins.StartLine)
			}
			continue
		case *instructions.CopyCommand:
			dest = cmd.DestPath
		case *instructions.AddCommand:
			dest = cmd.DestPath
		default:
			continue
		}
		if dest = resolveIn(st.workdir, expandStatic(sf.lex, dest, st.env)); strings.Contains(dest+"/", "/.minio/") {
			return fmt.Sprintf("line %d copies into %s, and MinIO serves HTTPS when its certs folder (.minio/certs) holds a certificate", ins.StartLine, dest)
		}
	}
	return ""
}

// redisServers start redis or a fork of it, which take redis-server's
// arguments: [configfile] [--directive value ...].
var redisServers = map[string]bool{"redis-server": true, "valkey-server": true, "keydb-server": true}

// redisPort returns the port a redis-server start command makes it
// listen on and what says so: --port on its command line, which wins
// over the configuration file, else the last port directive of the
// configuration file it names, read from the build context. port and why
// are 0 and "" when the default applies; unknown says why the port cannot
// be known: a file dockopt cannot read, an include, --port $VAR, port 0.
func (sf *StageFacts) redisPort(words []string) (port int, why, unknown string, plainOff bool, tlsPort int) {
	port, why, unknown = sf.redisListen(words, func(tls int) { plainOff, tlsPort = true, tls })
	return port, why, unknown, plainOff, tlsPort
}

// redisListen is redisPort's reading; off is called when a port 0 turns
// the plain port off, with the tls-port that still serves, 0 when none.
func (sf *StageFacts) redisListen(words []string, off func(tls int)) (port int, why, unknown string) {
	i := slices.IndexFunc(words, func(w string) bool { return redisServers[path.Base(w)] })
	if i < 0 {
		for _, w := range words {
			for s := range redisServers {
				if strings.Contains(w, s) {
					// sh -c "redis-server …": arguments dockopt does not read.
					return 0, "", fmt.Sprintf("the start command runs %s inside a shell string, whose arguments (a --port or a configuration file) dockopt does not read", s)
				}
			}
		}
		return 0, "", ""
	}
	name, args := path.Base(words[i]), words[i+1:]
	if slices.Contains(args, "--include") {
		return 0, "", fmt.Sprintf("the %s command line includes another configuration file, which may set another port", name)
	}
	// tls is the tls-port the command line, else the file, sets: with
	// port 0 the server still listens there, for TLS only.
	tls := ""
	number := func(v, what string) (int, string, string) {
		n, err := strconv.Atoi(strings.Trim(v, `"'`))
		switch {
		case err != nil || n < 0 || n > 65535:
			return 0, "", fmt.Sprintf("%s sets port %s, which dockopt cannot resolve", what, v)
		case n == 0 && tls != "" && strings.Trim(tls, `"'`) != "0":
			t, _ := strconv.Atoi(strings.Trim(tls, `"'`))
			off(t)
			return 0, "", fmt.Sprintf("%s sets port 0, which turns %s's plain TCP port off: it serves only TLS (tls-port %s), which redis-cli reaches only with --tls and the certificates", what, name, strings.Trim(tls, `"'`))
		case n == 0:
			// A tls-port in a file the command line's --port skips, or a
			// unix socket, may still serve: say only what port 0 does.
			off(0)
			return 0, "", fmt.Sprintf("%s sets port 0, which turns %s's plain TCP port off, so redis-cli has no plain port to ask", what, name)
		}
		return n, fmt.Sprintf("%s sets port %d", what, n), ""
	}
	if j := slices.Index(args, "--tls-port"); j >= 0 && j+1 < len(args) {
		for k := j; k+1 < len(args); k++ {
			if args[k] == "--tls-port" {
				tls = args[k+1]
			}
		}
	}
	if j := slices.Index(args, "--port"); j >= 0 {
		for k := j; k+1 < len(args); k++ {
			if args[k] == "--port" {
				j = k
			}
		}
		if j+1 < len(args) {
			return number(args[j+1], "the "+name+" command line")
		}
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-" {
		return 0, "", ""
	}
	file := args[0]
	target := file
	if !strings.HasPrefix(file, "/") {
		target = resolveIn(sf.endDir, file)
	}
	src, text, pf, ok := sf.placedText(func(pf PlacedFile) bool { return pf.Path == target })
	if !ok {
		return 0, "", fmt.Sprintf("%s reads %s, which may set another port, and dockopt cannot read it from the build context", name, file)
	}
	where := fmt.Sprintf("%s loads %s (line %d puts %s there)", name, file, pf.Line, src)
	portLine, includeLine, value := 0, 0, ""
	cmdTLS := tls != ""
	for n, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch strings.ToLower(f[0]) {
		case "port":
			portLine, value = n+1, f[1]
		case "tls-port":
			if !cmdTLS {
				tls = f[1]
			}
		case "include":
			includeLine = n + 1
		}
	}
	switch {
	case includeLine > portLine:
		return 0, "", fmt.Sprintf("%s, which includes another file on its line %d that may set another port", where, includeLine)
	case portLine == 0:
		return 0, "", ""
	}
	return number(value, fmt.Sprintf("%s, whose line %d", where, portLine))
}

// serverArgs returns the arguments a server's start command passes it:
// those after the word that names one of cmds, or, when none does, the
// whole command if it starts with an option, which the official image's
// docker-entrypoint.sh runs the server with (CMD ["--port", "27018"]).
// run is false when the command does not start the server itself, and
// shell names the server when a shell string starts it, whose arguments
// are not read.
func serverArgs(words []string, cmds ...string) (args []string, run bool, shell string) {
	if i := slices.IndexFunc(words, func(w string) bool { return slices.Contains(cmds, path.Base(w)) }); i >= 0 {
		return words[i+1:], true, ""
	}
	for _, w := range words {
		for _, c := range cmds {
			if strings.Contains(w, c+" ") {
				return nil, false, c
			}
		}
	}
	if len(words) > 0 && path.Base(words[0]) == "docker-entrypoint.sh" {
		words = words[1:]
	}
	if len(words) > 0 && strings.HasPrefix(words[0], "-") {
		return words, true, ""
	}
	return nil, len(words) == 0, ""
}

// optionValue reads a command-line option given as "--name value" or
// "--name=value" (for one-letter names also "-nvalue") at args[i]: the
// value and how many words it took, 0 when args[i] is not the option.
func optionValue(args []string, i int, names ...string) (string, int) {
	a := args[i]
	for _, n := range names {
		switch {
		case a == n && i+1 < len(args):
			return args[i+1], 2
		case strings.HasPrefix(a, n+"="):
			return a[len(n)+1:], 1
		case len(n) == 2 && n[0] == '-' && n[1] != '-' && strings.HasPrefix(a, n) && len(a) > 2:
			return a[2:], 1
		}
	}
	return "", 0
}

// portNumber reads a port a configuration or command line sets: the
// port and what says so, or why it cannot be used.
func portNumber(v, what, name string) (int, string, string) {
	n, err := strconv.Atoi(strings.Trim(v, `"'`))
	switch {
	case err != nil || n < 0 || n > 65535:
		return 0, "", fmt.Sprintf("%s sets port %s, which dockopt cannot resolve", what, v)
	case n == 0:
		return 0, "", fmt.Sprintf("%s sets port 0: %s listens on no TCP port", what, name)
	}
	return n, fmt.Sprintf("%s sets port %d", what, n), ""
}

// mongoPort returns the port mongod listens on and what says so, as
// redisPort does: --port on its command line, which wins over the
// configuration file, else net.port of the YAML configuration file that
// --config names, read from the build context. unknown also says why a
// probe of 127.0.0.1 without TLS would not reach it: TLS is required, or
// mongod binds only other addresses.
func (sf *StageFacts) mongoPort(words []string) (port int, why, unknown string) {
	args, run, shell := serverArgs(words, "mongod")
	switch {
	case shell != "":
		return 0, "", "the start command runs mongod inside a shell string, whose arguments (a --port or a configuration file) dockopt does not read"
	case !run:
		if _, _, pf, ok := sf.placedText(func(pf PlacedFile) bool { return path.Base(pf.Path) == "mongod.conf" }); ok || pf.Line > 0 {
			return 0, "", fmt.Sprintf("the image starts %s, not mongod itself, and line %d puts %s in the image, which may set another port", words[0], pf.Line, pf.Path)
		}
		return 0, "", ""
	}
	var portArg, config, tlsMode, bind string
	for i := 0; i < len(args); i++ {
		if v, n := optionValue(args, i, "--port"); n > 0 {
			portArg, i = v, i+n-1
		} else if v, n := optionValue(args, i, "--config", "-f"); n > 0 {
			config, i = v, i+n-1
		} else if v, n := optionValue(args, i, "--tlsMode", "--sslMode"); n > 0 {
			tlsMode, i = v, i+n-1
		} else if v, n := optionValue(args, i, "--bind_ip"); n > 0 {
			bind, i = v, i+n-1
		} else if args[i] == "--bind_ip_all" {
			bind = "0.0.0.0"
		} else if strings.HasPrefix(args[i], "--configExpand") {
			return 0, "", "the mongod command line expands its configuration (--configExpand), which may set another port"
		}
	}
	if config != "" {
		net, where, bad := sf.mongoConfigNet(config)
		if bad != "" {
			return 0, "", bad
		}
		if tlsMode == "" {
			tlsMode = scalarString(net["tls"], "mode")
		}
		if tlsMode == "" {
			tlsMode = scalarString(net["ssl"], "mode")
		}
		if all, _ := net["bindIpAll"].(bool); bind == "" && all {
			bind = "0.0.0.0"
		} else if bind == "" {
			bind = scalarString(net, "bindIp")
		}
		if v, ok := net["port"]; ok && portArg == "" {
			port, why, unknown = portNumber(fmt.Sprint(v), where+", whose net.port", "mongod")
		}
	}
	if portArg != "" {
		port, why, unknown = portNumber(portArg, "the mongod command line", "mongod")
	}
	switch {
	case unknown != "":
		return 0, "", unknown
	case tlsMode == "requireTLS" || tlsMode == "requireSSL":
		return 0, "", fmt.Sprintf("mongod requires TLS (%s), and the probe would connect without it", tlsMode)
	case bind != "" && !slices.ContainsFunc(strings.Split(bind, ","), func(a string) bool {
		switch strings.TrimSpace(a) {
		case "127.0.0.1", "localhost", "0.0.0.0", "*", "::", "0:0:0:0:0:0:0:0":
			return true
		}
		return false
	}):
		return 0, "", fmt.Sprintf("mongod binds %s, which does not include 127.0.0.1, where the probe connects", bind)
	}
	return port, why, ""
}

// postgresPort returns the port postgres listens on and what says so, as
// redisPort does: -p, --port or -c port= on its command line, which win
// over the configuration file, else the last port setting of the file
// -c config_file= names, read from the build context. unknown says why it
// cannot be known, or why a probe of 127.0.0.1 would not reach it.
func (sf *StageFacts) postgresPort(words []string) (port int, why, unknown string) {
	args, run, shell := serverArgs(words, "postgres", "postmaster")
	switch {
	case shell != "":
		return 0, "", fmt.Sprintf("the start command runs %s inside a shell string, whose arguments (a -p or a configuration file) dockopt does not read", shell)
	case !run:
		for i, w := range words {
			switch path.Base(w) {
			case "pg_ctlcluster":
				return 0, "", "the image starts postgres with pg_ctlcluster, which reads the cluster's postgresql.conf, and the cluster's port is set when it is created"
			case "pg_ctl":
				if slices.Contains(words[i+1:], "-o") {
					return 0, "", "the image starts postgres with pg_ctl -o, whose options dockopt does not read"
				}
			}
		}
		if _, _, pf, ok := sf.placedText(func(pf PlacedFile) bool { return path.Base(pf.Path) == "postgresql.conf" }); ok || pf.Line > 0 {
			return 0, "", fmt.Sprintf("the image starts %s, not postgres itself, and line %d puts %s in the image, which may set another port", words[0], pf.Line, pf.Path)
		}
		return 0, "", ""
	}
	var portArg, config, listen string
	for i := 0; i < len(args); i++ {
		setting := ""
		if v, n := optionValue(args, i, "-p"); n > 0 {
			portArg, i = v, i+n-1
		} else if v, n := optionValue(args, i, "-h"); n > 0 {
			listen, i = v, i+n-1
		} else if v, n := optionValue(args, i, "-c"); n > 0 {
			setting, i = v, i+n-1
		} else if strings.HasPrefix(args[i], "--") {
			setting = args[i][2:]
			if !strings.Contains(setting, "=") && i+1 < len(args) {
				setting, i = setting+"="+args[i+1], i+1
			}
		}
		k, v, _ := strings.Cut(setting, "=")
		switch strings.ReplaceAll(strings.ToLower(k), "-", "_") {
		case "port":
			portArg = v
		case "config_file":
			config = v
		case "listen_addresses":
			listen = v
		}
	}
	if config != "" {
		target := config
		if !strings.HasPrefix(config, "/") {
			target = resolveIn(sf.endDir, config)
		}
		src, text, pf, ok := sf.placedText(func(pf PlacedFile) bool { return pf.Path == target })
		if !ok {
			return 0, "", fmt.Sprintf("postgres reads %s, which may set another port, and dockopt cannot read it from the build context", config)
		}
		where := fmt.Sprintf("postgres loads %s (line %d puts %s there)", config, pf.Line, src)
		portLine, includeLine, value := 0, 0, ""
		for n, l := range strings.Split(text, "\n") {
			l, _, _ = strings.Cut(l, "#")
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				f := strings.Fields(l)
				if len(f) < 2 {
					continue
				}
				k, v = f[0], strings.Join(f[1:], " ")
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "port":
				portLine, value = n+1, strings.TrimSpace(v)
			case "listen_addresses":
				if listen == "" {
					listen = strings.Trim(strings.TrimSpace(v), "'")
				}
			case "include", "include_if_exists", "include_dir":
				includeLine = n + 1
			}
		}
		switch {
		case includeLine > portLine:
			return 0, "", fmt.Sprintf("%s, which includes another file on its line %d that may set another port", where, includeLine)
		case portLine > 0 && portArg == "":
			port, why, unknown = portNumber(value, fmt.Sprintf("%s, whose line %d", where, portLine), "postgres")
		}
	}
	if portArg != "" {
		port, why, unknown = portNumber(portArg, "the postgres command line", "postgres")
	}
	if unknown == "" && listen != "" && !slices.ContainsFunc(strings.Split(strings.Trim(listen, `'"`), ","), func(a string) bool {
		switch strings.TrimSpace(a) {
		case "*", "0.0.0.0", "127.0.0.1", "localhost", "::":
			return true
		}
		return false
	}) {
		return 0, "", fmt.Sprintf("postgres listens on %q, which does not include 127.0.0.1, where the probe connects", listen)
	}
	if unknown != "" {
		return 0, "", unknown
	}
	return port, why, ""
}

// mongoConfigNet reads the net section of the mongod configuration file
// at file, and where it comes from; why says why it cannot be used: it is
// not in the build context, is not YAML, or expands values at start.
func (sf *StageFacts) mongoConfigNet(file string) (net map[string]any, where, why string) {
	target := file
	if !strings.HasPrefix(file, "/") {
		target = resolveIn(sf.endDir, file)
	}
	src, text, pf, ok := sf.placedText(func(pf PlacedFile) bool { return pf.Path == target })
	if !ok {
		return nil, "", fmt.Sprintf("mongod reads %s, which may set another port or require TLS, and dockopt cannot read it from the build context", file)
	}
	where = fmt.Sprintf("mongod loads %s (line %d puts %s there)", file, pf.Line, src)
	var conf map[string]any
	if err := yaml.Unmarshal([]byte(text), &conf); err != nil {
		return nil, "", where + ", which dockopt cannot read as YAML"
	}
	if strings.Contains(text, "__exec") || strings.Contains(text, "__rest") {
		return nil, "", where + ", which expands values when mongod starts (__exec, __rest)"
	}
	for k := range conf {
		if strings.HasPrefix(k, "net.") {
			return nil, "", where + ", which sets " + k + " in dotted form"
		}
	}
	switch n := conf["net"].(type) {
	case map[string]any:
		return n, where, ""
	case nil:
		return map[string]any{}, where, ""
	}
	return nil, "", where + ", whose net section dockopt cannot read"
}

// scalarString is m[key] of a YAML mapping when it is a string.
func scalarString(m any, key string) string {
	mm, _ := m.(map[string]any)
	s, _ := mm[key].(string)
	return s
}

// busyboxHTTPDServer names busybox's httpd among the servers.
const busyboxHTTPDServer = "busybox httpd"

// busyboxHTTPDPort returns the port busybox httpd's -p [IP:]PORT names,
// 0 without one.
func busyboxHTTPDPort(args []string) int {
	for j, a := range args {
		v := ""
		switch {
		case a == "-p" && j+1 < len(args):
			v = args[j+1]
		case strings.HasPrefix(a, "-p") && len(a) > 2:
			v = a[2:]
		default:
			continue
		}
		if k := strings.LastIndex(v, ":"); k >= 0 {
			v = v[k+1:]
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 65535 {
			return 0
		}
		return n
	}
	return 0
}

// variantServer names the server a php image's variant starts, and
// what to call it, "" for none: docker-library/php's apache variants run
// Apache and EXPOSE 80, its fpm variants run PHP-FPM and EXPOSE 9000, and
// its default, cli and zts tags start no server. The official wordpress
// image is built FROM them: Apache by default, PHP-FPM on its fpm tags,
// and no server on its cli tags (docker-library/wordpress); so is the
// official nextcloud image, Apache by default and PHP-FPM on its fpm and
// fpm-alpine tags (github.com/nextcloud/docker).
func variantServer(r ImageRef) (name, what string) {
	tag := strings.ToLower(r.Tag)
	switch {
	case r.Name() != "php" && r.Official() != "wordpress" && r.Official() != "nextcloud":
		return "", ""
	case strings.Contains(tag, "apache"):
		return "apache2", "Apache"
	case strings.Contains(tag, "fpm"):
		return "php-fpm", "PHP-FPM"
	case r.Name() == "php", strings.Contains(tag, "cli"), r.Unresolved:
		return "", ""
	}
	return "apache2", "Apache"
}

// baseServes reports whether the stage's base image is the server's own,
// whose EXPOSEs the stage inherits. For a php variant whose server the
// stage's command does not start (a queue worker built FROM php:apache),
// the port says nothing of where anything listens: unknown says so.
func (sf *StageFacts) baseServes(info *server) (ok bool, unknown string) {
	base := sf.chain[0].Base
	if isBitnami(base) {
		return false, ""
	}
	if slices.Contains(info.images, base.Name()) {
		return true, ""
	}
	v, what := variantServer(base)
	if v != info.name {
		return false, ""
	}
	words := sf.StartCommand()
	if len(words) == 0 || startsServer(words, info) {
		return true, ""
	}
	return false, fmt.Sprintf("the image's command (%s) replaces the one %s starts %s with, so the ports that image EXPOSEs may have nothing listening",
		strings.Join(words, " "), base.Raw, what)
}

// startsServer reports a start command that runs one of the server's
// commands.
func startsServer(words []string, info *server) bool {
	for _, w := range words {
		for _, c := range info.commands {
			if path.Base(w) == c || (c == "php-fpm" && strings.HasPrefix(path.Base(w), "php-fpm")) {
				return true
			}
		}
	}
	return false
}

func serverNamed(name string) *server {
	for i := range servers {
		if servers[i].name == name {
			return &servers[i]
		}
	}
	return nil
}

// StartCommand returns the words the stage starts with, ENTRYPOINT then
// CMD, as the last of each in its lineage sets them; shell forms are split
// on white space. Nil when the lineage sets neither (the base image's own
// command applies).
func (sf *StageFacts) StartCommand() []string { return startWords(sf.chain) }

// startWords is ENTRYPOINT then CMD as a lineage leaves them.
func startWords(chain []*Stage) []string {
	entry, cmd := lineageStart(chain)
	var out []string
	if entry != nil {
		out = append(out, cmdWords(entry)...)
		if c, ok := entry.Command.(*instructions.EntrypointCommand); ok && c.PrependShell {
			// /bin/sh -c gets no arguments from CMD: a shell-form
			// ENTRYPOINT ignores it (as StartCommand says).
			return out
		}
	}
	if cmd != nil {
		out = append(out, cmdWords(cmd)...)
	}
	return out
}

// CommandFromElsewhere says why the image itself does not say what its
// container runs, "" when it does: its ENTRYPOINT only starts an init
// (tini, dumb-init) and no CMD follows, so the command is given when the
// container starts; or the lineage sets neither and the base image is a
// language runtime or distribution dockopt knows, whose own command is a
// shell or an interpreter's prompt, not a service.
func (sf *StageFacts) CommandFromElsewhere() string {
	entry, cmd, entryLine, _ := sf.startInstructions()
	switch {
	case entry != nil && cmd == nil:
		words := cmdWords(entry)
		if len(words) > 0 && initWrappers[path.Base(words[0])] && len(withoutInit(words)) == 0 {
			return fmt.Sprintf("the ENTRYPOINT on line %d only starts %s, and no CMD says what it runs: the command is given when the container starts", entryLine, path.Base(words[0]))
		}
	case entry == nil && cmd == nil && runtimeImage(sf.chain[0].Base):
		return fmt.Sprintf("no CMD or ENTRYPOINT says what the container runs, and the base image %s runs a shell or an interpreter, not a service: the command is given when the container starts", sf.chain[0].Base.Raw)
	}
	return ""
}

// BasePortsUnknown says why the ports the stage's base image EXPOSEs are
// not known, "" when they are: scratch, distributions and language
// runtimes expose none, and the servers dockopt knows expose theirs.
func (sf *StageFacts) BasePortsUnknown() string {
	base := sf.chain[0].Base
	named := base
	if base.Unresolved && !strings.Contains(base.Repository, "$") && base.Official() != "php" {
		// python:3.12${VARIANT:+-$VARIANT} is python whatever the
		// variant; only php's variants start a server.
		named.Unresolved = false
	}
	if base.IsScratch() || runtimeImage(named) {
		return ""
	}
	for _, s := range sf.Servers() {
		if ok, unknown := sf.baseServes(serverNamed(s.Name)); ok || unknown != "" {
			return unknown
		}
	}
	return "which ports the base image " + base.Raw + " exposes is not in dockopt's tables"
}

// runtimeImages are distributions and language runtimes whose own
// command is a shell or an interpreter's prompt.
var runtimeImages = setOf("debian", "ubuntu", "alpine", "busybox", "fedora", "centos", "rockylinux", "almalinux", "amazonlinux",
	"node", "python", "pypy", "ruby", "golang", "rust", "openjdk", "eclipse-temurin", "amazoncorretto", "php", "perl", "elixir",
	"erlang", "buildpack-deps", "bash")

func runtimeImage(r ImageRef) bool {
	if r.Unresolved || !runtimeImages[r.Official()] {
		return false
	}
	// php's apache and fpm variants start their server.
	return r.Name() != "php" || !strings.Contains(r.Tag, "apache") && !strings.Contains(r.Tag, "fpm")
}

// lineageStart returns the ENTRYPOINT and CMD in effect at the end of a
// lineage. An ENTRYPOINT resets an inherited CMD, as in BuildKit.
func lineageStart(chain []*Stage) (entry, cmd *Instruction) {
	for _, st := range chain {
		for _, in := range st.Instructions {
			switch in.Keyword {
			case "ENTRYPOINT":
				entry, cmd = in, nil
			case "CMD":
				cmd = in
			}
		}
	}
	return entry, cmd
}

// startInstructions is lineageStart with the lines of both, 0 for none.
func (sf *StageFacts) startInstructions() (entry, cmd *Instruction, entryLine, cmdLine int) {
	entry, cmd = lineageStart(sf.chain)
	if entry != nil {
		entryLine = entry.StartLine
	}
	if cmd != nil {
		cmdLine = cmd.StartLine
	}
	return entry, cmd, entryLine, cmdLine
}

func cmdWords(in *Instruction) []string {
	switch c := in.Command.(type) {
	case *instructions.EntrypointCommand:
		return shellWords(c.CmdLine, c.PrependShell)
	case *instructions.CmdCommand:
		return shellWords(c.CmdLine, c.PrependShell)
	}
	return nil
}

// PortFact is one port the stage exposes and what speaks on it.
type PortFact struct {
	Port int
	// Transport is tcp or udp.
	Transport string
	// Line is the EXPOSE, 0 when the port is inherited from the base image.
	Line int
	// Protocol is one of the Proto constants or another name ("ajp",
	// "mqtt"), "" when unknown. HTTP is only reported with evidence.
	Protocol string
	// Server names the server that listens there, when known, and Main
	// is set when the port is the one it serves its own protocol on: its
	// default port, or the one its configuration sets.
	Server string
	Main   bool
	Why    string
	// Off, when set, says why nothing listens on the port although a
	// server's default puts it there: its configuration turns it off.
	Off string
	// Moved, on a port the base image EXPOSEs, says why its server may
	// not listen there: the Dockerfile puts a configuration over the
	// stock one that names other ports (MovedTo), or that dockopt cannot
	// read.
	Moved   string
	MovedTo []int
	// Listen, on a port no EXPOSE names, is the line that copies the
	// server's configuration that makes it listen there, in place of the
	// base image's ports (Moved); 0 otherwise.
	Listen int
	// Unsure, when set, says what is known of the app that may serve on
	// the port and why its protocol there is not established: a Spring
	// Boot app whose server.port is unknown or another port.
	Unsure string
	// ProtoUnknown, when set, says why the protocol of a known server's
	// port cannot be told: Elasticsearch speaks HTTP or HTTPS there as
	// its version and configuration say. Protocol is then "".
	ProtoUnknown string
	// Maybe names the protocol the application speaks when it is not
	// established on this port (it listens on another one, or where it
	// listens is not known), with Protocol left empty.
	Maybe string
	// Probe is how to check the port from inside the image, nil when
	// dockopt knows none.
	Probe *Probe
}

// Probe is a readiness check run inside the image.
type Probe struct {
	Command string
	// Tool is the command the probe needs, and ToolPresence whether the
	// finished image has it.
	Tool         string
	ToolPresence Presence
	Why          string
	// Unknown, when set, says why no command is given although the tool
	// is known: where the server listens cannot be read.
	Unknown string
}

// Ports returns the stage's exposed ports in order, with their protocols.
func (sf *StageFacts) Ports() []PortFact {
	sf.portsOnce.Do(func() { sf.ports = sf.findPorts() })
	return sf.ports
}

func (sf *StageFacts) findPorts() []PortFact {
	out := []PortFact{}
	seen := map[string]int{}
	add := func(p PortFact) {
		k := fmt.Sprintf("%d/%s", p.Port, p.Transport)
		i, ok := seen[k]
		switch {
		case !ok:
			seen[k] = len(out)
			out = append(out, p)
		case out[i].Line == 0 && p.Line > 0:
			// The Dockerfile exposes the base image's port itself: say
			// so, where it does.
			out[i].Line, out[i].Why = p.Line, p.Why
		}
	}
	srv := sf.Servers()
	base := sf.chain[0].Base
	for _, s := range srv {
		info := serverNamed(s.Name)
		if ok, _ := sf.baseServes(info); !ok {
			continue
		}
		for _, port := range info.exposes {
			add(PortFact{Port: port, Transport: "tcp", Why: "exposed by the base image " + base.Raw})
		}
	}
	for _, st := range sf.steps {
		if _, ok := st.in.Command.(*instructions.ExposeCommand); !ok {
			continue
		}
		// The words as written: BuildKit's parsed Ports are sorted as
		// text ("443" before "80"), and the first HTTP port the author
		// lists is the one to probe.
		for _, raw := range st.in.Args {
			for _, p := range parseExpose(expandStatic(sf.lex, raw, st.env)) {
				p.Line = st.in.StartLine
				p.Why = fmt.Sprintf("EXPOSE on line %d", p.Line)
				add(p)
			}
		}
	}
	ev := sf.appEvidence()
	for i := range out {
		sf.classifyPort(&out[i], srv, ev)
	}
	return sf.markMoved(out, srv)
}

// markMoved sets Moved on the ports the base image EXPOSEs for a server
// whose stock configuration the Dockerfile replaces with one that
// listens elsewhere, or may. When the configuration says exactly where
// the server listens, those ports follow (Listen): the one that answers
// plain HTTP, and those it serves TLS on.
func (sf *StageFacts) markMoved(out []PortFact, srv []ServerFact) []PortFact {
	var inherited []int
	for _, p := range out {
		if p.Line == 0 && p.Transport == "tcp" {
			inherited = append(inherited, p.Port)
		}
	}
	for _, s := range srv {
		cl := sf.serverListen(s.Name)
		if cl.line > 0 && cl.exact == "" && len(cl.ports) > 0 {
			// A port the Dockerfile EXPOSEs is only a declaration: when
			// the configuration says exactly where the server listens,
			// nothing answers on the others.
			for i := range out {
				p := &out[i]
				if p.Line == 0 || p.Transport != "tcp" || p.Off != "" {
					continue
				}
				says := cl.where() + " says so"
				switch {
				case !slices.Contains(cl.ports, p.Port):
					p.Protocol, p.Server, p.Main, p.Probe = "", "", false, nil
					p.Why = fmt.Sprintf("EXPOSE on line %d", p.Line)
					p.Off = fmt.Sprintf("%s makes %s listen only on %s", cl.where(), s.Name, portList(cl.ports))
				case p.Protocol != "":
				case p.Port == cl.httpPort:
					p.Protocol, p.Server, p.Main = ProtoHTTP, s.Name, true
					p.Why = fmt.Sprintf("EXPOSE on line %d; %s listens there for plain HTTP (%s)", p.Line, s.Name, says)
					sf.protocolProbe(p)
				case slices.Contains(cl.tls, p.Port):
					p.Protocol, p.Server, p.Main = ProtoHTTPS, s.Name, cl.httpPort == 0
					p.Why = fmt.Sprintf("EXPOSE on line %d; %s serves TLS there (%s)", p.Line, s.Name, says)
				}
			}
		} else if cl.line > 0 && cl.known() && len(cl.ports) > 0 && !strings.HasPrefix(s.Name, "nginx") {
			// Caddy's or Traefik's configuration names its ports, but
			// dockopt does not know them to be all it binds: a declared
			// port it does not name is not taken for the server's. (For
			// nginx, whose stock configuration may remain beside the
			// copied one, only an exact configuration decides, above.)
			for i := range out {
				p := &out[i]
				if p.Line == 0 || p.Transport != "tcp" || p.Off != "" || p.Server != s.Name || slices.Contains(cl.ports, p.Port) {
					continue
				}
				p.Protocol, p.Server, p.Main, p.Probe = "", "", false, nil
				p.Why = fmt.Sprintf("EXPOSE on line %d", p.Line)
				p.Unsure = fmt.Sprintf("%s makes %s listen on %s, not on this port", cl.where(), s.Name, portList(cl.ports))
			}
		}
		why, to := cl.movedOff(inherited)
		if why == "" {
			continue
		}
		for i := range out {
			if out[i].Line == 0 && out[i].Transport == "tcp" {
				out[i].Moved, out[i].MovedTo = why, to
			}
		}
		if len(to) == 0 || cl.exact != "" {
			return out
		}
		says := cl.where() + " says so"
		has := func(port int) bool {
			return slices.ContainsFunc(out, func(p PortFact) bool { return p.Port == port && p.Transport == "tcp" })
		}
		if cl.httpPort > 0 && !has(cl.httpPort) {
			p := PortFact{Port: cl.httpPort, Transport: "tcp", Listen: cl.line, Protocol: ProtoHTTP, Server: s.Name, Main: true,
				Why: fmt.Sprintf("%s listens there for plain HTTP (%s)", s.Name, says)}
			sf.protocolProbe(&p)
			out = append(out, p)
		}
		for _, port := range cl.tls {
			if !has(port) {
				out = append(out, PortFact{Port: port, Transport: "tcp", Listen: cl.line, Protocol: ProtoHTTPS, Server: s.Name, Main: cl.httpPort == 0,
					Why: fmt.Sprintf("%s serves TLS there (%s)", s.Name, says)})
			}
		}
		return out
	}
	return out
}

// parseExpose reads `80`, `8080/tcp`, `53/udp`, `8000-8002`.
func parseExpose(arg string) []PortFact {
	port, proto, _ := strings.Cut(arg, "/")
	proto = strings.ToLower(proto)
	if proto == "" {
		proto = "tcp"
	}
	lo, hi, isRange := strings.Cut(port, "-")
	a, err := strconv.Atoi(lo)
	if err != nil || a <= 0 || a > 65535 {
		return nil
	}
	b := a
	if isRange {
		if b, err = strconv.Atoi(hi); err != nil || b < a || b-a > 16 {
			b = a
		}
	}
	var out []PortFact
	for n := a; n <= b; n++ {
		out = append(out, PortFact{Port: n, Transport: proto})
	}
	return out
}

// appFacts is what the build context says the application speaks.
type appFacts struct {
	http, grpc       bool
	httpWhy, grpcWhy string
	// spring is set when the HTTP evidence is a Spring Boot web starter,
	// which serves on the one port its configuration says (facts_spring.go).
	spring     bool
	springPort springPort
	// server is set when the evidence is a server the app's own code
	// starts (facts_appserver.go), which listens where that code says.
	server *listenPort
}

var (
	httpDeps = map[string][]string{
		"node":   {"express", "fastify", "koa", "@hapi/hapi", "next", "nuxt", "@nestjs/core", "restify", "@remix-run/serve", "hono", "@sveltejs/kit", "http-server", "serve", "polka", "sails", "@adonisjs/core", "@feathersjs/express"},
		"python": {"flask", "django", "fastapi", "starlette", "aiohttp", "tornado", "bottle", "sanic", "gunicorn", "uvicorn", "streamlit", "gradio", "falcon", "pyramid", "quart", "litestar", "dash"},
		"go":     {"github.com/gin-gonic/gin", "github.com/labstack/echo", "github.com/gofiber/fiber", "github.com/go-chi/chi", "github.com/gorilla/mux", "github.com/julienschmidt/httprouter", "github.com/beego/beego"},
		"java": {"spring-boot-starter-web", "spring-boot-starter-webflux", "quarkus-resteasy", "quarkus-rest",
			"quarkus-resteasy-reactive", "quarkus-rest-jackson", "quarkus-resteasy-jackson", "quarkus-resteasy-reactive-jackson",
			"quarkus-rest-jsonb", "quarkus-resteasy-jsonb", "quarkus-resteasy-reactive-jsonb", "micronaut-http-server", "micronaut-http-server-netty", "javalin",
			// Ktor's servers, as Gradle names them for the JVM (-jvm) or
			// through Kotlin multiplatform (without).
			"ktor-server-netty", "ktor-server-netty-jvm", "ktor-server-cio", "ktor-server-cio-jvm", "ktor-server-jetty",
			"ktor-server-jetty-jvm", "ktor-server-tomcat", "ktor-server-tomcat-jvm", "jersey-server", "dropwizard-core"},
		"ruby": {"rails", "sinatra", "puma", "rack", "hanami", "roda"},
		"php":  {"laravel/framework", "symfony/http-kernel", "slim/slim", "laminas/laminas-mvc"},
		"rust": {"actix-web", "axum", "rocket", "warp", "hyper", "poem", "tide"},
	}
	grpcDeps = map[string][]string{
		"node":   {"@grpc/grpc-js", "grpc"},
		"python": {"grpcio"},
		"go":     {"google.golang.org/grpc"},
		"java":   {"grpc-netty", "grpc-netty-shaded", "grpc-stub", "grpc-spring-boot-starter"},
		"ruby":   {"grpc"},
		"rust":   {"tonic"},
		"dotnet": {"Grpc.AspNetCore"},
	}
	// httpCommands start HTTP servers whatever the framework.
	httpCommands = setOf("gunicorn", "uvicorn", "hypercorn", "daphne", "waitress-serve", "puma", "unicorn", "rackup",
		"http-server", "serve", "live-server", "streamlit", "next", "nuxt", "jupyter", "jupyter-lab", "datasette", "mkdocs")
)

// appEvidence reads the build context's manifests and the start command
// for signs of an HTTP or gRPC server.
func (sf *StageFacts) appEvidence() appFacts {
	ev := sf.facts.manifestEvidence()
	if ev.spring {
		if sp, ok := sf.springStartPort(); ok {
			ev.springPort = sp
		}
	}
	for i, w := range sf.StartCommand() {
		b := path.Base(w)
		next := ""
		if i+1 < len(sf.StartCommand()) {
			next = sf.StartCommand()[i+1]
		}
		if httpCommands[b] || (b == "manage.py" && next == "runserver") || (b == "flask" && next == "run") || (b == "rails" && (next == "server" || next == "s")) {
			if !ev.http {
				ev.http, ev.httpWhy = true, fmt.Sprintf("the image starts %s, an HTTP server", b)
			}
		}
	}
	if s, ok := sf.appServer(); ok {
		// The code that starts the server says more than a manifest: it
		// also says where the server listens.
		ev.http, ev.httpWhy, ev.spring, ev.server = true, s.why, false, &s.listen
	}
	if strings.Contains(sf.chain[0].Base.Repository, "dotnet/aspnet") {
		if !ev.http {
			ev.http, ev.httpWhy = true, "the base image "+sf.chain[0].Base.Raw+" runs ASP.NET Core"
		}
		if l, ok := sf.kestrelPort(); ok && ev.server == nil {
			ev.server = &l
		}
	}
	if t := sf.Tool(0, "grpc_health_probe"); t.Presence == Present {
		ev.grpc, ev.grpcWhy = true, "the image ships grpc_health_probe ("+t.Why+")"
	}
	return ev
}

// kestrelBinds matches code and settings that choose Kestrel's address
// themselves, over the environment: UseUrls, Listen*, a "Kestrel" or
// "urls" section of appsettings.json, a read of PORT or the URL variables.
var kestrelBinds = regexp.MustCompile(`\bUseUrls\s*\(|\.Listen(?:AnyIP|Localhost)?\s*\(|"(?:Kestrel|urls)"\s*:|GetEnvironmentVariable\(\s*"(?:PORT|ASPNETCORE_URLS|ASPNETCORE_HTTP_PORTS)"`)

// kestrelScan is the once-per-context answer of bindsKestrel.
type kestrelScan struct {
	once  sync.Once
	binds bool
}

// bindsKestrel reports whether the context's Program.cs, Startup.cs or
// appsettings.json may choose Kestrel's address (kestrelBinds), or could
// not all be read: at most 20 files and 1 MiB of them, which is more than
// an app's entry points hold, so that a context of large files costs
// milliseconds, once, however many Dockerfiles it builds.
func (c *BuildContext) bindsKestrel() bool {
	if c.kestrel == nil {
		return c.scanKestrel()
	}
	c.kestrel.once.Do(func() { c.kestrel.binds = c.scanKestrel() })
	return c.kestrel.binds
}

func (c *BuildContext) scanKestrel() bool {
	files, budget := 0, 1<<20
	for _, f := range c.Files {
		b := path.Base(f)
		if b != "Program.cs" && b != "Startup.cs" && b != "appsettings.json" {
			continue
		}
		if files++; files > 20 {
			return true
		}
		t, err := c.ReadFile(f)
		if budget -= len(t); err != nil || budget < 0 || kestrelBinds.Match(t) {
			return true
		}
	}
	return false
}

// kestrelPort is where ASP.NET Core listens in an image built on
// mcr.microsoft.com/dotnet/aspnet: ASPNETCORE_URLS (or DOTNET_URLS), which
// wins over ASPNETCORE_HTTP_PORTS, else that, else the image's own setting:
// ASPNETCORE_HTTP_PORTS=8080 from .NET 8, ASPNETCORE_URLS=http://+:80 before
// (learn.microsoft.com/dotnet/core/compatibility/containers/8.0/aspnet-port).
// ASP.NET Core does not read PORT. ok is false when the app's own code or
// settings in the build context bind Kestrel, when the variables name more
// than one port, or when the tag names no version: the EXPOSE is then taken
// as written.
func (sf *StageFacts) kestrelPort() (listenPort, bool) {
	if sf.facts.ctx.bindsKestrel() {
		return listenPort{}, false
	}
	for _, name := range []string{"ASPNETCORE_URLS", "DOTNET_URLS", "ASPNETCORE_HTTP_PORTS", "DOTNET_HTTP_PORTS"} {
		v, set := sf.endEnv[name]
		if !set {
			continue
		}
		var ports []int
		for _, u := range strings.Split(v, ";") {
			u = strings.TrimSpace(u)
			if strings.HasSuffix(name, "_URLS") {
				// http://+:8080, http://[::]:5000/, http://localhost (80);
				// an https:// URL is not where a plain probe goes.
				if len(u) < 7 || !strings.EqualFold(u[:7], "http://") {
					continue
				}
				host, _, _ := strings.Cut(u[7:], "/")
				port := "80"
				if i := strings.LastIndex(host, ":"); i > strings.LastIndex(host, "]") {
					port = host[i+1:]
				}
				u = port
			}
			n, err := strconv.Atoi(u)
			if err != nil || n <= 0 || n > 65535 {
				return listenPort{}, false
			}
			ports = append(ports, n)
		}
		if len(ports) != 1 {
			return listenPort{}, false
		}
		return listenPort{port: ports[0], why: fmt.Sprintf("ASP.NET Core listens where %s says, which ENV sets to %s", name, v)}, true
	}
	base := sf.chain[0].Base
	major, _, _ := strings.Cut(base.Tag, ".")
	switch n, err := strconv.Atoi(major); {
	case err != nil:
		return listenPort{}, false
	case n >= 8:
		return listenPort{port: 8080, why: "ASP.NET Core listens on ASPNETCORE_HTTP_PORTS, which " + base.Raw + " sets to 8080, and it does not read PORT"}, true
	default:
		return listenPort{port: 80, why: "ASP.NET Core listens on ASPNETCORE_URLS, which " + base.Raw + " sets to http://+:80"}, true
	}
}

// manifestEvidence reads the build context's manifests once per file.
func (f *Facts) manifestEvidence() appFacts {
	f.manifestOnce.Do(func() {
		var ev appFacts
		bc := f.ctx
		seen := map[string]bool{}
		for _, pm := range PackageManagers {
			eco := pm.Ecosystem
			for _, name := range pm.Manifests {
				if seen[name] || !bc.Has(name) {
					continue
				}
				seen[name] = true
				b, err := bc.ReadFile(name)
				if err != nil {
					continue
				}
				text, where := string(b), func(string) string { return name }
				if pm == Gradle {
					if mods := bc.gradleCatalogModules(text); len(mods) > 0 {
						build := text
						text += "\n" + strings.Join(mods, "\n")
						where = func(dep string) string {
							if manifestPattern(name, dep).MatchString(build) {
								return name
							}
							return name + ", through " + gradleCatalog + ","
						}
					}
				}
				if dep := manifestMentions(name, text, httpDeps[eco]); dep != "" && !ev.http {
					ev.http, ev.httpWhy = true, fmt.Sprintf("%s depends on %s, an HTTP framework", where(dep), dep)
					if strings.HasPrefix(dep, "spring-boot-starter-web") {
						ev.spring, ev.springPort = true, f.springConfigPort()
					}
				}
				if dep := manifestMentions(name, text, grpcDeps[eco]); dep != "" && !ev.grpc {
					ev.grpc, ev.grpcWhy = true, fmt.Sprintf("%s depends on %s, a gRPC library", where(dep), dep)
				}
			}
		}
		for _, name := range bc.Files {
			if strings.HasSuffix(name, ".csproj") && !strings.Contains(name, "/") {
				if b, err := bc.ReadFile(name); err == nil {
					if strings.Contains(string(b), "Grpc.AspNetCore") {
						ev.grpc, ev.grpcWhy = true, name+" references Grpc.AspNetCore"
					} else if strings.Contains(string(b), "Microsoft.NET.Sdk.Web") && !ev.http {
						ev.http, ev.httpWhy = true, name+" is an ASP.NET Core web project"
					}
				}
			}
		}
		f.manifest = ev
	})
	return f.manifest
}

// manifestMentions finds the first dependency of deps a manifest names.
func manifestMentions(file, text string, deps []string) string {
	if file == "package.json" {
		// A key of the same name elsewhere is no dependency: vue-cli
		// projects have a script named serve.
		return packageDependsOn(text, deps)
	}
	// Every pattern needs the dependency's name in the text (in any case
	// for requirement lists), which is cheaper to look for than to run
	// each pattern over the whole manifest. Case-insensitive patterns
	// fold a few non-ASCII letters to ASCII ones (K, ſ), so that test is
	// made only on ASCII text.
	exact := file == "composer.json" || file == "go.mod" // as manifestPattern decides
	folded := ""
	if !exact && isASCII(text) {
		folded = strings.ToLower(text)
	}
	for _, dep := range deps {
		switch {
		case exact:
			if !strings.Contains(text, dep) {
				continue
			}
		case folded != "" && isASCII(dep):
			if !strings.Contains(folded, strings.ToLower(dep)) {
				continue
			}
		}
		if manifestPattern(file, dep).MatchString(text) {
			return dep
		}
	}
	return ""
}

// packageDependsOn finds the first of deps a package.json lists among its
// dependencies or devDependencies.
func packageDependsOn(text string, deps []string) string {
	pkg, ok := ParsePackageJSON([]byte(text))
	if !ok {
		return ""
	}
	for _, dep := range deps {
		if pkg.HasDependency(dep) {
			return dep
		}
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

var (
	manifestMu       sync.Mutex
	manifestPatterns = map[string]*regexp.Regexp{}
)

// manifestPattern matches a dependency as each manifest format names it:
// a JSON key, a go.mod requirement, or a word of a requirements list.
func manifestPattern(file, dep string) *regexp.Regexp {
	key := file + "\x00" + dep
	manifestMu.Lock()
	defer manifestMu.Unlock()
	if re, ok := manifestPatterns[key]; ok {
		return re
	}
	var re *regexp.Regexp
	switch file {
	case "package.json", "composer.json":
		re = regexp.MustCompile(`"` + regexp.QuoteMeta(dep) + `"\s*:`)
	case "go.mod":
		re = regexp.MustCompile(`(?m)(^|\s)` + regexp.QuoteMeta(dep) + `(/v\d+)?\s+v`)
	case "pom.xml":
		re = regexp.MustCompile(`<artifactId>\s*` + regexp.QuoteMeta(dep) + `\s*</artifactId>`)
	default:
		re = regexp.MustCompile(`(?im)(^|[\s"'\[,:(])` + regexp.QuoteMeta(dep) + `($|[\s"'\]=<>~!;,\[)@:])`)
	}
	manifestPatterns[key] = re
	return re
}

// classifyPort decides what speaks on a port: a recognised server that
// uses it, else the application's HTTP or gRPC evidence, else the port's
// well-known protocol, else nothing.
func (sf *StageFacts) classifyPort(p *PortFact, srv []ServerFact, ev appFacts) {
	if p.Transport != "tcp" {
		p.Why += "; a UDP port"
		return
	}
	for _, s := range srv {
		info := serverNamed(s.Name)
		proto, ok := info.ports[p.Port]
		if s.PortWhy != "" && p.Port == s.Port {
			// Configured onto a port of its own (redis-server --port 7000).
			proto, ok = info.ports[info.defaultPort], true
		}
		tlsOnly := s.TLSPort > 0 && p.Port == s.TLSPort
		switch {
		case tlsOnly:
			proto, ok = info.ports[info.defaultPort], true
		case ok && s.PlainOff:
			// Port 0: nothing listens on the default port, whatever
			// the port is well known for.
			p.Why += fmt.Sprintf("; %s's default port", s.Name)
			p.Off = s.PortUnknown
			continue
		}
		if !ok {
			continue
		}
		p.Protocol, p.Server = proto, s.Name
		p.Main = s.PortWhy != "" && p.Port == s.Port || s.PortWhy == "" && p.Port == info.defaultPort || tlsOnly
		if p.Main && (s.Proto != "" || s.ProtoUnknown != "") {
			p.Protocol, p.ProtoUnknown = s.Proto, s.ProtoUnknown
		} else if s.ProtoUnknownAll && s.ProtoUnknown != "" {
			p.Protocol, p.ProtoUnknown = "", s.ProtoUnknown
		}
		if !p.Main && p.Port == info.defaultPort && s.PortWhy != "" && (s.Proto != "" || s.ProtoUnknown != "") {
			// Its configuration moves the REST layer (http.port):
			// nothing serves it here.
			p.Protocol, p.Off = "", fmt.Sprintf("%s, so %s serves nothing on its default port %d", s.PortWhy, s.Name, p.Port)
		}
		switch {
		case tlsOnly:
			p.Why += fmt.Sprintf("; %s serves TLS only there (%s)", s.Name, s.Why)
		case s.PortUnknown != "":
			p.Why += fmt.Sprintf("; %s's default port (%s)", s.Name, s.Why)
		case s.PortWhy != "" && p.Port != s.Port:
			p.Why += fmt.Sprintf("; %s's default port, but %s (%s) listens on port %d: %s", s.Name, s.Name, s.Why, s.Port, s.PortWhy)
		case s.PortWhy != "":
			p.Why += fmt.Sprintf("; %s listens there (%s; %s)", s.Name, s.Why, s.PortWhy)
		default:
			p.Why += fmt.Sprintf("; %s listens there (%s)", s.Name, s.Why)
		}
		if p.Main && s.ProtoWhy != "" {
			p.Why += "; " + s.ProtoWhy
		}
		if info.probe != "" {
			probe, tool := info.probe, info.probeTool
			if s.Name == "mongodb" {
				probe, tool = sf.mongoProbe(0)
			}
			p.Probe = sf.probe(probe, tool, s.Name+"'s own readiness check")
			switch {
			case s.PortUnknown != "":
				p.Probe.Command, p.Probe.Unknown = "", s.PortUnknown
			case s.PortWhy != "" && s.Port != info.defaultPort && s.Name == "mongodb":
				p.Probe.Command, _ = sf.mongoProbe(s.Port)
			case s.PortWhy != "" && (s.Port != info.defaultPort || s.Name == "postgres"):
				// pg_isready's default port is $PGPORT's, which an ENV
				// may set apart from the server's -p 5432.
				p.Probe.Command = fmt.Sprintf(info.probeOnPort, s.Port)
			}
		}
		break
	}
	if p.Protocol == "" && p.Off == "" && p.ProtoUnknown == "" {
		known, isKnown := wellKnownPorts[p.Port]
		switch {
		case ev.grpc && ev.http && p.Port == 50051, ev.grpc && !ev.http:
			p.Protocol = ProtoGRPC
			p.Why += "; " + ev.grpcWhy
		case ev.http && ev.grpc:
			p.Why += fmt.Sprintf("; both HTTP (%s) and gRPC (%s) are possible", ev.httpWhy, ev.grpcWhy)
		case ev.http && isKnown:
			p.Why += fmt.Sprintf("; %s, but %d is %s's port", ev.httpWhy, p.Port, known)
		case ev.http && httpsPorts[p.Port]:
			p.Protocol = ProtoHTTPS
			p.Why += fmt.Sprintf("; %s, and %d is the port HTTP servers use for TLS", ev.httpWhy, p.Port)
		case ev.http && ev.spring && ev.springPort.unknown != "":
			p.Maybe = ProtoHTTP
			p.Why += fmt.Sprintf("; %s, but %s, so the port it serves is not known", ev.httpWhy, ev.springPort.unknown)
			p.Unsure = fmt.Sprintf("the app is Spring Boot (%s), but %s, so whether it serves HTTP on port %d is not established", ev.httpWhy, ev.springPort.unknown, p.Port)
		case ev.http && ev.spring && p.Port != ev.springPort.effective():
			p.Maybe = ProtoHTTP
			p.Why += fmt.Sprintf("; %s, but it serves on port %d (%s)", ev.httpWhy, ev.springPort.effective(), ev.springPort.describe())
			p.Unsure = fmt.Sprintf("the app is Spring Boot (%s), and it serves HTTP on port %d (%s), not on %d", ev.httpWhy, ev.springPort.effective(), ev.springPort.describe(), p.Port)
		case ev.http && ev.server != nil && ev.server.unknown != "":
			p.Maybe = ProtoHTTP
			p.Why += fmt.Sprintf("; %s, but %s", ev.httpWhy, ev.server.unknown)
		case ev.http && ev.server != nil && ev.server.upstream != 0 && p.Port == ev.server.upstream:
			p.Protocol = ProtoHTTP
			p.Why += fmt.Sprintf("; %s (%s)", ev.httpWhy, ev.server.upstreamWhy)
		case ev.http && ev.server != nil && p.Port != ev.server.port:
			p.Maybe = ProtoHTTP
			p.Why += fmt.Sprintf("; %s, but on port %d (%s)", ev.httpWhy, ev.server.port, ev.server.why)
		case ev.http && ev.server != nil:
			p.Protocol = ProtoHTTP
			p.Why += fmt.Sprintf("; %s (%s)", ev.httpWhy, ev.server.why)
		case ev.http:
			p.Protocol = ProtoHTTP
			p.Why += "; " + ev.httpWhy
		case isKnown:
			p.Protocol = known
			p.Why += fmt.Sprintf("; %d is %s's well-known port", p.Port, known)
		default:
			p.Why += "; nothing in the image or its build context says what speaks there"
		}
	}
	sf.protocolProbe(p)
}

// protocolProbe sets the probe of a port that speaks gRPC or HTTP.
func (sf *StageFacts) protocolProbe(p *PortFact) {
	switch p.Protocol {
	case ProtoGRPC:
		p.Probe = sf.probe(fmt.Sprintf("grpc_health_probe -addr=127.0.0.1:%d", p.Port), "grpc_health_probe", "the gRPC health checking protocol")
	case ProtoHTTP:
		// 127.0.0.1, not localhost: localhost may resolve to ::1 first, which
		// a server bound to 0.0.0.0 does not answer. Any HTTP answer
		// passes: an app need not serve /, and a 404 from it still says
		// the server is up (a hung one answers nothing). curl without -f
		// fails only without an answer; wget fails on an error status
		// too, so its -S status line is what counts (busybox and GNU
		// print it, also with -q).
		route := sf.facts.healthRoute()
		url := fmt.Sprintf("http://127.0.0.1:%d/%s", p.Port, route)
		curl := "curl -sS -o /dev/null "
		if route != "" {
			// The health route answers 500 when the app failed to boot;
			// -f fails on that and still passes a redirect (force_ssl).
			curl = "curl -fsS -o /dev/null "
		}
		if t := sf.Tool(0, "curl"); t.Presence == Present {
			p.Probe = &Probe{Command: curl + url, Tool: "curl", ToolPresence: Present, Why: t.Why}
		} else if t := sf.Tool(0, "wget"); t.Presence == Present {
			p.Probe = &Probe{Command: "wget -q -S -O /dev/null " + url + " 2>&1 | grep -q 'HTTP/'", Tool: "wget", ToolPresence: Present, Why: t.Why}
		} else {
			p.Probe = &Probe{Tool: "curl", ToolPresence: t.Presence, Why: "neither curl nor wget is known to be in the image: " + t.Why}
		}
	}
}

// mongoProbe is MongoDB's ping with the shell the image has: mongosh,
// or the legacy mongo shell of images before 5.0, which has no mongosh.
// Both take --port; port 0 leaves it out.
func (sf *StageFacts) mongoProbe(port int) (cmd, tool string) {
	tool = "mongosh"
	if sf.Tool(0, "mongosh").Presence != Present && sf.Tool(0, "mongo").Presence == Present {
		tool = "mongo"
	}
	cmd = tool
	if port > 0 {
		cmd += fmt.Sprintf(" --port %d", port)
	}
	return cmd + ` --quiet --eval "db.adminCommand('ping')"`, tool
}

func (sf *StageFacts) probe(cmd, tool, what string) *Probe {
	t := sf.Tool(0, tool)
	return &Probe{Command: cmd, Tool: tool, ToolPresence: t.Presence, Why: what + "; " + t.Why}
}

// PrivilegedPort returns a port below 1024 the stage's process must bind
// (an EXPOSEd one, or the default port of a server that is not configured
// otherwise), and why; 0 when there is none.
func (sf *StageFacts) PrivilegedPort() (int, string) {
	for _, p := range sf.Ports() {
		// A port the configuration names (Listen) is the server's to
		// say, below.
		if p.Port < 1024 && p.Moved == "" && p.Listen == 0 && p.Off == "" {
			if p.Line > 0 {
				return p.Port, fmt.Sprintf("it exposes port %d (line %d), which only root can bind without extra capabilities", p.Port, p.Line)
			}
			return p.Port, fmt.Sprintf("it listens on port %d (%s), which only root can bind without extra capabilities", p.Port, p.Why)
		}
	}
	for _, s := range sf.Servers() {
		if cl := sf.serverListen(s.Name); cl.line > 0 && cl.known() && len(cl.ports) > 0 {
			// The configuration the Dockerfile puts there says where
			// the server listens, wherever its default or the base
			// image's EXPOSE would put it.
			for _, port := range cl.ports {
				if port < 1024 {
					return port, fmt.Sprintf("%s listens on port %d (%s says so), which only root can bind", s.Name, port, cl.where())
				}
			}
			continue
		} else if cl.line > 0 && !cl.known() {
			// Where it listens is not known, and it may still be the
			// default: a USER is no safer than root there.
			if d := serverNamed(s.Name).defaultPort; d > 0 && d < 1024 {
				return d, fmt.Sprintf("where %s listens is not known (%s), and it may be port %d, its default, which only root can bind", s.Name, cl.unknown(), d)
			}
			continue
		}
		if s.Port > 0 {
			if s.Port < 1024 && len(sf.Ports()) == 0 {
				return s.Port, fmt.Sprintf("%s listens on port %d (its command line says so), which only root can bind", s.Name, s.Port)
			}
			continue
		}
		if info := serverNamed(s.Name); info.defaultPort > 0 && info.defaultPort < 1024 && len(sf.Ports()) == 0 {
			return info.defaultPort, fmt.Sprintf("%s listens on port %d by default (%s), which only root can bind", s.Name, info.defaultPort, s.Why)
		}
	}
	return 0, ""
}

// railsHealthRoute finds the route Rails 7.1 and later generate for load
// balancers and uptime monitors: get "up" => "rails/health#show".
var railsHealthRoute = regexp.MustCompile(`(?m)^\s*get\s+["']/?([\w./-]+)["']\s*(?:=>|,\s*to:)\s*["']rails/health#show["']`)

// healthRoute is the path an HTTP probe asks for, without its leading
// slash: the app's own health route when its code declares one (Rails's
// /up answers 200 only when the app boots, where / may redirect or need
// a session), else "" for /, where any answer says the server is up.
func (f *Facts) healthRoute() string {
	f.routeOnce.Do(func() {
		// Has is the context's listing: no file system call for the
		// many contexts without the file.
		if !f.ctx.Has("config/routes.rb") {
			return
		}
		b, err := f.ctx.ReadFile("config/routes.rb")
		if err != nil || len(b) > maxScriptRead {
			return
		}
		if m := railsHealthRoute.FindSubmatch(b); m != nil {
			f.route = string(m[1])
		}
	})
	return f.route
}

// portList names ports for a message: "port 8080", "ports 8080 and 8443".
func portList(ports []int) string {
	names := make([]string, len(ports))
	for i, p := range ports {
		names[i] = strconv.Itoa(p)
	}
	if len(names) == 1 {
		return "port " + names[0]
	}
	return "ports " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
