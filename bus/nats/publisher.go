package nats

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/ipfix"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PublisherOptions configure a Publisher. Zero values take the defaults.
type PublisherOptions struct {
	// Subject is the base subject; messages go to Subject.Sensor.
	// Default "flows".
	Subject string
	// Sensor names this publisher's subject token and observation domain.
	Sensor uint16
	// MaxInFlight bounds the messages published but not yet acknowledged
	// by the server (flow control). Default 64.
	MaxInFlight int
	// Duplicates is the stream's de-duplication window, used when the
	// stream is created. Default 2 minutes.
	Duplicates time.Duration
	// AckTimeout is how long to wait for a publish acknowledgement before
	// publishing the message again. Default 10 s.
	AckTimeout time.Duration
	// Retries is how many times a message is re-published after a failed
	// or late acknowledgement. Default 5.
	Retries int
	// MaxMessageSize bounds each message (template set included). Default
	// and maximum 65535, the IPFIX message length limit.
	MaxMessageSize int
}

func (o *PublisherOptions) defaults() {
	if o.Subject == "" {
		o.Subject = "flows"
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 64
	}
	if o.Duplicates <= 0 {
		o.Duplicates = 2 * time.Minute
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 10 * time.Second
	}
	if o.Retries <= 0 {
		o.Retries = 5
	}
	if o.MaxMessageSize <= 0 || o.MaxMessageSize > 65535 {
		o.MaxMessageSize = 65535
	}
}

// PublisherStats count what a Publisher sent.
type PublisherStats struct {
	Records    int64 // records published
	Messages   int64 // messages acknowledged by the stream
	Bytes      int64 // payload bytes published
	Duplicates int64 // messages the stream reported as duplicates (re-publications)
	Retries    int64 // re-publications after a failed or late acknowledgement
}

// Publisher is a flow.Sink that publishes records to JetStream as IPFIX
// messages (see the package documentation). It is not safe for concurrent
// use.
type Publisher struct {
	js      jetstream.JetStream
	nc      *nats.Conn // owned when made by DialPublisher
	opts    PublisherOptions
	subject string
	stream  string
	enc     ipfix.Encoder
	tmpl    []byte // the template set, put in every message
	run     string // sensor-runid prefix of message ids
	seq     uint64
	ring    []slot // in-flight messages, oldest at head
	head, n int
	stats   PublisherStats
	err     error
}

// slot is one in-flight message; its buffer is reused once acknowledged.
type slot struct {
	msg *nats.Msg
	fut jetstream.PubAckFuture
	buf []byte
}

// DialPublisher connects to the server of a nats://HOST:PORT/SUBJECT URL
// and returns a Publisher for that subject; Close also closes the
// connection. opts.Subject is taken from the URL.
func DialPublisher(ctx context.Context, rawURL string, opts PublisherOptions) (*Publisher, error) {
	server, subject, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	nc, err := connect(server, "flowkit-meter")
	if err != nil {
		return nil, fmt.Errorf("nats: %s: %w", server, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	opts.Subject = subject
	p, err := NewPublisher(ctx, js, opts)
	if err != nil {
		nc.Close()
		return nil, err
	}
	p.nc = nc
	return p, nil
}

// NewPublisher returns a Publisher on js, creating the stream (file
// storage, opts.Duplicates window, subjects Subject.>) if it is missing.
func NewPublisher(ctx context.Context, js jetstream.JetStream, opts PublisherOptions) (*Publisher, error) {
	opts.defaults()
	if err := checkSubject(opts.Subject); err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	p := &Publisher{
		js:      js,
		opts:    opts,
		subject: opts.Subject + "." + strconv.Itoa(int(opts.Sensor)),
		stream:  StreamName(opts.Subject),
		run:     strconv.Itoa(int(opts.Sensor)) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-",
		ring:    make([]slot, opts.MaxInFlight),
	}
	if err := ensureStream(ctx, js, p.stream, opts.Subject, opts.Duplicates); err != nil {
		return nil, err
	}
	p.enc.Domain = uint32(opts.Sensor)
	p.enc.Nanoseconds = true
	p.tmpl = ipfix.AppendTemplateSet(nil, p.enc.Templates())
	p.enc.MaxMessageSize = opts.MaxMessageSize - len(p.tmpl)
	return p, nil
}

// ensureStream creates the stream holding subject.> unless it exists.
func ensureStream(ctx context.Context, js jetstream.JetStream, name, subject string, dup time.Duration) error {
	_, err := js.Stream(ctx, name)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("nats: stream %s: %w", name, err)
	}
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{
		Name:       name,
		Subjects:   []string{subject + ".>"},
		Storage:    jetstream.FileStorage,
		Duplicates: dup,
	})
	if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("nats: create stream %s: %w", name, err)
	}
	return nil
}

// Subject returns the subject the publisher sends to (BASE.SENSOR).
func (p *Publisher) Subject() string { return p.subject }

// Stats returns the publisher's counters.
func (p *Publisher) Stats() PublisherStats { return p.stats }

// WriteBatch encodes batch into messages and publishes them, blocking while
// MaxInFlight messages await acknowledgement. An error is sticky.
func (p *Publisher) WriteBatch(batch []flow.Record) error {
	if p.err != nil {
		return p.err
	}
	now := time.Now()
	for len(batch) > 0 {
		s, err := p.free()
		if err != nil {
			p.err = err
			return err
		}
		buf, n := p.enc.AppendMessage(s.buf[:0], now, batch)
		if n == 0 {
			p.err = fmt.Errorf("nats: record does not fit in a %d-byte message", p.opts.MaxMessageSize)
			return p.err
		}
		batch = batch[n:]
		// Put the template set right after the header so the message
		// stands alone.
		l := len(buf)
		buf = append(buf, p.tmpl...)
		copy(buf[16+len(p.tmpl):], buf[16:l])
		copy(buf[16:], p.tmpl)
		binary.BigEndian.PutUint16(buf[2:], uint16(len(buf)))
		s.buf = buf
		p.seq++
		s.msg = &nats.Msg{Subject: p.subject, Data: buf, Header: nats.Header{}}
		s.msg.Header.Set(jetstream.MsgIDHeader, p.run+strconv.FormatUint(p.seq, 10))
		fut, err := p.js.PublishMsgAsync(s.msg)
		if err != nil {
			// Not sent (for instance while reconnecting): retry synchronously.
			if err = p.publishSync(s.msg); err != nil {
				p.err = err
				return err
			}
			fut = nil
		}
		s.fut = fut
		p.n++
		p.stats.Records += int64(n)
		p.stats.Bytes += int64(len(buf))
	}
	return nil
}

// free returns the next ring slot, waiting for the oldest message's
// acknowledgement when all are in flight.
func (p *Publisher) free() (*slot, error) {
	if p.n == len(p.ring) {
		if err := p.waitOldest(); err != nil {
			return nil, err
		}
	}
	return &p.ring[(p.head+p.n)%len(p.ring)], nil
}

// waitOldest waits for the oldest in-flight message's acknowledgement and
// frees its slot, re-publishing it on failure.
func (p *Publisher) waitOldest() error {
	s := &p.ring[p.head]
	if s.fut != nil {
		t := time.NewTimer(p.opts.AckTimeout)
		var err error
		select {
		case ack := <-s.fut.Ok():
			p.acked(ack)
		case err = <-s.fut.Err():
		case <-t.C:
			err = errors.New("acknowledgement timed out")
		}
		t.Stop()
		if err != nil {
			if err = p.publishSync(s.msg); err != nil {
				return err
			}
		}
	}
	s.fut, s.msg = nil, nil
	p.head = (p.head + 1) % len(p.ring)
	p.n--
	return nil
}

func (p *Publisher) acked(ack *jetstream.PubAck) {
	p.stats.Messages++
	if ack != nil && ack.Duplicate {
		p.stats.Duplicates++
	}
}

// publishSync re-publishes m with its id until the stream acknowledges it.
func (p *Publisher) publishSync(m *nats.Msg) error {
	var err error
	for range p.opts.Retries {
		p.stats.Retries++
		ctx, cancel := context.WithTimeout(context.Background(), p.opts.AckTimeout)
		var ack *jetstream.PubAck
		ack, err = p.js.PublishMsg(ctx, m)
		cancel()
		if err == nil {
			p.acked(ack)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("nats: publish %s (%s): %w", m.Subject, m.Header.Get(jetstream.MsgIDHeader), err)
}

// Flush waits until the stream has acknowledged every published message.
func (p *Publisher) Flush() error {
	for p.n > 0 && p.err == nil {
		if err := p.waitOldest(); err != nil {
			p.err = err
		}
	}
	return p.err
}

// Close flushes and, for a publisher made by DialPublisher, closes the
// connection.
func (p *Publisher) Close() error {
	err := p.Flush()
	if p.nc != nil {
		p.nc.Close()
		p.nc = nil
	}
	return err
}
