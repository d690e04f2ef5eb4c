package synth

import "fmt"

// Fixed scenario addresses and ports, so that tests and demos can find each
// scenario's traffic. Documentation prefixes (RFC 5737, RFC 3849) play the
// outside world; 10.0.0.0/8 and 172.16.0.0/16 the inside.
const (
	SMTPClient     = "10.0.1.10"     // smtp: the mail client
	SMTPClientPort = 35000           // smtp: its source port, reused for the second server
	SMTPServer     = "192.0.2.25"    // smtp: the first server (port 25)
	SMTPServer2    = "198.51.100.25" // smtp: the second server (port 25)

	ScanSource  = "10.0.9.9"      // icmp-scan: the scanner
	ScanNetwork = "172.16.0.0/16" // icmp-scan: the network swept (.0.1 to .255.254)
	ScanIPLen   = 61              // icmp-scan: IP length of every echo request

	WebClient    = "10.0.2.20"    // web: the browser
	WebServer    = "203.0.113.80" // web: first of three servers (.80, .81, .82), port 80
	WebFirstPort = 49200          // web: first ephemeral port; each connection takes the next

	DownloadClient = "10.0.3.30"     // http-download: the client
	DownloadServer = "198.51.100.80" // http-download: the server (port 80)
	DownloadPort   = 52000           // http-download: first client port; downloads use 52000-52002

	VPNClient = "10.0.4.40"  // vpn: the client (UDP port 500)
	VPNServer = "192.0.2.50" // vpn: the gateway (UDP port 500)
	VPNPort   = 500          // vpn: source and destination port

	SSHClient     = "10.0.5.50"  // ssh: the client
	SSHClientPort = 51022        // ssh: its source port
	SSHServer     = "192.0.2.22" // ssh: the server (port 22)

	SuspiciousClient = "10.0.6.60"    // suspicious: the inside host
	SuspiciousPort   = 40001          // suspicious: the ephemeral port every session reuses
	SuspiciousServer = "203.0.113.66" // suspicious: the outside server (port 80)

	BeaconClient    = "10.0.7.70"     // beacon: the infected host
	BeaconServer    = "198.51.100.77" // beacon: its controller (port 443)
	BeaconFirstPort = 33000           // beacon: first source port; each attempt takes the next

	IPv6Client = "2001:db8:1::10" // ipv6: the client
	IPv6Server = "2001:db8:2::80" // ipv6: the web server (TCP 80)
	IPv6DNS    = "2001:db8:2::53" // ipv6: the DNS server (UDP 53)

	VLANClient    = "10.0.8.80"      // vlan: TCP client on VLAN 100
	VLANServer    = "192.0.2.180"    // vlan: TCP server (port 8080) on VLAN 100
	SyslogClient  = "10.0.8.81"      // vlan: syslog sender, same 5-tuple on VLANs 200 and 201
	SyslogServer  = "192.0.2.181"    // vlan: syslog collector (UDP 514)
	VLANTCP       = 100              // vlan: the TCP connection's VLAN
	VLANSyslogA   = 200              // vlan: first syslog VLAN
	VLANSyslogB   = 201              // vlan: second syslog VLAN
	FragmentSrc   = "10.0.8.90"      // fragments: UDP sender (port 45000)
	FragmentDst   = "192.0.2.190"    // fragments: UDP receiver (port 45001)
	FragmentSport = 45000            // fragments: source port
	FragmentDport = 45001            // fragments: destination port (fragments6 too)
	Fragment6Src  = "2001:db8:1::90" // fragments6: UDP sender (port 45000)
	Fragment6Dst  = "2001:db8:2::90" // fragments6: UDP receiver (port 45001)
)

// scenarioDef is one entry of the catalog.
type scenarioDef struct {
	name string
	desc string
	run  func(b *builder)
}

var catalog = []scenarioDef{
	{"smtp", fmt.Sprintf("08:00 SMTP: %s:%d -> %s:25, client ~5x the server's bytes, FIN close; "+
		"spurious RSTs (server then client) 30-60 s after the FINs, each its own flow; then two more "+
		"flows from the same client port to %s:25 (a refused SYN answered by RST-ACK, and a full session 60 s later)",
		SMTPClient, SMTPClientPort, SMTPServer, SMTPServer2), smtpScenario},
	{"icmp-scan", fmt.Sprintf("06:00-~19:40 ICMP echo scan: %s -> every host of %s, 2 echo requests per "+
		"target (one 2-packet flow each), %d-byte IP packets, 2-4 packets per second", ScanSource, ScanNetwork, ScanIPLen),
		scanScenario},
	{"web", fmt.Sprintf("09:00 web browsing: %s -> %s-.82:80, 12 pages about a minute apart, "+
		"each three connections within 20 s, rising ports from %d, SYN/SYN-ACK/ACK/GET/data/FIN",
		WebClient, WebServer, WebFirstPort), webScenario},
	{"http-download", fmt.Sprintf("11:00 three large downloads %s:%d-%d -> %s:80 (3000-6000 1500-byte "+
		"packets), each aborted by a client RST-ACK; a lone client RST 20-30 minutes after the last one",
		DownloadClient, DownloadPort, DownloadPort+2, DownloadServer), downloadScenario},
	{"vpn", fmt.Sprintf("00:10-23:50 quiet UDP VPN %s:%d <-> %s:%d: keep-alives 60-240 s apart in runs "+
		"of 3-5, runs separated by 400-1500 s (idle timeouts split the flows); the last keep-alive is larger",
		VPNClient, VPNPort, VPNServer, VPNPort), vpnScenario},
	{"ssh", fmt.Sprintf("12:00-15:20 SSH %s:%d <-> %s:22, PSH-ACK packets only, 2-40 s apart; the "+
		"1800 s active timeout rolls each direction into back-to-back flows", SSHClient, SSHClientPort, SSHServer),
		sshScenario},
	{"suspicious", fmt.Sprintf("02:00-05:00 TCP session %s:%d -> %s:80 at 40 packets per 30 minutes "+
		"(active timeout rollovers), FIN at 05:00; then from 05:30 to 11:00 new sessions 40-80 minutes "+
		"apart on the same port, ended alternately by FIN and by client RST", SuspiciousClient, SuspiciousPort,
		SuspiciousServer), suspiciousScenario},
	{"beacon", fmt.Sprintf("all day from 00:00:30: beacon %s -> %s:443, three SYNs 60 s apart (rising "+
		"ports from %d, each answered by RST-ACK), then 30 minutes of rest, repeated", BeaconClient,
		BeaconServer, BeaconFirstPort), beaconScenario},
	{"ipv6", fmt.Sprintf("13:00 IPv6: TCP [%s]:50600 -> [%s]:80 with FIN close; three DNS queries over UDP "+
		"from ports 53001-53003 to [%s]:53 and their answers", IPv6Client, IPv6Server, IPv6DNS), ipv6Scenario},
	{"vlan", fmt.Sprintf("14:00 802.1Q: TCP %s:51500 -> %s:8080 on VLAN %d; UDP syslog %s:514 -> %s:514 "+
		"with the same 5-tuple on VLANs %d and %d (two flows)", VLANClient, VLANServer, VLANTCP,
		SyslogClient, SyslogServer, VLANSyslogA, VLANSyslogB), vlanScenario},
	{"fragments", fmt.Sprintf("16:00 fragmented UDP: %s:%d -> %s:%d, datagrams of 3000-4000 bytes in three "+
		"IPv4 fragments alternating with whole 500-byte datagrams, and small replies", FragmentSrc,
		FragmentSport, FragmentDst, FragmentDport), fragmentScenario},
	{"fragments6", fmt.Sprintf("17:00 fragmented IPv6 UDP: [%s]:%d -> [%s]:%d, four datagrams of 2000-3000 "+
		"bytes, each in two or three fragments (a fragment header; 1232 data bytes in all but the last), and small replies",
		Fragment6Src, FragmentSport, Fragment6Dst, FragmentDport), fragment6Scenario},
}

// ScenarioNames lists every scenario Generate knows, in generation order.
func ScenarioNames() []string {
	names := make([]string, len(catalog))
	for i, d := range catalog {
		names[i] = d.name
	}
	return names
}

func findScenario(name string) (int, error) {
	for i, d := range catalog {
		if d.name == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%w %q (known: %v)", ErrUnknownScenario, name, ScenarioNames())
}
