package engine

import (
	"context"
	"fmt"
	"time"
)

// DefaultReadyLag is how long the oldest event a node's consumers have not applied may have waited
// before the node calls itself not ready (Engine.LagWithin).
const DefaultReadyLag = time.Minute

// LagWithin reports an error while this engine is not caught up enough to serve: it has not yet
// caught its consumers up from the store since it started, or the oldest event one of the
// consumers this node runs has not applied was recorded more than max ago. Consumers another node
// runs (Leases) are that node's to answer for. It reads one event per consumer.
func (e *Engine) LagWithin(ctx context.Context, max time.Duration) error {
	select {
	case <-e.readyChan():
	default:
		return fmt.Errorf("engine: the consumers are catching up from the store")
	}
	for _, r := range e.Runners {
		if !r.runsHere() {
			continue
		}
		next, err := e.Store.ReadAll(ctx, r.Position(), 1)
		if err != nil {
			return fmt.Errorf("engine: read the log: %w", err)
		}
		if len(next) > 0 {
			if waited := time.Since(next[0].RecordedAt); waited > max {
				return fmt.Errorf("engine: %s is %s behind the log", r.Consumer.Name(), waited.Round(time.Second))
			}
		}
	}
	return nil
}
