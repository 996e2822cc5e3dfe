package analyzer

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"gopkg.in/yaml.v3"
)

// What Elasticsearch and OpenSearch speak on their REST port (9200)
// depends on their version and configuration, not on the port:
//
//   - Elasticsearch 8 and later configure security on a node's first start
//     (certificates, TLS on the HTTP layer, a password for elastic) unless
//     the configuration already sets security up or turns it off
//     (elastic.co/docs/deploy-manage/security/self-auto-setup; the Docker
//     image does the same: elastic.co/guide/en/elasticsearch/reference/8.x/docker.html).
//     xpack.security.http.ssl.enabled is false unless set, so 7.x and
//     older serve plain HTTP unless their configuration turns TLS on.
//   - OpenSearch's images ship the security plugin, and their entrypoint
//     (opensearch-project/opensearch-build docker/release/config/opensearch/
//     opensearch-docker-entrypoint-1.x.sh, -2.x.sh and -default.x.sh) runs
//     its install_demo_configuration.sh, which turns TLS on for the REST
//     layer with demo certificates, unless DISABLE_INSTALL_DEMO_CONFIG=true;
//     DISABLE_SECURITY_PLUGIN=true makes it start with
//     -Eplugins.security.disabled=true instead.
//
// Both images' entrypoints pass every environment variable whose name is
// at least two dot-separated lowercase words as an -E setting, which wins
// over the configuration file (elastic/elasticsearch
// distribution/docker/src/docker/bin/docker-entrypoint.sh, and OpenSearch's
// above).

// searchSettingName is a variable name the entrypoints pass as a setting.
var searchSettingName = regexp.MustCompile(`^[a-z0-9_]+\.[a-z0-9_]+`)

// searchSetting is one setting's value and what sets it.
type searchSetting struct{ value, where string }

// searchSettings returns the settings the server reads: its
// configuration file as the lineage puts it in the server's folder, then
// the stage's ENV, which wins; and why they cannot all be known, "" when
// they can.
func (sf *StageFacts) searchSettings(name string) (_ map[string]searchSetting, bad string, placed int) {
	out, bad, placed := sf.searchConfig(name)
	if bad != "" {
		return nil, bad, 0
	}
	keys := make([]string, 0, len(sf.endEnv))
	for k := range sf.endEnv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := sf.endEnv[k]
		switch {
		case searchSettingName.MatchString(k) && v != "":
			out[k] = searchSetting{v, fmt.Sprintf("ENV sets %s=%s", k, v)}
		case name == "elasticsearch" && strings.HasPrefix(k, "ES_SETTING_") && (strings.Contains(k, "XPACK_SECURITY") || strings.Contains(k, "HTTP_PORT")):
			// Another way to name a setting in the environment, which
			// dockopt does not map back to a setting's name.
			return nil, fmt.Sprintf("ENV sets %s, a security or port setting named in a way dockopt does not read", k), 0
		case name == "opensearch" && (k == "DISABLE_SECURITY_PLUGIN" || k == "DISABLE_INSTALL_DEMO_CONFIG") && v != "":
			out[k] = searchSetting{v, fmt.Sprintf("ENV sets %s=%s", k, v)}
		}
	}
	return out, "", placed
}

// searchBool reads a boolean setting: set is false when it is not set,
// and unknown says why its value cannot be read. Both servers take only
// true and false for a boolean setting.
func searchBool(settings map[string]searchSetting, key string) (value, set bool, where, unknown string) {
	s, ok := settings[key]
	if !ok {
		return false, false, "", ""
	}
	switch strings.Trim(s.value, `"'`) {
	case "true":
		return true, true, s.where, ""
	case "false":
		return false, true, s.where, ""
	}
	return false, true, s.where, fmt.Sprintf("%s, which dockopt cannot read as true or false", s.where)
}

// searchServer sets what Elasticsearch or OpenSearch speaks on its REST
// port (Proto, ProtoHTTP or ProtoHTTPS, and ProtoWhy; ProtoUnknown says
// why that cannot be told) and the port http.port moves it to, from one
// reading of its settings.
func (sf *StageFacts) searchServer(s *ServerFact) {
	settings, bad, placed := sf.searchSettings(s.Name)
	if bad != "" {
		s.ProtoUnknown = bad
		return
	}
	base := sf.chain[0].Base
	switch s.Name {
	case "elasticsearch":
		s.Proto, s.ProtoWhy, s.ProtoUnknown = searchElasticsearch(base, settings, placed)
	case "opensearch":
		s.Proto, s.ProtoWhy, s.ProtoUnknown = searchOpenSearch(base, settings)
	}
	s.Port, s.PortWhy, s.PortUnknown = searchPort(settings)
}

// placed is the line that puts the elasticsearch.yml read, 0 for the
// image's own.
func searchElasticsearch(base ImageRef, settings map[string]searchSetting, placed int) (proto, why, unknown string) {
	security, secSet, secWhere, bad := searchBool(settings, "xpack.security.enabled")
	if bad != "" {
		return "", "", bad
	}
	tls, tlsSet, tlsWhere, bad := searchBool(settings, "xpack.security.http.ssl.enabled")
	if bad != "" {
		return "", "", bad
	}
	switch {
	case secSet && !security:
		return ProtoHTTP, secWhere + ", which turns Elasticsearch's security off, TLS included", ""
	case tlsSet && !tls:
		return ProtoHTTP, tlsWhere + ", which leaves Elasticsearch's HTTP layer without TLS", ""
	case tlsSet:
		return ProtoHTTPS, tlsWhere + ", which turns TLS on for Elasticsearch's HTTP layer", ""
	}
	official := base.Official() == "elasticsearch" || base.Registry == "docker.elastic.co" && base.Repository == "elasticsearch/elasticsearch"
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(base.Tag, "v"), ".", 2)[0])
	switch {
	case !official || base.Unresolved || err != nil:
		return "", "", fmt.Sprintf("Elasticsearch 8 and later turn TLS on for their HTTP layer on first start, older versions do not, and dockopt cannot tell the version from %s", base.Raw)
	case major < 8 && secSet:
		return ProtoHTTP, secWhere + ", and Elasticsearch " + strconv.Itoa(major) + " leaves its HTTP layer without TLS unless xpack.security.http.ssl.enabled is set", ""
	case major < 8:
		return ProtoHTTP, "Elasticsearch " + strconv.Itoa(major) + " serves plain HTTP unless its configuration turns TLS on", ""
	case secSet:
		// Configured by hand: the first start configures nothing, and
		// TLS is on only if the keystore or another setting says so.
		return "", "", secWhere + ", which makes Elasticsearch skip its automatic security setup, and nothing dockopt reads says whether TLS is on"
	case placed > 0:
		// The setup writes its TLS settings into elasticsearch.yml, and
		// skips itself when it cannot (a file owned by root).
		return "", "", fmt.Sprintf("Elasticsearch %d's first start writes its TLS settings into elasticsearch.yml, which line %d replaces, and dockopt cannot tell whether that setup runs there", major, placed)
	}
	return ProtoHTTPS, fmt.Sprintf("%s is Elasticsearch %d, which turns TLS and authentication on for its HTTP layer on first start unless the configuration turns security off", base.Raw, major), ""
}

func searchOpenSearch(base ImageRef, settings map[string]searchSetting) (proto, why, unknown string) {
	if s, ok := settings["DISABLE_SECURITY_PLUGIN"]; ok {
		if s.value == "true" {
			return ProtoHTTP, s.where + ", which makes the image's entrypoint start OpenSearch with its security plugin, TLS included, disabled", ""
		}
	}
	off, offSet, offWhere, bad := searchBool(settings, "plugins.security.disabled")
	if bad != "" {
		return "", "", bad
	}
	tls, tlsSet, tlsWhere, bad := searchBool(settings, "plugins.security.ssl.http.enabled")
	if bad != "" {
		return "", "", bad
	}
	switch {
	case offSet && off:
		return ProtoHTTP, offWhere + ", which disables OpenSearch's security plugin, TLS included", ""
	case tlsSet && !tls:
		return ProtoHTTP, tlsWhere + ", which leaves OpenSearch's REST layer without TLS", ""
	case tlsSet:
		return ProtoHTTPS, tlsWhere + ", which turns TLS on for OpenSearch's REST layer", ""
	}
	if base.Repository != "opensearchproject/opensearch" || base.Unresolved {
		return "", "", fmt.Sprintf("OpenSearch's own images turn TLS on for the REST layer with the security plugin's demo configuration, and dockopt does not know whether %s does", base.Raw)
	}
	if s, ok := settings["DISABLE_INSTALL_DEMO_CONFIG"]; ok && s.value == "true" {
		return "", "", s.where + ", so the security plugin's TLS settings come from a configuration dockopt does not read"
	}
	return ProtoHTTPS, base.Raw + " ships OpenSearch's security plugin, whose demo configuration its entrypoint installs, turning TLS and authentication on for the REST layer unless DISABLE_SECURITY_PLUGIN=true", ""
}

// searchConfig reads the elasticsearch.yml or opensearch.yml the lineage
// puts in /usr/share/<name>/config, where the official images read it, with
// the bounds of readServerConfig: files from the build context (a copied
// file, folder or pattern, its ARGs expanded) and heredocs, within a
// configBudget. The last file put there is the one read; a RUN that writes
// it, or a copy from another stage, an image or a URL, leaves it unknown.
// Settings come flat (xpack.security.enabled: false) or nested.
func (sf *StageFacts) searchConfig(name string) (settings map[string]searchSetting, unread string, placed int) {
	dir := "/usr/share/" + name + "/config"
	file := dir + "/" + name + ".yml"
	settings = map[string]searchSetting{}
	put := func(text, what string, line int) {
		settings, unread, placed = map[string]searchSetting{}, "", line
		if unread = searchYAML(text, what, line, settings); unread != "" {
			settings = map[string]searchSetting{}
		}
	}
	budget := newConfigBudget()
	over := func(line int) (map[string]searchSetting, string, int) {
		return map[string]searchSetting{}, fmt.Sprintf("line %d copies more into %s than dockopt reads", line, dir), 0
	}
	bc := sf.facts.ctx
	for _, st := range sf.steps {
		ins := st.in
		c, copies := copySpecOf(ins.Command)
		switch ins.Command.(type) {
		case *instructions.RunCommand:
			if text := ins.Text(sf.facts.file.Source); strings.Contains(text, dir) && strings.Contains(text, name+".yml") {
				settings, unread = map[string]searchSetting{}, fmt.Sprintf("line %d changes %s in a RUN, which dockopt does not follow", ins.StartLine, file)
			}
			continue
		}
		if !copies {
			continue
		}
		dest := resolveIn(st.workdir, expandStatic(sf.lex, c.dest, st.env))
		if dest != dir && !strings.HasPrefix(dest, dir+"/") {
			continue
		}
		destDir := strings.HasSuffix(c.dest, "/") || dest == dir || len(c.sources)+len(c.inline) > 1
		for _, in := range c.inline {
			if dest == file || destDir && path.Join(dest, in.Path) == file {
				put(in.Data, "the heredoc", ins.StartLine)
			}
		}
		for _, raw := range c.sources {
			if strings.HasPrefix(raw, "<<") {
				continue
			}
			src := expandStatic(sf.lex, raw, st.env)
			outside := c.from != "" || c.add && remoteSource(src)
			if outside || strings.Contains(src, "$") || bc == nil || bc.Truncated {
				if dest == file || destDir && (outside || path.Base(src) == name+".yml" || strings.ContainsAny(src, "$*?[")) {
					settings, unread = map[string]searchSetting{}, fmt.Sprintf("line %d puts %s there from %s, which dockopt cannot read", ins.StartLine, file, src)
				}
				continue
			}
			// Each source costs a pass over the listing and each file a
			// read: past the budget (a source copied thousands of times,
			// a pattern over a large context) the file is not known.
			if budget.files--; budget.spent() {
				return over(ins.StartLine)
			}
			for _, f := range bc.Files {
				if !SourceCovers(src, f) || bc.DockerIgnore.Excludes(f) || copiedTo(src, f, dest, destDir) != file {
					continue
				}
				if budget.files--; budget.spent() {
					return over(ins.StartLine)
				}
				b, err := bc.ReadFile(f)
				if budget.bytes -= len(b); budget.spent() {
					return over(ins.StartLine)
				}
				if err != nil || len(b) > maxScriptRead {
					settings, unread = map[string]searchSetting{}, fmt.Sprintf("line %d puts %s there from %s, which dockopt cannot read", ins.StartLine, file, f)
					continue
				}
				put(string(b), f, ins.StartLine)
			}
		}
	}
	return settings, unread, placed
}

// copiedTo is where a COPY of src to dest puts the context file f, which
// src covers: src itself lands at dest (in it when destDir); a folder's
// contents, or those of a folder a pattern matches, land in dest.
func copiedTo(src, f, dest string, destDir bool) string {
	src = path.Clean(strings.TrimPrefix(src, "/"))
	if ok, _ := path.Match(src, f); ok || src == f {
		if destDir {
			return path.Join(dest, path.Base(f))
		}
		return dest
	}
	if src == "." {
		return path.Join(dest, f)
	}
	for d := path.Dir(f); d != "." && d != "/"; d = path.Dir(d) {
		if ok, _ := path.Match(src, d); ok || d == src {
			return path.Join(dest, strings.TrimPrefix(f, d+"/"))
		}
	}
	return ""
}

// searchYAML reads the settings of an elasticsearch.yml into settings,
// nested keys joined with dots; it returns why the file cannot be read.
func searchYAML(text, what string, line int, settings map[string]searchSetting) string {
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return fmt.Sprintf("%s, copied on line %d, is not YAML dockopt can read", what, line)
	}
	var walk func(prefix string, m map[string]any, depth int)
	walk = func(prefix string, m map[string]any, depth int) {
		for k, v := range m {
			key := prefix + k
			if sub, ok := v.(map[string]any); ok && depth < 16 {
				walk(key+".", sub, depth+1)
				continue
			}
			settings[key] = searchSetting{fmt.Sprint(v), fmt.Sprintf("%s (copied on line %d) sets %s: %s", what, line, key, shownValue(v))}
		}
	}
	walk("", doc, 0)
	return ""
}

// shownValue is a setting's value as a message quotes it: a list or a
// mapping by its kind, a long scalar cut short. A hostile file's value
// may be 256 KiB long.
func shownValue(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case map[string]any, map[any]any:
		return "a mapping"
	}
	s := fmt.Sprint(v)
	if len(s) <= 64 {
		return s
	}
	i := 60
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// searchPort returns the port http.port moves the server's REST layer
// to, and what says so; unknown says why it cannot be read (a range, a
// variable). All are empty when the default, 9200, applies.
func searchPort(settings map[string]searchSetting) (port int, why, unknown string) {
	s, ok := settings["http.port"]
	if !ok {
		return 0, "", ""
	}
	n, err := strconv.Atoi(strings.Trim(s.value, `"'`))
	if err != nil || n <= 0 || n > 65535 {
		return 0, "", s.where + ", which dockopt cannot read as one port"
	}
	return n, s.where, ""
}
