// Package cache is c9cred's session cache: one sealed file per request
// under the user's cache directory, a freshness policy, and a cross-process
// single flight so that N concurrent cold invocations make one upstream call.
//
// Entries are sealed with AES-256-GCM under a data key that the caller keeps
// in the OS keychain; the entry's file name is the additional data, so an
// entry copied to another name does not open. The cache never sees what it
// stores: the payload is opaque bytes plus an expiry time.
//
// Caveats:
//   - A corrupt, truncated, foreign or undecryptable entry is a miss. It is
//     replaced by the next successful refresh and never deleted on a read.
//   - Freshness is judged by the local clock. A clock that is off by minutes
//     shifts the refresh point by as much; the default 15-minute window
//     absorbs small skew.
//   - The lock is flock(2) (LockFileEx on Windows): the kernel releases it
//     when its holder dies, so a killed refresher never wedges the others.
package cache

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"c9cred/internal/securefs"
)

// Entry is what the cache keeps for one request.
type Entry struct {
	// Expires is when the payload stops being valid. An entry without it is
	// never cached.
	Expires time.Time
	// Written is when the entry was stored (set by Put).
	Written time.Time
	// Payload is opaque to the cache.
	Payload []byte
}

// ErrMiss means there is no usable entry.
var ErrMiss = errors.New("cache miss")

// Options configures a Cache.
type Options struct {
	// Dir holds the entries; created 0700 when missing.
	Dir string
	// Key is the 32-byte AES-256 data key.
	Key []byte
	// KeyID identifies Key without revealing it; entries sealed under
	// another key are misses rather than decryption failures.
	KeyID [8]byte
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Cache is a directory of sealed entries.
type Cache struct {
	dir   string
	aead  cipher.AEAD
	keyID [8]byte
	now   func() time.Time
}

// New opens (creating if needed) the cache directory.
func New(opts Options) (*Cache, error) {
	if len(opts.Key) != 32 {
		return nil, fmt.Errorf("cache: data key must be 32 bytes, got %d", len(opts.Key))
	}
	block, err := aes.NewCipher(opts.Key)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	if err := securefs.EnsureDir(opts.Dir); err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Cache{dir: opts.Dir, aead: aead, keyID: opts.KeyID, now: now}, nil
}

// Dir is the cache directory.
func (c *Cache) Dir() string { return c.dir }

// Name derives an entry name from the parts of a request. Callers pass
// only non-secret values; the name is a hash, so it reveals none of them.
func Name(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		// Length-prefix each part so ("ab","c") and ("a","bc") differ.
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:20])
}

const (
	magic       = "C9C1"
	headerLen   = len(magic) + 8 // magic + key id
	entrySuffix = ".entry"
	lockSuffix  = ".lock"
)

func (c *Cache) path(name string) string { return filepath.Join(c.dir, name+entrySuffix) }

// Get returns the entry stored under name, or ErrMiss (wrapped with the
// reason) when there is none or it cannot be opened.
func (c *Cache) Get(name string) (Entry, error) {
	b, err := os.ReadFile(c.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, ErrMiss
	}
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %v", ErrMiss, err)
	}
	return c.open(name, b)
}

func (c *Cache) open(name string, b []byte) (Entry, error) {
	ns := c.aead.NonceSize()
	if len(b) < headerLen+ns+c.aead.Overhead()+16 || string(b[:len(magic)]) != magic {
		return Entry{}, fmt.Errorf("%w: entry %s is not a c9cred entry", ErrMiss, name)
	}
	if string(b[len(magic):headerLen]) != string(c.keyID[:]) {
		return Entry{}, fmt.Errorf("%w: entry %s was sealed under another data key", ErrMiss, name)
	}
	nonce := b[headerLen : headerLen+ns]
	plain, err := c.aead.Open(nil, nonce, b[headerLen+ns:], []byte(name))
	if err != nil || len(plain) < 16 {
		return Entry{}, fmt.Errorf("%w: entry %s does not decrypt", ErrMiss, name)
	}
	e := Entry{
		Expires: time.Unix(0, int64(binary.BigEndian.Uint64(plain[0:8]))),
		Written: time.Unix(0, int64(binary.BigEndian.Uint64(plain[8:16]))),
		Payload: plain[16:],
	}
	return e, nil
}

// Put seals e and replaces the entry under name atomically. An entry
// without an expiry is refused: it could never be fresh.
func (c *Cache) Put(name string, e Entry) error {
	if e.Expires.IsZero() {
		return fmt.Errorf("cache: entry %s has no expiry", name)
	}
	if e.Written.IsZero() {
		e.Written = c.now()
	}
	plain := make([]byte, 16+len(e.Payload))
	binary.BigEndian.PutUint64(plain[0:8], uint64(e.Expires.UnixNano()))
	binary.BigEndian.PutUint64(plain[8:16], uint64(e.Written.UnixNano()))
	copy(plain[16:], e.Payload)
	out := make([]byte, headerLen, headerLen+c.aead.NonceSize()+len(plain)+c.aead.Overhead())
	copy(out, magic)
	copy(out[len(magic):], c.keyID[:])
	nonce := make([]byte, c.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	out = append(out, nonce...)
	out = c.aead.Seal(out, nonce, plain, []byte(name))
	clear(plain)
	return securefs.WriteFile(c.path(name), out)
}

// Delete removes the entry under name (not its lock file).
func (c *Cache) Delete(name string) error {
	err := os.Remove(c.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Names lists the entry names present in the cache directory.
func (c *Cache) Names() ([]string, error) {
	des, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, de := range des {
		if n, ok := strings.CutSuffix(de.Name(), entrySuffix); ok && !strings.HasPrefix(n, ".") {
			out = append(out, n)
		}
	}
	return out, nil
}

// Policy says when an entry may be served.
type Policy struct {
	// Window: an entry is served only while more than Window remains before
	// it expires.
	Window time.Duration
	// Force skips the first cache read: the caller wants new credentials.
	Force bool
	// Stale, when positive, lets Fetch serve an entry that is inside the
	// window (but has at least Stale left) if the refresh fails with an
	// error that Transient accepts. Never with Force: whoever forces a
	// refresh wants to see it fail.
	Stale time.Duration
	// Transient says whether a refresh error is worth riding out on a stale
	// entry (an outage) rather than reported (a configuration error). Nil
	// means every error is.
	Transient func(error) bool
}

// Fresh reports whether e may be served at now under window.
func Fresh(e Entry, now time.Time, window time.Duration) bool {
	return !e.Expires.IsZero() && e.Expires.Sub(now) > window
}

// Result says how Fetch got its entry.
type Result struct {
	Hit bool // served from the cache
	// Warning, when set, is a problem that did not stop Fetch: the entry
	// could not be saved, or a stale entry was served after a failed refresh.
	Warning string
}

// Fetch returns a fresh entry for name: from the cache when it holds one,
// otherwise from refresh, run by at most one process at a time per name.
// A refresh result that is itself fresh is stored.
func (c *Cache) Fetch(ctx context.Context, name string, p Policy, refresh func(context.Context) (Entry, error)) (Entry, Result, error) {
	start := c.now()
	if !p.Force {
		if e, err := c.Get(name); err == nil && Fresh(e, start, p.Window) {
			return e, Result{Hit: true}, nil
		}
	}
	unlock, err := c.Lock(ctx, name)
	if err != nil {
		return Entry{}, Result{}, err
	}
	defer unlock()

	old, oldErr := c.Get(name)
	if oldErr == nil && Fresh(old, c.now(), p.Window) && (!p.Force || old.Written.After(start)) {
		// Another process refreshed while we waited for the lock.
		return old, Result{Hit: true}, nil
	}
	e, err := refresh(ctx)
	if err != nil {
		transient := p.Transient == nil || p.Transient(err)
		if oldErr == nil && !p.Force && transient && p.Stale > 0 && old.Expires.Sub(c.now()) > p.Stale {
			left := old.Expires.Sub(c.now()).Round(time.Second)
			return old, Result{Hit: true, Warning: fmt.Sprintf("refresh failed (%v); serving cached credentials that expire in %s", err, left)}, nil
		}
		return Entry{}, Result{}, err
	}
	var res Result
	if Fresh(e, c.now(), p.Window) {
		if perr := c.Put(name, e); perr != nil {
			res.Warning = fmt.Sprintf("credentials not cached: %v", perr)
		}
	}
	return e, res, nil
}
