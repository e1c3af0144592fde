package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"c9cred/internal/testenv"
)

// Credentials the fake endpoints hand out; secrets must not leak.
var upstream = testenv.Creds{
	AccessKeyID:     "ASIAUPSTREAMEXAMPLE1",
	SecretAccessKey: "upstreamSECRETvalue/0123456789abcdefghij",
	Token:           "upstreamTOKENvalue0123456789abcdefghijklmnop",
}

// cleanWorld is a world with no source credentials in the environment.
func cleanWorld(t *testing.T, extra ...string) *world {
	w := newWorld(t)
	w.env = append(testenv.MinimalEnv(w.home), "AWS_REGION=eu-west-1")
	if moto != nil {
		w.env = append(w.env, "AWS_ENDPOINT_URL_STS="+moto.URL)
	}
	w.env = append(w.env, extra...)
	return w
}

// without drops variables from w's environment.
func (w *world) without(keys ...string) *world {
	var out []string
	for _, kv := range w.env {
		k, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, drop := range keys {
			if k == drop {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	w.env = out
	return w
}

// evalExports runs the export lines in bash and returns the variables.
func evalExports(w *world, exports string) map[string]string {
	w.t.Helper()
	r := w.run("bash", "-c", `eval "$1"; for v in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_CREDENTIAL_EXPIRATION AWS_REGION AWS_DEFAULT_REGION; do printf '%s=%s\n' "$v" "${!v}"; done`, "_", exports)
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		k, v, _ := strings.Cut(l, "=")
		out[k] = v
	}
	return out
}

func cliCallerARN(t *testing.T, w *world, profile string) string {
	t.Helper()
	clis := awsCLIs(t)
	r := w.run(clis["AWS CLI v2"][0], "--profile", profile, "--endpoint-url", moto.URL, "--output", "text", "--query", "Arn", "sts", "get-caller-identity")
	if r.code != 0 {
		t.Fatalf("aws: exit %d: %s", r.code, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

func TestCloudShellContainerEndpointSource(t *testing.T) {
	requireMoto(t)
	const token = "cloudshell-auth-TOKEN-0123456789abcdef"
	c := upstream
	c.Expiration = time.Now().Add(15 * time.Minute).UTC().Truncate(time.Second)
	ep := testenv.NewContainerEndpoint(token, c)
	defer ep.Close()
	w := cleanWorld(t, "AWS_CONTAINER_CREDENTIALS_FULL_URI="+ep.URL(), "AWS_CONTAINER_AUTHORIZATION_TOKEN="+token)
	w.passThrough = true

	t.Run("print passes CloudShell's own credentials through with region and expiry", func(t *testing.T) {
		w.t = t
		r := w.c9("--print")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "credentials from container") {
			t.Errorf("auto did not say which source it used: %q", r.stderr)
		}
		got := evalExports(w, r.stdout)
		want := map[string]string{
			"AWS_ACCESS_KEY_ID": c.AccessKeyID, "AWS_SECRET_ACCESS_KEY": c.SecretAccessKey, "AWS_SESSION_TOKEN": c.Token,
			"AWS_CREDENTIAL_EXPIRATION": c.Expiration.Format(time.RFC3339), "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q", k, got[k], v)
			}
		}
		testenv.AssertNoSecrets(t, []string{token}, r.stdout, r.stderr)
	})

	t.Run("short-lived upstream credentials are not cached past the refresh window", func(t *testing.T) {
		w.t = t
		before := ep.Requests.Load()
		for i := 0; i < 3; i++ {
			parseV1(t, w.c9("--source", "container"))
		}
		if n := ep.Requests.Load() - before; n != 3 {
			t.Errorf("15-minute credentials were served from the cache: %d endpoint requests for 3 runs, want 3", n)
		}
	})

	t.Run("role assumed from container credentials reaches the AWS CLI", func(t *testing.T) {
		w.t = t
		w.passThrough = false
		role := testenv.RoleARN("CloudShellDeploy")
		w.writeConfig(fmt.Sprintf("[profile deploy]\ncredential_process = %s --role %s --source container\n", c9bin, role))
		if arn := cliCallerARN(t, w, "deploy"); !strings.Contains(arn, "assumed-role/CloudShellDeploy/") {
			t.Errorf("caller %q, want the assumed role", arn)
		}
	})

	t.Run("token file works like the token variable", func(t *testing.T) {
		tf := filepath.Join(t.TempDir(), "token")
		os.WriteFile(tf, []byte(token), 0o600)
		w2 := cleanWorld(t, "AWS_CONTAINER_CREDENTIALS_FULL_URI="+ep.URL(), "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="+tf)
		w2.passThrough = true
		if d := parseV1(t, w2.c9("--source", "container")); d.AccessKeyID != c.AccessKeyID {
			t.Errorf("AccessKeyId %q", d.AccessKeyID)
		}
	})
}

func TestContainerEndpointFailuresNameTheEndpointNotTheToken(t *testing.T) {
	const token = "right-TOKEN-0123456789abcdef"
	const wrong = "wrong-TOKEN-9876543210fedcba"
	c := upstream
	c.Expiration = time.Now().Add(time.Hour)
	cases := []struct {
		name  string
		setup func(ep *testenv.ContainerEndpoint) []string
		want  []string
	}{
		{"wrong token", func(ep *testenv.ContainerEndpoint) []string {
			return []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + ep.URL(), "AWS_CONTAINER_AUTHORIZATION_TOKEN=" + wrong}
		}, []string{"endpoint http://127.0.0.1", "403", "hint: ", "AUTHORIZATION_TOKEN"}},
		{"not JSON", func(ep *testenv.ContainerEndpoint) []string {
			ep.SetBody("<html>login</html>")
			return []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + ep.URL(), "AWS_CONTAINER_AUTHORIZATION_TOKEN=" + token}
		}, []string{"endpoint http://127.0.0.1", "unexpected reply"}},
		{"missing field", func(ep *testenv.ContainerEndpoint) []string {
			ep.SetBody(`{"AccessKeyId":"ASIAX","Token":"t","Expiration":"2099-01-01T00:00:00Z"}`)
			return []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + ep.URL(), "AWS_CONTAINER_AUTHORIZATION_TOKEN=" + token}
		}, []string{"endpoint http://127.0.0.1", "without AccessKeyId or SecretAccessKey"}},
		{"host outside the SDK's rules", func(ep *testenv.ContainerEndpoint) []string {
			// TEST-NET-1 (documentation range): the SDK refuses it before any dial.
			return []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.1:9/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN=" + token}
		}, []string{"http://192.0.2.1:9/creds", "only loopback/ecs/eks hosts are allowed", "hint: "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ep := testenv.NewContainerEndpoint(token, c)
			defer ep.Close()
			w := cleanWorld(t, tc.setup(ep)...)
			r := w.c9("--source", "container")
			if r.code != 1 || r.stdout != "" {
				t.Fatalf("exit %d stdout %q, want 1 and nothing", r.code, r.stdout)
			}
			for _, s := range tc.want {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			testenv.AssertNoSecrets(t, []string{token, wrong, c.SecretAccessKey}, r.stderr)
		})
	}
}

func TestInstanceMetadataSource(t *testing.T) {
	requireMoto(t)
	c := upstream
	c.AccessKeyID = "ASIAINSTANCEPROFILE1"
	c.Expiration = time.Now().Add(6 * time.Hour).UTC().Truncate(time.Second)
	md := testenv.NewIMDS("cloud9-instance-role", c)
	defer md.Close()
	w := cleanWorld(t, "AWS_EC2_METADATA_SERVICE_ENDPOINT="+md.URL).without("AWS_EC2_METADATA_DISABLED")

	w.passThrough = true
	d := parseV1(t, w.c9("--source", "imds"))
	if d.AccessKeyID != c.AccessKeyID {
		t.Errorf("pass-through gave %s, want the instance profile's %s", d.AccessKeyID, c.AccessKeyID)
	}
	// The SDK's EC2 role provider caps Expires at one hour so instance
	// credentials are re-read at least hourly; never later than IMDS says.
	exp, _ := time.Parse(time.RFC3339, d.Expiration)
	if exp.After(c.Expiration) || exp.Before(time.Now().Add(55*time.Minute)) {
		t.Errorf("Expiration %s: want at most the instance profile's %s and about an hour away", d.Expiration, c.Expiration.Format(time.RFC3339))
	}
	// auto reaches imds last, when nothing else is configured.
	r := w.c9("--print")
	if r.code != 0 || !strings.Contains(r.stderr, "credentials from imds") {
		t.Errorf("auto: exit %d, stderr %q", r.code, r.stderr)
	}

	w.passThrough = false
	role := testenv.RoleARN("Cloud9Dev")
	w.writeConfig(fmt.Sprintf("[profile dev]\ncredential_process = %s --role %s --source imds\n", c9bin, role))
	if arn := cliCallerARN(t, w, "dev"); !strings.Contains(arn, "assumed-role/Cloud9Dev/") {
		t.Errorf("caller %q, want the assumed role", arn)
	}
}

func TestInstanceMetadataAbsentGivesUpFast(t *testing.T) {
	hole, closeHole, _ := testenv.Blackhole()
	defer closeHole()
	port, _ := testenv.FreePort()
	for name, endpoint := range map[string]string{
		"endpoint that never answers": hole,
		"nothing listening":           fmt.Sprintf("http://127.0.0.1:%d", port),
	} {
		t.Run(name, func(t *testing.T) {
			w := cleanWorld(t, "AWS_EC2_METADATA_SERVICE_ENDPOINT="+endpoint).without("AWS_EC2_METADATA_DISABLED")
			r := w.c9("--source", "imds")
			if r.code != 1 || !strings.Contains(r.stderr, "no instance metadata service answered") {
				t.Errorf("exit %d stderr %q", r.code, r.stderr)
			}
			// The real figure is measured by make bench; this is a liveness bound.
			if r.elapsed > 3*time.Second {
				t.Errorf("took %s to give up on IMDS, want about 1s", r.elapsed)
			}
		})
	}
}

func TestStoredKeysRoundTripThroughTheKeychain(t *testing.T) {
	requireMoto(t)
	testenv.RequireBus(t)
	const id = "AKIASTOREDEXAMPLE123"
	const secret = "storedSECRETkeyValue/abcdefghij0123456789"
	w := cleanWorld(t).withBus()
	name := fmt.Sprintf("work%d", time.Now().UnixNano()%1e9)
	store := func(args ...string) result {
		t.Helper()
		cmd := fmt.Sprintf(`printf '%%s\n%%s\n' "$ID" "$SECRET" | "$C9" store %s`, strings.Join(args, " "))
		r := w.set("ID="+id, "SECRET="+secret, "C9="+c9bin).run("bash", "-c", cmd)
		testenv.AssertNoSecrets(t, []string{secret}, r.stdout, r.stderr)
		return r
	}
	if r := store(name); r.code != 0 || !strings.Contains(r.stderr, "OS keychain") {
		t.Fatalf("store: exit %d: %s", r.code, r.stderr)
	}
	r := w.c9("store", "--list")
	if !strings.Contains(r.stdout, name+"\t"+id+"\tkeychain") {
		t.Errorf("--list does not show %s with its key id: %q", name, r.stdout)
	}
	testenv.AssertNoSecrets(t, []string{secret}, r.stdout, r.stderr)

	role := testenv.RoleARN("StoredKeys")
	d := parseV1(t, w.c9("--role", role, "--source", "stored:"+name))
	if d.AccessKeyID == id {
		t.Errorf("got the stored key itself, want an assumed-role session")
	}
	testenv.AssertNoSecrets(t, []string{secret}, d.SecretAccessKey, d.SessionToken)

	if r := w.c9("store", "--delete", name); r.code != 0 {
		t.Fatalf("--delete: exit %d: %s", r.code, r.stderr)
	}
	if r := w.c9("store", "--list"); strings.Contains(r.stdout, name) {
		t.Errorf("deleted name still listed: %q", r.stdout)
	}
	if r := w.c9("--force-refresh", "--role", role, "--source", "stored:"+name); r.code != 2 || !strings.Contains(r.stderr, "c9cred store "+name) {
		t.Errorf("after delete: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestStoreWithoutKeychainNeedsInsecureFile(t *testing.T) {
	const id = "AKIAFILESTOREEXAMPL1"
	const secret = "fileSECRETkeyValue/abcdefghij0123456789x"
	w := cleanWorld(t) // no session bus
	w.passThrough = true
	in := "ID=" + id
	store := func(args ...string) result {
		return w.set(in, "SECRET="+secret, "C9="+c9bin).run("bash", "-c", `printf '%s\n%s\n' "$ID" "$SECRET" | "$C9" store `+strings.Join(args, " "))
	}
	r := store("laptop")
	if r.code != 1 || !strings.Contains(r.stderr, "--insecure-file") {
		t.Fatalf("without a keychain store must refuse and point at --insecure-file; exit %d: %s", r.code, r.stderr)
	}
	if r := store("laptop", "--insecure-file"); r.code != 0 {
		t.Fatalf("--insecure-file: exit %d: %s", r.code, r.stderr)
	}
	p := filepath.Join(w.home, ".config", "c9cred", "keys", "stored-laptop.secret")
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v mode %v", p, err, fi)
	}
	di, _ := os.Stat(filepath.Dir(p))
	if di.Mode().Perm() != 0o700 {
		t.Errorf("key dir mode %o, want 700", di.Mode().Perm())
	}
	d := parseV1(t, w.c9("--source", "stored:laptop"))
	if d.AccessKeyID != id || d.SecretAccessKey != secret {
		t.Errorf("stored:laptop gave %s", d.AccessKeyID)
	}
	for _, bad := range [][]string{{"store", "x", "--secret", secret}, {"store", "x", secret}} {
		r := w.c9(bad...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want a usage error", bad[:2], r.code)
		}
		testenv.AssertNoSecrets(t, []string{secret}, r.stdout, r.stderr)
	}
}

const cloud9Header = "# Do not modify this file, if this file is modified it will not be updated. If you want to use static credentials, first turn off AWS managed temporary credentials in the settings panel of your IDE.\n"

func TestCloud9ManagedCredentialsFailuresAreExplained(t *testing.T) {
	cases := []struct {
		name  string
		fault testenv.Fault
		want  string
	}{
		{"AssumeRole denied", testenv.Fault{Status: 403, Code: "AccessDenied", Message: "not authorized to perform sts:AssumeRole"}, "never allow sts:AssumeRole"},
		{"expired after the owner left", testenv.Fault{Status: 403, Code: "ExpiredToken", Message: "The security token included in the request is expired"}, "environment owner closes the IDE"},
		{"invalid after the owner left", testenv.Fault{Status: 403, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid"}, "environment owner closes the IDE"},
		{"unrecognized client", testenv.Fault{Status: 400, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid"}, "Cloud9-*"},
	}
	for _, tc := range cases {
		for _, src := range []string{"auto", "profile:default"} {
			t.Run(tc.name+" via "+src, func(t *testing.T) {
				sts := testenv.NewFaultSTS()
				defer sts.Close()
				sts.Set("AssumeRole", tc.fault)
				w := cleanWorld(t, "AWS_ENDPOINT_URL_STS="+sts.URL, "C9_USER=alice")
				os.MkdirAll(filepath.Join(w.home, ".aws"), 0o700)
				os.WriteFile(filepath.Join(w.home, ".aws", "credentials"), []byte(cloud9Header+
					"[default]\naws_access_key_id=ASIACLOUD9MANAGED001\naws_secret_access_key="+srcSecret+"\naws_session_token="+srcToken+"\n"), 0o600)
				r := w.c9("--role", testenv.RoleARN("FromCloud9"), "--source", src)
				if r.code != 1 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				if !strings.Contains(r.stderr, tc.fault.Code) || !strings.Contains(r.stderr, "hint: ") || !strings.Contains(r.stderr, tc.want) {
					t.Errorf("stderr does not explain %s with %q:\n%s", tc.fault.Code, tc.want, r.stderr)
				}
			})
		}
	}
}
