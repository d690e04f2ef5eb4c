package nats

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrCommitRecord reports a commit record of a RepoSink that cannot be
// read.
var ErrCommitRecord = errors.New("bad commit record")

// commitMagic is the first line of a commit record.
const commitMagic = "flowkit-nats-commit 1"

// commitExt ends the name of a commit record.
const commitExt = ".commit"

// commitRecord says which messages one committed batch came from and which
// files hold its records. It is a text file in the commits directory:
//
//	flowkit-nats-commit 1
//	stage ID
//	msg SEQ KEY        (one line per message)
//	file PATH          (one line per store file, relative to the root)
//	end
//
// named MAXSEQ-ID-N.commit, MAXSEQ the highest stream sequence of its
// messages (20 digits, so names sort by it) and ID the stage of the
// collector that wrote it. Its files wait in that stage until they are
// renamed into the repository.
type commitRecord struct {
	stage string
	msgs  []MsgRef
	files []string
}

// maxSeq is the highest stream sequence of the record's messages; an
// unknown sequence (0) makes it MaxUint64, so that no acknowledgement
// floor ever forgets the record.
func (r *commitRecord) maxSeq() uint64 {
	var m uint64
	for _, msg := range r.msgs {
		if msg.Seq == 0 {
			return math.MaxUint64
		}
		m = max(m, msg.Seq)
	}
	return m
}

// name is the record's file name; n tells apart the stage's records.
func (r *commitRecord) name(n int) string {
	return fmt.Sprintf("%020d-%s-%d%s", r.maxSeq(), r.stage, n, commitExt)
}

// nameSeq reads MAXSEQ from a record's file name.
func nameSeq(name string) (uint64, bool) {
	i := strings.IndexByte(name, '-')
	if i <= 0 || !strings.HasSuffix(name, commitExt) {
		return 0, false
	}
	n, err := strconv.ParseUint(name[:i], 10, 64)
	return n, err == nil
}

func (r *commitRecord) marshal() []byte {
	var b bytes.Buffer
	b.WriteString(commitMagic + "\nstage " + r.stage + "\n")
	for _, m := range r.msgs {
		fmt.Fprintf(&b, "msg %d %s\n", m.Seq, m.Key)
	}
	for _, f := range r.files {
		b.WriteString("file " + filepath.ToSlash(f) + "\n")
	}
	b.WriteString("end\n")
	return b.Bytes()
}

// readCommitRecord reads the record at path. A record is fsynced before it
// gets its name, so one that does not parse to its end line is corrupt.
func readCommitRecord(path string) (*commitRecord, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	bad := func(line int, why string) error {
		return fmt.Errorf("%w: %s line %d: %s", ErrCommitRecord, path, line, why)
	}
	r := &commitRecord{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line, ended := 0, false
	for sc.Scan() {
		line++
		text := sc.Text()
		if ended {
			return nil, bad(line, "text after end")
		}
		if line == 1 {
			if text != commitMagic {
				return nil, bad(line, fmt.Sprintf("%q is not %q", text, commitMagic))
			}
			continue
		}
		kind, rest, _ := strings.Cut(text, " ")
		switch kind {
		case "stage":
			if rest == "" || strings.ContainsAny(rest, `/\`) || r.stage != "" {
				return nil, bad(line, "bad stage")
			}
			r.stage = rest
		case "msg":
			seq, key, ok := strings.Cut(rest, " ")
			n, err := strconv.ParseUint(seq, 10, 64)
			if !ok || err != nil || key == "" {
				return nil, bad(line, "want msg SEQ KEY")
			}
			r.msgs = append(r.msgs, MsgRef{Key: key, Seq: n})
		case "file":
			f := filepath.FromSlash(rest)
			if rest == "" || !filepath.IsLocal(f) {
				return nil, bad(line, fmt.Sprintf("file %q is not inside the repository", rest))
			}
			r.files = append(r.files, f)
		case "end":
			ended = true
		default:
			return nil, bad(line, fmt.Sprintf("unknown line %q", text))
		}
	}
	if !ended || r.stage == "" {
		return nil, bad(line, "no end line (truncated)")
	}
	return r, nil
}
