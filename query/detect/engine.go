package detect

import (
	"context"
	"errors"
	"io"
	"iter"

	"github.com/flowkit/flowkit/flow"
)

// Engine runs several rules over a record stream and hands their alerts to
// OnAlert. It implements flow.Sink, so it can sit at the end of any
// pipeline (a collector, a store query, a text reader). An Engine is not
// safe for concurrent use.
type Engine struct {
	rules []Rule
	// OnAlert receives every alert, in the order rules emit them. When
	// nil, alerts are appended to Alerts.
	OnAlert func(Alert)
	// FinalOnly drops the early (Final false) alerts that rules emit the
	// moment they fire; reports over history want only final ones.
	FinalOnly bool
	// Alerts collects alerts when OnAlert is nil.
	Alerts []Alert
	emit   func(Alert)
}

// NewEngine returns an engine running the given rules.
func NewEngine(rules ...Rule) *Engine {
	e := &Engine{rules: rules}
	e.emit = func(a Alert) {
		if e.FinalOnly && !a.Final {
			return
		}
		if e.OnAlert != nil {
			e.OnAlert(a)
			return
		}
		e.Alerts = append(e.Alerts, a)
	}
	return e
}

// Rules returns the engine's rules.
func (e *Engine) Rules() []Rule { return e.rules }

// Observe feeds one record to every rule.
func (e *Engine) Observe(r *flow.Record) {
	for _, rule := range e.rules {
		rule.Observe(r, e.emit)
	}
}

// WriteBatch implements flow.Sink: it feeds every record of batch to every
// rule, record by record, so alerts come out in stream order. It never
// fails.
func (e *Engine) WriteBatch(batch []flow.Record) error {
	for i := range batch {
		for _, rule := range e.rules {
			rule.Observe(&batch[i], e.emit)
		}
	}
	return nil
}

// Flush ends the stream: every rule emits its final alerts.
func (e *Engine) Flush() {
	for _, rule := range e.rules {
		rule.Flush(e.emit)
	}
}

// Run feeds every batch of src to the rules until src ends or ctx is
// done, then flushes. It returns src's error (io.EOF excluded) or ctx's.
func (e *Engine) Run(ctx context.Context, src flow.Source) error {
	buf := make([]flow.Record, flow.DefaultBatchSize)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := src.ReadBatch(buf)
		_ = e.WriteBatch(buf[:n])
		if err != nil {
			e.Flush()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// RunSeq feeds every record of seq to the rules, then flushes.
func (e *Engine) RunSeq(seq iter.Seq[flow.Record]) {
	for r := range seq {
		e.Observe(&r)
	}
	e.Flush()
}
