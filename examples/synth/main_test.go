package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/flowkit/flowkit/capture/synth"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
)

// TestWritesPcapAndTruth runs the command and reads both files back.
func TestWritesPcapAndTruth(t *testing.T) {
	dir := t.TempDir()
	pcapPath, truthPath := filepath.Join(dir, "out.pcap"), filepath.Join(dir, "truth.txt")
	var stderr bytes.Buffer
	err := run([]string{"-o", pcapPath, "-truth", truthPath, "-seed", "4", "-scenario", "smtp,vlan,fragments"}, io.Discard, &stderr)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	tr, err := synth.Generate(synth.Config{Seed: 4, Scenarios: []string{"smtp", "vlan", "fragments"}})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := tr.WritePcap(&want); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(pcapPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("the command's pcap differs from Generate's")
	}
	if _, err := pcapgo.NewReader(bytes.NewReader(got)); err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(truthPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fields, err := flowtext.ParseFields(TruthFields)
	if err != nil {
		t.Fatal(err)
	}
	var rerr error
	var recs []flow.Record
	for r := range flow.Records(flowtext.NewReader(f, fields, flowtext.Text), &rerr) {
		recs = append(recs, r)
	}
	if rerr != nil {
		t.Fatal(rerr)
	}
	truth := tr.Truth()
	if len(recs) != len(truth) {
		t.Fatalf("%d truth lines, want %d", len(recs), len(truth))
	}
	for i := range recs {
		if recs[i] != truth[i] {
			t.Fatalf("line %d: read %v, want %v", i+1, &recs[i], &truth[i])
		}
	}
}

func TestBulkAndList(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"-list"}, &out, io.Discard); err != nil || !bytes.Contains(out.Bytes(), []byte("beacon")) {
		t.Fatalf("-list: %v: %s", err, out.String())
	}
	p := filepath.Join(dir, "bulk.pcap")
	if err := run([]string{"-o", p, "-bulk", "5000", "-flows", "100", "-snaplen", "128"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Size() < 5000*(16+54) {
		t.Fatalf("bulk file: %v %v", fi, err)
	}
	if err := run([]string{"-scenario", "smtp"}, io.Discard, io.Discard); err == nil {
		t.Fatal("missing -o accepted")
	}
	if err := run([]string{"-o", filepath.Join(dir, "x.pcap"), "-scenario", "nope"}, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown scenario accepted")
	}
}
