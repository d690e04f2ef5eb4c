package ipfix

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowkit/flowkit/internal/testenv"

	"github.com/flowkit/flowkit/flow"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// needPeer returns a peer program's path (skip, or fail under CI=true).
func needPeer(t *testing.T, name string) string { return testenv.NeedPeer(t, name) }

// writeExportPcap writes IPFIX messages as UDP datagrams 127.0.0.1 ->
// 127.0.0.1:4739 into a pcap file.
func writeExportPcap(t *testing.T, path string, msgs [][]byte) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{0, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(127, 0, 0, 1), DstIP: net.IPv4(127, 0, 0, 1)}
		udp := &layers.UDP{SrcPort: 40000, DstPort: 4739}
		udp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(m)); err != nil {
			t.Fatal(err)
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000+int64(i), 0), CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}
		if err := w.WritePacket(ci, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
}

// interopRecords returns records of every shape with values peers print.
func interopRecords(n int) []flow.Record {
	rng := rand.New(rand.NewPCG(11, 12))
	out := make([]flow.Record, n)
	for i := range out {
		r := randomRecord(rng, i%2 == 1, i%4 >= 2, true)
		r.Start = 1700000000_000_000_000 + int64(i)*1e9 + int64(rng.IntN(1000))*1e6
		r.End = r.Start + int64(rng.IntN(100000))*1e6
		r.Packets, r.Bytes = uint64(rng.IntN(1e6)+1), uint64(rng.IntN(1e9)+40)
		r.Protocol = []uint8{6, 17}[i%2]
		r.VLAN = uint16(rng.IntN(4095))
		if r.RevPackets != 0 {
			r.RevPackets, r.RevBytes = uint64(rng.IntN(1e6)+1), uint64(rng.IntN(1e9)+40)
		}
		out[i] = r
	}
	return out
}

func encodeAll(enc *Encoder, recs []flow.Record) [][]byte {
	now := time.Unix(1700001000, 0)
	msgs := [][]byte{enc.AppendTemplateMessage(nil, now)}
	for rest := recs; len(rest) > 0; {
		m, n := enc.AppendMessage(nil, now, rest)
		msgs = append(msgs, m)
		rest = rest[n:]
	}
	return msgs
}

// TestTsharkDecodesOurExport: Wireshark's dissector reads our messages
// (both time resolutions, all four shapes) with no expert info, and the
// values it prints are the records we sent.
func TestTsharkDecodesOurExport(t *testing.T) {
	tshark := needPeer(t, "tshark")
	for _, ns := range []bool{false, true} {
		t.Run(fmt.Sprintf("nanoseconds=%v", ns), func(t *testing.T) {
			recs := interopRecords(200)
			enc := Encoder{MaxMessageSize: 1400, Nanoseconds: ns}
			path := filepath.Join(t.TempDir(), "export.pcap")
			writeExportPcap(t, path, encodeAll(&enc, recs))
			out, err := exec.Command(tshark, "-r", path, "-q", "-z", "expert").CombinedOutput()
			if err != nil {
				t.Fatalf("tshark: %v\n%s", err, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if strings.Contains(line, "Error") || strings.Contains(line, "Warn") || strings.Contains(line, "Malformed") {
					t.Fatalf("tshark expert info: %s", out)
				}
			}
			fields := []string{"cflow.srcaddr", "cflow.srcaddrv6", "cflow.dstaddr", "cflow.dstaddrv6", "cflow.srcport",
				"cflow.dstport", "cflow.protocol", "cflow.packets", "cflow.octets", "cflow.abstimestart", "cflow.abstimeend",
				"cflow.inputint", "cflow.outputint", "cflow.srcas", "cflow.dstas", "cflow.vlanid"}
			args := []string{"-r", path, "-T", "fields", "-E", "aggregator=;"}
			for _, f := range fields {
				args = append(args, "-e", f)
			}
			out, err = exec.Command(tshark, args...).Output()
			if err != nil {
				t.Fatal(err)
			}
			got := make([][]string, len(fields))
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				cols := strings.Split(line, "\t")
				for i := range fields {
					if i < len(cols) && cols[i] != "" {
						got[i] = append(got[i], strings.Split(cols[i], ";")...)
					}
				}
			}
			tm := func(ns int64) string {
				return time.Unix(0, ns).UTC().Format("Jan 2, 2006 15:04:05.000000000 UTC")
			}
			want := make([][]string, len(fields))
			for _, r := range recs {
				if r.Src.Is4() && r.Dst.Is4() {
					want[0] = append(want[0], r.Src.String())
					want[2] = append(want[2], r.Dst.String())
				} else {
					want[1] = append(want[1], r.Src.String())
					want[3] = append(want[3], r.Dst.String())
				}
				u := func(i int, v uint64) { want[i] = append(want[i], strconv.FormatUint(v, 10)) }
				u(4, uint64(r.SrcPort))
				u(5, uint64(r.DstPort))
				u(6, uint64(r.Protocol))
				u(7, r.Packets)
				u(8, r.Bytes)
				if r.IsBiflow() {
					u(7, r.RevPackets)
					u(8, r.RevBytes)
				}
				want[9] = append(want[9], tm(r.Start))
				if ns && r.IsBiflow() {
					want[9] = append(want[9], tm(r.Start+int64(r.RevStartOffset)))
				}
				want[10] = append(want[10], tm(r.End))
				u(11, uint64(r.Input))
				u(12, uint64(r.Output))
				u(13, uint64(r.SrcAS))
				u(14, uint64(r.DstAS))
				u(15, uint64(r.VLAN))
			}
			for i, f := range fields {
				if len(got[i]) != len(want[i]) {
					t.Errorf("%s: tshark %d values, want %d", f, len(got[i]), len(want[i]))
					continue
				}
				for j := range got[i] {
					if got[i][j] != want[i][j] && !sameWithin1ns(got[i][j], want[i][j]) {
						t.Errorf("%s value %d: tshark %q, want %q", f, j, got[i][j], want[i][j])
						break
					}
				}
			}
		})
	}
}

// freePort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// runNfcapd starts nfcapd on 127.0.0.1:port writing into dir; stop() ends
// it (nfcapd writes its file on exit) and returns nfdump's CSV rows.
func runNfcapd(t *testing.T, port int) (stop func() []nfdumpRow) {
	nfcapd := needPeer(t, "nfcapd")
	nfdump := needPeer(t, "nfdump")
	dir := t.TempDir()
	cmd := exec.Command(nfcapd, "-w", dir, "-p", strconv.Itoa(port), "-b", "127.0.0.1")
	var logb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logb, &logb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // let it bind
	return func() []nfdumpRow {
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		csvOut := filepath.Join(dir, "out.csv")
		c := exec.Command(nfdump, "-R", dir, "-o", "csv", "-q")
		c.Env = append(os.Environ(), "TZ=UTC")
		out, err := c.Output()
		if err != nil {
			t.Fatalf("nfdump: %v\nnfcapd log:\n%s", err, logb.String())
		}
		// readNfdumpCSV expects a header line.
		hdr := "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das\n"
		if bytes.HasPrefix(out, []byte("ts,")) {
			hdr = ""
		}
		os.WriteFile(csvOut, append([]byte(hdr), out...), 0o644)
		return readNfdumpCSV(t, csvOut)
	}
}

// TestNfcapdCollectsOurExport: nfdump's collector stores our UDP export
// (IPv4 and IPv6) as the records we sent.
func TestNfcapdCollectsOurExport(t *testing.T) {
	port := freePort(t)
	stop := runNfcapd(t, port)
	recs := interopRecords(300)
	for i := range recs {
		recs[i].RevPackets, recs[i].RevBytes = 0, 0 // nfdump 1.7 has no RFC 5103 reverse counters
		if recs[i].Protocol != 6 {
			recs[i].Flags = 0
		}
	}
	exp, err := Dial(context.Background(), fmt.Sprintf("udp://127.0.0.1:%d", port), ExporterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(recs); i += 50 {
		if err := exp.WriteBatch(recs[i : i+50]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	exp.Close()
	rows := stop()
	key := func(k string, pk, by uint64, ts time.Time, td float64, flg string) string {
		return fmt.Sprintf("%s|%d|%d|%s|%.3f|%s", k, pk, by, ts.Format(time.DateTime), td, flg)
	}
	want := map[string]int{}
	for i := range recs {
		r := &recs[i]
		want[key(recKey(r), r.Packets, r.Bytes, r.StartTime().Truncate(time.Second), r.Duration().Seconds(), nfdumpFlags(r.Flags))]++
	}
	got := map[string]int{}
	for _, row := range rows {
		got[key(row.key, row.pkts, row.bytes, row.ts, row.td, row.flags)]++
	}
	if len(rows) != len(recs) {
		t.Fatalf("nfdump has %d records, sent %d", len(rows), len(recs))
	}
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("sent %q x%d, nfdump has x%d (e.g. %v)", k, n, got[k], rows[0])
		}
	}
}

// TestSoftflowdLive: softflowd exports a real capture to us over loopback
// (IPFIX with absolute times, and NetFlow v9); our decoder's records equal
// what nfdump stores from the same datagrams.
func TestSoftflowdLive(t *testing.T) {
	softflowd := needPeer(t, "softflowd")
	pcap := filepath.Join(dataDir(t), "..", "pcap", "zeek_ssh.pcap")
	for _, v := range []string{"10", "9"} {
		t.Run("v"+v, func(t *testing.T) {
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			args := []string{"-d", "-c", "none", "-r", pcap, "-v", v, "-n", pc.LocalAddr().String(),
				"-t", "maxlife=1800", "-t", "general=3600", "-t", "tcp=3600"}
			if v == "10" {
				args = append(args, "-A", "milli")
			}
			cmd := exec.Command(softflowd, args...)
			var logb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &logb, &logb
			var dgrams [][]byte
			got := make(chan struct{})
			go func() {
				defer close(got)
				buf := make([]byte, 65535)
				for {
					pc.SetReadDeadline(time.Now().Add(2 * time.Second))
					n, _, err := pc.ReadFrom(buf)
					if err != nil {
						return
					}
					dgrams = append(dgrams, append([]byte(nil), buf[:n]...))
				}
			}()
			if err := cmd.Run(); err != nil {
				t.Fatalf("softflowd: %v\n%s", err, logb.String())
			}
			<-got
			if len(dgrams) == 0 {
				t.Fatalf("no datagrams from softflowd\n%s", logb.String())
			}
			ours, _ := decodeAll(t, NewDecoder(), dgrams)
			// Replay the same datagrams to nfcapd.
			port := freePort(t)
			stop := runNfcapd(t, port)
			conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range dgrams {
				conn.Write(d)
				time.Sleep(time.Millisecond)
			}
			conn.Close()
			rows := stop()
			if len(rows) != len(ours) || len(ours) == 0 {
				t.Fatalf("flowkit %d records, nfdump %d", len(ours), len(rows))
			}
			key := func(k string, pk, by uint64, td float64, flg string) string {
				return fmt.Sprintf("%s|%d|%d|%.3f|%s", k, pk, by, td, flg)
			}
			want := map[string]int{}
			for _, row := range rows {
				want[key(row.key, row.pkts, row.bytes, row.td, row.flags)]++
			}
			var diffs []string
			for i := range ours {
				r := &ours[i]
				k := key(recKey(r), r.Packets, r.Bytes, r.Duration().Seconds(), nfdumpFlags(r.Flags))
				if want[k] == 0 {
					diffs = append(diffs, k)
				}
				want[k]--
			}
			sort.Strings(diffs)
			if len(diffs) > 0 {
				t.Fatalf("%d flowkit records not in nfdump's output, e.g. %v", len(diffs), diffs[:min(3, len(diffs))])
			}
			if v == "10" {
				// Absolute times: starts agree to nfdump's printed second.
				starts := map[string]int{}
				for _, row := range rows {
					starts[row.key+row.ts.Format(time.DateTime)]++
				}
				for i := range ours {
					k := recKey(&ours[i]) + ours[i].StartTime().Format(time.DateTime)
					if starts[k] == 0 {
						t.Fatalf("start of %v not in nfdump's output", ours[i].String())
					}
					starts[k]--
				}
			}
		})
	}
}

// sameWithin1ns compares two tshark times: Wireshark converts the NTP
// fraction of dateTimeNanoseconds with floating point, which can print
// one nanosecond less than the exact value flowkit encodes and decodes.
func sameWithin1ns(a, b string) bool {
	const layout = "Jan 2, 2006 15:04:05.000000000 UTC"
	ta, err1 := time.Parse(layout, a)
	tb, err2 := time.Parse(layout, b)
	if err1 != nil || err2 != nil {
		return false
	}
	d := ta.Sub(tb)
	return d >= -time.Nanosecond && d <= time.Nanosecond
}
