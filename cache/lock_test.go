package cache_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"c9cred/cache"
)

// liveness bounds a wait that must end; it is not a timing assertion.
const liveness = 10 * time.Second

// helperCommand re-runs the test binary as a helper process (see TestMain).
func helperCommand(t *testing.T, mode, dir, name string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperDirEnv+"="+dir, helperNameEnv+"="+name)
	return cmd
}

func TestLockIsExclusiveBetweenCacheInstances(t *testing.T) {
	dir := t.TempDir()
	holder := newCache(t, dir, nil)
	waiter := newCache(t, dir, nil)
	name := cache.Name("lock")

	unlock, err := holder.Lock(t.Context(), name)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	short, cancelShort := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancelShort()
	tests := []struct {
		name    string
		ctx     context.Context
		wantCtx error
	}{
		{"already cancelled context", cancelled, context.Canceled},
		{"short deadline", short, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			un, err := waiter.Lock(tt.ctx, name)
			if err == nil {
				un()
				t.Fatal("second Lock on a held name succeeded")
			}
			if !errors.Is(err, cache.ErrLockTimeout) {
				t.Errorf("Lock error %v does not wrap ErrLockTimeout", err)
			}
			if !errors.Is(err, tt.wantCtx) {
				t.Errorf("Lock error %v does not wrap %v", err, tt.wantCtx)
			}
		})
	}

	// Another name is not blocked by this one.
	ctx, cancelOther := context.WithTimeout(t.Context(), liveness)
	defer cancelOther()
	unOther, err := waiter.Lock(ctx, cache.Name("another"))
	if err != nil {
		t.Fatalf("Lock on another name: %v", err)
	}
	unOther()

	// Released, it can be taken.
	unlock()
	un, err := waiter.Lock(ctx, name)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	un()
}

func TestLockIsReleasedWhenHolderProcessDies(t *testing.T) {
	tests := []struct {
		name string
		mode string
	}{
		{"holder killed by the parent", "hold-lock"},
		{"holder SIGKILLs itself while holding the lock", "hold-lock-then-sigkill"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := newCache(t, dir, nil)
			name := cache.Name("cross-process")

			cmd := helperCommand(t, tt.mode, dir, name)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waited := false
			t.Cleanup(func() {
				if !waited {
					cmd.Process.Kill()
					cmd.Wait()
				}
			})

			lines := make(chan string, 1)
			go func() {
				s := bufio.NewScanner(stdout)
				if s.Scan() {
					lines <- s.Text()
				}
				close(lines)
			}()
			select {
			case line := <-lines:
				if line != "locked" {
					t.Fatalf("helper said %q, want \"locked\"", line)
				}
			case <-time.After(liveness):
				t.Fatal("helper did not report holding the lock")
			}

			if tt.mode == "hold-lock" {
				// While the other process holds it, we cannot have it.
				cancelled, cancel := context.WithCancel(t.Context())
				cancel()
				if un, err := c.Lock(cancelled, name); err == nil {
					un()
					t.Fatal("Lock succeeded while another process holds it")
				} else if !errors.Is(err, cache.ErrLockTimeout) {
					t.Fatalf("Lock while held elsewhere: %v, want ErrLockTimeout", err)
				}
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
			}
			err = cmd.Wait()
			waited = true
			if err == nil || strings.Contains(err.Error(), "exit status") {
				t.Fatalf("helper did not die by a signal: %v", err)
			}

			ctx, cancel := context.WithTimeout(t.Context(), liveness)
			defer cancel()
			un, err := c.Lock(ctx, name)
			if err != nil {
				t.Fatalf("Lock after the holder died: %v (a dead holder must not wedge the lock)", err)
			}
			un()
		})
	}
}
