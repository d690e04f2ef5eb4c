package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Config says where and how a Sink writes.
type Config struct {
	// Addr lists the server's native-protocol addresses (host:port, port
	// 9000 by default). The HTTP interface is not used: clickhouse-go's
	// HTTP mode does not work with ClickHouse 18.16.
	Addr     []string
	Database string // default "default"
	Username string // default "default"
	Password string
	// Table is the table written to, a MergeTree table of TableSQL or a
	// Distributed table of DistributedSQL; default "flows".
	Table string
	// BatchSize is the number of flows per INSERT (default 262144). The
	// sink holds at most Senders+1 batches of flows, copied (140 bytes a
	// flow), and per sender their columns and clickhouse-go's block: the
	// benchmark's process peaks at about 520 MB RSS at the defaults and
	// 280 MB at 65536 flows per INSERT. Large INSERTs
	// make fewer parts for the server to write and merge: 262144 flows per
	// INSERT cost the server about 40% less CPU per flow than 65536.
	BatchSize int
	// Senders is how many INSERTs may run at once, each on its own
	// connection and goroutine (default 1): the sink encodes the next
	// batch while the server writes one. The sink holds up to Senders+1
	// batches. On the 2-core test machine a second sender did not help.
	Senders int
	// MaxRetries is how many times a failed INSERT is tried again
	// (default 8); the waits between tries double from MinBackoff
	// (default 100ms) up to MaxBackoff (default 5s).
	MaxRetries             int
	MinBackoff, MaxBackoff time.Duration
	// DialTimeout bounds connecting (default 5s); ReadTimeout bounds the
	// wait for an answer (default 60s).
	DialTimeout, ReadTimeout time.Duration
	// Compress compresses the inserted blocks with LZ4. It costs the
	// sink about a third of its CPU time per flow (1.6 against 1.1
	// million flows per CPU second) and the server some more, and saves
	// bandwidth: uncompressed, 500,000 flows/s take about 600 Mbit/s.
	// Turn it on for servers across a network link.
	Compress bool
}

func (c *Config) defaults() {
	if c.Database == "" {
		c.Database = "default"
	}
	if c.Username == "" {
		c.Username = "default"
	}
	if c.Table == "" {
		c.Table = "flows"
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 262144
	}
	if c.Senders <= 0 {
		c.Senders = 1
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 8
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 60 * time.Second
	}
}

// server names the server in errors.
func (c *Config) server() string { return strings.Join(c.Addr, ",") }

// Open connects to the server of cfg over the native protocol and checks
// the connection with a ping.
func Open(ctx context.Context, cfg Config) (driver.Conn, error) {
	cfg.defaults()
	if len(cfg.Addr) == 0 {
		return nil, fmt.Errorf("clickhouse: no server address")
	}
	opts := &ch.Options{
		Protocol:    ch.Native,
		Addr:        cfg.Addr,
		Auth:        ch.Auth{Database: cfg.Database, Username: cfg.Username, Password: cfg.Password},
		DialTimeout: cfg.DialTimeout,
		ReadTimeout: cfg.ReadTimeout,
	}
	if cfg.Compress {
		opts.Compression = &ch.Compression{Method: ch.CompressionLZ4}
	}
	conn, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open %s: %w", cfg.server(), err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse: ping %s: %w", cfg.server(), err)
	}
	return conn, nil
}
