package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"c9cred/internal/testenv"
)

// Shared by the end-to-end tests: the built binary and one moto_server.
var (
	c9bin string
	moto  *testenv.Moto
)

// Source credentials the tests hand to c9cred; they must never appear in
// any output.
const (
	srcKeyID  = "AKIAIOSFODNN7EXAMPLE"
	srcSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYsrcSECRET"
	srcToken  = "FQoGZXIvYXdzEXAMPLEsrcTOKENvalue0123456789"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "c9cred-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c9bin, err = testenv.BuildBinary(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if testenv.MotoAvailable() {
		if moto, err = testenv.StartMoto(dir); err != nil {
			fmt.Fprintln(os.Stderr, "moto_server:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	if moto != nil {
		moto.Stop()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func requireMoto(t *testing.T) {
	t.Helper()
	testenv.Require(t, moto != nil, "moto_server")
}

// world is one user's machine: a home directory and an environment.
type world struct {
	t    *testing.T
	home string
	env  []string
	// passThrough: stdout is expected to carry the source's own keys.
	passThrough bool
}

func newWorld(t *testing.T, extra ...string) *world {
	t.Helper()
	home := t.TempDir()
	env := testenv.MinimalEnv(home)
	if moto != nil {
		env = append(env, "AWS_ENDPOINT_URL_STS="+moto.URL)
	}
	env = append(env, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID="+srcKeyID, "AWS_SECRET_ACCESS_KEY="+srcSecret)
	env = append(env, extra...)
	return &world{t: t, home: home, env: env}
}

// withBus passes the test process's D-Bus session bus (gnome-keyring) on.
func (w *world) withBus() *world {
	w.env = append(w.env, "DBUS_SESSION_BUS_ADDRESS="+os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	return w
}

func (w *world) set(kv ...string) *world {
	w.env = append(w.env, kv...)
	return w
}

func (w *world) cacheDir() string { return filepath.Join(w.home, ".cache", "c9cred") }

type result struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

// run runs name with args in w's environment.
func (w *world) run(name string, args ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = w.env
	cmd.Dir = w.home
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		w.t.Fatalf("run %s: %v", name, err)
	}
	testenv.AssertNoSecrets(w.t, []string{srcSecret, srcToken}, r.stderr)
	if !w.passThrough {
		testenv.AssertNoSecrets(w.t, []string{srcSecret, srcToken}, r.stdout)
	}
	return r
}

func (w *world) c9(args ...string) result {
	w.t.Helper()
	return w.run(c9bin, args...)
}

// writeConfig writes the shared config file.
func (w *world) writeConfig(content string) {
	w.t.Helper()
	p := filepath.Join(w.home, ".aws", "config")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

type v1 struct {
	Version         int
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      string
	AccountID       string `json:"AccountId"`
}

// parseV1 checks the credential_process contract: exactly one line of JSON.
func parseV1(t *testing.T, r result) v1 {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if strings.Count(r.stdout, "\n") != 1 || !strings.HasSuffix(r.stdout, "\n") {
		t.Fatalf("stdout is not exactly one line: %q", r.stdout)
	}
	var d v1
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("stdout is not JSON: %v", err)
	}
	if d.Version != 1 || d.AccessKeyID == "" || d.SecretAccessKey == "" {
		t.Fatalf("incomplete credentials: %+v", d)
	}
	if d.Expiration != "" {
		exp, err := time.Parse(time.RFC3339, d.Expiration)
		if err != nil || !strings.HasSuffix(d.Expiration, "Z") {
			t.Fatalf("Expiration %q is not RFC 3339 UTC", d.Expiration)
		}
		if !exp.After(time.Now()) {
			t.Fatalf("expired credentials handed out: %s", d.Expiration)
		}
	}
	return d
}

func assumeRoleCalls(t *testing.T, role string) int {
	t.Helper()
	n, err := moto.Calls("AssumeRole", map[string]string{"RoleArn": role})
	if err != nil {
		t.Fatalf("moto recorder: %v", err)
	}
	return n
}

// awsCLIs are the AWS CLIs on the machine.
func awsCLIs(t *testing.T) map[string][]string {
	t.Helper()
	clis := map[string][]string{}
	if out, err := exec.Command("python3", "-m", "awscli", "--version").CombinedOutput(); err == nil && strings.HasPrefix(string(out), "aws-cli/1.") {
		clis["AWS CLI v1"] = []string{"python3", "-m", "awscli"}
	}
	testenv.Require(t, clis["AWS CLI v1"] != nil, "AWS CLI v1 (python3 -m awscli)")
	if out, err := exec.Command("/usr/bin/aws", "--version").CombinedOutput(); err == nil && strings.HasPrefix(string(out), "aws-cli/2.") {
		clis["AWS CLI v2"] = []string{"/usr/bin/aws"}
	}
	testenv.Require(t, clis["AWS CLI v2"] != nil, "AWS CLI v2 (Debian awscli, /usr/bin/aws)")
	return clis
}

func TestAWSCLIsGetAssumedRoleThroughCredentialProcessWithOneSTSCall(t *testing.T) {
	requireMoto(t)
	clis := awsCLIs(t)
	role := testenv.RoleARN("Dev-cli")
	w := newWorld(t)
	w.writeConfig(fmt.Sprintf("[profile dev]\ncredential_process = %s --role %s --source env\nregion = us-east-1\n", c9bin, role))
	for _, round := range []string{"cold", "warm"} {
		for name, argv := range clis {
			args := append(append([]string{}, argv[1:]...), "--profile", "dev", "--endpoint-url", moto.URL, "--output", "json", "sts", "get-caller-identity")
			r := w.run(argv[0], args...)
			if r.code != 0 {
				t.Fatalf("%s (%s): exit %d\n%s", name, round, r.code, r.stderr)
			}
			var id struct{ Arn string }
			if err := json.Unmarshal([]byte(r.stdout), &id); err != nil {
				t.Fatalf("%s: %v: %s", name, err, r.stdout)
			}
			if want := "assumed-role/Dev-cli/"; !strings.Contains(id.Arn, want) {
				t.Errorf("%s (%s): caller %q, want an ARN containing %q", name, round, id.Arn, want)
			}
		}
	}
	if n := assumeRoleCalls(t, role); n != 1 {
		t.Errorf("AssumeRole calls for 4 CLI runs = %d, want 1 (the rest from the cache)", n)
	}
}

func TestConcurrentColdInvocationsMakeOneAssumeRole(t *testing.T) {
	requireMoto(t)
	modes := []struct {
		name  string
		bus   bool
		cache string
	}{
		{"file store", false, "file"},
		{"Secret Service", true, "keychain"},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			w := newWorld(t)
			if m.bus {
				testenv.RequireBus(t)
				w.withBus()
			}
			role := testenv.RoleARN("Conc-" + m.cache)
			const n = 32
			results := make(chan result, n)
			for i := 0; i < n; i++ {
				go func() { results <- w.c9("--role", role, "--source", "env", "--cache", m.cache) }()
			}
			keys := map[string]int{}
			for i := 0; i < n; i++ {
				d := parseV1(t, <-results)
				keys[d.AccessKeyID]++
			}
			if len(keys) != 1 {
				t.Errorf("%d processes printed %d different sessions, want 1: %v", n, len(keys), keys)
			}
			if c := assumeRoleCalls(t, role); c != 1 {
				t.Errorf("AssumeRole calls = %d for %d concurrent cold runs, want 1", c, n)
			}
		})
	}
}

func TestDataKeyLivesInSecretServiceAndEntriesAreSealed(t *testing.T) {
	requireMoto(t)
	testenv.RequireBus(t)
	_, err := exec.LookPath("secret-tool")
	testenv.Require(t, err == nil, "secret-tool (libsecret-tools)")
	w := newWorld(t).withBus()
	d := parseV1(t, w.c9("--role", testenv.RoleARN("Sealed"), "--source", "env", "--cache", "keychain"))

	out, err := exec.Command("secret-tool", "lookup", "service", "c9cred", "username", "cache-data-key").Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Fatalf("data key not found in the Secret Service: %v", err)
	}
	if _, err := os.Stat(filepath.Join(w.cacheDir(), "cache-data-key.secret")); err == nil {
		t.Errorf("with --cache keychain the data key must not be written to a file")
	}
	entries, _ := filepath.Glob(filepath.Join(w.cacheDir(), "*.entry"))
	if len(entries) != 1 {
		t.Fatalf("want 1 cache entry, got %v", entries)
	}
	for _, p := range entries {
		b, _ := os.ReadFile(p)
		for _, secret := range []string{d.SessionToken, d.SecretAccessKey, d.AccessKeyID} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("cache entry %s holds a credential in clear", p)
			}
		}
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("entry mode %o, want 600", fi.Mode().Perm())
		}
	}
	fi, _ := os.Stat(w.cacheDir())
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("cache dir mode %o, want 700", fi.Mode().Perm())
	}
}

func countProcesses(name string) int {
	out, _ := exec.Command("pgrep", "-c", "-x", name).Output()
	var n int
	fmt.Sscan(string(out), &n)
	return n
}

func TestWithoutSessionBusFallsBackToFileStoreAndStillCaches(t *testing.T) {
	requireMoto(t)
	w := newWorld(t) // no DBUS_SESSION_BUS_ADDRESS
	role := testenv.RoleARN("NoBus")
	daemons := countProcesses("dbus-daemon")
	first := parseV1(t, w.c9("--role", role, "--source", "env"))
	for i := 0; i < 4; i++ {
		again := parseV1(t, w.c9("--role", role, "--source", "env"))
		if again.AccessKeyID != first.AccessKeyID {
			t.Fatalf("run %d was not served from the cache", i+2)
		}
	}
	if c := assumeRoleCalls(t, role); c != 1 {
		t.Errorf("AssumeRole calls = %d, want 1", c)
	}
	fi, err := os.Stat(filepath.Join(w.cacheDir(), "cache-data-key.secret"))
	if err != nil {
		t.Fatalf("file-store data key missing: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("data key file mode %o, want 600", fi.Mode().Perm())
	}
	if got := countProcesses("dbus-daemon"); got > daemons {
		t.Errorf("dbus-daemon processes went from %d to %d: c9cred autolaunched a bus", daemons, got)
	}
}

func TestUsageErrorsExitTwoBeforeAnyNetworkCall(t *testing.T) {
	sts := testenv.NewFaultSTS()
	defer sts.Close()
	role := "arn:aws:iam::123456789012:role/Dev"
	cases := []struct {
		name string
		args []string
		want []string // substrings of the one stderr line
	}{
		{"bad role ARN", []string{"--role", "arn:aws:iam::123:user/x"}, []string{`"arn:aws:iam::123:user/x"`, "arn:aws:iam::123456789012:role/NAME"}},
		{"bad duration", []string{"--role", role, "--duration", "5m"}, []string{`"5m"`, "15m", "12h"}},
		{"duration not a number", []string{"--role", role, "--duration", "forever"}, []string{`"forever"`, "3600"}},
		{"bad session name", []string{"--role", role, "--session-name", "has space"}, []string{`"has space"`, "2 to 64"}},
		{"unknown source", []string{"--role", role, "--source", "vault"}, []string{`"vault"`, "env", "profile:NAME"}},
		{"unknown flag", []string{"--rol", role}, []string{"--rol", "--help"}},
		{"flag without value", []string{"--role"}, []string{"--role", "needs a value"}},
		{"bad region", []string{"--role", role, "--region", "mars"}, []string{`"mars"`, "us-east-1"}},
		{"bad cache mode", []string{"--role", role, "--cache", "redis"}, []string{`"redis"`, "auto, keychain, file, off"}},
		{"format without print", []string{"--role", role, "--format", "json"}, []string{"--print"}},
		{"unknown format", []string{"--print", "--format", "yaml"}, []string{`"yaml"`, "export", "powershell"}},
		{"duration inside refresh window", []string{"--role", role, "--duration", "15m"}, []string{"refresh window", "--refresh-window"}},
		{"stray argument", []string{"--role", role, "extra"}, []string{`"extra"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, "AWS_ENDPOINT_URL_STS="+sts.URL)
			r := w.c9(tc.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout must stay empty, got %q", r.stdout)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if !strings.HasPrefix(lines[0], "c9cred: ") {
				t.Errorf("first stderr line %q does not start with c9cred:", lines[0])
			}
			for _, s := range tc.want {
				if !strings.Contains(lines[0], s) {
					t.Errorf("stderr %q does not mention %q", lines[0], s)
				}
			}
		})
	}
	for _, a := range []string{"AssumeRole", "GetCallerIdentity"} {
		if n := sts.Calls(a); n != 0 {
			t.Errorf("%d %s calls were made for usage errors, want none", n, a)
		}
	}
}

func TestUnreachableSTSFailsFastWithOneClearLine(t *testing.T) {
	port, err := testenv.FreePort() // nothing listens there now
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, fmt.Sprintf("AWS_ENDPOINT_URL_STS=http://127.0.0.1:%d", port))
	r := w.c9("--role", testenv.RoleARN("Unreachable"), "--source", "env")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want empty", r.stdout)
	}
	if !strings.Contains(r.stderr, "c9cred: AssumeRole") || !strings.Contains(r.stderr, "cannot reach") || !strings.Contains(r.stderr, "\nhint: ") {
		t.Errorf("stderr does not explain the failure:\n%s", r.stderr)
	}
	// Bounded retries: the issue asks for well under 10 s.
	if r.elapsed > 8*time.Second {
		t.Errorf("took %s to give up on an unreachable STS, want well under 10s", r.elapsed)
	}
}

func TestSTSErrorsCarryCodeAndHintButNoSecret(t *testing.T) {
	cases := []struct {
		name  string
		fault testenv.Fault
		want  []string
	}{
		{"access denied names the caller", testenv.Fault{Status: 403, Code: "AccessDenied", Message: "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole"},
			[]string{"AccessDenied", "not authorized", "hint: ", "trust policy", "arn:aws:iam::123456789012:user/alice"}},
		{"expired token names the source", testenv.Fault{Status: 403, Code: "ExpiredToken", Message: "The security token included in the request is expired"},
			[]string{"ExpiredToken", "hint: ", "source env", "expired"}},
		{"invalid key names the source", testenv.Fault{Status: 403, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."},
			[]string{"InvalidClientTokenId", "hint: ", "source env", "not valid"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sts := testenv.NewFaultSTS()
			defer sts.Close()
			sts.Set("AssumeRole", tc.fault)
			w := newWorld(t, "AWS_ENDPOINT_URL_STS="+sts.URL, "AWS_SESSION_TOKEN="+srcToken)
			r := w.c9("--role", testenv.RoleARN("Faulty"), "--source", "env")
			if r.code != 1 || r.stdout != "" {
				t.Fatalf("exit %d stdout %q, want 1 and empty", r.code, r.stdout)
			}
			for _, s := range tc.want {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr does not contain %q:\n%s", s, r.stderr)
				}
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n") + 1; n != 2 {
				t.Errorf("want one error line and one hint line, got %d lines:\n%s", n, r.stderr)
			}
		})
	}
}

func TestNoCredentialsListsWhatWasTried(t *testing.T) {
	w := newWorld(t)
	w.env = testenv.MinimalEnv(w.home) // no keys anywhere
	r := w.c9("--role", testenv.RoleARN("Nothing"))
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("exit %d stdout %q", r.code, r.stdout)
	}
	for _, s := range []string{"no credentials found", "env (", "profile default", "hint: "} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
}

func TestProfileWhoseCredentialProcessIsC9credIsRefusedNotForked(t *testing.T) {
	w := newWorld(t)
	w.env = testenv.MinimalEnv(w.home) // auto must reach the profile step
	w.set("AWS_PROFILE=loop")
	w.writeConfig(fmt.Sprintf("[profile loop]\ncredential_process = %s --role arn:aws:iam::123456789012:role/Dev\n", c9bin))
	for _, args := range [][]string{{"--role", testenv.RoleARN("Loop")}, {"--role", testenv.RoleARN("Loop"), "--source", "profile:loop"}} {
		r := w.c9(args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2; stderr %q", args, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "would run c9cred again") {
			t.Errorf("%v: stderr does not explain the loop: %q", args, r.stderr)
		}
	}
	// A wrapper script hides the loop from static detection; the guard
	// variable still stops it at the second level.
	wrapper := filepath.Join(w.home, "creds.sh")
	os.WriteFile(wrapper, []byte("#!/bin/sh\nexec "+c9bin+" \"$@\"\n"), 0o755)
	w.writeConfig(fmt.Sprintf("[profile loop]\ncredential_process = %s --role arn:aws:iam::123456789012:role/Dev\n", wrapper))
	r := w.c9("--role", testenv.RoleARN("Loop"), "--source", "profile:loop")
	if r.code == 0 {
		t.Fatalf("a loop through a wrapper script succeeded?")
	}
	if r.elapsed > 30*time.Second {
		t.Errorf("loop through wrapper took %s: it must stop at the second level", r.elapsed)
	}
}

func TestPrintExportEvaluatesInBash(t *testing.T) {
	requireMoto(t)
	w := newWorld(t)
	r := w.c9("--print", "--role", testenv.RoleARN("Printer"), "--source", "env")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	d := parseV1(t, w.c9("--role", testenv.RoleARN("Printer"), "--source", "env"))
	got := w.run("bash", "-c", `eval "$1"; printf '%s|%s|%s|%s|%s' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_CREDENTIAL_EXPIRATION" "$AWS_DEFAULT_REGION"`, "_", r.stdout)
	want := strings.Join([]string{d.AccessKeyID, d.SecretAccessKey, d.SessionToken, d.Expiration, "us-east-1"}, "|")
	if got.stdout != want {
		t.Errorf("eval of --print gave %q, want %q", got.stdout, want)
	}
}

func TestPassThroughWithoutRolePrintsSourceCredentials(t *testing.T) {
	w := newWorld(t)
	w.passThrough = true
	d := parseV1(t, w.c9("--source", "env"))
	if d.AccessKeyID != srcKeyID {
		t.Errorf("AccessKeyId %q, want the source's", d.AccessKeyID)
	}
	if d.Expiration != "" {
		t.Errorf("static keys got an Expiration %q", d.Expiration)
	}
	// Long-term keys are never written to the cache.
	entries, _ := filepath.Glob(filepath.Join(w.cacheDir(), "*.entry"))
	if len(entries) != 0 {
		t.Errorf("static source credentials were cached: %v", entries)
	}
}

func TestVersionPrintsOneLine(t *testing.T) {
	w := newWorld(t)
	r := w.c9("version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "c9cred ") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("version: exit %d stdout %q", r.code, r.stdout)
	}
}
