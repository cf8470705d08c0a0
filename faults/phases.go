package faults

import (
	"context"
	"time"

	"github.com/dynamokv/dynamo/faults/history"
)

// phaseLog records a run's phases on the workload's clock: each mark ends
// the phase before it and begins the next.
type phaseLog struct {
	since func() time.Duration
	list  []history.Phase
}

func (p *phaseLog) mark(name string) {
	now := p.since()
	p.end(now)
	p.list = append(p.list, history.Phase{Name: name, Start: now})
}

// end closes the phase in progress at now.
func (p *phaseLog) end(now time.Duration) {
	if len(p.list) > 0 {
		p.list[len(p.list)-1].End = now
	}
}

// sleepCtx waits d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
