package analyzer

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
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

// searchSettings returns the settings the stage's ENV gives the server,
// and why they cannot all be known, "" when they can.
func (sf *StageFacts) searchSettings(name string) (map[string]searchSetting, string) {
	out := map[string]searchSetting{}
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
		case name == "elasticsearch" && strings.HasPrefix(k, "ES_SETTING_"):
			// Another way to name a setting in the environment, which
			// dockopt does not map back to a setting's name.
			return nil, fmt.Sprintf("ENV sets %s, a setting dockopt does not read", k)
		case name == "opensearch" && (k == "DISABLE_SECURITY_PLUGIN" || k == "DISABLE_INSTALL_DEMO_CONFIG") && v != "":
			out[k] = searchSetting{v, fmt.Sprintf("ENV sets %s=%s", k, v)}
		}
	}
	return out, ""
}

// searchBool reads a boolean setting: set is false when it is not set,
// and unknown says why its value cannot be read.
func searchBool(settings map[string]searchSetting, key string) (value, set bool, where, unknown string) {
	s, ok := settings[key]
	if !ok {
		return false, false, "", ""
	}
	b, err := strconv.ParseBool(strings.Trim(s.value, `"'`))
	if err != nil || strings.Contains(s.value, "$") {
		return false, true, s.where, fmt.Sprintf("%s, which dockopt cannot read as true or false", s.where)
	}
	return b, true, s.where, ""
}

// searchREST returns what Elasticsearch or OpenSearch speaks on its REST
// port, ProtoHTTP or ProtoHTTPS, and why; unknown says why that cannot be
// told, with proto "".
func (sf *StageFacts) searchREST(name string) (proto, why, unknown string) {
	settings, bad := sf.searchSettings(name)
	if bad != "" {
		return "", "", bad
	}
	base := sf.chain[0].Base
	switch name {
	case "elasticsearch":
		return searchElasticsearch(base, settings)
	case "opensearch":
		return searchOpenSearch(base, settings)
	}
	return "", "", ""
}

func searchElasticsearch(base ImageRef, settings map[string]searchSetting) (proto, why, unknown string) {
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
