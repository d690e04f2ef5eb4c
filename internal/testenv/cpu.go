package testenv

import (
	"syscall"
	"time"
)

// CPUTime returns the user and system CPU time the process has used so
// far. Benchmarks report rates per CPU-second from it: on a machine shared
// with other work they hold steadier than rates per wall second. (Package
// flow's tests keep their own copy: testenv imports flow.)
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
