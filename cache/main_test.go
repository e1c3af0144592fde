package cache_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"c9cred/cache"
)

// The test binary doubles as a helper process (the os/exec pattern of the
// standard library's own tests): with helperEnv set, TestMain runs one
// helper action instead of the tests. A helper stands in for another
// c9cred process, which a goroutine cannot: flock and RLIMIT_FSIZE belong
// to a process.
const (
	helperEnv     = "C9CRED_CACHE_TEST_HELPER"
	helperDirEnv  = "C9CRED_CACHE_TEST_DIR"
	helperNameEnv = "C9CRED_CACHE_TEST_NAME"
)

func TestMain(m *testing.M) {
	switch mode := os.Getenv(helperEnv); mode {
	case "":
		os.Exit(m.Run())
	case "hold-lock", "hold-lock-then-sigkill":
		os.Exit(helperHoldLock(mode == "hold-lock-then-sigkill"))
	case "put-over-fsize-limit":
		os.Exit(helperPutOverFileSizeLimit())
	default:
		fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
		os.Exit(2)
	}
}

func helperCache() (*cache.Cache, string, error) {
	c, err := cache.New(cache.Options{Dir: os.Getenv(helperDirEnv), Key: testKey, KeyID: testKeyID})
	return c, os.Getenv(helperNameEnv), err
}

// helperHoldLock takes the lock, says so on stdout and then either holds it
// until its stdin closes (the parent kills it first) or SIGKILLs itself.
func helperHoldLock(selfKill bool) int {
	c, name, err := helperCache()
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	if _, err := c.Lock(context.Background(), name); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("locked")
	if selfKill {
		killSelf()
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	fmt.Println("stdin closed while holding the lock")
	return 1
}

// helperPutOverFileSizeLimit makes every write past 64 bytes fail (EFBIG,
// like a full disk would, and unlike a permission bit it binds root too),
// then tries to Put a large entry.
func helperPutOverFileSizeLimit() int {
	c, name, err := helperCache()
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	if err := setFileSizeLimit(64); err != nil {
		fmt.Println("error: setrlimit:", err)
		return 1
	}
	err = c.Put(name, cache.Entry{Expires: t0.Add(time.Hour), Payload: bytes.Repeat([]byte("N"), 4096)})
	if err == nil {
		fmt.Println("put succeeded")
		return 3
	}
	fmt.Println("put failed:", err)
	return 0
}

var (
	testKey    = bytes.Repeat([]byte{0x5a}, 32)
	testKeyID  = [8]byte{'k', 'e', 'y', '-', 'o', 'n', 'e', '1'}
	otherKey   = bytes.Repeat([]byte{0xa5}, 32)
	otherKeyID = [8]byte{'k', 'e', 'y', '-', 't', 'w', 'o', '2'}

	// t0 is the injected "now" of every test; nanoseconds on purpose.
	t0 = time.Date(2031, 3, 4, 5, 6, 7, 890, time.UTC)
)

// clock is an injectable, manually advanced clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *clock { return &clock{now: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newCache(t *testing.T, dir string, now func() time.Time) *cache.Cache {
	t.Helper()
	return newCacheWithKey(t, dir, testKey, testKeyID, now)
}

func newCacheWithKey(t *testing.T, dir string, key []byte, id [8]byte, now func() time.Time) *cache.Cache {
	t.Helper()
	if now == nil {
		now = newClock(t0).Now
	}
	c, err := cache.New(cache.Options{Dir: dir, Key: key, KeyID: id, Now: now})
	if err != nil {
		t.Fatalf("cache.New(%s): %v", dir, err)
	}
	return c
}
