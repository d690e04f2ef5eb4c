package ipfix

import "time"

func durMs(ms uint64) time.Duration { return time.Duration(ms) * time.Millisecond }
func durNs(ns int64) time.Duration  { return time.Duration(ns) }
