package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ClickHouseClusterName is the remote_servers cluster that the servers of
// one ClickHouseCluster share, for Distributed tables.
const ClickHouseClusterName = "flows"

// ClickHouse is a clickhouse-server started by a test: its own config,
// users file, port and data directory in t.TempDir(). ClickHouse 18.16
// (Debian's) runs as root without extra flags when given --config-file; it
// needs no HTTP or interserver port, and logs to the console, which goes
// to server.log in its directory.
type ClickHouse struct {
	t    testing.TB
	bin  string
	Dir  string // data directory, kept across Stop and Start
	Port int    // native protocol port on 127.0.0.1
	cmd  *exec.Cmd
	done chan struct{}
}

// ClickHouseCluster starts n servers that share the cluster
// ClickHouseClusterName of n one-replica shards, and waits until each
// accepts connections (callers that need queries ping as well). The
// servers are killed when the test ends. Without clickhouse-server it
// skips, or fails under CI=true.
func ClickHouseCluster(t testing.TB, n int) []*ClickHouse {
	t.Helper()
	// Debian installs it in /usr/sbin, which a user's PATH may lack.
	bin := "/usr/sbin/clickhouse-server"
	if _, err := os.Stat(bin); err != nil {
		bin = NeedPeer(t, "clickhouse-server")
	}
	servers := make([]*ClickHouse, n)
	for i := range servers {
		servers[i] = &ClickHouse{t: t, bin: bin, Dir: t.TempDir(), Port: freeTCPPort(t)}
	}
	var shards strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&shards, "      <shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>\n", s.Port)
	}
	for _, s := range servers {
		s.writeConfig(shards.String())
		t.Cleanup(func() { s.Stop(syscall.SIGKILL) })
	}
	for _, s := range servers {
		s.Start()
	}
	for _, s := range servers {
		s.WaitListening()
	}
	return servers
}

func freeTCPPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *ClickHouse) writeConfig(shards string) {
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
`, s.Port, s.Dir, ClickHouseClusterName, shards)
	users := `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`
	for name, text := range map[string]string{"config.xml": config, "users.xml": users} {
		if err := os.WriteFile(filepath.Join(s.Dir, name), []byte(text), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

// Addr is the server's native protocol address.
func (s *ClickHouse) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// Start runs the server in the background (again after a Stop: the data
// directory is kept).
func (s *ClickHouse) Start() {
	s.t.Helper()
	log, err := os.OpenFile(filepath.Join(s.Dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd = exec.Command(s.bin, "--config-file="+filepath.Join(s.Dir, "config.xml"))
	s.cmd.Dir = s.Dir
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		log.Close()
		s.t.Fatalf("start clickhouse-server: %v", err)
	}
	done := make(chan struct{})
	s.done = done
	go func() { s.cmd.Wait(); log.Close(); close(done) }()
}

// Exited reports whether the server process has ended.
func (s *ClickHouse) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// WaitListening waits until the server accepts connections on its port
// (it starts in about a second), failing the test if it exits first or
// takes more than 30 s.
func (s *ClickHouse) WaitListening() {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if s.Exited() {
			s.t.Fatalf("clickhouse-server on port %d exited:\n%s", s.Port, s.LogTail())
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("clickhouse-server on port %d does not listen: %v\n%s", s.Port, err, s.LogTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop sends sig and waits for the server to exit (killing it after 30 s).
func (s *ClickHouse) Stop(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil || s.Exited() {
		return
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// LogTail returns the end of the server's log, for failure messages.
func (s *ClickHouse) LogTail() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "server.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Pid is the server's process id while it runs.
func (s *ClickHouse) Pid() int { return s.cmd.Process.Pid }
