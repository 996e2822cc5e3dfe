package rules

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// SecretsCopied finds private keys and credential files that COPY or ADD
// put into the image.
var SecretsCopied = &analyzer.Rule{
	ID:       "secrets-copied",
	Category: analyzer.CategorySecurity,
	Severity: analyzer.SeverityError,
	Title:    "Private key or credentials file copied into the image",
	Rationale: `A file copied into an image stays in its layer for anyone who can pull the image, even when a ` +
		`later RUN deletes it. The files that hold credentials have well-known names: the AWS CLI's .aws folder, ` +
		`SSH private keys (.ssh, id_rsa, id_ed25519 …), Docker's .docker/config.json, .netrc, .pypirc, ` +
		`.git-credentials, .npmrc or .yarnrc.yml with a registry token written in them (not read from ${NPM_TOKEN}), and private keys or Google service-account keys in .pem, .key or .json files. When ` +
		`the file is in the context dockopt reads it (bounded) and reports it only if it holds a key; when it is ` +
		`not, the name decides; a file the COPY renames is also judged by the path it gets in the image ` +
		`(COPY deploy_key /root/.ssh/id_rsa). COPY . reports such files the context holds and .dockerignore lets through. ` +
		`Public keys (*.pub, known_hosts), files under test folders, stages the final image is not built on, ` +
		`and secrets handed to one RUN with --mount=type=secret are not reported. There is no fix for a COPY ` +
		`that names the file: the build must get it another way (RUN --mount=type=secret, or at run time). ` +
		`For COPY . the fix, to review, appends the files to an existing .dockerignore unless the build reads them.`,
	Bad:  "FROM amazon/aws-cli:2.17.0\nCOPY .aws /root/.aws\nRUN aws s3 cp s3://bucket/app.tar.gz /tmp/\n",
	Good: "FROM amazon/aws-cli:2.17.0\nRUN --mount=type=secret,id=aws,target=/root/.aws/credentials aws s3 cp s3://bucket/app.tar.gz /tmp/\n",
	Fix:  analyzer.Review,
	Check: func(p *analyzer.Pass) {
		final := p.File.FinalStage()
		if final == nil || p.Facts().Role().Role == analyzer.RoleFixture {
			return
		}
		s := &secretScan{bc: p.Context}
		for _, st := range final.Lineage() {
			for _, in := range st.Instructions {
				if in.Onbuild != nil {
					// Copies from the context of a later build.
					continue
				}
				c, ok := copyOf(in)
				if !ok {
					continue
				}
				for _, src := range c.contextSources() {
					if isWholeContext(src) {
						reportWholeContextSecrets(p, s, in)
						continue
					}
					reportNamedSecret(p, s, in, src)
				}
			}
		}
	},
}

// secretScan classifies context paths, reading at most maxSecretReads
// files of at most secretReadLimit bytes each.
type secretScan struct {
	bc    *analyzer.BuildContext
	reads int
}

const (
	secretReadLimit = 64 << 10
	maxSecretReads  = 64
)

// what returns what the context file or named source rel holds ("AWS
// credentials", "an SSH private key"), "" when it is not a secret. When
// the context holds the file, its content decides; otherwise its name.
func (s *secretScan) what(rel string) string {
	if analyzer.InTestFolder(rel) {
		return ""
	}
	return s.classify(rel, rel)
}

// classify is what for a file whose name is taken from named (a path in
// the image, when a COPY renames the file) and whose content from rel.
func (s *secretScan) classify(named, rel string) string {
	base := strings.ToLower(path.Base(named))
	dir := path.Base(path.Dir(named))
	if strings.HasSuffix(base, ".pub") || base == "known_hosts" || base == "authorized_keys" {
		return ""
	}
	switch {
	case dir == ".aws" && (base == "credentials" || base == "config"):
		return s.byContent(rel, "AWS credentials", []string{"aws_secret_access_key", "aws_session_token"}, base == "credentials")
	case base == "id_rsa" || base == "id_dsa" || base == "id_ecdsa" || base == "id_ed25519" || base == "id_ecdsa_sk" || base == "id_ed25519_sk":
		return s.byContent(rel, "an SSH private key", []string{"PRIVATE KEY"}, true)
	case dir == ".docker" && base == "config.json":
		return s.byContent(rel, "Docker registry credentials", []string{`"auth"`, `"identitytoken"`}, true)
	case base == ".netrc" || base == "_netrc":
		return s.byContent(rel, "login passwords", []string{"password"}, true)
	case base == ".pypirc":
		return s.byContent(rel, "PyPI upload credentials", []string{"password"}, true)
	case base == ".npmrc" || base == ".yarnrc.yml":
		// Most projects commit one that names a registry, or reads its
		// token from the environment (${NPM_TOKEN}): only a token
		// written in the file is a secret.
		return s.byContentFunc(rel, "a package registry token", literalRegistryToken)
	case base == ".git-credentials":
		return s.byContent(rel, "git credentials", []string{"@"}, true)
	case strings.HasSuffix(base, ".pem") || strings.HasSuffix(base, ".key"):
		return s.byContent(rel, "a private key", []string{"PRIVATE KEY"}, privateKeyName(base))
	case strings.HasSuffix(base, ".json") && keyJSONName(base):
		return s.byContent(rel, "a Google service-account key", []string{`"private_key"`}, serviceAccountName(base))
	}
	return ""
}

// whatAtDestination classifies the single source rel of a COPY by the
// path it gets in the image: COPY deploy_key /root/.ssh/id_rsa puts a
// private key where ssh looks for one, whatever the file was called.
func (s *secretScan) whatAtDestination(in *analyzer.Instruction, rel string) (kind, dest string) {
	c, ok := copyOf(in)
	if !ok || len(c.sources) != 1 || c.dest == "" || strings.HasSuffix(c.dest, "/") || strings.Contains(c.dest, "$") {
		return "", ""
	}
	dest = analyzer.ResolvePath(in.WorkdirBefore(), c.dest)
	if path.Base(dest) == path.Base(rel) {
		return "", "" // the same name: what already judged it
	}
	return s.classify(dest, rel), dest
}

// privateKeyName reports a .pem or .key name that says it is a private
// key; cert.pem or ca.pem are certificates, public by design. A .key file
// is a private key by convention (server.key beside server.crt), but
// public-key.pem is a public key, license.key a licence.
func privateKeyName(base string) bool {
	if strings.Contains(base, "pub") || strings.Contains(base, "licen") {
		return false
	}
	if strings.HasSuffix(base, ".key") {
		return true
	}
	return strings.Contains(base, "key") || strings.Contains(base, "priv")
}

// serviceAccountName reports the names gcloud and the Google console give
// service-account key files.
func serviceAccountName(base string) bool {
	if base == "application_default_credentials.json" {
		return true
	}
	flat := strings.NewReplacer("-", "", "_", "").Replace(base)
	return strings.Contains(flat, "serviceaccount")
}

// keyJSONName reports a .json name worth reading for a service-account
// key, so that a copy of the whole context does not read every manifest.
func keyJSONName(base string) bool {
	for _, w := range []string{"key", "credential", "service", "account", "gcp", "gcloud", "google", "firebase", "adminsdk"} {
		if strings.Contains(base, w) {
			return true
		}
	}
	return false
}

// byContent decides with the file's content when the context holds it and
// it can be read; otherwise the name decides (byName).
func (s *secretScan) byContent(rel, kind string, markers []string, byName bool) string {
	if !s.bc.Has(rel) {
		if byName {
			return kind
		}
		return ""
	}
	if s.reads >= maxSecretReads {
		return kindIf(byName, kind)
	}
	s.reads++
	b, err := s.bc.ReadHead(rel, secretReadLimit)
	if err != nil {
		return kindIf(byName, kind)
	}
	for _, m := range markers {
		if bytes.Contains(b, []byte(m)) {
			return kind
		}
	}
	return ""
}

// byContentFunc reports kind when the context holds rel and holds checks
// true of its head; a file it cannot read, or does not hold, is not
// reported: the name alone says nothing.
func (s *secretScan) byContentFunc(rel, kind string, holds func([]byte) bool) string {
	if !s.bc.Has(rel) || s.reads >= maxSecretReads {
		return ""
	}
	s.reads++
	b, err := s.bc.ReadHead(rel, secretReadLimit)
	if err != nil || !holds(b) {
		return ""
	}
	return kind
}

// literalRegistryToken reports an npm or Yarn credential written in the
// file: _authToken, _auth or _password (.npmrc), npmAuthToken or
// npmAuthIdent (.yarnrc.yml), whose value is not a ${VARIABLE}.
func literalRegistryToken(b []byte) bool {
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		// key=value in .npmrc (the key may be scoped to a registry,
		// //registry.npmjs.org/:_authToken), key: value in .yarnrc.yml.
		for _, sep := range []string{"=", ":"} {
			key, value, ok := strings.Cut(line, sep)
			if !ok {
				continue
			}
			key = strings.TrimSpace(key)
			if i := strings.LastIndex(key, ":"); i >= 0 {
				key = key[i+1:]
			}
			switch key {
			case "_authToken", "_auth", "_password", "npmAuthToken", "npmAuthIdent":
				value = strings.Trim(strings.TrimSpace(value), `"'`)
				if value != "" && !strings.HasPrefix(value, "$") {
					return true
				}
			}
		}
	}
	return false
}

func kindIf(ok bool, kind string) string {
	if ok {
		return kind
	}
	return ""
}

// credentialFolders are folders whose purpose is to hold credentials: a
// copy of one takes whatever the building machine keeps there, files the
// repository ignores included.
var credentialFolders = map[string]string{
	".aws":    "the AWS CLI's credentials folder",
	".ssh":    "an SSH folder, where private keys live",
	".docker": "Docker's client folder, whose config.json holds registry credentials",
	".gnupg":  "a GnuPG folder, where private keys live",
}

// reportNamedSecret reports a COPY or ADD source that is, or is a folder
// holding, a credentials file.
func reportNamedSecret(p *analyzer.Pass, s *secretScan, in *analyzer.Instruction, src string) {
	if strings.Contains(src, "$") {
		return
	}
	rel := path.Clean(strings.TrimPrefix(src, "/"))
	if analyzer.InTestFolder(rel) {
		return
	}
	if strings.ContainsAny(rel, "*?[") {
		reportGlobSecret(p, s, in, src, rel)
		return
	}
	holds := ""
	if kind := s.what(rel); kind != "" {
		holds = "holds " + kind
	} else if kind, dest := s.whatAtDestination(in, rel); kind != "" {
		holds = "goes to " + dest + ", the path of " + kind
		if p.Context.Has(rel) {
			holds = "holds " + kind + " and goes to " + dest
		}
	}
	if holds != "" {
		p.Report(in, fmt.Sprintf("%s source %s %s; the image keeps it for anyone who can pull it, even if a later RUN deletes it. Revoke it if this image was pushed, and hand it to the RUN that needs it with %s, or at run time",
			in.Keyword, src, holds, secretMountExample(in, rel)), nil)
		return
	}
	var found []string
	for _, f := range filesUnder(p.Context, rel) {
		if s.what(f) != "" && !ignoredByContext(p.Context, f) {
			found = append(found, f)
		}
	}
	if len(found) > 0 {
		p.Report(in, fmt.Sprintf("%s source %s holds %s; the image keeps them for anyone who can pull it. Revoke them if this image was pushed, and hand them to the RUN that needs them with RUN --mount=type=secret, or at run time",
			in.Keyword, src, listNames(found)), nil)
		return
	}
	reportCredentialFolder(p, in, src, rel)
}

// reportGlobSecret reports a wildcard source (.ssh/*) that matches
// credentials files the context holds or, matching none, lies in a
// credentials folder the checkout does not show.
func reportGlobSecret(p *analyzer.Pass, s *secretScan, in *analyzer.Instruction, src, rel string) {
	var found []string
	matched := false
	for _, f := range p.Context.Files {
		if ok, _ := path.Match(rel, f); !ok || ignoredByContext(p.Context, f) {
			continue
		}
		matched = true
		if s.what(f) != "" {
			found = append(found, f)
		}
	}
	if len(found) > 0 {
		p.Report(in, fmt.Sprintf("%s source %s matches %s; the image keeps them for anyone who can pull it. Revoke them if this image was pushed, and hand them to the RUN that needs them with RUN --mount=type=secret, or at run time",
			in.Keyword, src, listNames(found)), nil)
		return
	}
	dir := path.Dir(rel)
	if matched || p.Context.Truncated || strings.ContainsAny(dir, "*?[") {
		return
	}
	reportCredentialFolder(p, in, src, dir)
}

// reportCredentialFolder reports a copy of dir, or of files in it, when
// dir is a folder kept for credentials and the repository does not show
// it holds none: the checkout lacks it, or git ignores something in it.
func reportCredentialFolder(p *analyzer.Pass, in *analyzer.Instruction, src, dir string) {
	folder, known := credentialFolders[path.Base(dir)]
	if !known {
		return
	}
	if p.Context.Has(dir) && !gitignoresUnder(p.Context, dir) {
		// The repository's copy holds no key, and nothing in it is
		// kept out of git: no sign of credentials beside it.
		return
	}
	what := "is " + folder
	if src != dir && strings.TrimPrefix(src, "/") != dir {
		what = "takes files from " + dir + ", " + folder
	}
	p.Report(in, fmt.Sprintf("%s source %s %s; whatever the building machine keeps there goes into the image for anyone who can pull it. Hand credentials to the RUN that needs them with %s, or at run time",
		in.Keyword, src, what, secretMountExample(in, dir)), nil)
}

// secretMountExample names the mount that replaces the copy of rel: an
// SSH agent for SSH keys, else a secret mounted where the COPY put it.
func secretMountExample(in *analyzer.Instruction, rel string) string {
	base := path.Base(rel)
	if base == ".ssh" || strings.HasPrefix(base, "id_") {
		return "RUN --mount=type=ssh (git and ssh use the agent of the machine that builds)"
	}
	c, _ := copyOf(in)
	target := analyzer.ResolvePath(in.WorkdirBefore(), c.dest)
	if strings.HasSuffix(c.dest, "/") {
		target = path.Join(target, base)
	}
	id := strings.Trim(strings.ToLower(base), ".")
	if base == ".aws" {
		id, target = "aws", path.Join(target, "credentials")
	}
	if strings.Contains(target, "$") {
		target = "…"
	}
	return fmt.Sprintf("RUN --mount=type=secret,id=%s,target=%s", id, target)
}

// gitignoresUnder reports a .gitignore line inside folder rel
// (".aws/credentials"): the repository keeps a local file there out of
// git, which is what a credentials file looks like from the repository.
func gitignoresUnder(bc *analyzer.BuildContext, rel string) bool {
	for l := range gitignored(bc) {
		if l == rel || strings.HasPrefix(l, rel+"/") {
			return true
		}
	}
	return false
}

func ignoredByContext(bc *analyzer.BuildContext, f string) bool {
	return bc.DockerIgnore != nil && bc.DockerIgnore.Excludes(f)
}

// listNames joins up to five names, saying how many more there are.
func listNames(names []string) string {
	shown := make([]string, 0, min(len(names), 5))
	for _, n := range names[:min(len(names), 5)] {
		shown = append(shown, analyzer.PrintableName(n))
	}
	if len(names) <= 5 {
		return strings.Join(shown, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(shown, ", "), len(names)-5)
}

// reportWholeContextSecrets reports the credentials files a copy of the
// whole context sends into the image: listed, not excluded by
// .dockerignore nor by the COPY's --exclude.
func reportWholeContextSecrets(p *analyzer.Pass, s *secretScan, in *analyzer.Instruction) {
	bc := p.Context
	if bc.IgnoreUnread() || bc.DockerIgnore != nil && !bc.DockerIgnore.Compiles() {
		return
	}
	excl := copyExcludeMatcher(in)
	entries := secretIgnoreEntries(bc, s, func(f string) bool {
		if ignoredByContext(bc, f) {
			return true
		}
		if excl == nil {
			return false
		}
		ok, err := excl.MatchesOrParentMatches(f)
		return err == nil && ok
	})
	if len(entries) == 0 {
		return
	}
	found := make([]string, len(entries))
	for i, e := range entries {
		found[i] = e.name
	}
	message := fmt.Sprintf("%s on line %d copies %s into the image, for anyone who can pull it to read",
		strings.TrimSpace(in.Text(p.File.Source)), in.StartLine, listNames(found))
	di := bc.DockerIgnore
	if di == nil {
		p.Report(in, message+"; add them to a .dockerignore (see dockerignore-missing) and hand them to the RUN that needs them with RUN --mount=type=secret", nil)
		return
	}
	var unwritable []string
	for _, e := range entries {
		if !ignoreLineHolds(e.name) {
			unwritable = append(unwritable, strconv.Quote(e.name))
		}
	}
	if len(unwritable) > 0 {
		p.Report(in, message+"; no .dockerignore line can name "+listNames(unwritable)+" (a line break or spaces at the ends of the name), so rename it or move it out of the folder, and hand it to the RUN that needs it with RUN --mount=type=secret", nil)
		return
	}
	safe := safeEntries(p.File, bc, entries)
	if len(safe) < len(entries) {
		p.Report(in, message+"; the build reads some of them, so they cannot simply be excluded: hand them to the RUN that needs them with RUN --mount=type=secret", nil)
		return
	}
	lines := make([]string, 0, len(safe))
	for _, e := range safe {
		lines = append(lines, e.lines...)
	}
	slices.Sort(lines)
	reportCheckedAgainstListing(p, in, message+"; add them to "+di.Path,
		&analyzer.Fix{
			Message: "add " + strings.Join(lines, ", ") + " to " + di.Path,
			Files: []analyzer.GeneratedFile{{
				Path:    di.Path,
				Content: strings.Join(lines, "\n") + "\n",
				Merge:   "append-lines",
			}},
		})
}

// secretIgnoreEntries returns, as .dockerignore entries, the context's
// files that hold credentials, but those skip says are kept out already.
func secretIgnoreEntries(bc *analyzer.BuildContext, s *secretScan, skip func(string) bool) []ignoreEntry {
	var entries []ignoreEntry
	for _, f := range bc.Files {
		if s.what(f) == "" || skip(f) {
			continue
		}
		entries = append(entries, ignoreEntry{name: f, lines: []string{"/" + ignoreLiteral(f)}, probes: []string{f}, present: true})
	}
	return entries
}

// ignoreLineHolds reports a file name one .dockerignore line can name:
// the reader splits lines and trims the spaces at their ends.
func ignoreLineHolds(name string) bool {
	return !strings.ContainsAny(name, "\r\n") && strings.TrimSpace(name) == name
}

// ignoreLiteral escapes the pattern characters of a file name, so that
// its .dockerignore line matches that file only: a file named "*.key"
// must not take every key, nor "[ab].pem" a.pem and b.pem instead.
func ignoreLiteral(name string) string {
	var b strings.Builder
	for _, r := range name {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
