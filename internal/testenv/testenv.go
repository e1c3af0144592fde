// Package testenv is shared test support for c9cred's end-to-end tests:
// building the binary once, running moto_server as a real STS with its
// request recorder, and fakes for what has no real peer on the machine (a
// fault-injecting STS, the container credentials endpoint, IMDS).
//
// Tests that need a peer which is missing skip, unless the environment sets
// C9CRED_REQUIRE_PEERS=1 (make test does), where a missing peer fails the
// test so CI never goes green by skipping.
package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Require skips (or, under C9CRED_REQUIRE_PEERS=1, fails) when ok is false.
func Require(t testing.TB, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("C9CRED_REQUIRE_PEERS") == "1" {
		t.Fatalf("required test peer missing: %s (make test installs it)", what)
	}
	t.Skipf("test peer missing: %s", what)
}

// RequireBus requires a D-Bus session bus with a Secret Service.
func RequireBus(t testing.TB) {
	t.Helper()
	Require(t, os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "", "D-Bus session bus with gnome-keyring (run under make test)")
}

// RepoRoot finds the module root from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// BuildBinary builds c9cred into dir and returns its path.
func BuildBinary(dir string) (string, error) {
	bin := filepath.Join(dir, "c9cred")
	// Built as make install builds it.
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WaitPort polls addr until it accepts a connection or timeout passes.
func WaitPort(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	delay := 10 * time.Millisecond
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not accept connections within %s: %w", addr, timeout, err)
		}
		time.Sleep(delay)
		if delay < 200*time.Millisecond {
			delay *= 2
		}
	}
}

// AssertNoSecrets fails t when any secret appears in any of the outputs.
func AssertNoSecrets(t testing.TB, secrets []string, outputs ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for i, o := range outputs {
			if strings.Contains(o, s) {
				t.Errorf("secret %q... leaked into output #%d", s[:min(4, len(s))], i)
			}
		}
	}
}

// MinimalEnv is a clean environment for running c9cred or an AWS client:
// PATH, a private HOME and cache directory, shared config files that do not
// exist unless the test writes them, and no instance metadata lookups.
func MinimalEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"USER=tester",
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"AWS_CONFIG_FILE=" + filepath.Join(home, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, ".aws", "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"PYENV_ROOT=" + os.Getenv("PYENV_ROOT"),
		"LANG=C.UTF-8",
	}
}

// AssertMode fails t unless path (not following a link) has permissions want.
func AssertMode(t testing.TB, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %04o, want %04o", path, got, want)
	}
}
