package analyzer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Spring Boot listens on server.port, 8080 unless configured: in the
// application.properties or .yml the jar carries (src/main/resources),
// one beside it (config/ or the working folder), a profile's file, the
// SERVER_PORT environment variable, or -Dserver.port / --server.port on
// the command line. A probe of the exposed 8080 never passes on an app
// configured for 8081, so the HTTP evidence of a Spring Boot dependency
// holds for the port the configuration says, or for none when it cannot
// be read.

// springPort is what the build context's Spring configuration says of
// the port: port 0 with unknown set when something sets it dockopt cannot
// follow; port 0 and no reason when nothing sets it.
type springPort struct {
	port    int
	why     string
	unknown string
}

var (
	springConfig     = regexp.MustCompile(`^(?:src/main/resources/|config/)?application(-[\w.-]+)?\.(properties|ya?ml)$`)
	springPortLine   = regexp.MustCompile(`^\s*server\.port\s*[=:]\s*(.*?)\s*$`)
	maxSpringConfigs = 16
)

// springConfigPort reads the Spring configuration files of the build
// context (bounded: 16 files, each through ReadFile's limit).
func (f *Facts) springConfigPort() springPort {
	var sp springPort
	read := 0
	for _, name := range f.ctx.Files {
		if !strings.Contains(name, "application") {
			continue
		}
		m := springConfig.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		if read++; read > maxSpringConfigs {
			return springPort{unknown: "the build context holds more Spring configuration files than dockopt reads"}
		}
		b, err := f.ctx.ReadFile(name)
		if err != nil {
			return springPort{unknown: name + " could not be read"}
		}
		values, err := springPortValues(name, b)
		if err != nil {
			return springPort{unknown: fmt.Sprintf("%s could not be read (%v)", name, err)}
		}
		for _, v := range values {
			port, err := strconv.Atoi(v)
			switch {
			case m[1] != "":
				// A profile's file: whether the profile is active is
				// decided at run time.
				return springPort{unknown: fmt.Sprintf("%s, the configuration of the %s profile, sets server.port %s", name, strings.TrimPrefix(m[1], "-"), v)}
			case err != nil || port <= 0 || port > 65535:
				return springPort{unknown: fmt.Sprintf("%s sets server.port to %s", name, v)}
			case sp.port != 0 && sp.port != port:
				return springPort{unknown: fmt.Sprintf("%s sets server.port %d, and %s", name, port, sp.why)}
			}
			sp.port, sp.why = port, fmt.Sprintf("%s sets server.port %d", path.Base(name), port)
		}
	}
	return sp
}

// springPortValues returns every server.port a configuration file sets,
// as written (a YAML file may hold several documents).
func springPortValues(name string, b []byte) ([]string, error) {
	if strings.HasSuffix(name, ".properties") {
		var out []string
		for _, line := range strings.Split(string(b), "\n") {
			if m := springPortLine.FindStringSubmatch(line); m != nil {
				out = append(out, m[1])
			}
		}
		return out, nil
	}
	if !bytes.Contains(b, []byte("port")) {
		return nil, nil
	}
	var out []string
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for docs := 0; docs < 64; docs++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if v, ok := doc["server.port"]; ok {
			out = append(out, fmt.Sprint(v))
		}
		if server, ok := doc["server"].(map[string]any); ok {
			if v, ok := server["port"]; ok {
				out = append(out, fmt.Sprint(v))
			}
		}
	}
	return out, nil
}

// springStartPort is the port a stage's environment or start command
// sets for Spring Boot (SERVER_PORT, -Dserver.port=, --server.port=),
// overriding the configuration files; ok is false when none does.
func (sf *StageFacts) springStartPort() (sp springPort, ok bool) {
	set := func(value, why string) {
		if port, err := strconv.Atoi(value); err == nil && port > 0 && port <= 65535 {
			sp, ok = springPort{port: port, why: why}, true
			return
		}
		sp, ok = springPort{unknown: why}, true
	}
	if v, found := sf.endEnv["SERVER_PORT"]; found {
		set(v, "ENV SERVER_PORT="+v)
	}
	for _, w := range sf.StartCommand() {
		for _, prefix := range []string{"-Dserver.port=", "--server.port="} {
			if v, found := strings.CutPrefix(w, prefix); found {
				set(v, "the start command sets "+w)
			}
		}
	}
	return sp, ok
}

// springDefaultPort is Spring Boot's server.port when nothing sets it.
const springDefaultPort = 8080

// effective is the port the app serves on.
func (sp springPort) effective() int {
	if sp.port == 0 {
		return springDefaultPort
	}
	return sp.port
}

func (sp springPort) describe() string {
	if sp.port == 0 {
		return "Spring Boot's default; nothing in the build context sets server.port"
	}
	return sp.why
}
