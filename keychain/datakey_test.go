package keychain_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"c9cred/cache"
	"c9cred/keychain"
)

// countingStore counts the writes that reach the store under it.
type countingStore struct {
	keychain.Store
	sets atomic.Int32
}

func (c *countingStore) Set(ctx context.Context, account, secret string) error {
	c.sets.Add(1)
	return c.Store.Set(ctx, account, secret)
}

func TestDataKeyIsCreatedOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	s := &countingStore{Store: &keychain.FileStore{Dir: dir}}
	ctx := t.Context()
	locks := 0
	lock := func(context.Context) (func(), error) { locks++; return func() {}, nil }

	key, err := keychain.DataKey(ctx, s, lock)
	if err != nil {
		t.Fatalf("first DataKey: %v", err)
	}
	if len(key) != 32 {
		t.Fatalf("key is %d bytes, want 32", len(key))
	}
	if bytes.Equal(key, make([]byte, 32)) {
		t.Fatal("key is all zeros")
	}
	if n := s.sets.Load(); n != 1 {
		t.Errorf("first DataKey wrote %d times, want 1", n)
	}
	stored, err := s.Get(ctx, keychain.DataKeyAccount)
	if err != nil || stored != base64.StdEncoding.EncodeToString(key) {
		t.Errorf("stored value = %q, %v; want the key in base64", stored, err)
	}

	again, err := keychain.DataKey(ctx, s, lock)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second DataKey = %x, %v; want the same key", again, err)
	}
	// The next process: a new store value on the same dir.
	next, err := keychain.DataKey(ctx, &keychain.FileStore{Dir: dir}, lock)
	if err != nil || !bytes.Equal(next, key) {
		t.Fatalf("DataKey from a new store = %x, %v; want the same key", next, err)
	}
	if n := s.sets.Load(); n != 1 {
		t.Errorf("DataKey wrote %d times in total, want 1", n)
	}
	if locks != 1 {
		t.Errorf("lock taken %d times, want 1 (only to create the key)", locks)
	}
}

func TestDataKeyAcceptsStoredKeyWithSurroundingWhitespace(t *testing.T) {
	want := bytes.Repeat([]byte{7}, 32)
	s := &keychain.FileStore{Dir: t.TempDir()}
	if err := s.Set(t.Context(), keychain.DataKeyAccount, " "+base64.StdEncoding.EncodeToString(want)+"\n"); err != nil {
		t.Fatal(err)
	}
	got, err := keychain.DataKey(t.Context(), s, nil)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("DataKey = %x, %v; want %x", got, err, want)
	}
}

func TestDataKeyRefusesMalformedStoredValueAndKeepsIt(t *testing.T) {
	tests := []struct {
		name, stored string
	}{
		{"not base64", "this is not base64!"},
		{"16-byte key", base64.StdEncoding.EncodeToString(make([]byte, 16))},
		{"33-byte key", base64.StdEncoding.EncodeToString(make([]byte, 33))},
		{"url-safe base64 of 32 bytes", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))},
		{"empty value", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &countingStore{Store: &keychain.FileStore{Dir: t.TempDir()}}
			if err := s.Set(t.Context(), keychain.DataKeyAccount, tt.stored); err != nil {
				t.Fatal(err)
			}
			s.sets.Store(0)
			lock := func(context.Context) (func(), error) { return func() {}, nil }
			key, err := keychain.DataKey(t.Context(), s, lock)
			if err == nil {
				t.Fatalf("DataKey = %x, want an error for stored value %q", key, tt.stored)
			}
			if errors.Is(err, keychain.ErrNotFound) {
				t.Errorf("error %v says not found; the value exists", err)
			}
			if tt.stored != "" && strings.Contains(err.Error(), tt.stored) {
				t.Errorf("error %q repeats the stored secret", err)
			}
			if n := s.sets.Load(); n != 0 {
				t.Errorf("DataKey wrote %d times over a value it could not read", n)
			}
			if v, err := s.Get(t.Context(), keychain.DataKeyAccount); err != nil || v != tt.stored {
				t.Errorf("stored value is now %q, %v; want it kept as %q", v, err, tt.stored)
			}
		})
	}
}

func TestDataKeyFailsWithoutWritingWhenStoreOrLockFails(t *testing.T) {
	lockErr := errors.New("lock: timed out")
	tests := []struct {
		name    string
		store   func(t *testing.T) keychain.Store
		lock    func(context.Context) (func(), error)
		wantErr error
	}{
		{"keychain mode without a keychain", func(t *testing.T) keychain.Store {
			if !busGOOS() {
				t.Skip("keychain reachability is decided by D-Bus only on unix desktops")
			}
			s, _ := keychain.Open(keychain.Options{Mode: keychain.ModeKeychain, Dir: t.TempDir(), Getenv: env(nil)})
			return s
		}, nil, keychain.ErrUnavailable},
		{"lock cannot be taken", func(t *testing.T) keychain.Store {
			return &keychain.FileStore{Dir: t.TempDir()}
		}, func(context.Context) (func(), error) { return nil, lockErr }, lockErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &countingStore{Store: tt.store(t)}
			key, err := keychain.DataKey(t.Context(), s, tt.lock)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("DataKey = %x, %v; want %v", key, err, tt.wantErr)
			}
			if key != nil {
				t.Errorf("failed DataKey returned a key")
			}
			if n := s.sets.Load(); n != 0 {
				t.Errorf("failed DataKey wrote %d times", n)
			}
		})
	}
}

func TestDataKeyConcurrentFirstRunsAgreeOnOneKey(t *testing.T) {
	const n = 16
	dir := t.TempDir()
	lockPath := filepath.Join(dir, "data-key.lock")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // liveness bound
	defer cancel()
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Each its own store value, as separate processes would have.
			keys[i], errs[i] = keychain.DataKey(ctx, &keychain.FileStore{Dir: dir}, func(ctx context.Context) (func(), error) {
				return cache.LockFile(ctx, lockPath)
			})
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("DataKey %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Errorf("DataKey %d returned a different key than DataKey 0", i)
		}
	}
	des, _ := os.ReadDir(dir)
	for _, de := range des {
		if de.Name() != "data-key.lock" && de.Name() != keychain.DataKeyAccount+".secret" {
			t.Errorf("unexpected file %s in the store dir", de.Name())
		}
	}
}

func TestFingerprintIdentifiesKeyWithoutRevealingIt(t *testing.T) {
	a := bytes.Repeat([]byte{1}, 32)
	b := bytes.Repeat([]byte{2}, 32)
	fa := keychain.Fingerprint(a)
	if fa != keychain.Fingerprint(bytes.Clone(a)) {
		t.Error("Fingerprint is not deterministic")
	}
	if fa == keychain.Fingerprint(b) {
		t.Error("different keys have the same fingerprint")
	}
	if bytes.Contains(a, fa[:4]) || bytes.Equal(fa[:], a[:8]) {
		t.Error("fingerprint contains key bytes")
	}
}
