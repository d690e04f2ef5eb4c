package main

// sections lists the comparisons in the order the table shows them. The
// data section comes first: the others read the corpus, the repository and
// the nfdump files it leaves in env.
var sections = []section{
	{name: "data: corpus, repository, nfdump files", needs: []string{"import", "info"}, run: prepareData},
	{name: "bytes per flow", needs: []string{"import"}, run: bytesPerFlow},
	{name: "full read", run: fullRead},
	{name: "filters", needs: []string{"filter"}, run: filters},
	{name: "top N", needs: []string{"stats"}, run: topN},
	{name: "group-by and time bins", needs: []string{"uniq", "count"}, run: groupBy},
	{name: "sort", needs: []string{"sort"}, run: sortByStart},
	{name: "pcap -> flows", needs: []string{"meter"}, run: meterVsSoftflowd},
	{name: "pcap -> flows, real captures", needs: []string{"meter", "collect"}, run: meterRealCaptures},
	{name: "IPFIX decode", run: ipfixDecode},
	{name: "collector ingest", needs: []string{"collect"}, run: collectorIngest},
}
