package testenv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSServer runs the peer nats-server with JetStream and a temporary file
// store on a free loopback port, stopped at the test's cleanup, and
// returns its nats://127.0.0.1:PORT URL.
//
// It is ready when it sends its INFO line: the server enables JetStream
// before it accepts clients, and INFO says so.
func NATSServer(t testing.TB) string {
	t.Helper()
	bin := NeedPeer(t, "nats-server")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var log bytes.Buffer
	cmd := exec.Command(bin, "-js", "-sd", t.TempDir(), "-p", fmt.Sprint(port), "-a", "127.0.0.1")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		info, err := natsInfo(addr)
		if err == nil && strings.Contains(info, `"jetstream":true`) {
			return "nats://" + addr
		}
		if err == nil {
			err = fmt.Errorf("no JetStream in %s", info)
		}
		select {
		case <-exited:
			t.Fatalf("nats-server exited: %s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			t.Fatalf("nats-server on %s did not start: %v\n%s", addr, err, log.String())
		}
	}
}

// natsInfo reads the INFO line a NATS server greets a client with.
func natsInfo(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(line, "INFO ") {
		return "", fmt.Errorf("greeting %q is not INFO", line)
	}
	return line, nil
}

// NATSDrained waits until the durable consumer of stream has nothing
// pending or unacknowledged, and fails the test after timeout.
func NATSDrained(t testing.TB, js jetstream.JetStream, stream, durable string, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	var info *jetstream.ConsumerInfo
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		info = nil
		if c, err := js.Consumer(ctx, stream, durable); err == nil {
			info, _ = c.Info(ctx)
		}
		if info != nil && info.NumPending == 0 && info.NumAckPending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer %s not drained after %v: %+v", durable, timeout, info)
		}
	}
}

// JetStream returns a JetStream context on a new connection to the NATS
// server at url, closed at the test's cleanup.
func JetStream(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}
