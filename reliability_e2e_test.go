package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"c9cred/internal/testenv"
)

// keychainFaults are D-Bus situations in which the keychain cannot answer.
// Each must end in the file fallback with a warning, within the deadline,
// and find the session cached before.
func TestKeychainFaultsFallBackToTheFileStoreWithoutHangingOrLosingTheCache(t *testing.T) {
	requireMoto(t)
	_, err := exec.LookPath("dbus-daemon")
	testenv.Require(t, err == nil, "dbus-daemon")
	cases := []struct {
		name string
		bus  func(t *testing.T, dir string) string
	}{
		{"a bus without a Secret Service", func(t *testing.T, dir string) string {
			cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=unix:path="+filepath.Join(dir, "bus"))
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			if err := waitUnixSocket(filepath.Join(dir, "bus")); err != nil {
				t.Fatal(err)
			}
			return "unix:path=" + filepath.Join(dir, "bus")
		}},
		{"a bus that accepts and never answers", func(t *testing.T, dir string) string {
			l, err := net.Listen("unix", filepath.Join(dir, "hung"))
			if err != nil {
				t.Fatal(err)
			}
			var conns []net.Conn
			var mu sync.Mutex
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					mu.Lock()
					conns = append(conns, c)
					mu.Unlock()
				}
			}()
			t.Cleanup(func() {
				l.Close()
				mu.Lock()
				for _, c := range conns {
					c.Close()
				}
				mu.Unlock()
			})
			return "unix:path=" + filepath.Join(dir, "hung")
		}},
		{"a bus address where nothing listens", func(t *testing.T, dir string) string {
			return "unix:path=" + filepath.Join(dir, "nothing-here")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			role := testenv.RoleARN("KeychainFault-" + tc.name)
			// A session cached with the file store, as on a machine whose
			// keychain worked yesterday through the fallback.
			first := parseV1(t, w.c9("--role", role, "--source", "env", "--cache", "file"))
			w.set("DBUS_SESSION_BUS_ADDRESS=" + tc.bus(t, w.home))
			r := w.c9("--role", role, "--source", "env")
			again := parseV1(t, r)
			if !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, "file store") {
				t.Errorf("no fallback warning: %q", r.stderr)
			}
			if again.AccessKeyID != first.AccessKeyID || assumeRoleCalls(t, role) != 1 {
				t.Errorf("the cached session was not found after the fallback")
			}
			// One keychain read under a 2 s deadline, then the file store.
			if r.elapsed > 6*time.Second {
				t.Errorf("took %s with a broken keychain", r.elapsed)
			}
		})
	}
}

func waitUnixSocket(p string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("unix", p); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s never accepted", p)
}

func TestLockedKeychainCollectionFallsBackWithinTheDeadline(t *testing.T) {
	requireMoto(t)
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon", "dbus-send"} {
		_, err := exec.LookPath(tool)
		testenv.Require(t, err == nil, tool)
	}
	w := newWorld(t)
	role := testenv.RoleARN("Locked")
	// A private keyring: locking the shared test keyring would disturb
	// other tests.
	script := `set -e
printf pw | XDG_DATA_HOME="$KR" gnome-keyring-daemon --unlock --components=secrets >/dev/null
"$C9" --role "$ROLE" --source env --cache keychain >/dev/null
dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null
start=$(date +%s%N)
"$C9" --role "$ROLE" --source env --force-refresh
echo "ELAPSED_MS=$(( ($(date +%s%N) - start) / 1000000 ))" >&2`
	r := w.set("KR="+filepath.Join(w.home, "kr"), "C9="+c9bin, "ROLE="+role).run("dbus-run-session", "--", "bash", "-c", script)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "file store") {
		t.Errorf("no fallback warning with a locked collection: %s", r.stderr)
	}
	var ms int
	fmt.Sscanf(r.stderr[strings.LastIndex(r.stderr, "ELAPSED_MS=")+len("ELAPSED_MS="):], "%d", &ms)
	if ms <= 0 || ms > 6000 {
		t.Errorf("c9cred with a locked keychain took %d ms", ms)
	}
}

func TestDamagedCacheEntriesAreMissesAndGetRepaired(t *testing.T) {
	requireMoto(t)
	cases := []struct {
		name   string
		damage func(t *testing.T, w *world, entry string)
	}{
		{"zero bytes", func(t *testing.T, w *world, p string) { os.WriteFile(p, nil, 0o600) }},
		{"truncated", func(t *testing.T, w *world, p string) {
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o600)
		}},
		{"garbage", func(t *testing.T, w *world, p string) { os.WriteFile(p, bytes.Repeat([]byte("garbage!"), 100), 0o600) }},
		{"another data key", func(t *testing.T, w *world, p string) {
			os.WriteFile(filepath.Join(w.cacheDir(), "cache-data-key.secret"), []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), 0o600)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			role := testenv.RoleARN("Damaged-" + tc.name)
			parseV1(t, w.c9("--role", role, "--source", "env"))
			entries, _ := filepath.Glob(filepath.Join(w.cacheDir(), "*.entry"))
			if len(entries) != 1 {
				t.Fatalf("entries %v", entries)
			}
			os.WriteFile(filepath.Join(w.cacheDir(), "notes.txt"), []byte("a foreign file"), 0o600)
			tc.damage(t, w, entries[0])
			repaired := parseV1(t, w.c9("--role", role, "--source", "env"))
			cached := parseV1(t, w.c9("--role", role, "--source", "env"))
			if cached.AccessKeyID != repaired.AccessKeyID || assumeRoleCalls(t, role) != 2 {
				t.Errorf("the damaged entry was not replaced: %d AssumeRole calls", assumeRoleCalls(t, role))
			}
			if _, err := os.Stat(filepath.Join(w.cacheDir(), "notes.txt")); err != nil {
				t.Errorf("a foreign file in the cache dir was removed")
			}
		})
	}
}

func TestUnsafeCacheDirectoriesAreFixedOrRefusedButCredentialsStillCome(t *testing.T) {
	requireMoto(t)
	t.Run("group-readable directory is tightened", func(t *testing.T) {
		w := newWorld(t)
		os.MkdirAll(w.cacheDir(), 0o755)
		os.Chmod(w.cacheDir(), 0o755)
		parseV1(t, w.c9("--role", testenv.RoleARN("Perms"), "--source", "env"))
		if fi, _ := os.Stat(w.cacheDir()); fi.Mode().Perm() != 0o700 {
			t.Errorf("mode %o, want 700", fi.Mode().Perm())
		}
	})
	refused := []struct {
		name  string
		setup func(w *world)
		want  string
	}{
		{"symbolic link planted in place of the directory", func(w *world) {
			elsewhere := filepath.Join(w.home, "elsewhere")
			os.MkdirAll(elsewhere, 0o700)
			os.MkdirAll(filepath.Dir(w.cacheDir()), 0o755)
			os.Symlink(elsewhere, w.cacheDir())
		}, "symbolic link"},
		{"directory owned by another user", func(w *world) {
			os.MkdirAll(w.cacheDir(), 0o700)
			if err := os.Chown(w.cacheDir(), 65534, 65534); err != nil {
				w.t.Skipf("cannot chown as this user: %v", err)
			}
		}, "belongs to uid 65534"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			tc.setup(w)
			r := w.c9("--role", testenv.RoleARN("Refused"), "--source", "env")
			parseV1(t, r)
			if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "without the cache") {
				t.Errorf("stderr %q does not refuse the directory and carry on", r.stderr)
			}
			if entries, _ := filepath.Glob(filepath.Join(w.home, "elsewhere", "*")); len(entries) != 0 {
				t.Errorf("wrote through the planted link: %v", entries)
			}
		})
	}
}

func TestFullDiskStillPrintsFreshCredentialsAndKeepsTheOldEntry(t *testing.T) {
	requireMoto(t)
	w := newWorld(t)
	cacheRoot := filepath.Join(w.home, ".cache")
	os.MkdirAll(cacheRoot, 0o700)
	err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", cacheRoot).Run()
	testenv.Require(t, err == nil, "mounting a tiny tmpfs (needs root)")
	t.Cleanup(func() { exec.Command("umount", "-l", cacheRoot).Run() })
	role := testenv.RoleARN("FullDisk")
	first := parseV1(t, w.c9("--role", role, "--source", "env"))
	entries, _ := filepath.Glob(filepath.Join(w.cacheDir(), "*.entry"))
	before, _ := os.ReadFile(entries[0])
	// Fill the file system.
	f, _ := os.Create(filepath.Join(cacheRoot, "filler"))
	for {
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			break
		}
	}
	f.Close()
	r := w.c9("--role", role, "--source", "env", "--force-refresh")
	fresh := parseV1(t, r)
	if fresh.AccessKeyID == first.AccessKeyID {
		t.Errorf("--force-refresh printed the old session")
	}
	if !strings.Contains(r.stderr, "not cached") {
		t.Errorf("no warning that the credentials were not cached: %q", r.stderr)
	}
	if after, _ := os.ReadFile(entries[0]); !bytes.Equal(before, after) {
		t.Errorf("the old entry changed on a failed write")
	}
	if tmp, _ := filepath.Glob(filepath.Join(w.cacheDir(), ".*tmp*")); len(tmp) != 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
}

func TestManyConcurrentInvocationsAcrossRolesMakeOneCallPerRoleWithoutCrossTalk(t *testing.T) {
	requireMoto(t)
	w := newWorld(t)
	roles := []string{testenv.RoleARN("LoadA"), testenv.RoleARN("LoadB"), testenv.RoleARN("LoadC"), testenv.RoleARN("LoadD")}
	const n = 64
	type out struct {
		role string
		d    v1
	}
	results := make(chan out, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(role string) {
			defer wg.Done()
			results <- out{role, parseV1(t, w.c9("--role", role, "--source", "env"))}
		}(roles[i%len(roles)])
	}
	wg.Wait()
	close(results)
	byRole := map[string]map[string]v1{}
	for o := range results {
		if byRole[o.role] == nil {
			byRole[o.role] = map[string]v1{}
		}
		byRole[o.role][o.d.AccessKeyID] = o.d
	}
	for _, role := range roles {
		if len(byRole[role]) != 1 {
			t.Errorf("%s: %d different sessions, want 1", role, len(byRole[role]))
		}
		if c := assumeRoleCalls(t, role); c != 1 {
			t.Errorf("%s: %d AssumeRole calls, want 1", role, c)
		}
		// Each role's outputs carry that role's credentials: ask STS.
		for _, d := range byRole[role] {
			client := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(moto.URL),
				Credentials: credentials.NewStaticCredentialsProvider(d.AccessKeyID, d.SecretAccessKey, d.SessionToken)})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			id, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			cancel()
			name := role[strings.LastIndex(role, "/")+1:]
			if err != nil || !strings.Contains(aws.ToString(id.Arn), "assumed-role/"+name+"/") {
				t.Errorf("%s's output belongs to %v (%v)", role, id, err)
			}
		}
	}
}
