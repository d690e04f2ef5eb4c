package nats

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/nats-io/nats.go"
)

// ErrURL reports a nats:// address that cannot be used.
var ErrURL = errors.New("bad nats URL")

// ParseURL splits nats://HOST:PORT/SUBJECT into the server URL
// (nats://HOST:PORT) and the base subject. The subject defaults to "flows".
func ParseURL(s string) (server, subject string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "nats" || u.Host == "" {
		return "", "", fmt.Errorf("%w: %q: want nats://HOST:PORT/SUBJECT", ErrURL, s)
	}
	subject = strings.Trim(u.Path, "/")
	if subject == "" {
		subject = "flows"
	}
	if err := checkSubject(subject); err != nil {
		return "", "", fmt.Errorf("%w: %q: %v", ErrURL, s, err)
	}
	return "nats://" + u.Host, subject, nil
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
