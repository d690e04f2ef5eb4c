package clickhouse

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/flowkit/flowkit/internal/testenv"
)

// server is a clickhouse-server of testenv.ClickHouseCluster, with the
// package's own ways to reach it.
type server struct {
	*testenv.ClickHouse
	t testing.TB
}

// clusterName is the remote_servers cluster the test servers share.
const clusterName = testenv.ClickHouseClusterName

// startServers starts n servers that share a cluster of n one-replica
// shards and waits until each answers a ping.
func startServers(t testing.TB, n int) []*server {
	t.Helper()
	var servers []*server
	for _, c := range testenv.ClickHouseCluster(t, n) {
		s := &server{ClickHouse: c, t: t}
		s.wait()
		servers = append(servers, s)
	}
	return servers
}

func (s *server) addr() string            { return s.Addr() }
func (s *server) start()                  { s.Start() }
func (s *server) stop(sig syscall.Signal) { s.Stop(sig) }
func (s *server) logTail() string         { return s.LogTail() }

// wait waits until the server answers a ping (it starts in about a second).
func (s *server) wait() {
	s.t.Helper()
	s.WaitListening()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := Open(ctx, Config{Addr: []string{s.addr()}, DialTimeout: time.Second})
		cancel()
		if err == nil {
			conn.Close()
			return
		}
		if s.Exited() {
			s.t.Fatalf("clickhouse-server on port %d exited:\n%s", s.Port, s.logTail())
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("clickhouse-server on port %d does not answer: %v\n%s", s.Port, err, s.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// conn opens a connection to the server, closed with the test.
func (s *server) conn() driver.Conn {
	s.t.Helper()
	conn, err := Open(context.Background(), Config{Addr: []string{s.addr()}})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { conn.Close() })
	return conn
}

// cpuTime returns the CPU time (user and system) the server has used.
func (s *server) cpuTime(t testing.TB) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name in parentheses; utime and stime are
	// the 14th and 15th fields, in clock ticks (100 per second on Linux).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}
