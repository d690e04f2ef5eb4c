package ipfix

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// Collector receives IPFIX, NetFlow v9 and NetFlow v5 from many exporters
// over UDP and TCP and hands the decoded records to a flow.Sink. Each
// exporter (UDP source address and port, or TCP connection) gets its own
// Decoder with its own template cache, bounded by Limits; the number of
// exporters is bounded too, so that no exporter can exhaust memory.
type Collector struct {
	// Sink receives the records of each datagram or message, one batch
	// at a time; calls are serialized. Required.
	Sink flow.Sink
	// Limits bound each exporter's templates.
	Limits Limits
	// MaxExporters bounds the exporters tracked at once (default 1024);
	// datagrams from further exporters are dropped and counted.
	MaxExporters int
	// TemplateLifetime expires UDP templates not re-sent for that long
	// (default 30 minutes; negative disables).
	TemplateLifetime time.Duration
	// Logger, when set, receives one line per decoding error.
	Logger *slog.Logger

	mu       sync.Mutex
	sinkMu   sync.Mutex
	sessions map[string]*Decoder
	closed   []Stats // stats of finished TCP sessions
	refused  uint64
	errors   uint64
}

// CollectorStats sums the decoders' counters over all exporters.
type CollectorStats struct {
	Stats
	Exporters        int    // exporters currently tracked
	ExportersRefused uint64 // datagrams/connections refused by MaxExporters
	DecodeErrors     uint64 // messages that returned an error
}

// Stats returns the counters so far.
func (c *Collector) Stats() CollectorStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s CollectorStats
	add := func(d Stats) {
		s.Messages += d.Messages
		s.Records += d.Records
		s.OptionsRecords += d.OptionsRecords
		s.Templates += d.Templates
		s.TemplatesRefused += d.TemplatesRefused
		s.Withdrawals += d.Withdrawals
		s.TemplatesExpired += d.TemplatesExpired
		s.MissingTemplate += d.MissingTemplate
		s.Malformed += d.Malformed
		s.SequenceGaps += d.SequenceGaps
		s.LostRecords += d.LostRecords
		s.LostPackets += d.LostPackets
		s.NoSystemInitTime += d.NoSystemInitTime
	}
	for _, d := range c.sessions {
		add(d.Stats())
	}
	for _, d := range c.closed {
		add(d)
	}
	s.Exporters = len(c.sessions)
	s.ExportersRefused = c.refused
	s.DecodeErrors = c.errors
	return s
}

// session returns the decoder of an exporter, creating it within
// MaxExporters; nil when refused. Only UDP sessions expire templates
// (RFC 7011 section 8.4); over TCP they live as long as the connection.
func (c *Collector) session(key string, udp bool) *Decoder {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sessions == nil {
		c.sessions = map[string]*Decoder{}
	}
	d := c.sessions[key]
	if d == nil {
		maxExp := c.MaxExporters
		if maxExp <= 0 {
			maxExp = 1024
		}
		if len(c.sessions) >= maxExp {
			c.refused++
			return nil
		}
		d = NewDecoder()
		d.Limits = c.Limits
		if udp {
			d.TemplateLifetime = c.TemplateLifetime
			if d.TemplateLifetime == 0 {
				d.TemplateLifetime = 30 * time.Minute
			}
		}
		c.sessions[key] = d
	}
	return d
}

func (c *Collector) endSession(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := c.sessions[key]; d != nil {
		c.closed = append(c.closed, d.Stats())
		delete(c.sessions, key)
	}
}

func (c *Collector) noteErr(from string, err error) {
	c.mu.Lock()
	c.errors++
	c.mu.Unlock()
	if c.Logger != nil {
		c.Logger.Warn("ipfix collector", "exporter", from, "err", err)
	}
}

func (c *Collector) flush(batch []flow.Record) error {
	if len(batch) == 0 {
		return nil
	}
	c.sinkMu.Lock()
	defer c.sinkMu.Unlock()
	return c.Sink.WriteBatch(batch)
}

// ListenAndServe listens on a URL ("udp://127.0.0.1:4739",
// "tcp://[::1]:4739") and serves until ctx is done (then it returns nil)
// or the sink fails.
func (c *Collector) ListenAndServe(ctx context.Context, target string) error {
	network, addr, err := ParseURL(target)
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	if network[:3] == "udp" {
		pc, err := lc.ListenPacket(ctx, network, addr)
		if err != nil {
			return fmt.Errorf("ipfix: collector: %w", err)
		}
		if u, ok := pc.(*net.UDPConn); ok {
			// UDP has no flow control: a meter replaying a file sends
			// bursts the default buffer (~200 KB) drops. The kernel caps
			// this at net.core.rmem_max.
			u.SetReadBuffer(UDPReadBuffer)
		}
		return c.ServeUDP(ctx, pc)
	}
	ln, err := lc.Listen(ctx, network, addr)
	if err != nil {
		return fmt.Errorf("ipfix: collector: %w", err)
	}
	return c.ServeTCP(ctx, ln)
}

// UDPReadBuffer is the socket receive buffer ListenAndServe asks for on
// UDP (the kernel grants at most net.core.rmem_max; raise that sysctl for
// busy collectors, as for nfcapd's -B).
const UDPReadBuffer = 32 << 20

// ServeUDP reads datagrams from pc until ctx is done, then closes pc.
func (c *Collector) ServeUDP(ctx context.Context, pc net.PacketConn) error {
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	buf := make([]byte, 65535)
	var batch []flow.Record
	var rec flow.Record
	emit := func(r *flow.Record) { batch = append(batch, *r) }
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("ipfix: collector: %w", err)
		}
		key := from.String()
		if ua, ok := from.(*net.UDPAddr); ok {
			key = ua.AddrPort().String()
		}
		d := c.session(key, true)
		if d == nil {
			continue
		}
		batch = batch[:0]
		c.mu.Lock() // the decoder's counters are read by Stats
		err = d.Decode(buf[:n], &rec, emit)
		c.mu.Unlock()
		if err != nil {
			c.noteErr(key, err)
		}
		if err := c.flush(batch); err != nil {
			return err
		}
	}
}

// ServeTCP accepts connections on ln until ctx is done, then closes ln and
// the connections. Each connection is one transport session (RFC 7011
// section 10.4): a stream of IPFIX messages.
func (c *Collector) ServeTCP(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	var connsMu sync.Mutex
	conns := map[net.Conn]bool{}
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		connsMu.Lock()
		for cn := range conns {
			cn.Close()
		}
		connsMu.Unlock()
	})
	defer stop()
	defer wg.Wait()
	for {
		cn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("ipfix: collector: %w", err)
		}
		connsMu.Lock()
		conns[cn] = true
		connsMu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.serveConn(cn)
			connsMu.Lock()
			delete(conns, cn)
			connsMu.Unlock()
			cn.Close()
		}()
	}
}

func (c *Collector) serveConn(cn net.Conn) {
	key := "tcp " + cn.RemoteAddr().String()
	d := c.session(key, false)
	if d == nil {
		return
	}
	defer c.endSession(key)
	r := bufio.NewReaderSize(cn, 64<<10)
	msg := make([]byte, 65535)
	var batch []flow.Record
	var rec flow.Record
	emit := func(r *flow.Record) { batch = append(batch, *r) }
	for {
		if _, err := io.ReadFull(r, msg[:4]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(msg[2:]))
		if binary.BigEndian.Uint16(msg) != 10 || n < 16 {
			c.noteErr(key, errAt(10, 0, 0, ErrMalformed, "stream message header: version %d length %d", binary.BigEndian.Uint16(msg), n))
			return // the stream cannot be resynchronized
		}
		if _, err := io.ReadFull(r, msg[4:n]); err != nil {
			return
		}
		batch = batch[:0]
		c.mu.Lock()
		err := d.Decode(msg[:n], &rec, emit)
		c.mu.Unlock()
		if err != nil {
			c.noteErr(key, err)
		}
		if err := c.flush(batch); err != nil {
			return
		}
	}
}

// chanSink passes copies of batches to a channel.
type chanSink struct {
	ctx context.Context
	ch  chan []flow.Record
}

func (s chanSink) WriteBatch(b []flow.Record) error {
	select {
	case s.ch <- append([]flow.Record(nil), b...):
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// Collect listens on target and yields records until ctx is done or the
// loop stops. A listening error is stored in *errp (errp may be nil).
func Collect(ctx context.Context, target string, limits Limits, errp *error) iter.Seq[flow.Record] {
	return func(yield func(flow.Record) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ch := make(chan []flow.Record, 64)
		c := &Collector{Sink: chanSink{ctx, ch}, Limits: limits}
		done := make(chan error, 1)
		go func() { done <- c.ListenAndServe(ctx, target) }()
		for {
			select {
			case b := <-ch:
				for _, r := range b {
					if !yield(r) {
						return
					}
				}
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) && errp != nil {
					*errp = err
				}
				return
			}
		}
	}
}
