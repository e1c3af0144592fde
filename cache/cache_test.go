package cache_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"c9cred/cache"

	"c9cred/internal/testenv"
)

// entryFile is where an entry lives. The ".entry" suffix is the on-disk
// layout the cache documents (one sealed file per request); tests need the
// path to corrupt, truncate and rename entries.
func entryFile(c *cache.Cache, name string) string {
	return filepath.Join(c.Dir(), name+".entry")
}

// snapshot maps every file name in dir to its content (directories map
// to "<dir>"), to prove that an operation changed nothing.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read dir: %v", err)
	}
	out := map[string]string{}
	for _, de := range des {
		if de.IsDir() {
			out[de.Name()] = "<dir>"
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatalf("read %s: %v", de.Name(), err)
		}
		out[de.Name()] = string(b)
	}
	return out
}

// entrySnapshot is snapshot without the lock files, which taking a lock
// creates and leaves behind by design.
func entrySnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := snapshot(t, dir)
	for k := range m {
		if strings.HasSuffix(k, ".lock") {
			delete(m, k)
		}
	}
	return m
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read dir: %v", err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	for _, n := range dirNames(t, dir) {
		if !strings.HasSuffix(n, ".entry") && !strings.HasSuffix(n, ".lock") {
			t.Errorf("unexpected file %q left in the cache dir (temp file?); dir has %q", n, dirNames(t, dir))
		}
	}
}

func assertSameEntry(t *testing.T, got, want cache.Entry) {
	t.Helper()
	if !got.Expires.Equal(want.Expires) {
		t.Errorf("Expires = %v, want %v", got.Expires, want.Expires)
	}
	if !got.Written.Equal(want.Written) {
		t.Errorf("Written = %v, want %v", got.Written, want.Written)
	}
	if !bytes.Equal(got.Payload, want.Payload) {
		t.Errorf("Payload = %q, want %q", trunc(got.Payload), trunc(want.Payload))
	}
}

func trunc(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func TestPutThenGetRoundTripsEntry(t *testing.T) {
	big := bytes.Repeat([]byte{0, 1, 2, 0xff, 'x'}, 64<<10/5)
	tests := []struct {
		name string
		put  cache.Entry
		want cache.Entry // Written is the clock's time when put.Written is zero
	}{
		{
			name: "explicit Written is kept",
			put:  cache.Entry{Expires: t0.Add(time.Hour), Written: t0.Add(-time.Minute), Payload: []byte(`{"AccessKeyId":"ASIAEXAMPLE"}`)},
			want: cache.Entry{Expires: t0.Add(time.Hour), Written: t0.Add(-time.Minute), Payload: []byte(`{"AccessKeyId":"ASIAEXAMPLE"}`)},
		},
		{
			name: "zero Written becomes the clock's now",
			put:  cache.Entry{Expires: t0.Add(time.Hour), Payload: []byte("p")},
			want: cache.Entry{Expires: t0.Add(time.Hour), Written: t0, Payload: []byte("p")},
		},
		{
			name: "nanosecond precision and non-UTC zone",
			put:  cache.Entry{Expires: time.Date(2031, 3, 4, 6, 0, 0, 123456789, time.FixedZone("X", 3600)), Written: t0.Add(7), Payload: []byte("ns")},
			want: cache.Entry{Expires: time.Date(2031, 3, 4, 6, 0, 0, 123456789, time.FixedZone("X", 3600)), Written: t0.Add(7), Payload: []byte("ns")},
		},
		{
			name: "empty payload",
			put:  cache.Entry{Expires: t0.Add(time.Hour), Written: t0},
			want: cache.Entry{Expires: t0.Add(time.Hour), Written: t0, Payload: []byte{}},
		},
		{
			name: "64 KiB binary payload",
			put:  cache.Entry{Expires: t0.Add(12 * time.Hour), Written: t0, Payload: big},
			want: cache.Entry{Expires: t0.Add(12 * time.Hour), Written: t0, Payload: big},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t, t.TempDir(), nil)
			name := cache.Name("round", "trip")
			if err := c.Put(name, tt.put); err != nil {
				t.Fatalf("Put: %v", err)
			}
			got, err := c.Get(name)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			assertSameEntry(t, got, tt.want)

			// Another Cache on the same dir and key (the next process) reads it too.
			got2, err := newCache(t, c.Dir(), nil).Get(name)
			if err != nil {
				t.Fatalf("Get from a second Cache: %v", err)
			}
			assertSameEntry(t, got2, tt.want)
		})
	}
}

func TestPutSealsPayloadOnDisk(t *testing.T) {
	const marker = "SECRETMARKER-wJalrXUtnFEMI-K7MDENG"
	c := newCache(t, t.TempDir(), nil)
	name := cache.Name("seal")
	payload := []byte(`{"SecretAccessKey":"` + marker + `","SessionToken":"` + marker + `"}`)
	if err := c.Put(name, cache.Entry{Expires: t0.Add(time.Hour), Payload: payload}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	raw, err := os.ReadFile(entryFile(c, name))
	if err != nil {
		t.Fatalf("read entry file: %v", err)
	}
	for _, needle := range [][]byte{[]byte(marker), []byte(marker[:12]), []byte("SecretAccessKey"), payload} {
		if bytes.Contains(raw, needle) {
			t.Errorf("entry file contains %q in clear", needle)
		}
	}
}

func TestCacheKeepsEntriesPrivate(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) string // returns the cache dir to use
	}{
		{"new nested dir", func(t *testing.T) string { return filepath.Join(t.TempDir(), "home", ".cache", "c9cred") }},
		{"existing 0755 dir is tightened", func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "c9cred")
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(d, 0o755); err != nil { // past the umask
				t.Fatal(err)
			}
			return d
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t, tt.setup(t), nil)
			name := cache.Name("modes")
			if err := c.Put(name, cache.Entry{Expires: t0.Add(time.Hour), Payload: []byte("x")}); err != nil {
				t.Fatalf("Put: %v", err)
			}
			// Replacing an entry keeps the mode too.
			if err := c.Put(name, cache.Entry{Expires: t0.Add(2 * time.Hour), Payload: []byte("y")}); err != nil {
				t.Fatalf("second Put: %v", err)
			}
			unlock, err := c.Lock(t.Context(), name)
			if err != nil {
				t.Fatalf("Lock: %v", err)
			}
			unlock()
			testenv.AssertMode(t, c.Dir(), 0o700)
			testenv.AssertMode(t, entryFile(c, name), 0o600)
			testenv.AssertMode(t, filepath.Join(c.Dir(), name+".lock"), 0o600)
		})
	}
}

func TestNewRefusesBadKeyOrDir(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		dir  func(t *testing.T) string
	}{
		{"nil key", nil, func(t *testing.T) string { return t.TempDir() }},
		{"16-byte key", make([]byte, 16), func(t *testing.T) string { return t.TempDir() }},
		{"33-byte key", make([]byte, 33), func(t *testing.T) string { return t.TempDir() }},
		{"dir is a symlink", testKey, func(t *testing.T) string {
			d := t.TempDir()
			if err := os.Mkdir(filepath.Join(d, "real"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(d, "real"), filepath.Join(d, "link")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(d, "link")
		}},
		{"dir is a file", testKey, func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := cache.New(cache.Options{Dir: tt.dir(t), Key: tt.key, KeyID: testKeyID})
			if err == nil {
				t.Fatalf("New succeeded (dir %s), want an error", c.Dir())
			}
		})
	}
}

func TestGetTreatsUnusableEntryAsMiss(t *testing.T) {
	const good = "good"
	payload := []byte(`{"SessionToken":"FwoGZXIvYXdzEXAMPLE"}`)
	// Layout facts the cases cut at: "C9C1" magic, 8-byte key id, 12-byte
	// GCM nonce, then ciphertext and a 16-byte tag.
	const magicLen, headerLen, nonceLen, tagLen = 4, 12, 12, 16

	rewrite := func(f func(b []byte) []byte) func(t *testing.T, c *cache.Cache) string {
		return func(t *testing.T, c *cache.Cache) string {
			p := entryFile(c, good)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f(slices.Clone(b)), 0o600); err != nil {
				t.Fatal(err)
			}
			return good
		}
	}
	truncateAt := func(n func(full int) int) func(t *testing.T, c *cache.Cache) string {
		return rewrite(func(b []byte) []byte { return b[:n(len(b))] })
	}
	flipBit := func(at func(full int) int) func(t *testing.T, c *cache.Cache) string {
		return rewrite(func(b []byte) []byte { b[at(len(b))] ^= 0x01; return b })
	}
	sealedUnder := func(key []byte, id [8]byte) func(t *testing.T, c *cache.Cache) string {
		return func(t *testing.T, c *cache.Cache) string {
			other := newCacheWithKey(t, c.Dir(), key, id, nil)
			if err := other.Put(good, cache.Entry{Expires: t0.Add(time.Hour), Payload: payload}); err != nil {
				t.Fatal(err)
			}
			return good
		}
	}

	tests := []struct {
		name string
		// prepare starts from a valid entry named good, damages the dir
		// and returns the name to Get.
		prepare func(t *testing.T, c *cache.Cache) string
	}{
		{"missing entry", func(t *testing.T, c *cache.Cache) string { return "absent" }},
		{"zero-byte file", truncateAt(func(int) int { return 0 })},
		{"truncated inside magic", truncateAt(func(int) int { return 2 })},
		{"truncated after magic", truncateAt(func(int) int { return magicLen })},
		{"truncated after key id", truncateAt(func(int) int { return headerLen })},
		{"truncated after nonce", truncateAt(func(int) int { return headerLen + nonceLen })},
		{"truncated after nonce plus one tag", truncateAt(func(int) int { return headerLen + nonceLen + tagLen })},
		{"truncated by half", truncateAt(func(n int) int { return n / 2 })},
		{"truncated by the tag", truncateAt(func(n int) int { return n - tagLen })},
		{"truncated by one byte", truncateAt(func(n int) int { return n - 1 })},
		{"extra trailing byte", rewrite(func(b []byte) []byte { return append(b, 0) })},
		{"garbage bytes", rewrite(func(b []byte) []byte { return bytes.Repeat([]byte("garbage!"), 32) })},
		{"valid header then garbage", rewrite(func(b []byte) []byte {
			return append(b[:headerLen:headerLen], bytes.Repeat([]byte{0x33}, 128)...)
		})},
		{"sealed under another key and key id", sealedUnder(otherKey, otherKeyID)},
		{"sealed under another key with the same key id", sealedUnder(otherKey, testKeyID)},
		{"same key but another key id", sealedUnder(testKey, otherKeyID)},
		{"renamed to another name", func(t *testing.T, c *cache.Cache) string {
			if err := os.Rename(entryFile(c, good), entryFile(c, "other")); err != nil {
				t.Fatal(err)
			}
			return "other"
		}},
		{"copied to another name", func(t *testing.T, c *cache.Cache) string {
			b, err := os.ReadFile(entryFile(c, good))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(entryFile(c, "copy"), b, 0o600); err != nil {
				t.Fatal(err)
			}
			return "copy"
		}},
		{"bit flip in magic", flipBit(func(int) int { return 0 })},
		{"bit flip in key id", flipBit(func(int) int { return magicLen + 3 })},
		{"bit flip in nonce", flipBit(func(int) int { return headerLen + 5 })},
		{"bit flip in ciphertext", flipBit(func(int) int { return headerLen + nonceLen + 3 })},
		{"bit flip in tag", flipBit(func(n int) int { return n - 1 })},
		{"entry path is a directory", func(t *testing.T, c *cache.Cache) string {
			if err := os.Mkdir(entryFile(c, "dir"), 0o700); err != nil {
				t.Fatal(err)
			}
			return "dir"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t, t.TempDir(), nil)
			if err := c.Put(good, cache.Entry{Expires: t0.Add(time.Hour), Payload: payload}); err != nil {
				t.Fatalf("Put: %v", err)
			}
			name := tt.prepare(t, c)
			before := snapshot(t, c.Dir())

			e, err := c.Get(name)
			if !errors.Is(err, cache.ErrMiss) {
				t.Fatalf("Get(%q) = %+v, %v; want an error wrapping ErrMiss", name, e, err)
			}
			if len(e.Payload) != 0 || !e.Expires.IsZero() {
				t.Errorf("a miss returned a non-empty entry: %+v", e)
			}
			if after := snapshot(t, c.Dir()); !mapsEqual(before, after) {
				t.Errorf("a miss changed the cache dir:\nbefore %q\nafter  %q", keys(before), keys(after))
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestPutLeavesNoTempFiles(t *testing.T) {
	c := newCache(t, t.TempDir(), nil)
	var want []string
	for i, n := range []string{"a", "b", "c"} {
		name := cache.Name(n)
		want = append(want, name+".entry")
		for j := range 3 {
			if err := c.Put(name, cache.Entry{Expires: t0.Add(time.Hour), Payload: bytes.Repeat([]byte{byte(i)}, 10*j)}); err != nil {
				t.Fatalf("Put: %v", err)
			}
		}
	}
	slices.Sort(want)
	got := dirNames(t, c.Dir())
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("cache dir holds %q, want only the entries %q", got, want)
	}
}

func TestConcurrentReaderNeverSeesTornEntry(t *testing.T) {
	dir := t.TempDir()
	name := cache.Name("torn")
	w := newCache(t, dir, nil)
	r := newCache(t, dir, nil)
	payload := func(i int) []byte { return bytes.Repeat([]byte{byte('A' + i%26)}, 1+(i%7)*3000) }
	if err := w.Put(name, cache.Entry{Expires: t0.Add(time.Hour), Payload: payload(0)}); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := 1; i < 60; i++ {
			if err := w.Put(name, cache.Entry{Expires: t0.Add(time.Hour), Payload: payload(i)}); err != nil {
				t.Errorf("Put %d: %v", i, err)
				return
			}
		}
	}()
	reads := 0
	for {
		select {
		case <-done:
			wg.Wait()
			if reads == 0 {
				t.Log("writer finished before the first read")
			}
			return
		default:
		}
		e, err := r.Get(name)
		if err != nil {
			t.Fatalf("read %d during concurrent Puts: %v (a reader saw a torn or missing entry)", reads, err)
		}
		if len(e.Payload) == 0 || bytes.Count(e.Payload, e.Payload[:1]) != len(e.Payload) {
			t.Fatalf("read %d returned a mixed payload", reads)
		}
		reads++
	}
}

func TestPutFailureKeepsOldEntry(t *testing.T) {
	tests := []struct {
		name string
		// fail makes c.Put(name, ...) fail; it reports whether it ran.
		fail func(t *testing.T, c *cache.Cache, name string)
	}{
		{"write fails midway (file size limit in another process)", func(t *testing.T, c *cache.Cache, name string) {
			if !canLimitFileSize {
				t.Skip("RLIMIT_FSIZE is unix only")
			}
			cmd := helperCommand(t, "put-over-fsize-limit", c.Dir(), name)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "put failed:") {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			t.Logf("helper: %s", strings.TrimSpace(string(out)))
		}},
		{"directory not writable", func(t *testing.T, c *cache.Cache, name string) {
			if os.Geteuid() == 0 {
				t.Skip("root ignores directory permissions; the file size limit case covers this")
			}
			if err := os.Chmod(c.Dir(), 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(c.Dir(), 0o700) })
			if err := c.Put(name, cache.Entry{Expires: t0.Add(2 * time.Hour), Payload: []byte("new")}); err == nil {
				t.Fatal("Put into a read-only directory succeeded")
			}
			if err := os.Chmod(c.Dir(), 0o700); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t, t.TempDir(), nil)
			name := cache.Name("keep")
			old := cache.Entry{Expires: t0.Add(time.Hour), Written: t0, Payload: []byte("old payload")}
			if err := c.Put(name, old); err != nil {
				t.Fatalf("Put: %v", err)
			}
			before := snapshot(t, c.Dir())

			tt.fail(t, c, name)

			got, err := c.Get(name)
			if err != nil {
				t.Fatalf("old entry lost after a failed Put: %v", err)
			}
			assertSameEntry(t, got, old)
			if after := snapshot(t, c.Dir()); !mapsEqual(before, after) {
				t.Errorf("failed Put changed the dir:\nbefore %q\nafter  %q", keys(before), keys(after))
			}
			assertNoTempFiles(t, c.Dir())
		})
	}
}

func TestNameDistinguishesParts(t *testing.T) {
	differ := []struct {
		a, b []string
	}{
		{[]string{"ab", "c"}, []string{"a", "bc"}},
		{[]string{"a"}, []string{"a", ""}},
		{nil, []string{""}},
		{[]string{"x", "y"}, []string{"y", "x"}},
		{[]string{"a\x00b"}, []string{"a", "b"}},
		{[]string{"default", "arn:aws:iam::123456789012:role/Admin"}, []string{"default", "arn:aws:iam::123456789012:role/Admin2"}},
		{[]string{"default", "arn:aws:iam::123456789012:role/Admin"}, []string{"dev", "arn:aws:iam::123456789012:role/Admin"}},
	}
	for _, tt := range differ {
		if na, nb := cache.Name(tt.a...), cache.Name(tt.b...); na == nb {
			t.Errorf("Name(%q) == Name(%q) == %s; want different names", tt.a, tt.b, na)
		}
	}
}

func TestNameIsStableAndOpaque(t *testing.T) {
	tests := [][]string{
		{"profile:default", "arn:aws:iam::123456789012:role/Admin", "session-Xyzzy", "us-west-2"},
		{"container", "http://localhost:1338/latest/meta-data/container/security-credentials"},
		{},
	}
	hex40 := regexp.MustCompile(`^[0-9a-f]{40}$`)
	for _, parts := range tests {
		n := cache.Name(parts...)
		if again := cache.Name(slices.Clone(parts)...); again != n {
			t.Errorf("Name(%q) is not stable: %s then %s", parts, n, again)
		}
		if !hex40.MatchString(n) {
			t.Errorf("Name(%q) = %q, want 40 lower-case hex digits (a safe file name)", parts, n)
		}
		for _, p := range parts {
			for _, piece := range []string{p, "123456789012", "Admin", "Xyzzy", "localhost"} {
				if strings.Contains(p, piece) && strings.Contains(n, piece) {
					t.Errorf("Name(%q) = %q reveals %q", parts, n, piece)
				}
			}
		}
	}
}

func TestNamesListsOnlyEntries(t *testing.T) {
	c := newCache(t, t.TempDir(), nil)
	for _, n := range []string{"b", "a"} {
		if err := c.Put(n, cache.Entry{Expires: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	unlock, err := c.Lock(t.Context(), "locked-only")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	for _, stray := range []string{".hidden.entry", ".a.entry.tmp-12345", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(c.Dir(), stray), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Names()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}

func TestDeleteRemovesEntryButNotLock(t *testing.T) {
	c := newCache(t, t.TempDir(), nil)
	name := cache.Name("del")
	if err := c.Put(name, cache.Entry{Expires: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	unlock, err := c.Lock(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := c.Delete(name); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := c.Get(name); !errors.Is(err, cache.ErrMiss) {
		t.Errorf("Get after Delete: %v, want ErrMiss", err)
	}
	if _, err := os.Stat(filepath.Join(c.Dir(), name+".lock")); err != nil {
		t.Errorf("Delete removed the lock file: %v", err)
	}
	if err := c.Delete(name); err != nil {
		t.Errorf("Delete of a missing entry = %v, want nil", err)
	}
}
