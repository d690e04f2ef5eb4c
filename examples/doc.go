// Package examples holds thin programs that show flowkit's packages at
// work, each in a folder of its own:
//
//   - flowkit: the command-line program, one verb per capability
//     (meter, collect, import, info, filter, cut, count, uniq, stats, sort,
//     set, plot, detect), in the manner of SiLK's rw* tools;
//   - demo: the whole sensor-to-analysis chain on synthesized traffic;
//   - synth: writes the synthesizer's pcap files and their ground truth.
//
// Planned: sensor (live or pcap to IPFIX) and collector (IPFIX/NetFlow to
// a repository), each short enough to read as an embedding guide.
package examples
