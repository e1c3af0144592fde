package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"c9cred/internal/testenv"
)

// TestFailingPathsNeverPrintAKnownSecret runs c9cred down every failing
// path we know, with secrets arriving by every channel, and greps all of
// its output (stdout, stderr, doctor's report) for them.
func TestFailingPathsNeverPrintAKnownSecret(t *testing.T) {
	const (
		containerToken = "leak-check-container-TOKEN-0123456789"
		storedSecret   = "leakCheckSTOREDsecret/abcdefghij01234567"
		mfaOutput      = "leakCheckMFAoutputSECRET0123456789abcdef"
	)
	secrets := []string{srcSecret, srcToken, containerToken, storedSecret, mfaOutput}
	sts := testenv.NewFaultSTS()
	defer sts.Close()
	sts.Set("AssumeRole", testenv.Fault{Status: 403, Code: "AccessDenied", Message: "not authorized"})
	sts.Set("GetCallerIdentity", testenv.Fault{Status: 403, Code: "InvalidClientTokenId", Message: "bad token"})
	sts.Set("GetSessionToken", testenv.Fault{Status: 403, Code: "AccessDenied", Message: "MultiFactorAuthentication failed"})
	ep := testenv.NewContainerEndpoint("the-right-token-0000000000", testenv.Creds{AccessKeyID: "ASIAX", SecretAccessKey: "x", Expiration: time.Now().Add(time.Hour)})
	defer ep.Close()

	w := newWorld(t, "AWS_ENDPOINT_URL_STS="+sts.URL, "AWS_SESSION_TOKEN="+srcToken,
		"AWS_CONTAINER_CREDENTIALS_FULL_URI="+ep.URL(), "AWS_CONTAINER_AUTHORIZATION_TOKEN="+containerToken)
	w.passThrough = true // the store step below prints nothing; the rest fail
	if r := w.set("SECRET="+storedSecret, "C9="+c9bin).run("bash", "-c", `printf 'AKIALEAKCHECKSTORED1\n%s\n' "$SECRET" | "$C9" store leak --insecure-file`); r.code != 0 {
		t.Fatal(r.stderr)
	}
	mfa := filepath.Join(w.home, "mfa.sh")
	os.WriteFile(mfa, []byte("#!/bin/sh\necho "+mfaOutput+"\n"), 0o755)
	role := testenv.RoleARN("Leak")
	paths := [][]string{
		{"--role", role, "--source", "env"},            // AccessDenied + caller lookup
		{"--role", role, "--source", "container"},      // endpoint refuses the token
		{"--role", role, "--source", "stored:leak"},    // AccessDenied from stored keys
		{"--role", role, "--source", "stored:missing"}, // no such stored keys
		{"--role", role, "--source", "env", "--mfa-serial", "arn:aws:iam::123456789012:mfa/x", "--mfa-process", mfa},
		{"--role", role, "--source", "env", "--mfa-serial", "arn:aws:iam::123456789012:mfa/x", "--mfa-token", "123456"},
		{"--role", srcSecret}, // a secret pasted where a role goes
		{"--role", role, "--source", "env", "--session-name", srcToken}, // and where a session name goes
		{"--role", role, "--source", "env", "--timeout", "1s", "--region", "xx-leak-1"},
		{"exec", "--role", role, "--source", "env", "--", "true"},
		{"serve", "--role", role, "--source", "env"},
		{"doctor"},
		{"doctor", "--json"},
		{"store", "--list"},
		{"configure", "--profile", "p", "--role", srcSecret},
	}
	for i, args := range paths {
		// Named by position: the arguments themselves hold secrets.
		t.Run(fmt.Sprint("path", i), func(t *testing.T) {
			r := w.c9(args...)
			out := r.stderr
			if !(len(args) > 0 && args[0] == "--print") {
				out += r.stdout
			}
			testenv.AssertNoSecrets(t, secrets, out)
		})
	}
}
