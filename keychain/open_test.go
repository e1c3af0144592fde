package keychain_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"c9cred/keychain"

	"c9cred/internal/testenv"
)

// busGOOS are the systems where the keychain is the Secret Service on the
// D-Bus session bus.
func busGOOS() bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
		return true
	}
	return false
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestOpenChoosesBackend(t *testing.T) {
	noBus := env(nil)
	// An address is enough for Open to choose the keychain; Open itself
	// makes no D-Bus call, so nothing connects to it.
	withBus := env(map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/c9cred-test-bus"})
	tests := []struct {
		name       string
		mode       keychain.Mode
		getenv     func(string) string
		busOnly    bool // expectation holds only where the keychain is on D-Bus
		wantKind   string
		wantFile   bool // a *keychain.FileStore in opts.Dir
		wantBroken bool // every call fails with ErrUnavailable
	}{
		{"auto without a bus is the file store", keychain.ModeAuto, noBus, true, "file", true, false},
		{"empty mode behaves as auto", "", noBus, true, "file", true, false},
		{"file without a bus", keychain.ModeFile, noBus, false, "file", true, false},
		{"file with a bus never uses the keychain", keychain.ModeFile, withBus, false, "file", true, false},
		{"keychain without a bus fails every call", keychain.ModeKeychain, noBus, true, "keychain", false, true},
		{"keychain with a bus", keychain.ModeKeychain, withBus, false, "keychain", false, false},
		{"auto with a bus starts on the keychain", keychain.ModeAuto, withBus, false, "keychain", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.busOnly && !busGOOS() {
				t.Skipf("the keychain on %s does not depend on D-Bus", runtime.GOOS)
			}
			dir := t.TempDir()
			warned := 0
			s, why := keychain.Open(keychain.Options{Mode: tt.mode, Dir: dir, Getenv: tt.getenv, Warn: func(string) { warned++ }})
			if s == nil {
				t.Fatal("Open returned a nil store")
			}
			if why == "" {
				t.Error("Open gave no reason for its choice")
			}
			if got := s.Kind(); got != tt.wantKind {
				t.Errorf("Kind() = %q, want %q (reason %q)", got, tt.wantKind, why)
			}
			if tt.wantFile {
				fs, ok := s.(*keychain.FileStore)
				if !ok {
					t.Fatalf("Open returned %T, want *keychain.FileStore", s)
				}
				if fs.Dir != dir {
					t.Errorf("file store dir = %s, want %s", fs.Dir, dir)
				}
				if err := s.Set(t.Context(), "probe", "v"); err != nil {
					t.Errorf("file store Set: %v", err)
				}
			}
			if tt.wantBroken {
				ctx := t.Context()
				if _, err := s.Get(ctx, keychain.DataKeyAccount); !errors.Is(err, keychain.ErrUnavailable) {
					t.Errorf("Get = %v, want ErrUnavailable", err)
				}
				if err := s.Set(ctx, keychain.DataKeyAccount, "v"); !errors.Is(err, keychain.ErrUnavailable) {
					t.Errorf("Set = %v, want ErrUnavailable", err)
				}
				if err := s.Delete(ctx, keychain.DataKeyAccount); !errors.Is(err, keychain.ErrUnavailable) {
					t.Errorf("Delete = %v, want ErrUnavailable", err)
				}
				if des, _ := os.ReadDir(dir); len(des) != 0 {
					t.Errorf("--cache keychain without a keychain wrote %d files to %s", len(des), dir)
				}
			}
			if warned != 0 {
				t.Errorf("Open warned %d times before any call", warned)
			}
		})
	}
}

func TestOpenReadsProcessEnvironmentByDefault(t *testing.T) {
	if !busGOOS() {
		t.Skipf("the keychain on %s does not depend on D-Bus", runtime.GOOS)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	s, _ := keychain.Open(keychain.Options{Mode: keychain.ModeAuto, Dir: t.TempDir()})
	if s.Kind() != "file" {
		t.Errorf("with DBUS_SESSION_BUS_ADDRESS empty, Open(auto).Kind() = %q, want file", s.Kind())
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []string{"auto", "keychain", "file"} {
		if got, err := keychain.ParseMode(m); err != nil || string(got) != m {
			t.Errorf("ParseMode(%q) = %q, %v", m, got, err)
		}
	}
	for _, m := range []string{"", "off", "Keychain", "files", " auto"} {
		if got, err := keychain.ParseMode(m); err == nil {
			t.Errorf("ParseMode(%q) = %q, want an error", m, got)
		}
	}
}

// TestAutoFallsBackToFileWhenBusIsDead runs in a helper process because
// godbus keeps one session-bus connection per process: once another test
// has connected to a real bus, a dead address would never be dialled.
func TestAutoFallsBackToFileWhenBusIsDead(t *testing.T) {
	if !busGOOS() {
		t.Skipf("the keychain on %s does not depend on D-Bus", runtime.GOOS)
	}
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(),
		helperEnv+"=datakey-auto",
		helperDirEnv+"="+dir,
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(dir, "no-bus-here"),
	)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	var r helperReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	if r.Err != "" {
		t.Fatalf("DataKey with a dead bus: %s", r.Err)
	}
	if r.Kind != "file" {
		t.Errorf("after the dead bus, Kind() = %q, want file", r.Kind)
	}
	if len(r.Warnings) != 1 {
		t.Errorf("got %d warnings %q, want exactly 1", len(r.Warnings), r.Warnings)
	} else if !strings.Contains(r.Warnings[0], dir) {
		t.Errorf("warning %q does not say where the file store is", r.Warnings[0])
	}
	// The key went to the 0600 file beside the cache and reads back.
	fs := &keychain.FileStore{Dir: dir}
	v, err := fs.Get(t.Context(), keychain.DataKeyAccount)
	if err != nil {
		t.Fatalf("file store has no data key: %v", err)
	}
	if strings.TrimSpace(v) != r.Key {
		t.Errorf("file store key differs from the one DataKey returned")
	}
	p, _ := fs.Path(keychain.DataKeyAccount)
	testenv.AssertMode(t, p, 0o600)
}
