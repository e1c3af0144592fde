package keychain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// fakeKeychain is a test-only primary Store. With unavailable set every
// call fails with ErrUnavailable; with hang set every call blocks until its
// own short deadline passes and then reports ErrUnavailable, the way
// OSStore does with a keychain that never answers.
type fakeKeychain struct {
	mu          sync.Mutex
	calls       int
	unavailable bool
	hang        bool
	err         error // returned when set (and not unavailable or hang)
	items       map[string]string
}

func (f *fakeKeychain) Kind() string { return "keychain" }

func (f *fakeKeychain) do(ctx context.Context) error {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	switch {
	case f.hang:
		ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		<-ctx.Done()
		return fmt.Errorf("%w: no answer within 20ms", ErrUnavailable)
	case f.unavailable:
		return fmt.Errorf("%w: the collection is locked", ErrUnavailable)
	}
	return f.err
}

func (f *fakeKeychain) Get(ctx context.Context, account string) (string, error) {
	if err := f.do(ctx); err != nil {
		return "", err
	}
	v, ok := f.items[account]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

func (f *fakeKeychain) Set(ctx context.Context, account, secret string) error {
	if err := f.do(ctx); err != nil {
		return err
	}
	if f.items == nil {
		f.items = map[string]string{}
	}
	f.items[account] = secret
	return nil
}

func (f *fakeKeychain) Delete(ctx context.Context, account string) error {
	if err := f.do(ctx); err != nil {
		return err
	}
	if _, ok := f.items[account]; !ok {
		return ErrNotFound
	}
	delete(f.items, account)
	return nil
}

func (f *fakeKeychain) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func TestFallbackStoreSwitchesToFileOnceKeychainIsUnavailable(t *testing.T) {
	tests := []struct {
		name    string
		primary *fakeKeychain
		// first is the call that meets the unavailable keychain.
		first func(ctx context.Context, s Store) error
	}{
		{"Get on an unavailable keychain", &fakeKeychain{unavailable: true}, func(ctx context.Context, s Store) error {
			v, err := s.Get(ctx, "acct")
			if err == nil && v != "from-file" {
				return fmt.Errorf("Get = %q, want the file store's value", v)
			}
			return err
		}},
		{"Set on an unavailable keychain", &fakeKeychain{unavailable: true}, func(ctx context.Context, s Store) error {
			return s.Set(ctx, "acct", "from-file")
		}},
		{"Delete on an unavailable keychain", &fakeKeychain{unavailable: true}, func(ctx context.Context, s Store) error {
			err := s.Delete(ctx, "acct")
			if err == nil {
				// Put it back for the checks that follow.
				return s.Set(ctx, "acct", "from-file")
			}
			return err
		}},
		{"Get on a hanging keychain", &fakeKeychain{hang: true}, func(ctx context.Context, s Store) error {
			v, err := s.Get(ctx, "acct")
			if err == nil && v != "from-file" {
				return fmt.Errorf("Get = %q, want the file store's value", v)
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			dir := t.TempDir()
			file := &FileStore{Dir: dir}
			if err := file.Set(ctx, "acct", "from-file"); err != nil {
				t.Fatal(err)
			}
			var warnings []string
			s := &fallbackStore{primary: tt.primary, fallback: file, warn: func(w string) { warnings = append(warnings, w) }}
			if s.Kind() != "keychain" {
				t.Errorf("before any call Kind() = %q, want keychain", s.Kind())
			}

			if err := tt.first(ctx, s); err != nil {
				t.Fatalf("first call: %v, want it served by the file store", err)
			}
			if s.Kind() != "file" {
				t.Errorf("after falling back Kind() = %q, want file", s.Kind())
			}
			primaryCalls := tt.primary.callCount()
			if primaryCalls != 1 {
				t.Errorf("keychain asked %d times by the first call, want 1", primaryCalls)
			}

			// Everything after that goes to the file store only.
			if v, err := s.Get(ctx, "acct"); err != nil || v != "from-file" {
				t.Errorf("Get = %q, %v; want the file store's value", v, err)
			}
			if err := s.Set(ctx, "acct2", "v2"); err != nil {
				t.Errorf("Set: %v", err)
			}
			if v, err := file.Get(ctx, "acct2"); err != nil || v != "v2" {
				t.Errorf("Set did not reach the file store: %q, %v", v, err)
			}
			if err := s.Delete(ctx, "acct2"); err != nil {
				t.Errorf("Delete: %v", err)
			}
			if _, err := s.Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get of a missing secret = %v, want ErrNotFound", err)
			}
			if n := tt.primary.callCount(); n != primaryCalls {
				t.Errorf("keychain asked %d more times after the fallback", n-primaryCalls)
			}

			if len(warnings) != 1 {
				t.Fatalf("Warn called %d times (%q), want exactly once", len(warnings), warnings)
			}
			if !strings.Contains(warnings[0], dir) {
				t.Errorf("warning %q does not say where the file store is", warnings[0])
			}
		})
	}
}

func TestFallbackStoreStaysOnWorkingKeychain(t *testing.T) {
	otherErr := errors.New("keychain: access denied by user")
	tests := []struct {
		name    string
		primary *fakeKeychain
		wantGet error
	}{
		{"keychain answers not found", &fakeKeychain{}, ErrNotFound},
		{"keychain fails with another error", &fakeKeychain{err: otherErr}, otherErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			file := &FileStore{Dir: t.TempDir()}
			if err := file.Set(ctx, "acct", "from-file"); err != nil {
				t.Fatal(err)
			}
			warned := 0
			s := &fallbackStore{primary: tt.primary, fallback: file, warn: func(string) { warned++ }}
			v, err := s.Get(ctx, "acct")
			if !errors.Is(err, tt.wantGet) {
				t.Errorf("Get = %q, %v; want %v from the keychain", v, err, tt.wantGet)
			}
			if v == "from-file" {
				t.Error("Get read the file store although the keychain answered")
			}
			if s.Kind() != "keychain" || warned != 0 {
				t.Errorf("Kind() = %q after %d warnings; want keychain and none", s.Kind(), warned)
			}
		})
	}

	// A working keychain keeps what is written to it; the file store is untouched.
	ctx := t.Context()
	primary := &fakeKeychain{}
	dir := t.TempDir()
	s := &fallbackStore{primary: primary, fallback: &FileStore{Dir: dir}}
	if err := s.Set(ctx, "acct", "in-keychain"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, "acct"); err != nil || v != "in-keychain" {
		t.Errorf("Get = %q, %v", v, err)
	}
	if _, err := (&FileStore{Dir: dir}).Get(ctx, "acct"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the file store was written although the keychain worked: %v", err)
	}
}

func TestDataKeyFallsBackToFileWhenKeychainIsUnavailable(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	warned := 0
	s := &fallbackStore{primary: &fakeKeychain{unavailable: true}, fallback: &FileStore{Dir: dir}, warn: func(string) { warned++ }}
	key, err := DataKey(ctx, s, nil)
	if err != nil || len(key) != 32 {
		t.Fatalf("DataKey = %x, %v", key, err)
	}
	again, err := DataKey(ctx, &FileStore{Dir: dir}, nil)
	if err != nil || string(again) != string(key) {
		t.Errorf("the key is not in the file store: %x, %v", again, err)
	}
	if warned != 1 || s.Kind() != "file" {
		t.Errorf("warned %d times, Kind() = %q; want 1 and file", warned, s.Kind())
	}
}

func TestOSStoreCallHonoursDeadline(t *testing.T) {
	otherErr := errors.New("dbus: connection refused")
	tests := []struct {
		name      string
		fn        func(release <-chan struct{}) func() error
		parentCtx func(t *testing.T) context.Context
		want      error
		notWant   error
	}{
		{"answer", func(<-chan struct{}) func() error { return func() error { return nil } }, nil, nil, nil},
		{"not found", func(<-chan struct{}) func() error { return func() error { return keyring.ErrNotFound } }, nil, ErrNotFound, ErrUnavailable},
		{"keyring error", func(<-chan struct{}) func() error { return func() error { return otherErr } }, nil, ErrUnavailable, ErrNotFound},
		{"blocks forever", func(release <-chan struct{}) func() error {
			return func() error { <-release; return nil }
		}, nil, ErrUnavailable, nil},
		{"blocks forever, caller context already cancelled", func(release <-chan struct{}) func() error {
			return func() error { <-release; return nil }
		}, func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return ctx
		}, ErrUnavailable, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			t.Cleanup(func() { close(release) }) // let an abandoned fn end
			s := &OSStore{Timeout: 50 * time.Millisecond}
			ctx := context.Background()
			if tt.parentCtx != nil {
				ctx = tt.parentCtx(t)
			}
			done := make(chan error, 1)
			go func() { done <- s.call(ctx, "read", tt.fn(release)) }()

			// A liveness bound far above the 50ms Timeout, on a separate
			// timer: call's own context must be what ends it.
			bound := time.NewTimer(30 * time.Second)
			defer bound.Stop()
			var err error
			select {
			case err = <-done:
			case <-bound.C:
				t.Fatal("OSStore.call did not return; its Timeout is not enforced")
			}
			if tt.want == nil && err != nil {
				t.Fatalf("call = %v, want nil", err)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("call = %v, want %v", err, tt.want)
			}
			if tt.notWant != nil && errors.Is(err, tt.notWant) {
				t.Errorf("call = %v, must not be %v", err, tt.notWant)
			}
		})
	}
}
