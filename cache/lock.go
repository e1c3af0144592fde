package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ErrLockTimeout means another process held the entry's lock for longer
// than the caller's context allowed.
var ErrLockTimeout = errors.New("another c9cred is refreshing these credentials")

// Lock takes the exclusive cross-process lock for name, waiting until ctx
// is done. The returned function releases it. The kernel releases the lock
// if this process dies, so a killed holder never blocks the others.
func (c *Cache) Lock(ctx context.Context, name string) (func(), error) {
	return LockFile(ctx, filepath.Join(c.dir, name+lockSuffix))
}

// LockFile takes an exclusive lock on path (created 0600 if missing),
// waiting until ctx is done.
func LockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cache lock: %w", err)
	}
	delay := 2 * time.Millisecond
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("cache lock %s: %w", path, err)
		}
		if ok {
			return func() { unlock(f); f.Close() }, nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("%w (waited for %s): %w", ErrLockTimeout, path, ctx.Err())
		case <-t.C:
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}
