package securefs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"c9cred/internal/securefs"
)

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return fi.Mode().Perm()
}

func mkdirMode(t *testing.T, path string, m fs.FileMode) {
	t.Helper()
	if err := os.Mkdir(path, m); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, m); err != nil { // past the umask
		t.Fatal(err)
	}
}

func writeMode(t *testing.T, path, content string, m fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), m); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, m); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureDirMakesPrivateDir(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{"missing dir", func(*testing.T, string) {}},
		{"missing dir and parents", nil},
		{"existing 0700 dir", func(t *testing.T, dir string) { mkdirMode(t, dir, 0o700) }},
		{"existing 0755 dir is tightened", func(t *testing.T, dir string) { mkdirMode(t, dir, 0o755) }},
		{"existing 0777 dir is tightened", func(t *testing.T, dir string) { mkdirMode(t, dir, 0o777) }},
		{"existing 0750 dir is tightened", func(t *testing.T, dir string) { mkdirMode(t, dir, 0o750) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "c9cred")
			if tt.setup == nil {
				dir = filepath.Join(t.TempDir(), "home", ".cache", "c9cred")
			} else {
				tt.setup(t, dir)
			}
			if err := securefs.EnsureDir(dir); err != nil {
				t.Fatalf("EnsureDir: %v", err)
			}
			fi, err := os.Lstat(dir)
			if err != nil || !fi.IsDir() {
				t.Fatalf("%s is not a directory after EnsureDir: %v", dir, err)
			}
			if runtime.GOOS != "windows" {
				if got := fi.Mode().Perm(); got != securefs.DirMode {
					t.Errorf("mode %04o, want %04o", got, securefs.DirMode)
				}
			}
			// Idempotent.
			if err := securefs.EnsureDir(dir); err != nil {
				t.Errorf("second EnsureDir: %v", err)
			}
		})
	}
}

func TestEnsureDirRefusesNonDirectories(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, base, dir string)
		keeps   string // a path whose mode EnsureDir must not change
		keepsAt fs.FileMode
		why     string // the error says why
	}{
		{"symlink to a private dir", func(t *testing.T, base, dir string) {
			mkdirMode(t, filepath.Join(base, "target"), 0o700)
			if err := os.Symlink(filepath.Join(base, "target"), dir); err != nil {
				t.Fatal(err)
			}
		}, "target", 0o700, "symbolic link"},
		{"symlink to an open dir", func(t *testing.T, base, dir string) {
			mkdirMode(t, filepath.Join(base, "target"), 0o755)
			if err := os.Symlink(filepath.Join(base, "target"), dir); err != nil {
				t.Fatal(err)
			}
		}, "target", 0o755, "symbolic link"},
		{"dangling symlink", func(t *testing.T, base, dir string) {
			if err := os.Symlink(filepath.Join(base, "nowhere"), dir); err != nil {
				t.Fatal(err)
			}
		}, "", 0, "symbolic link"},
		{"regular file", func(t *testing.T, base, dir string) {
			writeMode(t, dir, "not a dir", 0o644)
		}, "c9cred", 0o644, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "c9cred")
			tt.setup(t, base, dir)
			err := securefs.EnsureDir(dir)
			if err == nil {
				t.Fatal("EnsureDir succeeded")
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("EnsureDir error %q does not say %q", err, tt.why)
			}
			if tt.keeps != "" {
				if got := mode(t, filepath.Join(base, tt.keeps)); got != tt.keepsAt {
					t.Errorf("EnsureDir changed %s to %04o (was %04o)", tt.keeps, got, tt.keepsAt)
				}
			}
			if _, err := os.Lstat(filepath.Join(base, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("EnsureDir created the symlink's target: %v", err)
			}
		})
	}
}

func TestEnsureDirRefusesDirOwnedByAnotherUser(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX owners")
	}
	if os.Geteuid() != 0 {
		t.Skip("only root can give a directory to another user")
	}
	dir := filepath.Join(t.TempDir(), "c9cred")
	mkdirMode(t, dir, 0o755)
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	err := securefs.EnsureDir(dir)
	if err == nil {
		t.Fatal("EnsureDir accepted a directory owned by uid 65534")
	}
	if got := mode(t, dir); got != 0o755 {
		t.Errorf("EnsureDir changed the foreign directory's mode to %04o", got)
	}
}

func TestWriteFileCreatesPrivateFileAtomically(t *testing.T) {
	tests := []struct {
		name     string
		existing *fs.FileMode // a file there before, with this mode
		data     string
	}{
		{"new file", nil, "secret-1"},
		{"replaces a private file", ptr(0o600), "secret-2"},
		{"replaces a world-readable file with a private one", ptr(0o644), "secret-3"},
		{"empty data", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "key.secret")
			if tt.existing != nil {
				writeMode(t, p, "old content that is longer than the new one", *tt.existing)
			}
			if err := securefs.WriteFile(p, []byte(tt.data)); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			b, err := os.ReadFile(p)
			if err != nil || string(b) != tt.data {
				t.Fatalf("content = %q, %v; want %q", b, err, tt.data)
			}
			if runtime.GOOS != "windows" {
				if got := mode(t, p); got != securefs.FileMode {
					t.Errorf("mode %04o, want %04o", got, securefs.FileMode)
				}
			}
			des, _ := os.ReadDir(dir)
			if len(des) != 1 {
				var names []string
				for _, de := range des {
					names = append(names, de.Name())
				}
				t.Errorf("dir holds %q, want only key.secret (temp file left?)", names)
			}
		})
	}
}

func ptr(m fs.FileMode) *fs.FileMode { return &m }

func TestWriteFileFailureLeavesNothingBehind(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path to write
	}{
		{"missing directory", func(t *testing.T, dir string) string {
			return filepath.Join(dir, "missing", "key.secret")
		}},
		{"path is a non-empty directory", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "key.secret")
			if err := os.MkdirAll(filepath.Join(p, "inside"), 0o700); err != nil {
				t.Fatal(err)
			}
			return p
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := tt.setup(t, dir)
			before, _ := os.ReadDir(dir)
			if err := securefs.WriteFile(p, []byte("secret")); err == nil {
				t.Fatal("WriteFile succeeded")
			}
			after, _ := os.ReadDir(dir)
			if len(after) != len(before) {
				t.Errorf("failed WriteFile left files behind: %d entries before, %d after", len(before), len(after))
			}
		})
	}
}

func TestReadFileRefusesExposedOrLinkedFiles(t *testing.T) {
	const secret = "TOPSECRET-42"
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir, p string)
		wantOK  bool
		notExis bool   // the error must be fs.ErrNotExist
		why     string // the refusal says why
	}{
		{"private 0600 file", func(t *testing.T, dir, p string) { writeMode(t, p, secret, 0o600) }, true, false, ""},
		{"read-only 0400 file", func(t *testing.T, dir, p string) { writeMode(t, p, secret, 0o400) }, true, false, ""},
		{"world-readable 0644 file", func(t *testing.T, dir, p string) { writeMode(t, p, secret, 0o644) }, false, false, "readable by other users"},
		{"group-readable 0640 file", func(t *testing.T, dir, p string) { writeMode(t, p, secret, 0o640) }, false, false, "readable by other users"},
		{"world-writable 0602 file", func(t *testing.T, dir, p string) { writeMode(t, p, secret, 0o602) }, false, false, "other users"},
		{"symlink to a private file", func(t *testing.T, dir, p string) {
			writeMode(t, filepath.Join(dir, "target"), secret, 0o600)
			if err := os.Symlink(filepath.Join(dir, "target"), p); err != nil {
				t.Fatal(err)
			}
		}, false, false, "symbolic link"},
		{"missing file", func(t *testing.T, dir, p string) {}, false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && !tt.wantOK && !tt.notExis {
				t.Skip("no POSIX modes")
			}
			dir := t.TempDir()
			p := filepath.Join(dir, "key.secret")
			tt.setup(t, dir, p)
			b, err := securefs.ReadFile(p)
			if tt.wantOK {
				if err != nil || string(b) != secret {
					t.Fatalf("ReadFile = %q, %v; want the content", b, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadFile = %q, want a refusal", b)
			}
			if tt.notExis != errors.Is(err, fs.ErrNotExist) {
				t.Errorf("ReadFile error %v: errors.Is(fs.ErrNotExist) = %v, want %v", err, !tt.notExis, tt.notExis)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("ReadFile error %q does not say %q", err, tt.why)
			}
			if len(b) != 0 || strings.Contains(err.Error(), secret) {
				t.Errorf("refused ReadFile leaked the content: %q, %v", b, err)
			}
		})
	}
}
