package analyzer_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
)

// OpenSearch is its own server: its image's ports, data directory and
// start command, not Elasticsearch's.
func TestOpenSearchServer(t *testing.T) {
	sf := analyzeOne(t, "FROM opensearchproject/opensearch:2.17.1\nCOPY plugins /usr/share/opensearch/plugins\n", map[string]string{"plugins/x": "x"}).Facts().Final()
	var names []string
	for _, s := range sf.Servers() {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"opensearch"}) {
		t.Errorf("servers %v, want [opensearch]", names)
	}
	var ports []int
	for _, p := range sf.Ports() {
		ports = append(ports, p.Port)
		if p.Port == 9200 && (p.Server != "opensearch" || !p.Main) {
			t.Errorf("port 9200: server %q (main %v), want opensearch's main port", p.Server, p.Main)
		}
	}
	if !slices.Equal(ports, []int{9200, 9300, 9600, 9650}) {
		t.Errorf("ports %v, want the image's EXPOSE 9200 9300 9600 9650", ports)
	}
	found := false
	for _, w := range sf.WrittenPaths() {
		switch w.Path {
		case "/usr/share/opensearch/data":
			found = strings.Contains(strings.Join(w.Why, "; "), "opensearch's data directory")
		case "/usr/share/elasticsearch/data":
			t.Errorf("written paths name Elasticsearch's data directory: %+v", w)
		}
	}
	if !found {
		t.Errorf("/usr/share/opensearch/data is not opensearch's data directory among %+v", sf.WrittenPaths())
	}
}

// What Elasticsearch and OpenSearch speak on 9200 follows their version
// and configuration: HTTPS by default from Elasticsearch 8 and in
// OpenSearch's images, HTTP with security off or before Elasticsearch 8,
// unknown when the version or a setting cannot be read.
func TestSearchRESTProtocol(t *testing.T) {
	cases := []struct {
		name, dockerfile string
		files            map[string]string
		proto, why       string // why: in Why, or in ProtoUnknown when proto is ""
	}{
		{"es 8", "FROM elasticsearch:8.15.0\nEXPOSE 9200\n", nil, "https", "Elasticsearch 8"},
		{"es 8 on Elastic's registry", "FROM docker.elastic.co/elasticsearch/elasticsearch:8.15.5\nEXPOSE 9200\n", nil, "https", "Elasticsearch 8"},
		{"es 8 security off", "FROM elasticsearch:8.15.0\nENV xpack.security.enabled=false\nEXPOSE 9200\n", nil, "http", "ENV sets xpack.security.enabled=false"},
		{"es 8 TLS off", "FROM elasticsearch:8.15.0\nENV xpack.security.http.ssl.enabled=false\nEXPOSE 9200\n", nil, "http", "without TLS"},
		{"es 8 security on by hand", "FROM elasticsearch:8.15.0\nENV xpack.security.enabled=true\nEXPOSE 9200\n", nil, "", "skip its automatic security setup"},
		{"es 8 security from a variable", "FROM elasticsearch:8.15.0\nARG SEC\nENV xpack.security.enabled=$SEC\nEXPOSE 9200\n", nil, "", "cannot read as true or false"},
		{"es setting variable", "FROM elasticsearch:8.15.0\nENV ES_SETTING_XPACK_SECURITY_ENABLED=false\nEXPOSE 9200\n", nil, "", "ES_SETTING_XPACK_SECURITY_ENABLED"},
		{"es 8 security not a boolean", "FROM elasticsearch:8.15.0\nENV xpack.security.enabled=0\nEXPOSE 9200\n", nil, "", "cannot read as true or false"},
		{"es setting variable of another setting", "FROM elasticsearch:8.15.0\nENV ES_SETTING_BOOTSTRAP_MEMORY__LOCK=true\nEXPOSE 9200\n", nil, "https", "Elasticsearch 8"},
		{"es 7", "FROM elasticsearch:7.17.22\nEXPOSE 9200\n", nil, "http", "Elasticsearch 7"},
		{"es 7 with TLS", "FROM elasticsearch:7.17.22\nENV xpack.security.enabled=true xpack.security.http.ssl.enabled=true\nEXPOSE 9200\n", nil, "https", "turns TLS on"},
		{"es without a version", "ARG V\nFROM elasticsearch:$V\nEXPOSE 9200\n", nil, "", "cannot tell the version"},
		{"es of another publisher", "FROM bitnami/elasticsearch:8.15.0\nEXPOSE 9200\n", nil, "", "cannot tell the version"},
		{"opensearch", "FROM opensearchproject/opensearch:2.17.1\nEXPOSE 9200\n", nil, "https", "security plugin"},
		{"opensearch 1.x", "FROM opensearchproject/opensearch:1.3.19\nEXPOSE 9200\n", nil, "https", "security plugin"},
		{"opensearch security off", "FROM opensearchproject/opensearch:2.17.1\nENV DISABLE_SECURITY_PLUGIN=true\nEXPOSE 9200\n", nil, "http", "DISABLE_SECURITY_PLUGIN=true"},
		{"opensearch setting off", "FROM opensearchproject/opensearch:2.17.1\nENV plugins.security.disabled=true\nEXPOSE 9200\n", nil, "http", "plugins.security.disabled=true"},
		{"es 8 config security off", "FROM elasticsearch:8.15.0\nCOPY elasticsearch.yml /usr/share/elasticsearch/config/\nEXPOSE 9200\n",
			map[string]string{"elasticsearch.yml": "xpack.security.enabled: false\n"}, "http", "elasticsearch.yml (copied on line 2) sets xpack.security.enabled: false"},
		{"es 8 nested config TLS off", "FROM elasticsearch:8.15.0\nCOPY conf /usr/share/elasticsearch/config\nEXPOSE 9200\n",
			map[string]string{"conf/elasticsearch.yml": "xpack:\n  security:\n    http.ssl:\n      enabled: false\n"}, "http", "sets xpack.security.http.ssl.enabled: false"},
		{"es 8 config without security", "FROM elasticsearch:8.15.0\nCOPY elasticsearch.yml /usr/share/elasticsearch/config/\nEXPOSE 9200\n",
			map[string]string{"elasticsearch.yml": "cluster.name: x\n"}, "", "line 2 replaces"},
		{"env wins over the config", "FROM elasticsearch:8.15.0\nCOPY elasticsearch.yml /usr/share/elasticsearch/config/\nENV xpack.security.enabled=false\nEXPOSE 9200\n",
			map[string]string{"elasticsearch.yml": "xpack.security.enabled: true\n"}, "http", "ENV sets"},
		{"config of another file", "FROM elasticsearch:8.15.0\nCOPY jvm.yml /usr/share/elasticsearch/config/other.yml\nEXPOSE 9200\n",
			map[string]string{"jvm.yml": "xpack.security.enabled: false\n"}, "https", "Elasticsearch 8"},
		{"config from a RUN", "FROM elasticsearch:8.15.0\nRUN echo 'xpack.security.enabled: false' >> /usr/share/elasticsearch/config/elasticsearch.yml\nEXPOSE 9200\n", nil, "", "in a RUN"},
		{"config from another stage", "FROM alpine AS c\nRUN echo > /e.yml\nFROM elasticsearch:8.15.0\nCOPY --from=c /e.yml /usr/share/elasticsearch/config/elasticsearch.yml\nEXPOSE 9200\n", nil, "", "cannot read"},
		{"opensearch config off", "FROM opensearchproject/opensearch:2.17.1\nCOPY opensearch.yml /usr/share/opensearch/config/\nEXPOSE 9200\n",
			map[string]string{"opensearch.yml": "plugins:\n  security:\n    disabled: true\n"}, "http", "plugins.security.disabled: true"},
		{"opensearch without the demo", "FROM opensearchproject/opensearch:2.17.1\nENV DISABLE_INSTALL_DEMO_CONFIG=true\nEXPOSE 9200\n", nil, "", "DISABLE_INSTALL_DEMO_CONFIG=true"},
	}
	for _, c := range cases {
		sf := analyzeOne(t, c.dockerfile, c.files).Facts().Final()
		var got *analyzerPort
		for _, p := range sf.Ports() {
			if p.Port == 9200 {
				got = &analyzerPort{p.Protocol, p.Why, p.ProtoUnknown}
			}
		}
		switch {
		case got == nil:
			t.Errorf("%s: no port 9200 in %+v", c.name, sf.Ports())
		case got.proto != c.proto:
			t.Errorf("%s: 9200 speaks %q (%s; unknown: %s), want %q", c.name, got.proto, got.why, got.unknown, c.proto)
		case c.proto == "" && !strings.Contains(got.unknown, c.why):
			t.Errorf("%s: 9200's protocol is unknown because %q, want it to say %q", c.name, got.unknown, c.why)
		case c.proto != "" && !strings.Contains(got.why, c.why):
			t.Errorf("%s: 9200 speaks %s because %q, want it to say %q", c.name, got.proto, got.why, c.why)
		}
	}
}

type analyzerPort struct{ proto, why, unknown string }

// A Dockerfile that copies into the search server's config folder more
// than a real one does (the same elasticsearch.yml thousands of times, a
// pattern over a large context on every line) is read within the config
// budget: each copy's pass over the listing and each file read count,
// and past the budget the protocol is not known. A 1 MiB file copied
// 3,000 times was read 3,000 times (2.3 s of CPU), and 3,000 patterns
// over 20,000 files took 50 s.
func TestSearchConfigBudget(t *testing.T) {
	const n = 200
	copies := "FROM elasticsearch:8.15.0\n" + strings.Repeat("COPY elasticsearch.yml /usr/share/elasticsearch/config/\n", n) + "EXPOSE 9200\n"
	patterns := "FROM elasticsearch:8.15.0\n" + strings.Repeat("COPY conf*/ /usr/share/elasticsearch/config/\n", n) + "EXPOSE 9200\n"
	for _, c := range []struct {
		name, dockerfile string
		files            map[string]string
	}{
		{"one file copied again and again", copies, map[string]string{"elasticsearch.yml": "xpack.security.enabled: false\n"}},
		{"a pattern on every line", patterns, map[string]string{"conf1/a/elasticsearch.yml": "x: 1\n", "conf2/b/elasticsearch.yml": "x: 1\n"}},
	} {
		fsys := fstest.MapFS{"Dockerfile": {Data: []byte(c.dockerfile)}}
		for p, d := range c.files {
			fsys[p] = &fstest.MapFile{Data: []byte(d)}
		}
		res, err := analyzer.New(nil).Analyze(t.Context(), fsys, ".", nil)
		if err != nil {
			t.Fatal(err)
		}
		var got *analyzerPort
		for _, fr := range res.Files {
			if fr.Path != "Dockerfile" {
				continue
			}
			for _, p := range fr.Facts().Final().Ports() {
				if p.Port == 9200 {
					got = &analyzerPort{p.Protocol, p.Why, p.ProtoUnknown}
				}
			}
		}
		if got == nil || got.proto != "" || !strings.Contains(got.unknown, "copies more into /usr/share/elasticsearch/config than dockopt reads") {
			t.Errorf("%s: 9200 is %+v, want its protocol not known past the budget", c.name, got)
		}
	}
}

// A setting's value is quoted short in messages: a hostile
// elasticsearch.yml whose xpack.security.enabled is a list of 40,000
// numbers put all of them, 240 KB, into healthcheck-missing's message.
func TestSearchConfigValueShown(t *testing.T) {
	long := "[" + strings.Repeat("12345,", 40000) + "1]"
	for _, c := range []struct{ value, want string }{
		{long, "sets xpack.security.enabled: a list, which dockopt cannot read"},
		{strings.Repeat("x", 1000), "sets xpack.security.enabled: " + strings.Repeat("x", 60) + "…, which dockopt cannot read"},
		{"maybe", "sets xpack.security.enabled: maybe, which dockopt cannot read"},
	} {
		sf := analyzeOne(t, "FROM elasticsearch:8.15.0\nCOPY elasticsearch.yml /usr/share/elasticsearch/config/\nEXPOSE 9200\n",
			map[string]string{"elasticsearch.yml": "xpack.security.enabled: " + c.value + "\n"}).Facts().Final()
		for _, p := range sf.Ports() {
			if p.Port == 9200 && (!strings.Contains(p.ProtoUnknown, c.want) || len(p.ProtoUnknown) > 500) {
				t.Errorf("value %.20q: 9200's protocol is unknown because (%d bytes) %.300s, want it to say %q", c.value, len(p.ProtoUnknown), p.ProtoUnknown, c.want)
			}
		}
	}
}
