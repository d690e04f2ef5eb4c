package nats

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
)

// ErrURL reports a nats:// address that cannot be used.
var ErrURL = errors.New("bad nats URL")

// ParseURL splits nats://HOST:PORT/SUBJECT into the server URL
// (nats://HOST:PORT) and the base subject. The subject defaults to "flows".
// A publisher's URL takes no query parameters.
func ParseURL(s string) (server, subject string, err error) {
	server, subject, q, err := parseURL(s)
	if err == nil && len(q) > 0 {
		err = fmt.Errorf("%w: %q: a publisher takes no query parameters", ErrURL, s)
	}
	return server, subject, err
}

// ParseConsumerURL reads a collector's address,
// nats://HOST:PORT/SUBJECT[?durable=NAME][&fetch=N]: the server URL, and
// opts with Subject, Durable (the durable consumer that collectors share)
// and FetchMessages (messages per batch) set from the URL; the other
// fields of opts are kept.
func ParseConsumerURL(s string, opts ConsumerOptions) (server string, _ ConsumerOptions, err error) {
	server, subject, q, err := parseURL(s)
	if err != nil {
		return "", opts, err
	}
	opts.Subject = subject
	for k, v := range q {
		if len(v) != 1 {
			return "", opts, fmt.Errorf("%w: %q: parameter %s given %d times", ErrURL, s, k, len(v))
		}
		switch k {
		case "durable":
			if err := checkDurable(v[0]); err != nil {
				return "", opts, fmt.Errorf("%w: %q: %v", ErrURL, s, err)
			}
			opts.Durable = v[0]
		case "fetch":
			n, err := strconv.Atoi(v[0])
			if err != nil || n < 1 || n > 4096 {
				return "", opts, fmt.Errorf("%w: %q: fetch=%s: want messages per batch, 1 to 4096", ErrURL, s, v[0])
			}
			opts.FetchMessages = n
		default:
			return "", opts, fmt.Errorf("%w: %q: unknown parameter %q (want durable or fetch)", ErrURL, s, k)
		}
	}
	return server, opts, nil
}

// parseURL splits a nats:// URL into server, subject and query.
func parseURL(s string) (server, subject string, q url.Values, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "nats" || u.Host == "" {
		return "", "", nil, fmt.Errorf("%w: %q: want nats://HOST:PORT/SUBJECT", ErrURL, s)
	}
	if q, err = url.ParseQuery(u.RawQuery); err != nil {
		return "", "", nil, fmt.Errorf("%w: %q: %v", ErrURL, s, err)
	}
	subject = strings.Trim(u.Path, "/")
	if subject == "" {
		subject = "flows"
	}
	if err := checkSubject(subject); err != nil {
		return "", "", nil, fmt.Errorf("%w: %q: %v", ErrURL, s, err)
	}
	return "nats://" + u.Host, subject, q, nil
}

// checkSubject accepts a literal subject of dot-separated tokens.
func checkSubject(s string) error {
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t/") {
			return fmt.Errorf("subject %q: tokens must be non-empty, without wildcards, spaces or slashes", s)
		}
	}
	return nil
}

// checkDurable accepts what JetStream takes as a durable consumer name.
func checkDurable(s string) error {
	if s == "" || strings.ContainsAny(s, ".*> \t/\\") {
		return fmt.Errorf("durable %q: want a non-empty name without dots, wildcards, spaces or slashes", s)
	}
	return nil
}

// StreamName is the JetStream stream that holds base subject's messages:
// FLOWKIT_ and the subject with dots replaced by underscores.
func StreamName(subject string) string {
	return "FLOWKIT_" + strings.ReplaceAll(subject, ".", "_")
}

// connect dials server with reconnects that never give up (a collector or
// meter outlives server restarts).
func connect(server, name string) (*nats.Conn, error) {
	return nats.Connect(server, nats.Name(name), nats.MaxReconnects(-1))
}
