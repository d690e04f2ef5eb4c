package nats

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/internal/testenv"
	"github.com/flowkit/flowkit/internal/testenv/storetest"
	"github.com/flowkit/flowkit/store"
)

// someRecords returns n records of sensor spread over two hours and both
// directions, so that a batch fills several partitions (several files).
func someRecords(n int, sensor uint16) []flow.Record {
	recs := make([]flow.Record, n)
	base := time.Date(2026, 11, 30, 10, 30, 0, 0, time.UTC).UnixNano()
	for i := range recs {
		r := &recs[i]
		r.Start = base + int64(i)*int64(time.Hour)/int64(n)*2
		r.End = r.Start + int64(time.Second)
		r.Src = flow.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		r.Dst = flow.AddrFrom4([4]byte{192, 0, 2, byte(i)})
		r.SrcPort, r.DstPort, r.Protocol = uint16(1024+i), 443, 6
		r.Packets, r.Bytes = uint64(1+i%7), uint64(60*(1+i%7))
		r.Sensor = sensor
		r.Type = flow.FlowType(1 + i%2)
	}
	return recs
}

func openSink(t *testing.T, root string) *RepoSink {
	t.Helper()
	s, err := OpenRepoSink(root, "FLOWKIT_t", "d", store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// die abandons s as a killed process would: its locks go, nothing is
// cleaned up.
func (s *RepoSink) die() {
	s.owner.Close()
	s.lock.Close()
}

func stageEntries(t *testing.T, root string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, StateDir, "FLOWKIT_t", "d", "stage"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestRepoSinkCommit: a committed batch is in the repository, and every
// sink on the repository, another process's too, has seen its messages.
func TestRepoSinkCommit(t *testing.T) {
	root := t.TempDir()
	a, b := openSink(t, root), openSink(t, root)
	want := someRecords(1000, 4)
	msgs := []MsgRef{{Key: "4-1-1", Seq: 1}, {Key: "4-1-2", Seq: 2}}
	if err := a.WriteBatch(want); err != nil {
		t.Fatal(err)
	}
	if err := a.CommitMessages(msgs, nil); err != nil {
		t.Fatal(err)
	}
	testenv.SameRecords(t, storetest.Records(t, root), want)
	for _, s := range []*RepoSink{a, b} {
		for _, m := range msgs {
			m.Redelivered = true
			if seen, err := s.Seen(m); !seen || err != nil {
				t.Errorf("Seen(%v) = %v, %v", m, seen, err)
			}
		}
		if seen, _ := s.Seen(MsgRef{Key: "4-1-3", Seq: 3, Redelivered: true}); seen {
			t.Errorf("an uncommitted message is seen")
		}
	}
	for _, s := range []*RepoSink{a, b} {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if st := stageEntries(t, root); len(st) != 0 {
		t.Errorf("stages left after Close: %v", st)
	}
}

// TestRepoSinkCrashBeforeCommit: a collector that dies with a batch flushed
// into its stage but no commit record has stored nothing; the next sink
// to start removes its stage.
func TestRepoSinkCrashBeforeCommit(t *testing.T) {
	root := t.TempDir()
	a := openSink(t, root)
	if err := a.WriteBatch(someRecords(500, 1)); err != nil {
		t.Fatal(err)
	}
	if err := a.w.Flush(); err != nil {
		t.Fatal(err)
	}
	a.die()
	b := openSink(t, root)
	defer b.Close()
	if got := storetest.Records(t, root); len(got) != 0 {
		t.Errorf("%d records of an uncommitted batch are visible", len(got))
	}
	if st := stageEntries(t, root); len(st) != 1 || st[0] != b.stageID {
		t.Errorf("stages %v, want only the new sink's %s", st, b.stageID)
	}
	if seen, _ := b.Seen(MsgRef{Key: "k", Seq: 1, Redelivered: true}); seen {
		t.Errorf("a message of the lost batch is seen")
	}
}

// crashAfterRecord commits a batch as far as its commit record and dies
// before renaming its files into place.
func crashAfterRecord(t *testing.T, s *RepoSink, recs []flow.Record, msgs []MsgRef) {
	t.Helper()
	if err := s.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := s.w.Flush(); err != nil {
		t.Fatal(err)
	}
	files, err := s.staged()
	if err != nil || len(files) < 2 {
		t.Fatalf("staged %v, %v: want several files", files, err)
	}
	r := &commitRecord{stage: s.stageID, msgs: msgs, files: files}
	if _, err := s.writeRecord(r.name(1), r); err != nil {
		t.Fatal(err)
	}
	// Half the files made it before the crash.
	if err := s.move(s.stage, files[:1]); err != nil {
		t.Fatal(err)
	}
	s.die()
}

// TestRepoSinkCrashAfterCommit: a collector dies after its commit record
// and before all its files were renamed into place (and before the
// acknowledgement). A sink already running that gets the messages again
// sees them and completes the commit; a sink starting later completes it
// too. Either way the batch is stored once.
func TestRepoSinkCrashAfterCommit(t *testing.T) {
	want := someRecords(2000, 2)
	msgs := []MsgRef{{Key: "2-7-1", Seq: 5}, {Key: "2-7-2", Seq: 6}}
	t.Run("redelivered", func(t *testing.T) {
		root := t.TempDir()
		b := openSink(t, root)
		defer b.Close()
		crashAfterRecord(t, openSink(t, root), want, msgs)
		var seen []MsgRef
		for _, m := range msgs {
			m.Redelivered = true
			ok, err := b.Seen(m)
			if err != nil || !ok {
				t.Fatalf("Seen(%v) = %v, %v", m, ok, err)
			}
			seen = append(seen, m)
		}
		if err := b.CommitMessages(nil, seen); err != nil {
			t.Fatal(err)
		}
		testenv.SameRecords(t, storetest.Records(t, root), want)
	})
	t.Run("restart", func(t *testing.T) {
		root := t.TempDir()
		crashAfterRecord(t, openSink(t, root), want, msgs)
		b := openSink(t, root)
		defer b.Close()
		testenv.SameRecords(t, storetest.Records(t, root), want)
		if st := stageEntries(t, root); len(st) != 1 {
			t.Errorf("stages %v, want only the new sink's", st)
		}
	})
}

// TestRepoSinkConflict: two collectors hold the same message (the server
// redelivered it after AckWait); the second to commit is refused and its
// batch discarded.
func TestRepoSinkConflict(t *testing.T) {
	root := t.TempDir()
	a, b := openSink(t, root), openSink(t, root)
	defer a.Close()
	defer b.Close()
	recs := someRecords(300, 3)
	m := []MsgRef{{Key: "3-1-1", Seq: 1}}
	for _, s := range []*RepoSink{a, b} {
		if err := s.WriteBatch(recs); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.CommitMessages(m, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.CommitMessages(m, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("second commit: %v, want ErrConflict", err)
	}
	if files, _ := b.staged(); len(files) != 0 {
		t.Errorf("the refused batch's files stay in the stage: %v", files)
	}
	testenv.SameRecords(t, storetest.Records(t, root), recs)
	// The sink goes on.
	more := someRecords(10, 5)
	if err := b.WriteBatch(more); err != nil {
		t.Fatal(err)
	}
	if err := b.CommitMessages([]MsgRef{{Key: "5-1-1", Seq: 2}}, nil); err != nil {
		t.Fatal(err)
	}
	testenv.SameRecords(t, storetest.Records(t, root), append(recs, more...))
}

// TestRepoSinkForget: Forget removes the records of acknowledged
// messages only, and every sink then refuses to commit a message below the
// floor (a delivery held past AckWait, which another collector stored).
func TestRepoSinkForget(t *testing.T) {
	root := t.TempDir()
	s := openSink(t, root)
	defer s.Close()
	for seq := uint64(1); seq <= 4; seq++ {
		if err := s.WriteBatch(someRecords(5, 1)); err != nil {
			t.Fatal(err)
		}
		if err := s.CommitMessages([]MsgRef{{Key: "k" + string(rune('0'+seq)), Seq: seq}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Forget(2); err != nil {
		t.Fatal(err)
	}
	records, _ := filepath.Glob(filepath.Join(s.commits, "*"+commitExt))
	if len(records) != 2 {
		t.Errorf("%d commit records after Forget(2), want 2", len(records))
	}
	for seq, want := range map[uint64]bool{1: false, 2: false, 3: true, 4: true} {
		if seen, _ := s.Seen(MsgRef{Key: "k" + string(rune('0'+seq)), Seq: seq}); seen != want {
			t.Errorf("message %d seen %v after Forget(2), want %v", seq, seen, want)
		}
	}
	other := openSink(t, root)
	defer other.Close()
	if err := other.WriteBatch(someRecords(5, 1)); err != nil {
		t.Fatal(err)
	}
	if err := other.CommitMessages([]MsgRef{{Key: "k2", Seq: 2}}, nil); !errors.Is(err, ErrConflict) {
		t.Errorf("commit of a message below the floor: %v, want ErrConflict", err)
	}
	if err := s.Forget(1); err != nil { // an older floor never lowers it
		t.Fatal(err)
	}
	if err := other.WriteBatch(someRecords(5, 1)); err != nil {
		t.Fatal(err)
	}
	if err := other.CommitMessages([]MsgRef{{Key: "k2", Seq: 2}}, nil); !errors.Is(err, ErrConflict) {
		t.Errorf("after Forget(1): %v, want ErrConflict", err)
	}
	if err := other.CommitMessages([]MsgRef{{Key: "k5", Seq: 5}}, nil); err != nil {
		t.Errorf("commit above the floor: %v", err)
	}
	if got := len(storetest.Records(t, root)); got != 20 {
		t.Errorf("%d records stored, want the 4 batches of 5", got)
	}
}

// TestCommitRecordBad: a record that does not read to its end is refused,
// naming the file and line.
func TestCommitRecordBad(t *testing.T) {
	good := (&commitRecord{stage: "x-1", msgs: []MsgRef{{Key: "a b", Seq: 3}}, files: []string{"S1/in/f.fkb"}}).marshal()
	dir := t.TempDir()
	p := filepath.Join(dir, "r.commit")
	os.WriteFile(p, good, 0o644)
	r, err := readCommitRecord(p)
	if err != nil || r.msgs[0].Key != "a b" || r.msgs[0].Seq != 3 || r.files[0] != filepath.FromSlash("S1/in/f.fkb") {
		t.Fatalf("round trip: %+v, %v", r, err)
	}
	for _, bad := range []string{
		string(good[:len(good)-4]),
		strings.Replace(string(good), "flowkit-nats-commit 1", "flowkit-nats-commit 2", 1),
		strings.Replace(string(good), "S1/in/f.fkb", "../f.fkb", 1),
		strings.Replace(string(good), "msg 3", "msg x", 1),
		string(good) + "msg 4 k\n",
	} {
		os.WriteFile(p, []byte(bad), 0o644)
		if _, err := readCommitRecord(p); !errors.Is(err, ErrCommitRecord) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: err %v, want ErrCommitRecord naming the file", bad, err)
		}
	}
}

// crashSink is a RepoSink whose process dies right after its crashAt-th
// commit: the connection drops before the acknowledgements leave.
type crashSink struct {
	*RepoSink
	commits, crashAt int
	close            func()
}

func (s *crashSink) CommitMessages(written, seen []MsgRef) error {
	if err := s.RepoSink.CommitMessages(written, seen); err != nil {
		return err
	}
	s.commits++
	if s.commits == s.crashAt {
		s.close()
		s.die()
		return errCrash
	}
	return nil
}

// TestConsumerRepoSinkCrash: collectors share a durable consumer and a
// repository; one dies after committing a batch and before acknowledging
// it. The server redelivers the batch, which the other collector (or the
// restarted one) acknowledges without storing it again.
func TestConsumerRepoSinkCrash(t *testing.T) {
	url, _, want := publishDay(t, "ex", PublisherOptions{Sensor: 6, MaxMessageSize: 4096})
	ctx := context.Background()
	root := t.TempDir()
	opts := ConsumerOptions{Durable: "exact", FetchMessages: 4, AckWait: time.Second, MaxWait: 200 * time.Millisecond}
	dial := func() *Consumer {
		c, err := DialConsumer(ctx, url+"/ex", opts)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total ConsumerStats
	run := func(name string, c *Consumer, s ExactSink) error {
		defer c.Close()
		err := c.Run(cctx, s)
		mu.Lock()
		st := c.Stats()
		t.Logf("collector %s: %+v", name, st)
		total.Duplicates += st.Duplicates
		total.Messages += st.Messages
		mu.Unlock()
		return err
	}
	// start runs a collector with a sink of its own in the background.
	start := func(name string) {
		c, s := dial(), openSink(t, root)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(name, c, s); err != nil {
				t.Errorf("collector %s: %v", name, err)
			}
			s.Close()
		}()
	}
	start("B")
	a := dial()
	as := &crashSink{RepoSink: openSink(t, root), crashAt: 3, close: a.nc.Close}
	if err := run("A", a, as); !errors.Is(err, errCrash) {
		t.Fatalf("collector A: %v, want the crash", err)
	}
	start("A restarted")
	js := testenv.JetStream(t, url)
	testenv.NATSDrained(t, js, StreamName("ex"), "exact", 60*time.Second)
	cancel()
	wg.Wait()
	if total.Duplicates == 0 {
		t.Errorf("the batch committed before the crash was not seen again")
	}
	testenv.SameRecords(t, storetest.Records(t, root), want)
}

// slowSink is a RepoSink whose first WriteBatch outlasts AckWait, as a
// collector stalled (swapping, stopped) would.
type slowSink struct {
	*RepoSink
	firstStall
}

func (s *slowSink) WriteBatch(b []flow.Record) error {
	s.wait()
	return s.RepoSink.WriteBatch(b)
}

// TestConsumerRepoSinkConflict: a collector stalls past AckWait holding a
// batch; the server gives the batch to the other collector, which commits
// it. The stalled one's commit is refused, its batch discarded and
// redelivered, and it goes on: every record stored once.
func TestConsumerRepoSinkConflict(t *testing.T) {
	url, _, want := publishDay(t, "cf", PublisherOptions{Sensor: 8, MaxMessageSize: 16384})
	root := t.TempDir()
	// HoldLimit < 0: the stalled collector is stalled whole, its hold of
	// the batch too, as a stopped process would be.
	opts := ConsumerOptions{Durable: "cf", FetchMessages: 2, AckWait: time.Second, MaxWait: 200 * time.Millisecond, HoldLimit: -1}
	slow := &slowSink{RepoSink: openSink(t, root), firstStall: firstStall{stall: 2500 * time.Millisecond}}
	stats := runSlowAndOther(t, url, "cf", opts, slow, openSink(t, root))
	t.Logf("stalled collector %+v", stats[0])
	t.Logf("other collector %+v", stats[1])
	if stats[0].Conflicts == 0 {
		t.Errorf("the stalled collector's commit was not refused")
	}
	testenv.SameRecords(t, storetest.Records(t, root), want)
}

// TestRepoSinkOldIncarnations: the durable consumer was deleted and
// created again. Opening a sink for the new incarnation completes what a
// dead collector of the old one left half done (its files go into the
// repository) and removes the old state; the state of an old incarnation
// that a live collector holds stays.
func TestRepoSinkOldIncarnations(t *testing.T) {
	root := t.TempDir()
	open := func(consumer string) *RepoSink {
		s, err := OpenRepoSink(root, "FLOWKIT_t", consumer, store.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	state := func(consumer string) string { return filepath.Join(root, StateDir, "FLOWKIT_t", consumer) }
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }

	want := someRecords(2000, 2)
	crashAfterRecord(t, open("d.100"), want, []MsgRef{{Key: "2-7-1", Seq: 5}})
	live := open("d.200") // removes d.100, and stays open: a live collector
	if exists(state("d.100")) {
		t.Errorf("the state of the deleted incarnation d.100 is still there")
	}
	testenv.SameRecords(t, storetest.Records(t, root), want)

	other := open("other.100") // another durable consumer's: not touched
	other.Close()
	newer := open("d.300")
	if !exists(state("d.200")) {
		t.Errorf("the state of d.200 was removed while a collector held it")
	}
	live.Close()
	newer.Close()
	last := open("d.400")
	defer last.Close()
	for _, c := range []string{"d.200", "d.300"} {
		if exists(state(c)) {
			t.Errorf("the state of the deleted incarnation %s is still there", c)
		}
	}
	if !exists(state("other.100")) || !exists(state("d.400")) {
		t.Errorf("a state that is not an older incarnation's was removed")
	}
	testenv.SameRecords(t, storetest.Records(t, root), want)
}
