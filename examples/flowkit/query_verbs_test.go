package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowkit/flowkit/capture/synth"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
	"github.com/flowkit/flowkit/store"
)

// qTestData writes the synthesizer's records as text (title line, all
// fields), as a store file and as a repository, and returns the records
// and the paths.
func qTestData(t testing.TB) (recs []flow.Record, text, fkb, repoDir string) {
	t.Helper()
	tr, err := synth.Generate(synth.Config{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	recs = tr.Truth()
	if len(recs) < 100 {
		t.Fatalf("only %d synthesized records", len(recs))
	}
	dir := t.TempDir()
	var buf bytes.Buffer
	buf.WriteString(flowtext.FormatFields(flowtext.AllFields, "|") + "\n")
	w := flowtext.NewWriter(&buf, flowtext.AllFields, flowtext.Text)
	w.WriteBatch(recs)
	w.Flush()
	text = filepath.Join(dir, "flows.txt")
	if err := os.WriteFile(text, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	fkb = filepath.Join(dir, "flows.fkb")
	f, _ := os.Create(fkb)
	fw := store.NewFileWriter(f, 0)
	fw.WriteBatch(recs)
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	repoDir = filepath.Join(dir, "repo")
	os.Mkdir(repoDir, 0o755)
	repo, err := store.OpenRepo(repoDir)
	if err != nil {
		t.Fatal(err)
	}
	rw := repo.NewWriter(store.WriterOptions{BlockRows: 64})
	rw.WriteBatch(recs)
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	return recs, text, fkb, repoDir
}

func qRun(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestQueryVerbsFilterCount(t *testing.T) {
	recs, text, fkb, repo := qTestData(t)
	for _, c := range []struct {
		expr string
		ref  func(r *flow.Record) bool
	}{
		{"proto tcp and dst port 22", func(r *flow.Record) bool { return r.Protocol == 6 && r.DstPort == 22 }},
		{"icmp", func(r *flow.Record) bool { return r.Protocol == 1 }},
		{"bytes > 10k", func(r *flow.Record) bool { return r.Bytes > 10000 }},
		{"not any", func(r *flow.Record) bool { return false }},
	} {
		want := 0
		for i := range recs {
			if c.ref(&recs[i]) {
				want++
			}
		}
		for _, src := range [][]string{{"-r", text}, {"-r", fkb}, {"-repo", repo}} {
			out, errs, code := qRun(t, append([]string{"filter", c.expr, "-count"}, src...)...)
			if code != 0 || strings.TrimSpace(out) != strconv.Itoa(want) {
				t.Fatalf("filter %q %v: %q (want %d) %s exit %d", c.expr, src, out, want, errs, code)
			}
		}
	}
	_, errs, code := qRun(t, "filter", "-r", text, "proto tcp and dst port x", "-count")
	if code != 1 || !strings.Contains(errs, `column 24: expected a port number, found "x"`) {
		t.Fatalf("bad expression: exit %d, %q", code, errs)
	}
}

func TestQueryVerbsPassFailAndCutRoundTrip(t *testing.T) {
	recs, text, _, repo := qTestData(t)
	dir := t.TempDir()
	pass, fail := filepath.Join(dir, "pass.txt"), filepath.Join(dir, "fail.txt")
	if _, errs, code := qRun(t, "filter", "-r", text, "udp", "-w", pass, "-fail", fail); code != 0 {
		t.Fatal(errs)
	}
	np, _, _ := qRun(t, "filter", "-r", pass, "any", "-count")
	nf, _, _ := qRun(t, "filter", "-r", fail, "any", "-count")
	a, _ := strconv.Atoi(strings.TrimSpace(np))
	b, _ := strconv.Atoi(strings.TrimSpace(nf))
	if a+b != len(recs) || a == 0 {
		t.Fatalf("pass %d + fail %d != %d", a, b, len(recs))
	}
	// Export every field and read it back: the same text, line for line.
	out1, _, _ := qRun(t, "cut", "-r", text, "-fields", "all")
	file := filepath.Join(dir, "cut.txt")
	os.WriteFile(file, []byte(out1), 0o644)
	out2, _, _ := qRun(t, "cut", "-r", file, "-fields", "all")
	orig, _ := os.ReadFile(text)
	if out1 != out2 || out1 != string(orig) {
		t.Fatal("cut of all fields does not round-trip")
	}
	// The repository holds the same records (in its own order).
	out3, _, _ := qRun(t, "sort", "-repo", repo, "-fields", "stime,sip,dip,sport,dport", "-format", "text")
	out4, _, _ := qRun(t, "sort", "-r", text, "-fields", "stime,sip,dip,sport,dport", "-format", "text")
	if out3 != out4 || len(out3) < 1000 {
		t.Fatal("repository export differs from the text input")
	}
}

func TestQueryVerbsAggregates(t *testing.T) {
	recs, text, _, repo := qTestData(t)
	// uniq by protocol against a plain loop.
	type agg struct{ flows, bytes uint64 }
	ref := map[uint8]*agg{}
	for _, r := range recs {
		if ref[r.Protocol] == nil {
			ref[r.Protocol] = &agg{}
		}
		ref[r.Protocol].flows++
		ref[r.Protocol].bytes += r.Bytes
	}
	for _, src := range [][]string{{"-r", text}, {"-repo", repo}} {
		out, errs, code := qRun(t, append([]string{"uniq", "-fields", "proto", "-values", "flows,bytes", "-format", "csv"}, src...)...)
		if code != 0 {
			t.Fatal(errs)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if lines[0] != "proto,Records,Bytes" || len(lines)-1 != len(ref) {
			t.Fatalf("uniq output %q", out)
		}
		for _, l := range lines[1:] {
			var p uint8
			var f, b uint64
			fmt.Sscanf(strings.ReplaceAll(l, ",", " "), "%d %d %d", &p, &f, &b)
			if ref[p] == nil || ref[p].flows != f || ref[p].bytes != b {
				t.Fatalf("uniq row %q", l)
			}
		}
	}
	// stats: the first row is the largest.
	out, _, _ := qRun(t, "stats", "-r", text, "-fields", "proto", "-values", "bytes", "-top", "1", "-format", "csv")
	var best uint8
	var most uint64
	for p, a := range ref {
		if a.bytes > most {
			best, most = p, a.bytes
		}
	}
	if !strings.HasPrefix(strings.Split(out, "\n")[1], strconv.Itoa(int(best))+",") {
		t.Fatalf("stats top: %q", out)
	}
	// count: the records of all bins add up.
	out, _, _ = qRun(t, "count", "-r", text, "-bin", "60s", "-load", "spread", "-format", "csv")
	total := 0.0
	bins := strings.Split(strings.TrimSpace(out), "\n")[1:]
	for _, l := range bins {
		v, _ := strconv.ParseFloat(strings.Split(l, ",")[1], 64)
		total += v
	}
	// Each bin is printed rounded to two decimals.
	if slack := 0.005 * float64(len(bins)); total < float64(len(recs))-slack || total > float64(len(recs))+slack {
		t.Fatalf("count bins add up to %v, want %d", total, len(recs))
	}
}

func TestQueryVerbsSets(t *testing.T) {
	recs, text, _, repo := qTestData(t)
	dir := t.TempDir()
	src, dst, both := filepath.Join(dir, "s.set"), filepath.Join(dir, "d.set"), filepath.Join(dir, "b.set")
	if _, errs, code := qRun(t, "set", "-r", text, "-field", "sip", "-o", src); code != 0 {
		t.Fatal(errs)
	}
	qRun(t, "set", "-repo", repo, "-field", "dip", "-o", dst)
	qRun(t, "set", "-op", "union", "-o", both, src, dst)
	out, _, _ := qRun(t, "set", "-cat", both, "-count")
	seen := map[flow.Addr]bool{}
	for _, r := range recs {
		seen[r.Src], seen[r.Dst] = true, true
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if n, _ := strconv.Atoi(lines[len(lines)-1]); n != len(seen) || len(lines) != len(seen)+1 {
		t.Fatalf("union has %s addresses, want %d", lines[len(lines)-1], len(seen))
	}
	// Flows whose source is in the set: all of them.
	out, _, _ = qRun(t, "filter", "-r", text, "src ip in @"+src, "-count")
	if strings.TrimSpace(out) != strconv.Itoa(len(recs)) {
		t.Fatalf("src in own set: %s", out)
	}
}
