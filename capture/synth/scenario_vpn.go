package synth

import "time"

// vpnScenario: a quiet IKE/IPsec tunnel, keep-alives in short runs split by
// gaps longer than the idle timeout; the last keep-alive is larger.
func vpnScenario(b *builder) {
	cli, srv := addr(VPNClient), addr(VPNServer)
	// First the times: runs of 3-5 keep-alives 60-240 s apart (a run stays
	// well inside the active timeout), runs 400-1500 s apart.
	var times []int64
	var newRun []bool
	end := b.at(23*time.Hour + 50*time.Minute)
	t := b.at(10*time.Minute + b.uniform(0, time.Minute))
	for t < end {
		for i, n := 0, b.intn(3, 5); i < n && t < end; i++ {
			times = append(times, t)
			newRun = append(newRun, i == 0)
			t = b.later(t, b.uniform(60*time.Second, 240*time.Second))
		}
		t = b.later(t, b.uniform(400*time.Second, 1500*time.Second))
	}
	var out, in *flowState
	for i, t := range times {
		if newRun[i] { // the gap was longer than the idle timeout
			out, in = nil, nil
		}
		payload := 32
		if i == len(times)-1 {
			payload = 300
		}
		b.udp(&out, t, cli, srv, VPNPort, VPNPort, 0, payload)
		b.udp(&in, b.later(t, b.uniform(20*time.Millisecond, 80*time.Millisecond)), srv, cli, VPNPort, VPNPort, 0, 32)
	}
}
