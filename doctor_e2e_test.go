package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"c9cred/internal/testenv"
)

func doctorJSON(t *testing.T, r result) doctorReport {
	t.Helper()
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("doctor --json is not JSON: %v\n%s", err, r.stdout)
	}
	return rep
}

func hasProblem(rep doctorReport, substrings ...string) bool {
	for _, p := range rep.Problems {
		all := true
		for _, s := range substrings {
			all = all && strings.Contains(p.Problem+" "+p.Fix, s)
		}
		if all {
			return true
		}
	}
	return false
}

func TestDoctorExplainsCloud9ManagedCredentialsAfterTheOwnerLeft(t *testing.T) {
	sts := testenv.NewFaultSTS()
	defer sts.Close()
	sts.Set("GetCallerIdentity", testenv.Fault{Status: 403, Code: "ExpiredToken", Message: "The security token included in the request is expired"})
	w := cleanWorld(t, "AWS_ENDPOINT_URL_STS="+sts.URL, "C9_USER=bob", "C9_PROJECT=shared-env")
	os.MkdirAll(filepath.Join(w.home, ".aws"), 0o700)
	os.WriteFile(filepath.Join(w.home, ".aws", "credentials"), []byte(cloud9Header+
		"[default]\naws_access_key_id=ASIACLOUD9MANAGED002\naws_secret_access_key="+srcSecret+"\naws_session_token="+srcToken+"\n"), 0o600)

	text := w.c9("doctor")
	if text.code != 1 {
		t.Errorf("doctor exit %d with no usable source, want 1", text.code)
	}
	for _, s := range []string{"AWS Cloud9 with managed temporary credentials", "ExpiredToken", "environment owner closes the IDE", "never allow sts:AssumeRole", "fix: "} {
		if !strings.Contains(text.stdout, s) {
			t.Errorf("doctor does not say %q:\n%s", s, text.stdout)
		}
	}
	rep := doctorJSON(t, w.c9("doctor", "--json"))
	if rep.Usable || rep.Environment != "AWS Cloud9 with managed temporary credentials" || !hasProblem(rep, "owner closes the IDE") {
		t.Errorf("json report: %+v", rep)
	}
}

func TestDoctorExplainsCloudShellEndpointFailuresAndSuccess(t *testing.T) {
	requireMoto(t)
	const token = "cloudshell-doctor-TOKEN-0123456789"
	c := upstream
	c.Expiration = time.Now().Add(15 * time.Minute)
	ep := testenv.NewContainerEndpoint(token, c)
	defer ep.Close()

	bad := cleanWorld(t, "AWS_EXECUTION_ENV=CloudShell", "AWS_CONTAINER_CREDENTIALS_FULL_URI="+ep.URL(), "AWS_CONTAINER_AUTHORIZATION_TOKEN=stale-"+token)
	r := bad.c9("doctor", "--json")
	rep := doctorJSON(t, r)
	if r.code != 1 || rep.Environment != "AWS CloudShell" || !hasProblem(rep, "container", "AUTHORIZATION_TOKEN") {
		t.Errorf("refused token: exit %d report %+v", r.code, rep)
	}
	testenv.AssertNoSecrets(t, []string{token}, r.stdout, r.stderr)

	good := cleanWorld(t, "AWS_EXECUTION_ENV=CloudShell", "AWS_CONTAINER_CREDENTIALS_FULL_URI="+ep.URL(), "AWS_CONTAINER_AUTHORIZATION_TOKEN="+token)
	r = good.c9("doctor", "--json")
	rep = doctorJSON(t, r)
	if r.code != 0 || !rep.Usable {
		t.Fatalf("working CloudShell: exit %d %+v", r.code, rep)
	}
	for _, s := range rep.Sources {
		if s.Source == "container" && (!s.Works || !strings.HasPrefix(s.Identity, "arn:aws:")) {
			t.Errorf("container source: %+v", s)
		}
	}
	testenv.AssertNoSecrets(t, []string{token, c.SecretAccessKey, c.Token}, r.stdout, r.stderr)
}

func TestDoctorFindsShadowingRecursionSkewAndListsCacheAndStoredKeys(t *testing.T) {
	sts := testenv.NewFaultSTS()
	defer sts.Close()
	sts.SetDateSkew(10 * time.Minute)
	w := newWorld(t, "AWS_ENDPOINT_URL_STS="+sts.URL, "AWS_PROFILE=loop")
	w.writeConfig(fmt.Sprintf("[profile loop]\ncredential_process = %s --role arn:aws:iam::123456789012:role/Dev\n\n[profile dev]\ncredential_process = %s --role arn:aws:iam::123456789012:role/Dev --source env\n", c9bin, c9bin))
	os.WriteFile(filepath.Join(w.home, ".aws", "credentials"), []byte("[dev]\naws_access_key_id = AKIASHADOWEXAMPLE001\naws_secret_access_key = shadowSECRETvalue0123456789abcdefghijklm\n"), 0o600)
	role := testenv.RoleARN("Doctored")
	parseV1(t, w.c9("--role", role, "--source", "env"))
	storedSecret := "doctorSTOREDsecret/abcdefghij0123456789xy"
	w.passThrough = true
	if r := w.set("ID=AKIADOCTORSTORED0001", "SECRET="+storedSecret, "C9="+c9bin).run("bash", "-c", `printf '%s\n%s\n' "$ID" "$SECRET" | "$C9" store laptop --insecure-file`); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := w.c9("doctor", "--json")
	rep := doctorJSON(t, r)
	if r.code != 0 || !rep.Usable {
		t.Errorf("env works, so doctor should exit 0: %d", r.code)
	}
	checks := map[string][]string{
		"static keys shadow credential_process": {"profile dev runs c9cred", "static keys"},
		"credential_process recursion":          {"would run c9cred again"},
		"clock skew":                            {"clock is", "off STS's"},
	}
	// The Date header has whole seconds: the measured skew is 10m give or take.
	if d, err := time.ParseDuration(rep.ClockSkew); err != nil || d < 9*time.Minute+55*time.Second || d > 10*time.Minute+5*time.Second {
		t.Errorf("clock skew %q, want about 10m", rep.ClockSkew)
	}
	for what, subs := range checks {
		if !hasProblem(rep, subs...) {
			t.Errorf("doctor missed %s: %+v", what, rep.Problems)
		}
	}
	if len(rep.Cache.Entries) != 1 || rep.Cache.Entries[0].Role != role || rep.Cache.Backend != "file" {
		t.Errorf("cache: %+v", rep.Cache)
	}
	if len(rep.StoredKeys) != 1 || rep.StoredKeys[0].Name != "laptop" || rep.StoredKeys[0].AccessKeyID != "AKIADOCTORSTORED0001" {
		t.Errorf("stored keys: %+v", rep.StoredKeys)
	}
	text := w.c9("doctor")
	testenv.AssertNoSecrets(t, []string{storedSecret, "shadowSECRETvalue0123456789abcdefghijklm", srcSecret}, r.stdout, r.stderr, text.stdout, text.stderr)
}
