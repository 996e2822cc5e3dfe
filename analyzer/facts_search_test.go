package analyzer_test

import (
	"slices"
	"strings"
	"testing"
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
