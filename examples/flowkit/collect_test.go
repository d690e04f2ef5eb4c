package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
	"github.com/flowkit/flowkit/ipfix"
)

func collectRecords() []flow.Record {
	recs := make([]flow.Record, 100)
	for i := range recs {
		recs[i] = flow.Record{
			Start: 1700000000_000_000_000 + int64(i)*1e9, End: 1700000000_000_000_000 + int64(i)*1e9 + 1500e6,
			Src: flow.AddrFromUint32(0x0a000001 + uint32(i)), Dst: flow.AddrFromUint32(0xc0000207),
			SrcPort: uint16(40000 + i), DstPort: 443, Protocol: 6, Packets: uint64(i + 1), Bytes: uint64(40 * (i + 1)),
			Flags: flow.SYN | flow.ACK,
		}
	}
	return recs
}

func textOf(t *testing.T, recs []flow.Record) string {
	var b bytes.Buffer
	w := flowtext.NewWriter(&b, nil, flowtext.Text)
	w.WriteBatch(recs)
	w.Flush()
	return b.String()
}

func TestCollectIPFIXFile(t *testing.T) {
	recs := collectRecords()
	path := filepath.Join(t.TempDir(), "flows.ipfix")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	fw := ipfix.NewFileWriter(f)
	if err := fw.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var out, errb bytes.Buffer
	if code := run([]string{"collect", "-r", path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if out.String() != textOf(t, recs) {
		t.Fatalf("output differs:\n%s", out.String()[:200])
	}
}

func TestCollectPcapOfExports(t *testing.T) {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		dir = filepath.Dir(dir)
	}
	path := filepath.Join(dir, "..", "shared", "data", "ipfix", "softflowd", "softflowd-ipfix.pcap")
	if _, err := os.Stat(path); err != nil {
		t.Skip("shared data missing")
	}
	var out, errb bytes.Buffer
	if code := run([]string{"collect", "-r", path, "-format", "csv", "-stats"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1+1572 || !strings.HasPrefix(lines[1], "10.0.1.50,198.51.100.50,500,500,17,76,4864,") {
		t.Fatalf("%d lines, first %q", len(lines), lines[1])
	}
	if !strings.Contains(errb.String(), "records 1572") {
		t.Fatalf("stats: %s", errb.String())
	}
}

// startUDPCollect runs flowkit collect -listen on a free loopback UDP
// port with the extra args, and returns an exporter to it and the channel
// that gets collect's exit status.
func startUDPCollect(t *testing.T, stdout, stderr io.Writer, args ...string) (*ipfix.Exporter, <-chan int) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	done := make(chan int, 1)
	go func() {
		done <- run(append([]string{"collect", "-listen", "udp://" + addr}, args...), stdout, stderr)
	}()
	exp, err := ipfix.Dial(context.Background(), "udp://"+addr, ipfix.ExporterOptions{TemplateInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exp.Close() })
	return exp, done
}

func TestCollectListenUDP(t *testing.T) {
	recs := collectRecords()
	var out, errb bytes.Buffer
	exp, done := startUDPCollect(t, &out, &errb, "-num", fmt.Sprint(len(recs)))
	// Resend until the collector has bound its socket and read them all.
	for i := 0; ; i++ {
		exp.WriteBatch(recs[:10])
		select {
		case code := <-done:
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if n := strings.Count(out.String(), "\n"); n != len(recs) {
				t.Fatalf("%d lines", n)
			}
			return
		case <-time.After(20 * time.Millisecond):
		}
		if i > 500 {
			t.Fatal("collector never finished")
		}
	}
}

// TestCollectStopsOnSIGTERM: service managers stop a collector with
// SIGTERM; collect must flush what it received and exit 0, as on SIGINT.
func TestCollectStopsOnSIGTERM(t *testing.T) {
	outFile := filepath.Join(t.TempDir(), "flows.txt")
	recs := collectRecords()
	var errb bytes.Buffer
	exp, done := startUDPCollect(t, io.Discard, &errb, "-o", outFile)
	// The signal handler is installed before the socket is bound, so once
	// flows reach the file, SIGTERM goes to the collector, not the test.
	for i := 0; ; i++ {
		exp.WriteBatch(recs[:10])
		time.Sleep(20 * time.Millisecond)
		if fi, err := os.Stat(outFile); err == nil && fi.Size() > 0 {
			break
		}
		if i > 500 {
			t.Fatal("no flow reached the output")
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after SIGTERM: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("collect did not stop on SIGTERM")
	}
	data, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n < 10 || n%10 != 0 {
		t.Fatalf("%d lines after SIGTERM, want whole batches of 10", n)
	}
}
