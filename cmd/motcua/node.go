package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"text/tabwriter"
	"time"

	"github.com/motcua/motcua/engine"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/http/httpkit"
)

// nodeFlags say who this node is among several serving one PostgreSQL database, and when it
// calls itself ready (docs/operations.md).
type nodeFlags struct {
	name     string
	readyLag time.Duration
}

func addNodeFlags(fs *flag.FlagSet) *nodeFlags {
	f := &nodeFlags{}
	host, _ := os.Hostname()
	fs.StringVar(&f.name, "node", host, "this node's name among the nodes sharing the database (logs, leases, projections status); default the host name")
	fs.DurationVar(&f.readyLag, "ready-max-lag", engine.DefaultReadyLag, "GET /readyz answers 503 while an event this node's consumers have not applied waited longer than this")
	return f
}

// Backoff of the attempts to open the store at start.
const (
	openRetryFirst = 250 * time.Millisecond
	openRetryMax   = 10 * time.Second
)

// openDeploymentRetrying opens the deployment, trying again with growing pauses while the store
// cannot be reached (PostgreSQL down or failing over when the node starts), until ctx ends. Any
// other failure is returned at once.
func openDeploymentRetrying(ctx context.Context, storage *storeFlags, opts openOptions, logger *slog.Logger) (*deployment, error) {
	pause := openRetryFirst
	for {
		d, err := openDeployment(ctx, storage, opts)
		if err == nil || !httpkit.StoreUnavailable(err) || ctx.Err() != nil {
			return d, err
		}
		logger.Warn("the store cannot be reached; trying again", "in", pause, "error", err)
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(pause):
		}
		pause = min(2*pause, openRetryMax)
	}
}

// listenEarly listens on addr and answers at once, while the node is being built, as
// mhttp.Starting does; front.Set hands the requests to the server once built. The caller shuts the
// returned server down; served receives what Serve returned.
func listenEarly(addr string, limits *mhttp.ConnectionLimits) (listener net.Listener, front *mhttp.Switch, server *http.Server, served <-chan error, err error) {
	listener, err = net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	listener = mhttp.Listener(listener, *limits)
	front = mhttp.NewSwitch(mhttp.Starting())
	server = mhttp.HTTPServerFor(front, *limits)
	result := make(chan error, 1)
	go func() {
		err := server.Serve(listener)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		result <- err
	}()
	return listener, front, server, result, nil
}

// readiness is GET /readyz's check: the store's (reachable, schema current), then the lag of the
// consumers this node runs.
func readiness(store func(context.Context) error, feeder *engine.Engine, maxLag time.Duration) mhttp.ReadinessCheck {
	return func(ctx context.Context) error {
		if err := store(ctx); err != nil {
			return err
		}
		if err := feeder.LagWithin(ctx, maxLag); err != nil {
			return fmt.Errorf("consumers: %w", err)
		}
		return nil
	}
}

// leases share the consumers of the log among the nodes on PostgreSQL; nil on a single-node store.
func (f *nodeFlags) leases(d *deployment, logger *slog.Logger) *engine.Leases {
	if d.Dialect() != engine.PostgreSQL {
		return nil
	}
	return &engine.Leases{DB: d.ProjectionDB, Node: f.name, Logger: logger}
}

// printLeases prints which node runs each consumer of the log, and since when (PostgreSQL, where
// the nodes share them; nothing elsewhere).
func printLeases(ctx context.Context, w io.Writer, d *deployment) error {
	if d.Dialect() != engine.PostgreSQL {
		return nil
	}
	leases, err := engine.ListLeases(ctx, d.ReadDB)
	if err != nil || len(leases) == 0 {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONSUMER\tNODE\tSINCE\tLEASE")
	for _, l := range leases {
		node, state := l.Owner, "held"
		switch {
		case l.Owner == "":
			node, state = "-", "free"
		case l.Expired:
			state = "expired (node dead or paused)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s, token %d\n", l.Name, node, formatMoment(l.Since), state, l.Token)
	}
	return tw.Flush()
}
