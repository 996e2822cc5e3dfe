package worker

import (
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/server"
	"github.com/dockopt/dockopt/patcher/build"
)

// New builds the worker `dockopt serve` runs, from the server's
// configuration; GitHub calls go through the server's metrics.
func New(d server.Deps) (queue.Processor, error) {
	return NewWithLimits(d, ghclient.Limits{})
}

// NewWithLimits is New with explicit pacing, for tests on a fake clock.
func NewWithLimits(d server.Deps, lim ghclient.Limits) (*Worker, error) {
	cfg := d.Config
	w := &Worker{
		GitHub: &ghclient.Factory{
			AppID: cfg.AppID, Key: cfg.PrivateKey, APIURL: cfg.GitHubAPIURL, UploadURL: cfg.GitHubUploadURL,
			Base: d.Metrics.RoundTripper(nil), Limit: lim,
		},
		Analyzer: analyzer.New(rules.All()),
		BotLogin: cfg.BotLogin,
		Log:      d.Logger,
	}
	if cfg.BuildKitAddr != "" {
		w.Builder = &build.Builder{Addr: cfg.BuildKitAddr, Timeout: 10 * time.Minute}
	}
	return w, nil
}
