package ipfix

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// ParseURL splits "udp://host:port" or "tcp://host:port" into a network
// and an address. A bare "host:port" means UDP.
func ParseURL(s string) (network, addr string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		if _, _, herr := net.SplitHostPort(s); herr == nil {
			return "udp", s, nil
		}
		return "", "", fmt.Errorf("ipfix: %q: want udp://host:port or tcp://host:port", s)
	}
	switch u.Scheme {
	case "udp", "udp4", "udp6", "tcp", "tcp4", "tcp6":
		return u.Scheme, u.Host, nil
	}
	return "", "", fmt.Errorf("ipfix: %q: scheme %q, want udp or tcp", s, u.Scheme)
}

// ExporterOptions tune an Exporter; zero values take the defaults.
type ExporterOptions struct {
	Domain uint32 // observation domain id
	// Nanoseconds selects nanosecond timestamps (see Encoder).
	Nanoseconds bool
	// MaxMessageSize bounds UDP messages; default 1400 bytes, which fits
	// a 1500-byte path MTU with IPv6 and UDP headers. TCP uses 65535.
	MaxMessageSize int
	// TemplateInterval is how often UDP re-sends the templates (RFC 7011
	// section 8.1); default one minute. Templates also go out first, and
	// first again on every new TCP connection.
	TemplateInterval time.Duration
	// Now gives export times; time.Now when nil.
	Now func() time.Time
}

// Exporter sends flow records as IPFIX over UDP or TCP. It is a flow.Sink
// and safe for concurrent use. Over TCP it reconnects when a write fails
// and re-sends the templates on the new connection.
type Exporter struct {
	network, addr string
	opts          ExporterOptions

	mu        sync.Mutex
	conn      net.Conn
	enc       Encoder
	buf       []byte
	lastTmpl  time.Time
	needTmpl  bool
	dialer    net.Dialer
	messages  uint64
	reconnect uint64
}

// Dial connects an exporter to a collector URL such as
// "udp://127.0.0.1:4739" or "tcp://[::1]:4739".
func Dial(ctx context.Context, target string, opts ExporterOptions) (*Exporter, error) {
	network, addr, err := ParseURL(target)
	if err != nil {
		return nil, err
	}
	if opts.TemplateInterval <= 0 {
		opts.TemplateInterval = time.Minute
	}
	e := &Exporter{network: network, addr: addr, opts: opts, needTmpl: true}
	e.enc = Encoder{Domain: opts.Domain, Nanoseconds: opts.Nanoseconds, MaxMessageSize: 65535}
	if e.udp() {
		e.enc.MaxMessageSize = opts.MaxMessageSize
		if e.enc.MaxMessageSize <= 0 {
			e.enc.MaxMessageSize = 1400
		}
	}
	if err := e.connect(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Exporter) udp() bool { return e.network[:3] == "udp" }

func (e *Exporter) now() time.Time {
	if e.opts.Now != nil {
		return e.opts.Now()
	}
	return time.Now()
}

func (e *Exporter) connect(ctx context.Context) error {
	c, err := e.dialer.DialContext(ctx, e.network, e.addr)
	if err != nil {
		return fmt.Errorf("ipfix: exporter: %w", err)
	}
	e.conn = c
	e.needTmpl = true
	return nil
}

// WriteBatch implements flow.Sink: it sends the records in as many
// messages as they need, preceded by the templates when they are due.
func (e *Exporter) WriteBatch(batch []flow.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		if err := e.connect(context.Background()); err != nil {
			return err
		}
		e.reconnect++
	}
	now := e.now()
	if e.needTmpl || (e.udp() && now.Sub(e.lastTmpl) >= e.opts.TemplateInterval) {
		if err := e.send(e.enc.AppendTemplateMessage(e.buf[:0], now)); err != nil {
			return err
		}
		e.needTmpl, e.lastTmpl = false, now
	}
	for len(batch) > 0 {
		var n int
		e.buf, n = e.enc.AppendMessage(e.buf[:0], now, batch)
		if n == 0 {
			return fmt.Errorf("ipfix: exporter: a record does not fit in %d bytes", e.enc.maxSize())
		}
		if err := e.send(e.buf); err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}

// send writes one message; on a TCP failure it drops the connection so
// that the next WriteBatch reconnects (and re-sends the templates).
func (e *Exporter) send(m []byte) error {
	e.buf = m
	if _, err := e.conn.Write(m); err != nil {
		if !e.udp() {
			e.conn.Close()
			e.conn = nil
		}
		return fmt.Errorf("ipfix: exporter: %w", err)
	}
	e.messages++
	return nil
}

// Messages returns how many messages (templates included) were sent.
func (e *Exporter) Messages() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.messages
}

// Close closes the connection.
func (e *Exporter) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		return nil
	}
	err := e.conn.Close()
	e.conn = nil
	return err
}
