package clickhouse

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSinkErrors: a missing table fails at once (no retries), and the
// error names the server and the table; a sink whose server is down gives
// up when its context is cancelled, with the context's error.
func TestSinkErrors(t *testing.T) {
	srv := startServers(t, 1)[0]
	ctx := testCtx(t)
	recs := randomRecords(10, 100)

	sink, err := NewSink(ctx, Config{Addr: []string{srv.addr()}, Table: "nosuch"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := sink.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	err = sink.Flush()
	if err == nil || !strings.Contains(err.Error(), "nosuch") || !strings.Contains(err.Error(), srv.addr()) {
		t.Errorf("insert into a missing table: err %v, want one naming table nosuch and %s", err, srv.addr())
	}
	if d := time.Since(start); d > 5*time.Second || sink.Stats().Retries != 0 {
		t.Errorf("missing table: %d retries in %v, want none", sink.Stats().Retries, d)
	}
	if err := sink.WriteBatch(recs); err == nil {
		t.Error("WriteBatch after a failed INSERT did not fail")
	}
	sink.Close()

	if err := CreateTable(ctx, srv.conn(), "flows"); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	sink, err = NewSink(cctx, Config{Addr: []string{srv.addr()}, MaxRetries: 1000, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv.stop(syscall.SIGKILL)
	if err := sink.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(time.Second, cancel)
	start = time.Now()
	err = sink.Flush()
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "flows") {
		t.Errorf("flush to a dead server, cancelled: err %v, want context.Canceled naming table flows", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("flush took %v after its context was cancelled", d)
	}
	if sink.Stats().Retries == 0 {
		t.Error("no retry while the server was down")
	}
	sink.Close()
}
