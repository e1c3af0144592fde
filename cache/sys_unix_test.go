//go:build unix

package cache_test

import (
	"os"
	"syscall"
)

const canLimitFileSize = true

// setFileSizeLimit sets RLIMIT_FSIZE for this process. The Go runtime
// ignores SIGXFSZ, so a write past the limit fails with EFBIG.
func setFileSizeLimit(n uint64) error {
	return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n})
}

// killSelf dies the way an OOM-killed or kill -9'ed c9cred would: no
// deferred function runs, no lock is released by the process itself.
func killSelf() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
