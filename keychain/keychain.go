// Package keychain is c9cred's secret store. It keeps small secrets (the
// cache's data key, long-term access keys saved with `c9cred store`) in the
// operating system's keychain through go-keyring: the macOS Keychain, the
// freedesktop Secret Service (gnome-keyring, KWallet) or the Windows
// Credential Manager. Where no keychain answers, a 0600 file in a 0700
// directory stands in.
//
// Caveats:
//   - go-keyring calls can block (a locked collection that wants to prompt,
//     a D-Bus peer that never answers). Every call here runs under a deadline
//     (Options.Timeout, 2 s by default) and reports ErrUnavailable when it
//     passes; the blocked call is abandoned, which is safe in a short-lived
//     process.
//   - On Linux without DBUS_SESSION_BUS_ADDRESS the keychain is not touched
//     at all: the D-Bus library would otherwise autolaunch a dbus-daemon via
//     dbus-launch on every run and leave it behind.
//   - Keychain items are small (Windows allows 2560 bytes): store keys, not
//     payloads.
package keychain

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// Service is the keychain service name every c9cred item is filed under.
const Service = "c9cred"

// DefaultTimeout bounds each keychain call.
const DefaultTimeout = 2 * time.Second

var (
	// ErrNotFound means the store answered and has no such item.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable means the store could not be asked: no keychain, a
	// locked one, or no answer before the deadline.
	ErrUnavailable = errors.New("keychain unavailable")
)

// Mode selects the backend.
type Mode string

const (
	ModeAuto     Mode = "auto"     // keychain when one answers, else file
	ModeKeychain Mode = "keychain" // keychain or fail
	ModeFile     Mode = "file"     // 0600 files only
)

// ParseMode accepts the spellings of --cache that name a store.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeAuto, ModeKeychain, ModeFile:
		return m, nil
	}
	return "", fmt.Errorf("unknown keychain mode %q", s)
}

// Store keeps named secrets.
type Store interface {
	Get(ctx context.Context, account string) (string, error)
	Set(ctx context.Context, account, secret string) error
	Delete(ctx context.Context, account string) error
	// Kind names the backend actually in use: "keychain" or "file".
	Kind() string
}

// Options configures Open.
type Options struct {
	Mode Mode
	// Dir holds the file store (and is where the file fallback lives).
	Dir string
	// Timeout bounds each keychain call; DefaultTimeout when zero.
	Timeout time.Duration
	// Getenv reads the environment; os.Getenv when nil.
	Getenv func(string) string
	// Warn receives one line when auto mode falls back to the file store.
	Warn func(string)
}

// Open returns the store for opts.Mode, plus a short reason saying why that
// backend was chosen (for `doctor` and warnings).
func Open(opts Options) (Store, string) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	file := &FileStore{Dir: opts.Dir}
	switch opts.Mode {
	case ModeFile:
		return file, "--cache file"
	case ModeKeychain:
		if why := Unreachable(opts.Getenv); why != "" {
			return brokenStore{why: why}, why
		}
		return &OSStore{Timeout: opts.Timeout}, "--cache keychain"
	}
	if why := Unreachable(opts.Getenv); why != "" {
		return file, why
	}
	return &fallbackStore{primary: &OSStore{Timeout: opts.Timeout}, fallback: file, warn: opts.Warn}, "OS keychain"
}

// Unreachable says why the OS keychain cannot be used without even trying,
// or "" when it may be.
func Unreachable(getenv func(string) string) string {
	if runtime.GOOS == "linux" || runtime.GOOS == "freebsd" || runtime.GOOS == "openbsd" || runtime.GOOS == "netbsd" {
		if getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
			return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service"
		}
	}
	return ""
}

// OSStore is the operating system's keychain through go-keyring, with a
// deadline on every call.
type OSStore struct {
	Timeout time.Duration
}

func (s *OSStore) Kind() string { return "keychain" }

func (s *OSStore) Get(ctx context.Context, account string) (string, error) {
	var v string
	err := s.call(ctx, "read", func() error {
		var err error
		v, err = keyring.Get(Service, account)
		return err
	})
	return v, err
}

func (s *OSStore) Set(ctx context.Context, account, secret string) error {
	return s.call(ctx, "write", func() error { return keyring.Set(Service, account, secret) })
}

func (s *OSStore) Delete(ctx context.Context, account string) error {
	return s.call(ctx, "delete", func() error { return keyring.Delete(Service, account) })
}

func (s *OSStore) call(ctx context.Context, what string, fn func() error) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		switch {
		case err == nil:
			return nil
		case errors.Is(err, keyring.ErrNotFound):
			return ErrNotFound
		default:
			return fmt.Errorf("%w: %s failed: %v", ErrUnavailable, what, err)
		}
	case <-ctx.Done():
		return fmt.Errorf("%w: no answer to %s within %s (is the keychain locked?)", ErrUnavailable, what, timeout)
	}
}

// brokenStore is what --cache keychain gets when there is no keychain.
type brokenStore struct{ why string }

func (b brokenStore) Kind() string { return "keychain" }
func (b brokenStore) Get(context.Context, string) (string, error) {
	return "", fmt.Errorf("%w: %s", ErrUnavailable, b.why)
}
func (b brokenStore) Set(context.Context, string, string) error {
	return fmt.Errorf("%w: %s", ErrUnavailable, b.why)
}
func (b brokenStore) Delete(context.Context, string) error {
	return fmt.Errorf("%w: %s", ErrUnavailable, b.why)
}

// fallbackStore uses the keychain and falls back to files, with one
// warning, when the keychain is unavailable. Once it has fallen back it
// stays on the file store for the rest of the process. It is not safe for
// concurrent use; callers that share one serialise their calls.
type fallbackStore struct {
	primary  Store
	fallback Store
	warn     func(string)
	fell     bool
}

func (f *fallbackStore) Kind() string {
	if f.fell {
		return f.fallback.Kind()
	}
	return f.primary.Kind()
}

func (f *fallbackStore) use(err error) bool {
	if f.fell {
		return true
	}
	if errors.Is(err, ErrUnavailable) {
		f.fell = true
		if f.warn != nil {
			f.warn(fmt.Sprintf("%v; using the file store in %s instead", err, f.fallback.(*FileStore).Dir))
		}
		return true
	}
	return false
}

func (f *fallbackStore) Get(ctx context.Context, account string) (string, error) {
	if !f.fell {
		v, err := f.primary.Get(ctx, account)
		if !f.use(err) {
			return v, err
		}
	}
	return f.fallback.Get(ctx, account)
}

func (f *fallbackStore) Set(ctx context.Context, account, secret string) error {
	if !f.fell {
		err := f.primary.Set(ctx, account, secret)
		if !f.use(err) {
			return err
		}
	}
	return f.fallback.Set(ctx, account, secret)
}

func (f *fallbackStore) Delete(ctx context.Context, account string) error {
	if !f.fell {
		err := f.primary.Delete(ctx, account)
		if !f.use(err) {
			return err
		}
	}
	return f.fallback.Delete(ctx, account)
}

// DataKeyAccount is the keychain account of the cache's data key.
const DataKeyAccount = "cache-data-key"

// DataKey returns the 256-bit cache data key from s, creating and saving a
// random one when s has none. lock, when not nil, serialises creation
// across processes: without it, concurrent first runs would each mint a key
// and seal entries the others cannot open. A stored value that does not
// decode is never overwritten: that would destroy whatever wrote it.
func DataKey(ctx context.Context, s Store, lock func(context.Context) (func(), error)) ([]byte, error) {
	key, err := readDataKey(ctx, s)
	if !errors.Is(err, ErrNotFound) {
		return key, err
	}
	if lock != nil {
		unlock, err := lock(ctx)
		if err != nil {
			return nil, err
		}
		defer unlock()
		// Another process may have created it while we waited.
		key, err = readDataKey(ctx, s)
		if !errors.Is(err, ErrNotFound) {
			return key, err
		}
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate data key: %w", err)
	}
	if err := s.Set(ctx, DataKeyAccount, base64.StdEncoding.EncodeToString(key)); err != nil {
		return nil, fmt.Errorf("save data key: %w", err)
	}
	return key, nil
}

// ReadDataKey returns the data key in s without creating one: ErrNotFound
// when there is none.
func ReadDataKey(ctx context.Context, s Store) ([]byte, error) { return readDataKey(ctx, s) }

func readDataKey(ctx context.Context, s Store) ([]byte, error) {
	v, err := s.Get(ctx, DataKeyAccount)
	if err != nil {
		return nil, err
	}
	key, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if derr != nil || len(key) != 32 {
		return nil, fmt.Errorf("the cache data key in the %s store is not a base64 256-bit key; run `c9cred clear --all` to replace it", s.Kind())
	}
	return key, nil
}

// Fingerprint is a short, non-secret identifier of a data key.
func Fingerprint(key []byte) [8]byte {
	sum := sha256.Sum256(append([]byte("c9cred-key-id\x00"), key...))
	var fp [8]byte
	copy(fp[:], sum[:8])
	return fp
}
