// Package examples holds thin programs that show flowkit's packages at
// work, each in a folder of its own:
//
//   - flowkit: the command-line program, one verb per capability
//     (meter, collect, import, info, filter, cut, count, uniq, stats, sort,
//     set, plot, detect), in the manner of SiLK's rw* tools;
//   - demo: the whole sensor-to-analysis chain on synthesized traffic;
//   - synth: writes the synthesizer's pcap files and their ground truth;
//   - sensor: live or pcap packets to IPFIX (capture, flow table, exporter);
//   - collector: IPFIX and NetFlow to a repository (collector, store writer).
//
// sensor and collector are each under 150 lines, to be read as guides to
// embedding the SDK.
package examples
