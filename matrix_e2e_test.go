package main

// The compatibility matrix: every client users run c9cred under (the AWS
// CLI v1 and v2, boto3, aws-sdk-go-v2, the AWS SDK for JavaScript v3) gets
// the assumed role through credential_process and through `c9cred serve`,
// and long-lived clients keep working across a refresh without running
// c9cred on every call.

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"c9cred/internal/testenv"
)

// compatClient is one client of the matrix.
type compatClient struct {
	name string
	slug string // for role names
	// argv returns the command that calls STS GetCallerIdentity at endpoint
	// and prints the caller ARN, with the credentials of the shared config
	// profile, or of the client's default chain when profile is "". It
	// skips (or fails under C9CRED_REQUIRE_PEERS=1) when the client is
	// missing.
	argv func(t *testing.T, endpoint, profile string) []string
}

// boto3Caller prints the caller ARN: python3 -c boto3Caller ENDPOINT PROFILE.
const boto3Caller = `import sys, boto3
session = boto3.Session(profile_name=sys.argv[2] or None)
print(session.client('sts', endpoint_url=sys.argv[1]).get_caller_identity()['Arn'])`

// compatClients builds the Go client and lays out the JavaScript one in a
// directory of t's; each client's argv checks that its peer is there.
func compatClients(t *testing.T) []compatClient {
	t.Helper()
	dir := t.TempDir()
	goBin := buildGoClient(t, dir)
	jsScript, jsMissing := jsClient(dir)
	cli := func(which string) func(t *testing.T, endpoint, profile string) []string {
		return func(t *testing.T, endpoint, profile string) []string {
			argv := append([]string{}, awsCLIs(t)[which]...)
			if profile != "" {
				argv = append(argv, "--profile", profile)
			}
			return append(argv, "--endpoint-url", endpoint, "--output", "text", "--query", "Arn", "sts", "get-caller-identity")
		}
	}
	return []compatClient{
		{"AWS CLI v1", "cli-v1", cli("AWS CLI v1")},
		{"AWS CLI v2", "cli-v2", cli("AWS CLI v2")},
		{"boto3", "boto3", func(t *testing.T, endpoint, profile string) []string {
			requireBoto3(t)
			return []string{"python3", "-c", boto3Caller, endpoint, profile}
		}},
		{"aws-sdk-go-v2", "go-v2", func(t *testing.T, endpoint, profile string) []string {
			argv := []string{goBin, "-endpoint", endpoint}
			if profile != "" {
				argv = append(argv, "-profile", profile)
			}
			return argv
		}},
		{"AWS SDK for JavaScript v3", "js-v3", func(t *testing.T, endpoint, profile string) []string {
			testenv.Require(t, jsMissing == "", jsMissing)
			argv := []string{"node", jsScript, endpoint}
			if profile != "" {
				argv = append(argv, profile)
			}
			return argv
		}},
	}
}

func requireBoto3(t *testing.T) {
	t.Helper()
	err := exec.Command("python3", "-c", "import boto3").Run()
	testenv.Require(t, err == nil, "boto3 (python3 -c 'import boto3')")
}

// buildGoClient builds internal/testenv/clients/gosdk into dir.
func buildGoClient(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "gosdk")
	cmd := exec.Command("go", "build", "-o", bin, "./internal/testenv/clients/gosdk")
	cmd.Dir = testenv.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build the aws-sdk-go-v2 client: %v\n%s", err, out)
	}
	return bin
}

// jsClient copies internal/testenv/clients/js/caller.mjs into dir beside a
// link to the node_modules that .ci/deps.sh fills, so that node resolves
// the SDK's packages from there. It returns the script, or what is missing.
func jsClient(dir string) (script, missing string) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", "node (Node.js 20+)"
	}
	modules := filepath.Join(testenv.RepoRoot(), ".testdeps", "js", "node_modules")
	for _, pkg := range []string{"client-sts", "credential-providers"} {
		if _, err := os.Stat(filepath.Join(modules, "@aws-sdk", pkg, "package.json")); err != nil {
			return "", "@aws-sdk/" + pkg + " in .testdeps/js (from .ci/deps.sh)"
		}
	}
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "internal", "testenv", "clients", "js", "caller.mjs"))
	if err != nil {
		return "", "internal/testenv/clients/js/caller.mjs: " + err.Error()
	}
	js := filepath.Join(dir, "js")
	script = filepath.Join(js, "caller.mjs")
	if err := os.MkdirAll(js, 0o700); err != nil {
		return "", err.Error()
	}
	if err := os.Symlink(modules, filepath.Join(js, "node_modules")); err != nil {
		return "", err.Error()
	}
	if err := os.WriteFile(script, src, 0o600); err != nil {
		return "", err.Error()
	}
	return script, ""
}

// checkAssumedRole checks that a client printed the ARN of roleName's
// session and that one AssumeRole call made it.
func checkAssumedRole(t *testing.T, r result, roleName string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	arn := strings.TrimSpace(r.stdout)
	if want := "assumed-role/" + roleName + "/"; !strings.Contains(arn, want) || strings.Contains(arn, "\n") {
		t.Errorf("caller %q, want one ARN containing %q (stderr %q)", arn, want, r.stderr)
	}
	if n := assumeRoleCalls(t, testenv.RoleARN(roleName)); n != 1 {
		t.Errorf("AssumeRole calls for %s = %d, want 1", roleName, n)
	}
}

func TestEveryClientGetsTheAssumedRoleThroughCredentialProcess(t *testing.T) {
	requireMoto(t)
	for _, c := range compatClients(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			roleName := "Matrix-process-" + c.slug
			// The source keys are in the environment too: a client that
			// took them instead of the profile would show as the user.
			w := newWorld(t)
			w.writeConfig(fmt.Sprintf("[profile matrix]\ncredential_process = %s --role %s --source env\nregion = us-east-1\n",
				c9bin, testenv.RoleARN(roleName)))
			argv := c.argv(t, moto.URL, "matrix")
			checkAssumedRole(t, w.run(argv[0], argv[1:]...), roleName)
		})
	}
}

func TestEveryClientGetsTheAssumedRoleThroughServe(t *testing.T) {
	requireMoto(t)
	for _, c := range compatClients(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			roleName := "Matrix-serve-" + c.slug
			argv := c.argv(t, moto.URL, "")
			s := startServe(t, newWorld(t), "--role", testenv.RoleARN(roleName), "--source", "env")
			// The client's world has no keys and no config: its credentials
			// come only from the container credentials variables. Its region
			// is in AWS_DEFAULT_REGION too, the one botocore (boto3, AWS CLI
			// v1) reads; it ignores cleanWorld's AWS_REGION.
			client := cleanWorld(t, "AWS_CONTAINER_CREDENTIALS_FULL_URI="+s.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
				"AWS_CONTAINER_AUTHORIZATION_TOKEN="+s.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
				"AWS_DEFAULT_REGION=eu-west-1")
			r := client.run(argv[0], argv[1:]...)
			testenv.AssertNoSecrets(t, []string{s.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"]}, r.stdout, r.stderr)
			checkAssumedRole(t, r, roleName)
		})
	}
}

// keyRecorder is a reverse proxy in front of an STS that records the access
// key id that signed each request going through it.
type keyRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	keys []string
}

func newKeyRecorder(t *testing.T, target string) *keyRecorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	k := &keyRecorder{}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/sts/aws4_request, ...
		_, cred, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
		id, _, _ := strings.Cut(cred, "/")
		k.mu.Lock()
		k.keys = append(k.keys, id)
		k.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(k.Close)
	return k
}

func (k *keyRecorder) signed() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string{}, k.keys...)
}

// boto3Loop keeps one session and one STS client for CALLS calls, a second
// apart, printing "ARN ACCESS_KEY_ID" for each: python3 -c boto3Loop
// ENDPOINT PROFILE CALLS.
const boto3Loop = `import sys, time, boto3
endpoint, profile, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
session = boto3.Session(profile_name=profile)
sts = session.client('sts', endpoint_url=endpoint)
failed = 0
for i in range(calls):
    if i:
        time.sleep(1)
    key = session.get_credentials().get_frozen_credentials().access_key
    try:
        print(sts.get_caller_identity()['Arn'], key, flush=True)
    except Exception as e:
        failed += 1
        print('call %d: %s' % (i + 1, e), file=sys.stderr, flush=True)
sys.exit(1 if failed else 0)`

// TestLongLivedClientsRefreshEarlyAndKeepWorking: botocore re-runs
// credential_process when fewer than 15 minutes remain (and a Go SDK
// client can be told to), so credentials that live 15m12s become due 12
// seconds after they are issued. A client that lives for 30 calls, a
// second apart, must get a new session each time they become due and keep
// working across the change, while c9cred runs only when they are due, not
// on every call.
func TestLongLivedClientsRefreshEarlyAndKeepWorking(t *testing.T) {
	const calls = 30
	dir := t.TempDir()
	goBin := buildGoClient(t, dir)
	clients := []struct {
		name string
		argv func(t *testing.T, endpoint, profile string) []string
	}{
		{"boto3", func(t *testing.T, endpoint, profile string) []string {
			requireBoto3(t)
			return []string{"python3", "-c", boto3Loop, endpoint, profile, strconv.Itoa(calls)}
		}},
		{"aws-sdk-go-v2", func(t *testing.T, endpoint, profile string) []string {
			// The Go SDK's cache refreshes only at expiry by default;
			// an ExpiryWindow makes it refresh early as botocore does.
			return []string{goBin, "-endpoint", endpoint, "-profile", profile,
				"-calls", strconv.Itoa(calls), "-interval", "1s", "-expiry-window", "15m"}
		}},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sts := testenv.NewFaultSTS()
			defer sts.Close()
			sts.SetLifetime(15*time.Minute + 12*time.Second)
			rec := newKeyRecorder(t, sts.URL) // the client calls STS through it; c9cred directly
			w := newWorld(t, "AWS_ENDPOINT_URL_STS="+sts.URL)

			runs := filepath.Join(w.home, "c9cred-runs")
			wrapper := filepath.Join(w.home, "c9cred-counting")
			script := fmt.Sprintf("#!/bin/sh\necho run >> '%s'\nexec '%s' \"$@\"\n", runs, c9bin)
			if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
				t.Fatal(err)
			}
			w.writeConfig(fmt.Sprintf("[profile refresh]\ncredential_process = %s --role %s --source env --duration 20m --refresh-window 15m\nregion = us-east-1\n",
				wrapper, testenv.RoleARN("Matrix-refresh-"+c.name)))

			argv := c.argv(t, rec.URL, "refresh")
			r := w.run(argv[0], argv[1:]...)
			if r.code != 0 {
				t.Fatalf("a call failed: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}

			// What the client says it used, call by call.
			var printed []string
			sc := bufio.NewScanner(strings.NewReader(r.stdout))
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) != 2 || f[0] != sts.CallerARN {
					t.Fatalf("unexpected output line %q", sc.Text())
				}
				printed = append(printed, f[1])
			}
			if len(printed) != calls {
				t.Fatalf("%d calls succeeded, want %d:\n%s", len(printed), calls, r.stdout)
			}
			// What actually signed each request.
			signed := rec.signed()
			if len(signed) != calls {
				t.Fatalf("STS received %d requests for %d calls: %v", len(signed), calls, signed)
			}
			distinct := map[string]bool{}
			for i, k := range signed {
				if !strings.HasPrefix(k, "ASIAFAKE") {
					t.Fatalf("call %d was signed with %q, not a session c9cred got from AssumeRole", i+1, k)
				}
				if k != printed[i] {
					t.Errorf("call %d: client reported key %s, request was signed with %s", i+1, printed[i], k)
				}
				if i > 0 && k != signed[i-1] && distinct[k] {
					t.Errorf("call %d went back to an earlier session %s: %v", i+1, k, signed)
				}
				distinct[k] = true
			}
			if len(distinct) < 2 {
				t.Errorf("all %d calls over %s used one session %v; credentials due 12 s after issue were never refreshed", calls, r.elapsed.Round(time.Second), signed)
			}

			b, err := os.ReadFile(runs)
			if err != nil {
				t.Fatalf("c9cred never ran: %v", err)
			}
			n := strings.Count(string(b), "\n")
			if n < 2 {
				t.Errorf("c9cred ran %d times in %s, want at least 2 (a refresh)", n, r.elapsed.Round(time.Second))
			}
			if n > calls/3 {
				t.Errorf("c9cred ran %d times for %d calls, want at most %d: it must not run on every call while credentials are fresh", n, calls, calls/3)
			}
			// Each run was due, so each one must have brought a new session,
			// not handed the due one back.
			if ar := sts.Calls("AssumeRole"); ar != int64(n) {
				t.Errorf("%d AssumeRole calls for %d c9cred runs, want one each", ar, n)
			}
			t.Logf("%d calls in %s, %d c9cred runs, %d sessions", calls, r.elapsed.Round(time.Second), n, len(distinct))
		})
	}
}
