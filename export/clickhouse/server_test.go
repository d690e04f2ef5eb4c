package clickhouse

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/flowkit/flowkit/internal/testenv"
)

// server is a clickhouse-server started by a test: its own config, users
// file, port and data directory in t.TempDir(). ClickHouse 18.16 runs as
// root without extra flags when given --config-file; it needs no HTTP or
// interserver port, and logs to the console, which goes to server.log.
type server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

// clusterName is the remote_servers cluster the test servers share.
const clusterName = "flows"

// startServers starts n servers that share a cluster of n one-replica
// shards and waits until each answers a ping.
func startServers(t testing.TB, n int) []*server {
	t.Helper()
	// Debian installs it in /usr/sbin, which a user's PATH may lack.
	bin := "/usr/sbin/clickhouse-server"
	if _, err := os.Stat(bin); err != nil {
		bin = testenv.NeedPeer(t, "clickhouse-server")
	}
	servers := make([]*server, n)
	for i := range servers {
		servers[i] = &server{t: t, bin: bin, dir: t.TempDir(), port: freePort(t)}
	}
	var shards strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&shards, "      <shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>\n", s.port)
	}
	for _, s := range servers {
		s.writeConfig(shards.String())
		t.Cleanup(func() { s.stop(syscall.SIGKILL) })
	}
	for _, s := range servers {
		s.start()
	}
	for _, s := range servers {
		s.wait()
	}
	return servers
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *server) writeConfig(shards string) {
	config := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>%d</tcp_port>
  <path>%[2]s/data/</path>
  <tmp_path>%[2]s/tmp/</tmp_path>
  <user_files_path>%[2]s/user_files/</user_files_path>
  <format_schema_path>%[2]s/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <remote_servers>
    <%[3]s>
%[4]s    </%[3]s>
  </remote_servers>
</yandex>
`, s.port, s.dir, clusterName, shards)
	users := `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`
	for name, text := range map[string]string{"config.xml": config, "users.xml": users} {
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(text), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

func (s *server) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// start runs the server in the background (again after a stop: the data
// directory is kept).
func (s *server) start() {
	s.t.Helper()
	log, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd = exec.Command(s.bin, "--config-file="+filepath.Join(s.dir, "config.xml"))
	s.cmd.Dir = s.dir
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		log.Close()
		s.t.Fatalf("start clickhouse-server: %v", err)
	}
	done := make(chan struct{})
	s.done = done
	go func() { s.cmd.Wait(); log.Close(); close(done) }()
}

// wait waits until the server answers a ping (it starts in about a second).
func (s *server) wait() {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := Open(ctx, Config{Addr: []string{s.addr()}, DialTimeout: time.Second})
		cancel()
		if err == nil {
			conn.Close()
			return
		}
		select {
		case <-s.done:
			s.t.Fatalf("clickhouse-server on port %d exited:\n%s", s.port, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("clickhouse-server on port %d does not answer: %v\n%s", s.port, err, s.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends sig and waits for the server to exit.
func (s *server) stop(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
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
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
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
