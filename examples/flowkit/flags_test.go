package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
	"github.com/flowkit/flowkit/ipfix"
)

// queryVerbNames are the verbs this file's convention covers.
var queryVerbNames = []string{"filter", "cut", "count", "uniq", "stats", "sort", "set", "collect", "detect", "plot"}

// qRunIn runs one flowkit invocation with in as its standard input.
func qRunIn(t testing.TB, in []byte, args ...string) (string, string, int) {
	t.Helper()
	old := stdin
	stdin = bytes.NewReader(in)
	defer func() { stdin = old }()
	return qRun(t, args...)
}

// sortedLines compares outputs whose row order may depend on scheduling.
func sortedLines(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(l)
	return strings.Join(l, "\n")
}

// TestPipelineBinary: filter -w - writes IPFIX; stats, uniq and cut
// reading it from stdin answer exactly what they answer reading text.
func TestPipelineBinary(t *testing.T) {
	recs, text, _, _ := qTestData(t)
	bin, errs, code := qRun(t, "filter", "-r", text, "proto tcp", "-w", "-")
	if code != 0 {
		t.Fatal(errs)
	}
	if !bytes.HasPrefix([]byte(bin), []byte{0, 10}) {
		t.Fatalf("filter -w - did not write IPFIX: %q", bin[:min(len(bin), 40)])
	}
	txt, errs, code := qRun(t, "filter", "-r", text, "proto tcp", "-format", "text")
	if code != 0 || !strings.HasPrefix(txt, "sIP|") {
		t.Fatalf("filter -format text: %s %.80q", errs, txt)
	}
	for _, consumer := range [][]string{
		{"stats", "-fields", "dport", "-values", "bytes", "-top", "1000"},
		{"uniq", "-fields", "sip,dport", "-values", "flows,bytes,distinct:dip", "-format", "csv"},
		{"count", "-bin", "60s", "-format", "json"},
		{"cut", "-fields", "all"},
	} {
		a, errs, code := qRunIn(t, []byte(bin), consumer...)
		if code != 0 {
			t.Fatalf("%v on IPFIX: %s", consumer, errs)
		}
		b, _, _ := qRunIn(t, []byte(txt), consumer...)
		if sortedLines(a) != sortedLines(b) || len(a) < 100 {
			t.Fatalf("%v: binary and text pipelines differ:\n%.300s\n---\n%.300s", consumer, a, b)
		}
	}
	// Every field of every record survives the binary stream exactly.
	all, _, _ := qRun(t, "filter", "-r", text, "any", "-w", "-")
	out, errs, code := qRunIn(t, []byte(all), "cut", "-fields", "all")
	orig, _ := os.ReadFile(text)
	if code != 0 || out != string(orig) {
		t.Fatalf("IPFIX round trip differs (%s)", errs)
	}
	// A store file on stdout and read back from stdin.
	fkb, _, _ := qRun(t, "sort", "-r", text, "-w", "-", "-format", "fkb")
	n, errs, code := qRunIn(t, []byte(fkb), "filter", "any", "-count")
	if code != 0 || strings.TrimSpace(n) != strconv.Itoa(len(recs)) {
		t.Fatalf("store file through stdin: %q %s", n, errs)
	}
}

// TestInputSniffing: the same records as pipe text (with and without a
// title line), CSV, IPFIX and a store file, from a file and from stdin,
// read as the same records; -in-format overrides the sniffing.
func TestInputSniffing(t *testing.T) {
	recs, text, fkb, _ := qTestData(t)
	dir := t.TempDir()
	write := func(name string, f func(*bytes.Buffer)) string {
		var b bytes.Buffer
		f(&b)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bare := write("bare.txt", func(b *bytes.Buffer) {
		w := flowtext.NewWriter(b, flowtext.AllFields, flowtext.Text)
		w.WriteBatch(recs)
		w.Flush()
	})
	csvFile := write("flows.csv", func(b *bytes.Buffer) {
		b.WriteString("# a comment line first\n")
		w := flowtext.NewWriter(b, flowtext.AllFields, flowtext.CSV)
		w.WriteBatch(recs)
		w.Flush()
	})
	ipfixFile := write("flows.ipfix", func(b *bytes.Buffer) {
		fw := ipfix.NewFileWriter(b)
		fw.Encoder.Nanoseconds = true
		fw.WriteBatch(recs)
		fw.Close()
	})
	want, _, _ := qRun(t, "cut", "-r", text, "-fields", "all")
	for _, c := range []struct {
		file  string
		extra []string
	}{
		{text, nil},
		{bare, []string{"-in-fields", flowtext.FormatFields(flowtext.AllFields, ",")}},
		{csvFile, nil},
		{csvFile, []string{"-in-format", "csv"}},
		{ipfixFile, nil},
		{ipfixFile, []string{"-in-format", "ipfix"}},
		{fkb, nil},
		{fkb, []string{"-in-format", "fkb"}},
	} {
		data, _ := os.ReadFile(c.file)
		got, errs, code := qRun(t, append([]string{"cut", "-r", c.file, "-fields", "all"}, c.extra...)...)
		if code != 0 || sortedLines(got) != sortedLines(want) {
			t.Fatalf("%s %v from the file: exit %d %s", filepath.Base(c.file), c.extra, code, errs)
		}
		got, errs, code = qRunIn(t, data, append([]string{"cut", "-fields", "all"}, c.extra...)...)
		if code != 0 || sortedLines(got) != sortedLines(want) {
			t.Fatalf("%s %v from stdin: exit %d %s", filepath.Base(c.file), c.extra, code, errs)
		}
	}
	for _, s := range []string{"FKSTORE\x00...", "\x00\x0a\x00\x10", "sIP|dIP\n", "# c\nsIP,dIP\n", "1.2.3.4,5.6.7.8\n", ""} {
		kinds := map[byte]qInKind{'F': qInFKB, 0: qInIPFIX, 's': qInText, '#': qInCSV, '1': qInCSV}
		want := qInText
		if s != "" {
			want = kinds[s[0]]
		}
		if got := qSniff([]byte(s)); got != want {
			t.Errorf("qSniff(%q) = %d, want %d", s, got, want)
		}
	}
	// Forcing the wrong format fails with a message naming the input;
	// an unknown format is a usage error.
	if _, errs, code := qRun(t, "cut", "-r", text, "-in-format", "ipfix"); code != 1 || !strings.Contains(errs, text) {
		t.Fatalf("text read as IPFIX: exit %d %q", code, errs)
	}
	if _, _, code := qRun(t, "cut", "-r", text, "-in-format", "xml"); code != 2 {
		t.Fatalf("-in-format xml: exit %d", code)
	}
}

// TestCutTextReimport: cut -format text of a repository, read back with
// flowtext, gives the same records, record for record.
func TestCutTextReimport(t *testing.T) {
	recs, text, _, repo := qTestData(t)
	for _, src := range [][]string{{"-r", text}, {"-repo", repo}} {
		out, errs, code := qRun(t, append([]string{"cut", "-fields", "all", "-format", "text"}, src...)...)
		if code != 0 {
			t.Fatal(errs)
		}
		r := flowtext.NewReader(strings.NewReader(out), nil, flowtext.Text)
		got := map[flow.Record]int{}
		n := 0
		var rerr error
		for rec := range flow.Records(r, &rerr) {
			got[rec]++
			n++
		}
		if rerr != nil {
			t.Fatal(rerr)
		}
		for _, rec := range recs {
			got[rec]--
		}
		if n != len(recs) {
			t.Fatalf("%v: %d records back, want %d", src, n, len(recs))
		}
		for rec, k := range got {
			if k != 0 {
				t.Fatalf("%v: record %v off by %d", src, rec, k)
			}
		}
	}
}

// TestExitStatus: a bad expression exits 1 with a message naming the
// column; a bad flag value exits 2; -h exits 0 and shows the example.
func TestExitStatus(t *testing.T) {
	_, text, _, repo := qTestData(t)
	for _, src := range [][]string{{"-r", text}, {"-repo", repo}} {
		_, errs, code := qRun(t, append([]string{"filter", "dst port 22 and", "-count"}, src...)...)
		if code != 1 || !strings.Contains(errs, "flowkit filter: ") || !strings.Contains(errs, "column") {
			t.Fatalf("bad expression %v: exit %d %q", src, code, errs)
		}
	}
	for _, bad := range [][]string{
		{"filter", "-r", text, "any", "-format", "xml"},
		{"sort", "-r", text, "-format", "json"},
		{"uniq", "-r", text, "-format", "xml"},
		{"count", "-r", text, "-format", "xml"},
		{"cut", "-r", text, "-format", "xml"},
		{"cut", "-r", text, "-w", "x.ipfix", "-o", "x.txt"},
		{"collect", "-r", text, "-format", "xml"},
		{"detect", "-r", text, "-format", "xml"},
		{"stats", "-r", text, "-start", "yesterday"},
	} {
		if _, errs, code := qRun(t, bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, code, errs)
		}
	}
	for _, name := range queryVerbNames {
		_, errs, code := qRun(t, name, "-h")
		v := verbs[name]
		if code != 0 || !strings.Contains(errs, "example:\n  "+v.example) || !strings.Contains(errs, "-format") && name != "plot" && name != "set" {
			t.Errorf("%s -h: exit %d\n%s", name, code, errs)
		}
	}
}

// TestResultsToFile: -o FILE writes what stdout would show.
func TestResultsToFile(t *testing.T) {
	_, text, _, _ := qTestData(t)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"uniq", "-r", text, "-fields", "proto", "-format", "json"},
		{"stats", "-r", text, "-fields", "dport"},
		{"count", "-r", text, "-format", "csv"},
		{"cut", "-r", text, "-num", "5"},
		{"detect", "-r", text, "-format", "json"},
	} {
		want, errs, code := qRun(t, args...)
		if code != 0 {
			t.Fatalf("%v: %s", args, errs)
		}
		file := filepath.Join(dir, args[0]+".out")
		if out, errs, code := qRun(t, append(args, "-o", file)...); code != 0 || out != "" {
			t.Fatalf("%v -o: exit %d %s %q", args, code, errs, out)
		}
		got, _ := os.ReadFile(file)
		if args[0] != "uniq" && args[0] != "stats" && string(got) != want || sortedLines(string(got)) != sortedLines(want) || len(want) == 0 {
			t.Fatalf("%v -o: file differs from stdout:\n%.200s\n---\n%.200s", args, got, want)
		}
	}
}

// shellWords splits one line of an example as sh would: words separated
// by blanks, single or double quotes, '|' and ';' as tokens of their own,
// and '#' starting a comment.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, byte(0)
	flush := func() {
		if in {
			words = append(words, cur.String())
			cur.Reset()
			in = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t' || c == '\n':
			flush()
		case c == '#' && !in:
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '|' || c == ';':
			flush()
			words = append(words, string(c))
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	flush()
	return words
}

// TestVerbExamplesRun runs the example of every verb's -h in a directory
// holding the files they name, pipes included: each must exit 0.
func TestVerbExamplesRun(t *testing.T) {
	day := synthDayFile(t)
	dir := t.TempDir()
	data, _ := os.ReadFile(day)
	os.WriteFile(filepath.Join(dir, "flows.txt"), data, 0o644)
	t.Chdir(dir)
	for _, prep := range [][]string{
		{"filter", "-r", "flows.txt", "any", "-w", "flows.ipfix"},
		{"set", "-r", "flows.txt", "-field", "dip", "-o", "today.set"},
		{"set", "-r", "flows.txt", "-field", "sip", "-o", "yesterday.set"},
	} {
		if _, errs, code := qRun(t, prep...); code != 0 {
			t.Fatalf("%v: %s", prep, errs)
		}
	}
	// Files the examples name that only a live system has.
	skip := func(cmd []string) bool {
		j := strings.Join(cmd, " ")
		return strings.Contains(j, "-listen") || strings.Contains(j, "export.pcap")
	}
	for _, name := range queryVerbNames {
		var cmds [][][]string // commands, each a pipeline of stages
		for _, line := range strings.Split(verbs[name].example, "\n") {
			cmd := [][]string{nil}
			for _, w := range append(shellWords(line), ";") {
				switch w {
				case "|":
					cmd = append(cmd, nil)
				case ";":
					if len(cmd[0]) > 0 {
						cmds = append(cmds, cmd)
					}
					cmd = [][]string{nil}
				default:
					cmd[len(cmd)-1] = append(cmd[len(cmd)-1], w)
				}
			}
		}
		ran := 0
		for _, c := range cmds {
			if skip(slices.Concat(c...)) {
				continue
			}
			var in []byte
			for _, stage := range c {
				if stage[0] != "flowkit" {
					t.Fatalf("%s example: stage %q is not flowkit", name, stage)
				}
				out, errs, code := qRunIn(t, in, stage[1:]...)
				if code != 0 {
					t.Fatalf("%s example %q: exit %d: %s", name, stage, code, errs)
				}
				in = []byte(out)
			}
			t.Logf("ran %q", c)
			ran++
		}
		if ran == 0 {
			t.Errorf("%s: no example ran", name)
		}
	}
}

// TestCollectOutputs: collect writes records to a repository (-repo), as
// binary records (-w) and as JSON (-format json) that encoding/json reads.
func TestCollectOutputs(t *testing.T) {
	recs := collectRecords()
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.ipfix")
	var b bytes.Buffer
	fw := ipfix.NewFileWriter(&b)
	fw.WriteBatch(recs)
	os.WriteFile(path, b.Bytes(), 0o644)
	repo := filepath.Join(dir, "repo")
	if _, errs, code := qRun(t, "collect", "-r", path, "-repo", repo); code != 0 {
		t.Fatal(errs)
	}
	if n, errs, _ := qRun(t, "filter", "-repo", repo, "dst port 443", "-count"); strings.TrimSpace(n) != strconv.Itoa(len(recs)) {
		t.Fatalf("repository holds %q flows, want %d (%s)", n, len(recs), errs)
	}
	bin, _, _ := qRun(t, "collect", "-r", path, "-w", "-")
	text, _, _ := qRunIn(t, []byte(bin), "cut", "-no-title")
	if text != textOf(t, recs) {
		t.Fatalf("collect -w - | cut differs:\n%.200s", text)
	}
	js, errs, code := qRun(t, "collect", "-r", path, "-format", "json", "-fields", "sip,dport,bytes")
	var rows []struct {
		SIP   string `json:"sIP"`
		DPort int    `json:"dPort"`
		Bytes uint64 `json:"bytes"`
	}
	if err := json.Unmarshal([]byte(js), &rows); err != nil || code != 0 {
		t.Fatalf("collect -format json: %v %s\n%.200s", err, errs, js)
	}
	if len(rows) != len(recs) || rows[5].SIP != recs[5].SrcAddr().String() || rows[5].DPort != 443 || rows[5].Bytes != recs[5].Bytes {
		t.Fatalf("json rows %d, row 5 %+v", len(rows), rows[5])
	}
	if _, _, code := qRun(t, "collect", "-r", path, "-w", "x.ipfix", "-repo", repo); code != 2 {
		t.Fatalf("-w and -repo together: exit %d", code)
	}
}

// TestLargeFileInputs: files over 1 MB are parsed in parallel byte
// ranges (text, CSV after a comment line) or read whole (IPFIX); the
// answers equal those of the same bytes read from stdin, one reader.
func TestLargeFileInputs(t *testing.T) {
	recs, _, _, _ := qTestData(t)
	for len(recs) < 20000 {
		recs = append(recs, recs...)
	}
	dir := t.TempDir()
	var txt, csvb, ipf bytes.Buffer
	txt.WriteString(flowtext.FormatFields(flowtext.AllFields, "|") + "\n")
	tw := flowtext.NewWriter(&txt, flowtext.AllFields, flowtext.Text)
	tw.WriteBatch(recs)
	tw.Flush()
	csvb.WriteString("# exported for a test\n")
	cw := flowtext.NewWriter(&csvb, flowtext.AllFields, flowtext.CSV)
	cw.WriteBatch(recs)
	cw.Flush()
	fw := ipfix.NewFileWriter(&ipf)
	fw.Encoder.Nanoseconds = true
	fw.WriteBatch(recs)
	fw.Close()
	for name, data := range map[string][]byte{"big.txt": txt.Bytes(), "big.csv": csvb.Bytes(), "big.ipfix": ipf.Bytes()} {
		if len(data) < 1<<20 {
			t.Fatalf("%s: only %d bytes", name, len(data))
		}
		path := filepath.Join(dir, name)
		os.WriteFile(path, data, 0o644)
		for _, args := range [][]string{
			{"count", "-bin", "600s", "-format", "csv"},
			{"uniq", "-fields", "proto,dport", "-values", "flows,bytes,packets", "-format", "csv"},
			{"filter", "tcp", "-count"},
		} {
			a, errs, code := qRun(t, append(slices.Clone(args), "-r", path)...)
			if code != 0 {
				t.Fatalf("%s %v: %s", name, args, errs)
			}
			b, _, _ := qRunIn(t, data, args...)
			if sortedLines(a) != sortedLines(b) {
				t.Fatalf("%s %v: file and stdin differ:\n%.300s\n---\n%.300s", name, args, a, b)
			}
		}
	}
}

// TestSniffLivePipe: sniffing a live pipe waits for the first line, not
// for 4 KB or the end of the stream.
func TestSniffLivePipe(t *testing.T) {
	for _, first := range []string{"# live\nsIP|dIP|sPort\n", "sIP,dIP\n", "\x00\x0a\x00\x30rest"} {
		pr, pw := io.Pipe()
		go pw.Write([]byte(first))
		got := make(chan []byte, 1)
		go func() { got <- qPeekHead(bufio.NewReader(pr)) }()
		select {
		case h := <-got:
			if qSniff(h) != qSniff([]byte(first)) {
				t.Errorf("%q: sniffed %d", first, qSniff(h))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q: sniffing waits for more input", first)
		}
		pw.Close()
	}
}

// BenchmarkPipelineInput measures a stats run reading its input from
// stdin as the binary stream (filter -w -) and as pipe text (-format text).
func BenchmarkPipelineInput(b *testing.B) {
	recs, text, _, _ := qTestData(b)
	bin, _, _ := qRun(b, "filter", "-r", text, "any", "-w", "-")
	txt, _, _ := qRun(b, "filter", "-r", text, "any", "-format", "text")
	for _, c := range []struct {
		name string
		data []byte
	}{{"ipfix", []byte(bin)}, {"text", []byte(txt)}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				if _, errs, code := qRunIn(b, c.data, "stats", "-fields", "dport", "-values", "bytes"); code != 0 {
					b.Fatal(errs)
				}
			}
			b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
