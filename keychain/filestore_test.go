package keychain_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"c9cred/keychain"

	"c9cred/internal/testenv"
)

func TestFileStoreRoundTrip(t *testing.T) {
	values := []struct {
		name, secret string
	}{
		{"base64 key", "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80="},
		{"json with newlines", "{\n \"AccessKeyId\": \"AKIAEXAMPLE\",\n \"SecretAccessKey\": \"wJalr/K7MDENG\"\n}\n"},
		{"unicode", "pässwörd-✓"},
		{"empty", ""},
	}
	for _, tt := range values {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			// The directory does not exist yet: Set creates it.
			s := &keychain.FileStore{Dir: filepath.Join(t.TempDir(), "config", "c9cred", "keys")}
			const account = "stored-prod"
			if err := s.Set(ctx, account, "first value"); err != nil {
				t.Fatalf("Set: %v", err)
			}
			if err := s.Set(ctx, account, tt.secret); err != nil {
				t.Fatalf("Set (replace): %v", err)
			}
			got, err := s.Get(ctx, account)
			if err != nil || got != tt.secret {
				t.Fatalf("Get = %q, %v; want %q", got, err, tt.secret)
			}
			p, err := s.Path(account)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Dir(p) != s.Dir {
				t.Errorf("Path(%q) = %s, not inside %s", account, p, s.Dir)
			}
			testenv.AssertMode(t, s.Dir, 0o700)
			testenv.AssertMode(t, p, 0o600)
			if des, _ := os.ReadDir(s.Dir); len(des) != 1 {
				t.Errorf("store dir holds %d files, want 1 (temp files left?)", len(des))
			}

			if err := s.Delete(ctx, account); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if v, err := s.Get(ctx, account); !errors.Is(err, keychain.ErrNotFound) {
				t.Errorf("Get after Delete = %q, %v; want ErrNotFound", v, err)
			}
			if err := s.Delete(ctx, account); !errors.Is(err, keychain.ErrNotFound) {
				t.Errorf("second Delete = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestFileStoreGetMissingIsNotFound(t *testing.T) {
	tests := []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"dir does not exist", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }},
		{"dir exists, no such secret", func(t *testing.T) string { return t.TempDir() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &keychain.FileStore{Dir: tt.dir(t)}
			if v, err := s.Get(t.Context(), "cache-data-key"); !errors.Is(err, keychain.ErrNotFound) || v != "" {
				t.Errorf("Get = %q, %v; want ErrNotFound", v, err)
			}
		})
	}
}

func TestFileStoreRefusesInvalidAccountNames(t *testing.T) {
	invalid := []string{
		"",
		".hidden",
		"-leading-dash",
		"_leading-underscore",
		"../escape",
		"a/b",
		`a\b`,
		"a b",
		"nul\x00byte",
		"new\nline",
		"colon:name",
		"café",
		"trailing-newline\n",
		strings.Repeat("a", 129),
	}
	for _, account := range invalid {
		t.Run(account, func(t *testing.T) {
			ctx := t.Context()
			parent := t.TempDir()
			s := &keychain.FileStore{Dir: filepath.Join(parent, "store")}
			if err := os.Mkdir(s.Dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if p, err := s.Path(account); err == nil {
				t.Errorf("Path(%q) = %s, want an error", account, p)
			}
			if err := s.Set(ctx, account, "secret"); err == nil {
				t.Errorf("Set(%q) succeeded", account)
			}
			if _, err := s.Get(ctx, account); err == nil || errors.Is(err, keychain.ErrNotFound) {
				t.Errorf("Get(%q) = %v, want a refusal (not ErrNotFound)", account, err)
			}
			if err := s.Delete(ctx, account); err == nil || errors.Is(err, keychain.ErrNotFound) {
				t.Errorf("Delete(%q) = %v, want a refusal (not ErrNotFound)", account, err)
			}
			for _, d := range []string{parent, s.Dir} {
				des, _ := os.ReadDir(d)
				for _, de := range des {
					if de.Name() != "store" {
						t.Errorf("refused Set left %s in %s", de.Name(), d)
					}
				}
			}
		})
	}
}

func TestFileStoreAcceptsValidAccountNames(t *testing.T) {
	for _, account := range []string{
		keychain.DataKeyAccount,
		"stored-index",
		"stored-prod",
		"a",
		"9",
		"user@example.com+tag=x_y.z-w",
		strings.Repeat("a", 128),
	} {
		t.Run(account[:min(len(account), 20)], func(t *testing.T) {
			s := &keychain.FileStore{Dir: t.TempDir()}
			if err := s.Set(t.Context(), account, "v"); err != nil {
				t.Fatalf("Set: %v", err)
			}
			if v, err := s.Get(t.Context(), account); err != nil || v != "v" {
				t.Errorf("Get = %q, %v", v, err)
			}
		})
	}
}

func TestFileStoreGetRefusesExposedOrLinkedFile(t *testing.T) {
	const account, secret = "cache-data-key", "TOPSECRET-value-1234"
	chmodTo := func(mode fs.FileMode) func(t *testing.T, s *keychain.FileStore, p string) {
		return func(t *testing.T, s *keychain.FileStore, p string) {
			if err := os.WriteFile(p, []byte(secret), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	symlinkTo := func(target func(t *testing.T, s *keychain.FileStore) string) func(t *testing.T, s *keychain.FileStore, p string) {
		return func(t *testing.T, s *keychain.FileStore, p string) {
			tp := target(t, s)
			if err := os.WriteFile(tp, []byte(secret), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(tp, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, s *keychain.FileStore, p string)
	}{
		{"group readable 0640", chmodTo(0o640)},
		{"world readable 0644", chmodTo(0o644)},
		{"world readable only 0604", chmodTo(0o604)},
		{"group writable 0620", chmodTo(0o620)},
		{"symlink to a private file in the store", symlinkTo(func(t *testing.T, s *keychain.FileStore) string {
			return filepath.Join(s.Dir, "other.secret")
		})},
		{"symlink to a private file elsewhere", symlinkTo(func(t *testing.T, s *keychain.FileStore) string {
			return filepath.Join(t.TempDir(), "planted")
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &keychain.FileStore{Dir: t.TempDir()}
			if err := os.Chmod(s.Dir, 0o700); err != nil {
				t.Fatal(err)
			}
			p, err := s.Path(account)
			if err != nil {
				t.Fatal(err)
			}
			tt.prepare(t, s, p)
			v, err := s.Get(t.Context(), account)
			if err == nil || errors.Is(err, keychain.ErrNotFound) {
				t.Fatalf("Get = %q, %v; want a refusal", v, err)
			}
			if v != "" || strings.Contains(err.Error(), secret) {
				t.Errorf("refused Get leaked the secret: %q, %v", v, err)
			}
		})
	}
}
