// Package deploy's tests render the Helm chart with helm itself and decode
// every object strictly into the Kubernetes API types, so a misspelt field or
// a field at the wrong level fails here instead of being dropped by the API
// server. They also keep deploy/kubernetes in sync with the chart and check
// the compose file's hardening.
package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/server"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	k8sjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite deploy/kubernetes/dockopt.yaml from the chart")

const (
	chartDir        = "helm/dockopt"
	manifestsValues = "kubernetes/values.yaml"
	manifestsFile   = "kubernetes/dockopt.yaml"
	manifestsHeader = `# Plain Kubernetes manifests for dockopt, rendered from deploy/helm/dockopt with
# deploy/kubernetes/values.yaml. Do not edit: change the chart or the values and run
#   go test ./deploy -run TestKubernetesManifests -update
# Before applying, create the namespace and the credentials Secret (see deploy/README.md).
`
)

// helmPath finds helm: scripts/install-helm.sh puts it in <repo>/bin. Without
// it the chart tests skip locally and fail in CI, where skipping would hide a
// broken chart.
func helmPath(t *testing.T) string {
	t.Helper()
	if p, err := filepath.Abs("../bin/helm"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("helm not found; run scripts/install-helm.sh")
	}
	t.Skip("helm not found; run scripts/install-helm.sh")
	return ""
}

// render runs helm template and returns its output, or helm's error message.
func render(t *testing.T, values map[string]any) (string, error) {
	t.Helper()
	args := []string{"template", "dockopt", chartDir, "--namespace", "dockopt"}
	if values != nil {
		b, err := json.Marshal(values)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "values.json") // JSON is YAML
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--values", f)
	}
	return runHelm(t, args...)
}

func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmPath(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("helm %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// objects is one rendering, decoded.
type objects struct {
	deployments     []*appsv1.Deployment
	services        []*corev1.Service
	secrets         []*corev1.Secret
	pvcs            []*corev1.PersistentVolumeClaim
	serviceAccounts []*corev1.ServiceAccount
	ingresses       []*networkingv1.Ingress
	pdbs            []*policyv1.PodDisruptionBudget
	serviceMonitors []*serviceMonitor
}

// serviceMonitor is the part of prometheus-operator's CRD the chart uses;
// its Go types are not in k8s.io/api, and importing the operator for them
// would pull in far more than this test needs.
type serviceMonitor struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

func decode(t *testing.T, out string) *objects {
	t.Helper()
	var objs objects
	for _, doc := range docSeparator.Split(out, -1) {
		js, err := sigsyaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("rendered YAML: %v\n%s", err, doc)
		}
		if string(js) == "null" {
			continue // only comments
		}
		var head struct{ APIVersion, Kind string }
		if err := json.Unmarshal(js, &head); err != nil {
			t.Fatal(err)
		}
		var into any
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 Deployment":
			into = appendNew(&objs.deployments)
		case "v1 Service":
			into = appendNew(&objs.services)
		case "v1 Secret":
			into = appendNew(&objs.secrets)
		case "v1 PersistentVolumeClaim":
			into = appendNew(&objs.pvcs)
		case "v1 ServiceAccount":
			into = appendNew(&objs.serviceAccounts)
		case "networking.k8s.io/v1 Ingress":
			into = appendNew(&objs.ingresses)
		case "policy/v1 PodDisruptionBudget":
			into = appendNew(&objs.pdbs)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			into = appendNew(&objs.serviceMonitors)
		default:
			t.Fatalf("unexpected object %s %s", head.APIVersion, head.Kind)
		}
		// encoding/json's DisallowUnknownFields still matches field names
		// case-insensitively, so "readOnlyRootFileSystem" would pass and then
		// be dropped by the API server. The API server's own strict decoder
		// is case-sensitive and also refuses duplicate keys.
		strict, err := k8sjson.UnmarshalStrict(js, into, k8sjson.DisallowUnknownFields, k8sjson.DisallowDuplicateFields)
		if err == nil && len(strict) > 0 {
			err = errors.Join(strict...)
		}
		if err != nil {
			t.Fatalf("%s does not decode strictly: %v\n%s", head.Kind, err, doc)
		}
	}
	return &objs
}

func appendNew[T any](list *[]*T) *T {
	v := new(T)
	*list = append(*list, v)
	return v
}

func (o *objects) deployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	if len(o.deployments) != 1 {
		t.Fatalf("%d Deployments, want 1", len(o.deployments))
	}
	return o.deployments[0]
}

func container(t *testing.T, d *appsv1.Deployment, name string) *corev1.Container {
	t.Helper()
	for i := range d.Spec.Template.Spec.Containers {
		if c := &d.Spec.Template.Spec.Containers[i]; c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %q", name)
	return nil
}

func envVar(c *corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

const testKey = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n"

func credentials() map[string]any {
	return map[string]any{"appId": "123456", "privateKey": testKey, "webhookSecret": "s3cret"}
}

// checkCommon asserts what every rendering must hold, whatever the values.
func checkCommon(t *testing.T, o *objects) {
	t.Helper()
	d := o.deployment(t)
	pod := d.Spec.Template.Spec
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the pod mounts a service account token; dockopt never calls the Kubernetes API")
	}
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and seccomp RuntimeDefault", sc)
	}
	c := container(t, d, "dockopt")
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("dockopt's root filesystem is writable")
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("dockopt may escalate privileges")
	}
	if sc == nil || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("dockopt capabilities %+v, want drop ALL and add none", sc.Capabilities)
	}
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("dockopt container lacks runAsNonRoot")
	}
	probes := map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe}
	wantPath := map[string]string{"liveness": "/healthz", "readiness": "/readyz", "startup": "/healthz"}
	for kind, p := range probes {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != wantPath[kind] || p.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe %+v, want GET %s on port http", kind, p, wantPath[kind])
		}
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("ports %+v, want http 8080", c.Ports)
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("resources %+v: want cpu and memory requests and a memory limit", c.Resources)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	if v := volumes[mounts["/tmp"]]; v.EmptyDir == nil {
		t.Errorf("/tmp is not an emptyDir: %+v", v)
	}
	if _, ok := volumes[mounts["/var/lib/dockopt"]]; !ok {
		t.Error("no volume at the SQLite data directory /var/lib/dockopt")
	}
	if e := envVar(c, "DOCKOPT_PRIVATE_KEY_FILE"); e == nil || e.Value != "/var/run/secrets/dockopt/private-key.pem" || mounts["/var/run/secrets/dockopt"] == "" {
		t.Error("the private key is not mounted where DOCKOPT_PRIVATE_KEY_FILE points")
	}
	if envVar(c, "DOCKOPT_PRIVATE_KEY") != nil {
		t.Error("the private key is passed in the environment")
	}

	// Every Secret and claim the pod refers to is rendered (or is the named
	// existing one, checked by each test).
	secrets := map[string]*corev1.Secret{}
	for _, s := range o.secrets {
		secrets[s.Name] = s
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			if s, ok := secrets[ref.Name]; ok {
				if _, ok := s.Data[ref.Key]; !ok {
					t.Errorf("%s refers to key %s missing from Secret %s", e.Name, ref.Key, ref.Name)
				}
			}
		}
	}
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim != nil {
			found := false
			for _, p := range o.pvcs {
				found = found || p.Name == v.PersistentVolumeClaim.ClaimName
			}
			if !found {
				t.Errorf("volume %s claims %s, which is not rendered", v.Name, v.PersistentVolumeClaim.ClaimName)
			}
		}
	}
	if len(o.services) != 1 || o.services[0].Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("services %+v", o.services)
	}
	for k, v := range o.services[0].Spec.Selector {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, which the pods lack", k, v)
		}
	}
	if len(o.pdbs) != 1 {
		t.Errorf("%d PodDisruptionBudgets, want 1", len(o.pdbs))
	}
}

func TestChartDefault(t *testing.T) {
	out, err := render(t, map[string]any{"credentials": credentials()})
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, out)
	checkCommon(t, o)
	d := o.deployment(t)
	if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("replicas %d strategy %s, want 1 and Recreate (one SQLite volume)", *d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	if len(o.pvcs) != 1 || o.pvcs[0].Spec.AccessModes[0] != corev1.ReadWriteOnce {
		t.Errorf("PVCs %+v, want one ReadWriteOnce claim for SQLite", o.pvcs)
	}
	c := container(t, d, "dockopt")
	if envVar(c, "DOCKOPT_DATABASE_URL") != nil {
		t.Error("DOCKOPT_DATABASE_URL set although SQLite is the default")
	}
	if envVar(c, "DOCKOPT_BUILDKIT_ADDR") != nil || len(d.Spec.Template.Spec.Containers) != 1 {
		t.Error("a builder is configured by default")
	}
	if len(o.secrets) != 1 || string(o.secrets[0].Data["private-key"]) != testKey || string(o.secrets[0].Data["app-id"]) != "123456" {
		t.Errorf("secrets %+v", o.secrets)
	}
	if len(o.ingresses)+len(o.serviceMonitors) != 0 {
		t.Error("Ingress or ServiceMonitor rendered although disabled")
	}
}

func TestChartPostgresReplicas(t *testing.T) {
	url := "postgres://dockopt:pw@postgres.db:5432/dockopt?sslmode=require"
	out, err := render(t, map[string]any{
		"credentials": credentials(), "replicaCount": 3, "database": map[string]any{"url": url},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, out)
	checkCommon(t, o)
	d := o.deployment(t)
	if *d.Spec.Replicas != 3 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
		t.Errorf("replicas %d strategy %s", *d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	if len(o.pvcs) != 0 {
		t.Error("a SQLite volume is claimed although PostgreSQL is configured")
	}
	e := envVar(container(t, d, "dockopt"), "DOCKOPT_DATABASE_URL")
	if e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
		t.Fatalf("DOCKOPT_DATABASE_URL %+v, want it from a Secret", e)
	}
	if string(o.secrets[0].Data[e.ValueFrom.SecretKeyRef.Key]) != url {
		t.Error("the database URL is not in the Secret")
	}
	for _, doc := range docSeparator.Split(out, -1) {
		if !strings.Contains(doc, "\nkind: Secret\n") && strings.Contains(doc, "pw@") {
			t.Errorf("the database password appears outside the Secret:\n%s", doc)
		}
	}
}

func TestChartIngressMonitorBuildkit(t *testing.T) {
	out, err := render(t, map[string]any{
		"credentials":    credentials(),
		"ingress":        map[string]any{"enabled": true, "className": "nginx", "host": "dockopt.acme.test", "tls": []any{map[string]any{"secretName": "dockopt-tls", "hosts": []string{"dockopt.acme.test"}}}},
		"serviceMonitor": map[string]any{"enabled": true},
		"buildkit":       map[string]any{"sidecar": map[string]any{"enabled": true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, out)
	checkCommon(t, o)
	if len(o.ingresses) != 1 {
		t.Fatalf("%d Ingresses", len(o.ingresses))
	}
	rules := o.ingresses[0].Spec.Rules
	if len(rules) != 1 || rules[0].Host != "dockopt.acme.test" || len(rules[0].HTTP.Paths) != 1 || rules[0].HTTP.Paths[0].Path != "/webhook" {
		t.Errorf("ingress rules %+v, want only dockopt.acme.test/webhook", rules)
	}
	if len(o.serviceMonitors) != 1 || len(o.serviceMonitors[0].Spec.Endpoints) != 1 ||
		o.serviceMonitors[0].Spec.Endpoints[0].Path != "/metrics" || o.serviceMonitors[0].Spec.Endpoints[0].Port != "http" {
		t.Errorf("service monitors %+v", o.serviceMonitors)
	}
	d := o.deployment(t)
	bk := container(t, d, "buildkitd")
	if !strings.Contains(bk.Image, "-rootless") {
		t.Errorf("buildkit image %s is not rootless", bk.Image)
	}
	if sc := bk.SecurityContext; sc == nil || sc.Privileged == nil || *sc.Privileged || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("buildkit securityContext %+v: want unprivileged, non-root", sc)
	}
	addr := envVar(container(t, d, "dockopt"), "DOCKOPT_BUILDKIT_ADDR")
	if addr == nil || !slices.Contains(bk.Args, addr.Value) || !strings.HasPrefix(addr.Value, "tcp://127.0.0.1:") {
		t.Errorf("DOCKOPT_BUILDKIT_ADDR %+v does not match buildkitd's --addr %v on loopback", addr, bk.Args)
	}
}

func TestChartExistingSecret(t *testing.T) {
	out, err := render(t, map[string]any{"credentials": map[string]any{"existingSecret": "dockopt-credentials"}})
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, out)
	checkCommon(t, o)
	if len(o.secrets) != 0 {
		t.Errorf("the chart rendered %d Secrets although existingSecret is set", len(o.secrets))
	}
	d := o.deployment(t)
	for _, name := range []string{"DOCKOPT_APP_ID", "DOCKOPT_WEBHOOK_SECRET"} {
		e := envVar(container(t, d, "dockopt"), name)
		if e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef.Name != "dockopt-credentials" {
			t.Errorf("%s = %+v, want it from dockopt-credentials", name, e)
		}
	}
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName != "dockopt-credentials" {
			t.Errorf("volume %s mounts Secret %s", v.Name, v.Secret.SecretName)
		}
	}
}

func TestChartRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"sqlite with replicas", map[string]any{"credentials": credentials(), "replicaCount": 2}, "SQLite"},
		{"no credentials", nil, "credentials"},
		{"mysql", map[string]any{"credentials": credentials(), "database": map[string]any{"url": "mysql://x"}}, "database"},
		{"typo", map[string]any{"credentials": credentials(), "replicas": 2}, "replicas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render(t, tc.values)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("render = %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestChartLint(t *testing.T) {
	if out, err := runHelm(t, "lint", "--strict", chartDir, "--set", "credentials.existingSecret=x"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

func TestKubernetesManifests(t *testing.T) {
	out, err := runHelm(t, "template", "dockopt", chartDir, "--namespace", "dockopt", "--values", manifestsValues)
	if err != nil {
		t.Fatal(err)
	}
	want := manifestsHeader + out
	if *update {
		if err := os.WriteFile(manifestsFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(manifestsFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date with the chart; run: go test ./deploy -run TestKubernetesManifests -update", manifestsFile)
	}
	o := decode(t, string(got))
	checkCommon(t, o)
}

// composeFile is the part of the compose specification the checks read.
type composeFile struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		ReadOnly    bool           `yaml:"read_only"`
		CapDrop     []string       `yaml:"cap_drop"`
		CapAdd      []string       `yaml:"cap_add"`
		SecurityOpt []string       `yaml:"security_opt"`
		Privileged  bool           `yaml:"privileged"`
		Tmpfs       []string       `yaml:"tmpfs"`
		EnvFile     any            `yaml:"env_file"`
		Healthcheck map[string]any `yaml:"healthcheck"`
		Ports       []string       `yaml:"ports"`
		User        string         `yaml:"user"`
		StopGrace   string         `yaml:"stop_grace_period"`
	} `yaml:"services"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("compose/docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestComposeHardening(t *testing.T) {
	f := readCompose(t)
	for _, name := range []string{"dockopt", "postgres", "buildkit"} {
		s, ok := f.Services[name]
		if !ok {
			t.Errorf("no service %q", name)
			continue
		}
		if s.Privileged {
			t.Errorf("%s is privileged", name)
		}
		if !slices.Equal(s.CapDrop, []string{"ALL"}) {
			t.Errorf("%s cap_drop %v, want [ALL]", name, s.CapDrop)
		}
		if s.Healthcheck["test"] == nil {
			t.Errorf("%s has no health check", name)
		}
		if !strings.Contains(s.Image, "@sha256:") && !strings.Contains(s.Image, ":") {
			t.Errorf("%s image %s has no tag", name, s.Image)
		}
	}
	// dockopt and PostgreSQL run with everything locked down; rootless
	// BuildKit needs its two capabilities and setuid helpers (see the file).
	for _, name := range []string{"dockopt", "postgres"} {
		s := f.Services[name]
		if !s.ReadOnly {
			t.Errorf("%s: read_only is not true", name)
		}
		if !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
			t.Errorf("%s: security_opt %v lacks no-new-privileges:true", name, s.SecurityOpt)
		}
		if len(s.CapAdd) != 0 {
			t.Errorf("%s adds capabilities %v", name, s.CapAdd)
		}
		if !slices.ContainsFunc(s.Tmpfs, func(p string) bool { return strings.HasPrefix(p, "/tmp") }) {
			t.Errorf("%s: no tmpfs at /tmp (%v)", name, s.Tmpfs)
		}
		if s.User == "0" || s.User == "root" {
			t.Errorf("%s runs as root", name)
		}
	}
	bk := f.Services["buildkit"]
	if !strings.Contains(bk.Image, "rootless") {
		t.Errorf("buildkit image %s is not rootless", bk.Image)
	}
	if extra := slices.DeleteFunc(slices.Clone(bk.CapAdd), func(c string) bool { return c == "SETUID" || c == "SETGID" }); len(extra) > 0 {
		t.Errorf("buildkit adds capabilities beyond SETUID/SETGID: %v", extra)
	}
	d := f.Services["dockopt"]
	if d.EnvFile == nil {
		t.Error("dockopt has no env_file for the credentials")
	}
	for _, p := range d.Ports {
		if !strings.HasPrefix(p, "127.0.0.1:") && !strings.HasPrefix(p, "${") {
			t.Errorf("dockopt publishes %s on every interface", p)
		}
	}
	for name, s := range f.Services {
		if name != "dockopt" && len(s.Ports) > 0 {
			t.Errorf("%s publishes ports %v; only dockopt should be reachable", name, s.Ports)
		}
	}
}

// TestDockerignoreKeepsBuildInputs guards the allow-list in .dockerignore:
// what the Dockerfile builds must stay in the context.
func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	b, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if !slices.Contains(lines, "*") {
		t.Fatal(".dockerignore is no longer an allow-list; update this test")
	}
	for _, keep := range []string{"!go.mod", "!go.sum", "!cmd/", "!app/"} {
		if !slices.Contains(lines, keep) {
			t.Errorf(".dockerignore lacks %q", keep)
		}
	}
	// Every top-level folder with Go code outside deploy/ and examples/
	// must be let in, or `docker build` fails on a missing package.
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, ".") || slices.Contains([]string{"deploy", "examples", "bin", "scripts", "docs"}, name) {
			continue
		}
		if hasGoSource(filepath.Join("..", name)) && !slices.Contains(lines, "!"+name+"/") {
			t.Errorf("top-level package folder %s/ is excluded from the image's build context by .dockerignore", name)
		}
	}
}

func hasGoSource(dir string) bool {
	found := errors.New("found")
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			return found
		}
		return nil
	})
	return errors.Is(err, found)
}

// shutdownBudget is the longest dockopt takes to stop after SIGTERM: the
// graceful wait for running jobs, then the time cancelled jobs get to record
// their failure. A platform that kills it sooner leaves jobs marked running
// until the queue's rescue, long after the restart.
const shutdownBudget = server.DefaultShutdownTimeout + queue.CancelGrace

func TestGracePeriodsCoverTheShutdown(t *testing.T) {
	f := readCompose(t)
	grace, err := time.ParseDuration(f.Services["dockopt"].StopGrace)
	if err != nil || grace <= shutdownBudget {
		t.Errorf("compose: dockopt's stop_grace_period %q must exceed %s (Docker's default is 10s)", f.Services["dockopt"].StopGrace, shutdownBudget)
	}

	out, err := render(t, map[string]any{"credentials": credentials()})
	if err != nil {
		t.Fatal(err)
	}
	d := decode(t, out).deployment(t)
	if p := d.Spec.Template.Spec.TerminationGracePeriodSeconds; p == nil || time.Duration(*p)*time.Second <= shutdownBudget {
		t.Errorf("chart: terminationGracePeriodSeconds %v must exceed %s (Kubernetes' default is 30s)", p, shutdownBudget)
	}
	if _, err := render(t, map[string]any{"credentials": credentials(), "terminationGracePeriodSeconds": 30}); err == nil {
		t.Errorf("chart: terminationGracePeriodSeconds=30 was accepted; it cannot cover a %s shutdown", shutdownBudget)
	}
}
