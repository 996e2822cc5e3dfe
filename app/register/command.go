package register

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"runtime"
)

const usage = `usage: dockopt-app register --webhook-url URL [flags]

Creates dockopt's GitHub App from its manifest (app.yml) and writes the app's
ID, private key and webhook secret to an env file (mode 0600).

It serves a local page that sends the manifest to GitHub; confirm the app
there, and GitHub sends the browser back here with a one-time code that is
exchanged for the credentials.

flags:
`

// Command runs `dockopt-app register` with its arguments (after the subcommand
// name) and returns the process exit code: 0 done, 1 failed, 2 bad usage.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("register", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o Options
	var noBrowser bool
	fs.StringVar(&o.PublicURL, "webhook-url", "", "public URL GitHub delivers webhooks to (required); a bare host gets /webhook")
	fs.StringVar(&o.GitHubURL, "github-url", DefaultGitHubURL, "web URL of github.com or of a GitHub Enterprise Server")
	fs.StringVar(&o.APIURL, "api-url", "", "REST API base (default: derived from -github-url, /api/v3 for Enterprise Server)")
	fs.StringVar(&o.Org, "org", "", "register the app under this organization instead of your account")
	fs.StringVar(&o.Name, "name", "", "app name (default: app.yml's; names are unique on a GitHub server)")
	fs.StringVar(&o.AppYMLPath, "manifest", "", "manifest template (default: the app.yml built into dockopt)")
	fs.StringVar(&o.ListenAddr, "listen", DefaultListenAddr, "address of the local page GitHub redirects back to")
	fs.StringVar(&o.OutFile, "out", DefaultOutFile, "env file to write the credentials to")
	fs.BoolVar(&o.Overwrite, "force", false, "overwrite -out if it exists")
	fs.BoolVar(&noBrowser, "no-browser", false, "only print the local page's URL")
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, usage)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		// -h and --help print the usage to stdout; a bad flag, to
		// stderr after the error, as every dockopt subcommand does.
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return 0
		}
		fmt.Fprintf(stderr, "register: %v\n", err)
		printUsage(stderr)
		return 2
	}
	fs.Usage = func() { printUsage(stderr) }
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "register: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if o.PublicURL == "" {
		fmt.Fprintln(stderr, "register: -webhook-url is required")
		fs.Usage()
		return 2
	}
	o.Stdout = stdout
	if !noBrowser {
		o.OpenBrowser = openBrowser
	}
	if _, err := Run(ctx, o); err != nil {
		fmt.Fprintf(stderr, "register: %v\n", err)
		return 1
	}
	return 0
}

// openBrowser is best effort: on a server without a desktop the printed URL
// is what the person uses.
func openBrowser(url string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return
	}
	go cmd.Wait()
}
