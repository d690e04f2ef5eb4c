package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	busnats "github.com/flowkit/flowkit/bus/nats"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/internal/testenv"
	"github.com/flowkit/flowkit/internal/testenv/storetest"
	"github.com/flowkit/flowkit/store"
	"github.com/flowkit/flowkit/timeouts"
	"github.com/nats-io/nats.go/jetstream"
)

// TestNATSTransport runs the JetStream transport end to end with real
// processes: flowkit meter -export nats:// publishes a synthesized day, and
// flowkit collect -listen nats:// processes sharing one durable consumer
// store it, each in its own repository. The union of the repositories must
// be exactly what the meter produced locally.
func TestNATSTransport(t *testing.T) {
	url := testenv.NATSServer(t)
	bin := buildFlowkit(t)
	pcap, _ := synthPcap(t, true)
	t.Run("two collectors", func(t *testing.T) { testNATSTwoCollectors(t, bin, url, pcap) })
	t.Run("kill -9 and restart", func(t *testing.T) { testNATSKill(t, bin, url, pcap) })
	t.Run("kill -9 ten times into one repository", func(t *testing.T) { testNATSKillExact(t, bin, url, pcap) })
}

// testNATSKillExact: two collectors share a durable consumer and one
// repository; one of them is killed with SIGKILL ten times mid-stream and
// restarted each time: at a random moment, while it writes a batch, or
// once it has committed one and before the server has the
// acknowledgement (it fsyncs a directory of the repository outside its
// stage: the commit records' directory once the batch's record is in
// place, the window where a plain store writer's batch, fsyncing its
// partition directories after the renames, was stored twice). The
// repository must end up with exactly the published records.
func testNATSKillExact(t *testing.T, bin, url, pcap string) {
	js := testenv.JetStream(t, url)
	ctx := context.Background()
	stream := busnats.StreamName("exact")
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{"exact.>"},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	// A short AckWait: the killed collector's batch comes back soon.
	if _, err := js.CreateConsumer(ctx, stream, jetstream.ConsumerConfig{Durable: "exact",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: 2 * time.Second, MaxAckPending: 8,
		FilterSubject: "exact.>", DeliverPolicy: jetstream.DeliverAllPolicy}); err != nil {
		t.Fatal(err)
	}
	// Small messages, published before the collectors start: many
	// batches, so that ten kills fall mid-stream.
	want := publishRecords(t, url+"/exact", pcap, 3, 8192)
	repo := t.TempDir()
	src := url + "/exact?durable=exact&fetch=2"
	b := startCollector(t, bin, src, repo)
	a := startCollector(t, bin, src, repo)
	modes := []string{"committed", "at random", "writing", "committed"}
	for trial := range 10 {
		mode := modes[trial%len(modes)]
		tries, where := 0, ""

		for {
			if tries%100 == 0 {
				if info := durableInfo(js, "exact", "exact"); info != nil && info.NumPending == 0 {
					t.Fatalf("trial %d: the stream ran dry before collector A was caught %s (%d tries)", trial, mode, tries)
				}
			}
			tries++
			if mode == "at random" {
				time.Sleep(time.Duration(rand.IntN(20_000)) * time.Microsecond)
				break
			}
			if mode == "committed" {
				// Watched running: a stopped thread is never seen inside fsync.
				if where = syncingDir(a.cmd.Process.Pid, repo); where != "" {
					where = " (fsync " + strings.TrimPrefix(where, repo) + ")"
					break
				}
				time.Sleep(20 * time.Microsecond)
				continue
			}
			a.signal(t, syscall.SIGSTOP)
			waitStopped(t, a.cmd.Process.Pid)
			if writing(a.cmd.Process.Pid) {
				break
			}
			a.signal(t, syscall.SIGCONT)
			time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		}
		a.kill(t)
		info := durableInfo(js, "exact", "exact")
		t.Logf("trial %d: killed A %s%s after %d tries; %d records stored, %d messages pending, %d unacknowledged",
			trial, mode, where, tries, len(storetest.Records(t, repo)), info.NumPending, info.NumAckPending)
		a = startCollector(t, bin, src, repo)
	}
	testenv.NATSDrained(t, js, stream, "exact", 120*time.Second)
	a.stop(t)
	b.stop(t)
	if b.stat(t, "duplicates")+a.stat(t, "duplicates") == 0 {
		t.Logf("no redelivered message had been committed before (no kill fell between commit and acknowledgement)")
	}
	testenv.SameRecords(t, storetest.Records(t, repo), want)
}

// publishRecords meters pcap once per sensor 1..sensors and publishes the
// records to url in messages of at most size bytes; it returns them,
// sorted.
func publishRecords(t *testing.T, url, pcap string, sensors, size int) []flow.Record {
	t.Helper()
	var want []flow.Record
	for s := 1; s <= sensors; s++ {
		recs := meterFile(t, pcap, flow.TableConfig{Timeouts: timeouts.Default(), Sensor: uint16(s)})
		p, err := busnats.DialPublisher(context.Background(), url, busnats.PublisherOptions{Sensor: uint16(s), MaxMessageSize: size})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.WriteBatch(recs); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("sensor %d: %d records in %d messages", s, len(recs), p.Stats().Messages)
		want = append(want, recs...)
	}
	flow.SortRecords(want)
	return want
}

// kill kills the collector with SIGKILL and waits for it.
func (c *collector) kill(t *testing.T) {
	t.Helper()
	c.signal(t, syscall.SIGKILL)
	c.cmd.Wait()
	close(c.done)
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("collector %d: %v, want killed: %s", c.cmd.Process.Pid, c.cmd.ProcessState, c.stderr.String())
	}
}

// fsyncCall is the fsync system call's number, by architecture.
var fsyncCall = map[string]string{"amd64": "74", "arm64": "82", "386": "118", "riscv64": "82"}

// syncingDir returns the directory under repo, but not in a collector's
// stage, that a thread of process pid is inside fsync of, or "" (from
// /proc/PID/task/TID/syscall: the call's number and arguments, the first
// the descriptor).
func syncingDir(pid int, repo string) string {
	call, ok := fsyncCall[runtime.GOARCH]
	if !ok {
		return ""
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/syscall", pid))
	for _, p := range tasks {
		b, _ := os.ReadFile(p)
		f := strings.Fields(string(b))
		if len(f) < 2 || f[0] != call {
			continue
		}
		fd, err := strconv.ParseUint(strings.TrimPrefix(f[1], "0x"), 16, 32)
		if err != nil {
			continue
		}
		path, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		if err != nil || !strings.HasPrefix(path, repo) || strings.Contains(path, string(filepath.Separator)+"stage") {
			continue
		}
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			return path
		}
	}
	return ""
}

func testNATSTwoCollectors(t *testing.T, bin, url, pcap string) {
	// The collectors create the stream and the durable consumer.
	src := url + "/day?durable=store&fetch=2"
	repos := []string{t.TempDir(), t.TempDir()}
	a := startCollector(t, bin, src, repos[0])
	b := startCollector(t, bin, src, repos[1])
	js := testenv.JetStream(t, url)
	waitPulling(t, js, "day", "store", 2)
	want := publishDay(t, url+"/day", pcap, 1)
	testenv.NATSDrained(t, js, busnats.StreamName("day"), "store", 60*time.Second)
	a.stop(t)
	b.stop(t)
	testenv.SameRecords(t, unionRepos(t, repos), want)
}

func testNATSKill(t *testing.T, bin, url, pcap string) {
	// A short AckWait, so the server soon redelivers what the killed
	// collector held; the collectors join this consumer.
	js := testenv.JetStream(t, url)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: busnats.StreamName("kill"), Subjects: []string{"kill.>"},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateConsumer(ctx, busnats.StreamName("kill"), jetstream.ConsumerConfig{Durable: "crash",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: 2 * time.Second, MaxAckPending: 8,
		FilterSubject: "kill.>", DeliverPolicy: jetstream.DeliverAllPolicy}); err != nil {
		t.Fatal(err)
	}
	// Publish first: the collectors are faster than the meter, and A must
	// be killed with work left.
	want := publishDay(t, url+"/kill", pcap, 3)
	src := url + "/kill?durable=crash&fetch=1"
	repos := []string{t.TempDir(), t.TempDir()}
	a := startCollector(t, bin, src, repos[0])
	b := startCollector(t, bin, src, repos[1])

	// Kill A while it holds a batch it has not committed: stop it, see
	// whether it has the temporary file of a batch being written open, and
	// kill it there, or let it run on and look again. (A crash after its
	// commit and before the server had the acknowledgement would store that
	// batch in both repositories: each knows only the messages it holds
	// itself. testNATSKillExact kills collectors sharing one repository.)
	committed, first := false, 1+rand.IntN(40)
	for tries := 0; ; tries++ {
		if info := durableInfo(js, "kill", "crash"); info != nil && info.NumPending == 0 {
			t.Fatalf("collector A was never caught writing a batch in %d tries (%d files stored) before the stream ran dry",
				tries, countFiles(t, repos[0], store.FileExt))
		}
		if !committed {
			if countFiles(t, repos[0], store.FileExt) < first {
				time.Sleep(time.Millisecond)
				continue // let it commit some batches first
			}
			committed = true
		}
		a.signal(t, syscall.SIGSTOP)
		waitStopped(t, a.cmd.Process.Pid)
		if writing(a.cmd.Process.Pid) {
			a.signal(t, syscall.SIGKILL)
			t.Logf("caught A writing after %d tries", tries)
			break
		}
		a.signal(t, syscall.SIGCONT)
		time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
	}
	err := a.cmd.Wait()
	close(a.done)
	if ws, ok := a.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("collector A: %v, want killed", err)
	}
	c, err := js.Consumer(ctx, busnats.StreamName("kill"), "crash")
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed A with %d records stored, %d messages pending, %d unacknowledged", len(storetest.Records(t, repos[0])),
		info.NumPending, info.NumAckPending)
	if info.NumPending == 0 {
		t.Errorf("A was killed after the stream was consumed: not mid-stream")
	}
	a2 := startCollector(t, bin, src, repos[0])
	testenv.NATSDrained(t, js, busnats.StreamName("kill"), "crash", 60*time.Second)
	a2.stop(t)
	b.stop(t)
	redelivered := a2.stat(t, "redelivered") + b.stat(t, "redelivered")
	if redelivered == 0 {
		t.Errorf("the killed collector's batch was not redelivered")
	}
	testenv.SameRecords(t, unionRepos(t, repos), want)
}

// buildFlowkit builds this command once for the test's processes.
func buildFlowkit(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "flowkit")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// collector is a flowkit collect process.
type collector struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{} // closed once the process has been waited for
}

// startCollector runs flowkit collect -listen src -repo repo -stats; the
// test's cleanup kills it if it still runs.
func startCollector(t *testing.T, bin, src, repo string) *collector {
	t.Helper()
	return startCollectorTo(t, bin, src, "-repo", repo)
}

// startCollectorTo runs flowkit collect -listen src -stats with the output
// flags out.
func startCollectorTo(t *testing.T, bin, src string, out ...string) *collector {
	t.Helper()
	c := &collector{done: make(chan struct{})}
	c.cmd = exec.Command(bin, append([]string{"collect", "-listen", src, "-stats"}, out...)...)
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	return c
}

func (c *collector) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%v: %v", sig, err)
	}
}

// stop sends SIGTERM and requires a clean exit.
func (c *collector) stop(t *testing.T) {
	t.Helper()
	c.signal(t, syscall.SIGTERM)
	timer := time.AfterFunc(20*time.Second, func() { c.cmd.Process.Kill() })
	err := c.cmd.Wait()
	timer.Stop()
	close(c.done)
	t.Logf("collector %d: %s", c.cmd.Process.Pid, strings.TrimSpace(c.stderr.String()))
	if err != nil {
		t.Fatalf("collect after SIGTERM: %v: %s", err, c.stderr.String())
	}
}

// stat reads one counter of the -stats line of a stopped collector.
func (c *collector) stat(t *testing.T, name string) int {
	t.Helper()
	m := regexp.MustCompile(`\b` + name + ` (\d+)`).FindStringSubmatch(c.stderr.String())
	if m == nil {
		t.Fatalf("no %s counter in %q", name, c.stderr.String())
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// waitStopped waits until every thread of process pid is stopped.
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Microsecond) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		stopped := len(tasks) > 0
		for _, p := range tasks {
			b, err := os.ReadFile(p)
			i := bytes.LastIndexByte(b, ')')
			if err != nil || i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
				stopped = false
				break
			}
		}
		if stopped {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d did not stop", pid)
		}
	}
}

// writing reports whether process pid has a store writer's temporary
// file open: it is writing a batch it has not renamed into place.
func writing(pid int) bool {
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && strings.HasSuffix(l, ".tmp") {
			return true
		}
	}
	return false
}

// countFiles counts the files under dir whose names end in suffix.
func countFiles(t *testing.T, dir, suffix string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(d.Name(), suffix) {
			n++
		}
		return nil
	})
	return n
}

// publishDay meters pcap once per sensor 1..sensors with flowkit meter
// -export url and returns the records metered locally, sorted.
func publishDay(t *testing.T, url, pcap string, sensors int) []flow.Record {
	t.Helper()
	var want []flow.Record
	for s := 1; s <= sensors; s++ {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"meter", "-r", pcap, "-sensor", strconv.Itoa(s), "-export", url, "-stats"}, &stdout, &stderr); code != 0 {
			t.Fatalf("meter -export %s: exit %d: %s", url, code, stderr.String())
		}
		t.Logf("meter sensor %d: %s", s, strings.TrimSpace(stderr.String()))
		want = append(want, meterFile(t, pcap, flow.TableConfig{Timeouts: timeouts.Default(), Sensor: uint16(s)})...)
	}
	flow.SortRecords(want)
	return want
}

// unionRepos reads every record of the repositories, each of which must
// hold some (the collectors shared the work).
func unionRepos(t *testing.T, dirs []string) []flow.Record {
	t.Helper()
	var all []flow.Record
	for _, dir := range dirs {
		recs := storetest.Records(t, dir)
		all = append(all, recs...)
		var packets, octets uint64
		for _, r := range recs {
			packets += r.Packets
			octets += r.Bytes
		}
		t.Logf("%s: %d records, %d packets, %d bytes", dir, len(recs), packets, octets)
		if len(recs) == 0 {
			t.Errorf("repository %s got no flows: the collectors did not share the work", dir)
		}
	}
	return all
}

// durableInfo returns the durable consumer of subject's stream, or nil
// while it does not exist.
func durableInfo(js jetstream.JetStream, subject, durable string) *jetstream.ConsumerInfo {
	ctx := context.Background()
	c, err := js.Consumer(ctx, busnats.StreamName(subject), durable)
	if err != nil {
		return nil
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil
	}
	return info
}

// waitPulling waits until n collectors wait on the durable consumer.
func waitPulling(t *testing.T, js jetstream.JetStream, subject, durable string, n int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if info := durableInfo(js, subject, durable); info != nil && info.NumWaiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d collectors never pulled from %s", n, durable)
		}
	}
}

// TestNATSUsage: misuse of the nats:// addresses is refused before any
// connection, naming what is wrong.
func TestNATSUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"collect", "-listen", "nats://127.0.0.1:1/flows", "-num", "5"}, "-num cannot be used"},
		{[]string{"collect", "-listen", "nats://127.0.0.1:1/flows?durabel=x"}, `unknown parameter "durabel"`},
		{[]string{"collect", "-listen", "nats://127.0.0.1:1/flows?durable=a.b"}, "durable"},
		{[]string{"meter", "-r", "x.pcap", "-export", "nats://127.0.0.1:1/flows?durable=x"}, "no query parameters"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(c.args, &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%q: exit %d, stderr %q; want an error with %q", c.args, code, stderr.String(), c.want)
		}
	}
}
