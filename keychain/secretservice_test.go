package keychain_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"c9cred/keychain"
)

// requireSecretService skips unless a D-Bus session bus (with gnome-keyring
// on it, as `make test` and .ci/with-keyring.sh provide) is there. Under
// C9CRED_REQUIRE_KEYRING=1 (or C9CRED_REQUIRE_PEERS=1, which make test
// sets) a missing bus fails the test, so CI never goes green by skipping.
func requireSecretService(t *testing.T) {
	t.Helper()
	missing := ""
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		missing = "DBUS_SESSION_BUS_ADDRESS is not set"
	} else if _, err := exec.LookPath("secret-tool"); err != nil {
		missing = "secret-tool is not installed (Debian package libsecret-tools)"
	}
	if missing == "" {
		return
	}
	if os.Getenv("C9CRED_REQUIRE_KEYRING") == "1" || os.Getenv("C9CRED_REQUIRE_PEERS") == "1" {
		t.Fatalf("Secret Service required but %s; run under dbus-run-session with an unlocked gnome-keyring", missing)
	}
	t.Skipf("no Secret Service: %s", missing)
}

func TestSecretServiceKeepsDataKeyReadableBySecretTool(t *testing.T) {
	requireSecretService(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, why := keychain.Open(keychain.Options{
		Mode: keychain.ModeAuto,
		Dir:  t.TempDir(),
		Warn: func(w string) { t.Errorf("fell back to the file store: %s", w) },
	})
	if s.Kind() != "keychain" {
		t.Fatalf("Open(auto).Kind() = %q (%s), want keychain", s.Kind(), why)
	}

	// Never destroy a data key that was there before the test.
	_, err := s.Get(ctx, keychain.DataKeyAccount)
	existed := err == nil
	if err != nil && !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("Get of the data key: %v", err)
	}
	if existed {
		t.Logf("a c9cred data key exists already in this keyring; using it and leaving it in place")
	} else {
		t.Cleanup(func() {
			if err := s.Delete(context.Background(), keychain.DataKeyAccount); err != nil {
				t.Errorf("cleanup Delete: %v", err)
			}
		})
	}

	key, err := keychain.DataKey(ctx, s, nil)
	if err != nil {
		t.Fatalf("DataKey: %v", err)
	}
	if s.Kind() != "keychain" {
		t.Fatalf("after DataKey Kind() = %q, want keychain", s.Kind())
	}
	out, err := exec.CommandContext(ctx, "secret-tool", "lookup", "service", keychain.Service, "username", keychain.DataKeyAccount).Output()
	if err != nil {
		t.Fatalf("secret-tool lookup: %v", err)
	}
	if got, want := strings.TrimSpace(string(out)), base64.StdEncoding.EncodeToString(key); got != want {
		t.Errorf("secret-tool sees a different data key than DataKey returned")
	}
	again, err := keychain.DataKey(ctx, s, nil)
	if err != nil || string(again) != string(key) {
		t.Errorf("second DataKey = %v; want the same key", err)
	}
}

func TestSecretServiceRoundTrip(t *testing.T) {
	requireSecretService(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s := &keychain.OSStore{}
	account := fmt.Sprintf("c9cred-unit-test-%d", os.Getpid())
	const secret = `{"AccessKeyId":"AKIAEXAMPLE","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG"}`

	if v, err := s.Get(ctx, account); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("Get of a missing item = %q, %v; want ErrNotFound", v, err)
	}
	if err := s.Set(ctx, account, secret); err != nil {
		t.Fatalf("Set: %v", err)
	}
	t.Cleanup(func() { s.Delete(context.Background(), account) })
	if v, err := s.Get(ctx, account); err != nil || v != secret {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := s.Delete(ctx, account); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, account); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, account); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
}
