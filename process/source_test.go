package process

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// isolateHome points every per-user location at a fresh directory and
// clears the AWS variables, so no test reads the real ~/.aws or keychain.
func isolateHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
	} {
		t.Setenv(k, "")
	}
	return home
}

func TestEnvSourcePassesEnvironmentCredentialsThrough(t *testing.T) {
	isolateHome(t)
	for _, tc := range []struct {
		name string
		env  map[string]string
		req  Request
		want Credentials
	}{
		{
			name: "temporary keys with expiry and region",
			env: map[string]string{
				"AWS_ACCESS_KEY_ID":         "ASIAENVEXAMPLE",
				"AWS_SECRET_ACCESS_KEY":     "env-secret-value",
				"AWS_SESSION_TOKEN":         "env-session-token",
				"AWS_CREDENTIAL_EXPIRATION": "2026-11-22T10:50:25.5+02:00",
				"AWS_REGION":                "eu-central-1",
				"AWS_DEFAULT_REGION":        "us-west-2",
				"AWS_ACCOUNT_ID":            "123456789012",
			},
			want: Credentials{
				AccessKeyID: "ASIAENVEXAMPLE", SecretAccessKey: "env-secret-value", SessionToken: "env-session-token",
				Expiration: testExpiry, AccountID: "123456789012", Region: "eu-central-1", Source: "env",
			},
		},
		{
			name: "long-term keys, default region",
			env: map[string]string{
				"AWS_ACCESS_KEY_ID":     "AKIAENVEXAMPLE",
				"AWS_SECRET_ACCESS_KEY": "env-secret-value",
				"AWS_DEFAULT_REGION":    "us-west-2",
			},
			want: Credentials{AccessKeyID: "AKIAENVEXAMPLE", SecretAccessKey: "env-secret-value", Region: "us-west-2", Source: "env"},
		},
		{
			name: "--region wins over the environment",
			env: map[string]string{
				"AWS_ACCESS_KEY_ID":     "AKIAENVEXAMPLE",
				"AWS_SECRET_ACCESS_KEY": "env-secret-value",
				"AWS_REGION":            "eu-central-1",
			},
			req:  Request{Region: "ap-south-1"},
			want: Credentials{AccessKeyID: "AKIAENVEXAMPLE", SecretAccessKey: "env-secret-value", Region: "ap-south-1", Source: "env"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req
			r.Source = SourceSpec{Kind: "env"}
			r.Getenv = mapEnv(tc.env)
			got, err := Produce(context.Background(), &r)
			if err != nil {
				t.Fatalf("Produce: %v", err)
			}
			if got != tc.want {
				t.Errorf("Produce = %+v\nwant      %+v", got, tc.want)
			}
		})
	}
}

func TestEnvSourceWithHalfAKeyPairFailsWithAHint(t *testing.T) {
	isolateHome(t)
	for _, tc := range []struct {
		name    string
		env     map[string]string
		missing string
	}{
		{"only the access key id", map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE"}, "AWS_SECRET_ACCESS_KEY"},
		{"only the secret", map[string]string{"AWS_SECRET_ACCESS_KEY": secretMarker, "AWS_SESSION_TOKEN": tokenMarker}, "AWS_ACCESS_KEY_ID"},
	} {
		for _, kind := range []string{"env", "auto"} {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				r := Request{Source: SourceSpec{Kind: kind}, Getenv: mapEnv(tc.env)}
				e := produceFailure(t, &r)
				if !strings.Contains(e.Msg, tc.missing) {
					t.Errorf("message %q does not name %s", e.Msg, tc.missing)
				}
				if !strings.Contains(e.Hint, "AWS_ACCESS_KEY_ID") || !strings.Contains(e.Hint, "AWS_SECRET_ACCESS_KEY") {
					t.Errorf("hint %q does not say to set both variables", e.Hint)
				}
				if strings.Contains(e.Msg+e.Hint, secretMarker) || strings.Contains(e.Msg+e.Hint, tokenMarker) {
					t.Errorf("error quotes a secret: %q / %q", e.Msg, e.Hint)
				}
			})
		}
	}
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestAutoSourceWithNothingConfiguredListsWhatItTried(t *testing.T) {
	home := isolateHome(t)
	files := map[string]string{
		"AWS_CONFIG_FILE":             filepath.Join(home, "no-such-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "no-such-credentials"),
	}
	for _, tc := range []struct {
		name string
		// env is what Request.Getenv sees besides the two file variables.
		env map[string]string
		// processEnv is set in this process's environment, which the SDK's
		// instance metadata client reads.
		processEnv map[string]string
	}{
		{
			// Nothing listens where the SDK looks for instance metadata, as
			// on a laptop; the real IMDS is never asked.
			name:       "nothing set",
			processEnv: map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://" + closedPort(t), "AWS_EC2_METADATA_DISABLED": ""},
		},
		{
			name:       "instance metadata disabled",
			env:        map[string]string{"AWS_EC2_METADATA_DISABLED": "true"},
			processEnv: map[string]string{"AWS_EC2_METADATA_DISABLED": "true"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range files {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			for k, v := range tc.processEnv {
				t.Setenv(k, v)
			}
			r := Request{Source: SourceSpec{Kind: "auto"}, Getenv: mapEnv(env), Timeout: 10 * time.Second}
			e := produceFailure(t, &r)
			if !strings.HasPrefix(e.Msg, "no credentials found; tried ") {
				t.Fatalf("message %q does not start with %q", e.Msg, "no credentials found; tried ")
			}
			for _, w := range []string{"env (", "container (", "stored:default (", "profile default (", "imds (", "no-such-config"} {
				if !strings.Contains(e.Msg, w) {
					t.Errorf("message %q does not mention %q", e.Msg, w)
				}
			}
			if e.Hint == "" {
				t.Error("no hint")
			}
		})
	}
}

// writeAWSFiles writes a config and a credentials file and returns a
// Getenv that points at them.
func writeAWSFiles(t *testing.T, config, credentials string) func(string) string {
	t.Helper()
	dir := t.TempDir()
	cfg, cred := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cred, []byte(credentials), 0o600); err != nil {
		t.Fatal(err)
	}
	return mapEnv(map[string]string{"AWS_CONFIG_FILE": cfg, "AWS_SHARED_CREDENTIALS_FILE": cred})
}

const testConfig = `[profile loop]
credential_process = /usr/local/bin/c9cred --role arn:aws:iam::123456789012:role/Dev

[profile quoted-loop]
credential_process = "/opt/my tools/c9cred" --source env

[profile chained]
role_arn = arn:aws:iam::123456789012:role/X
source_profile = loop

[profile chained-twice]
role_arn = arn:aws:iam::123456789012:role/Y
source_profile = chained

[profile empty]
region = eu-west-1

[profile cfgkeys]
aws_access_key_id = AKIACONFIGEXAMPLE
aws_secret_access_key = config-secret-value
`

const testCredentials = `[static]
aws_access_key_id = AKIASTATICEXAMPLE
aws_secret_access_key = static-secret-value

[session]
aws_access_key_id = ASIASESSIONEXAMPLE
aws_secret_access_key = session-secret-value
aws_session_token = session-token-value
`

func TestProfileSourceRefusesProfilesThatRunC9cred(t *testing.T) {
	isolateHome(t)
	getenv := writeAWSFiles(t, testConfig, testCredentials)
	for _, tc := range []struct{ profile, culprit string }{
		{"loop", "loop"},
		{"quoted-loop", "quoted-loop"},
		{"chained", "loop"},
		{"chained-twice", "loop"},
	} {
		for _, role := range []string{"", "arn:aws:iam::123456789012:role/Other"} {
			t.Run(tc.profile+"/role="+role, func(t *testing.T) {
				r := Request{Source: SourceSpec{Kind: "profile", Name: tc.profile}, RoleARN: role,
					SessionName: "test", Duration: time.Hour, Getenv: getenv, Timeout: 5 * time.Second}
				_, err := Produce(context.Background(), &r)
				e := usageError(t, err, "credential_process", "c9cred", `"`+tc.culprit+`"`)
				if e.Hint == "" {
					t.Error("no hint")
				}
			})
		}
	}
}

func TestProfileSourcePassesStaticKeysThrough(t *testing.T) {
	isolateHome(t)
	getenv := writeAWSFiles(t, testConfig, testCredentials)
	for _, tc := range []struct {
		profile string
		want    Credentials
	}{
		{"static", Credentials{AccessKeyID: "AKIASTATICEXAMPLE", SecretAccessKey: "static-secret-value", Source: "profile:static"}},
		{"session", Credentials{AccessKeyID: "ASIASESSIONEXAMPLE", SecretAccessKey: "session-secret-value", SessionToken: "session-token-value", Source: "profile:session"}},
		{"cfgkeys", Credentials{AccessKeyID: "AKIACONFIGEXAMPLE", SecretAccessKey: "config-secret-value", Source: "profile:cfgkeys"}},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			r := Request{Source: SourceSpec{Kind: "profile", Name: tc.profile}, Getenv: getenv, Timeout: 5 * time.Second}
			got, err := Produce(context.Background(), &r)
			if err != nil {
				t.Fatalf("Produce: %v", err)
			}
			if got != tc.want {
				t.Errorf("Produce = %+v\nwant      %+v", got, tc.want)
			}
			if v, ok := os.LookupEnv(GuardEnv); ok {
				t.Errorf("%s=%q is left in the environment", GuardEnv, v)
			}
		})
	}
}

func TestProfileSourceWithoutCredentialsIsAConfigError(t *testing.T) {
	isolateHome(t)
	getenv := writeAWSFiles(t, testConfig, testCredentials)
	for _, tc := range []struct {
		profile string
		wants   []string
	}{
		{"empty", []string{"profile:empty", "has no credentials"}},
		{"missing", []string{"profile:missing", "no such profile"}},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			r := Request{Source: SourceSpec{Kind: "profile", Name: tc.profile}, Getenv: getenv, Timeout: 5 * time.Second}
			_, err := Produce(context.Background(), &r)
			usageError(t, err, tc.wants...)
		})
	}
}

// produceFailure runs Produce and requires it to fail to obtain
// credentials (an *Error with exit code 1).
func produceFailure(t *testing.T, r *Request) *Error {
	t.Helper()
	_, err := Produce(context.Background(), r)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Produce error %v (%T), want *Error", err, err)
	}
	if e.Exit != ExitFailure {
		t.Errorf("exit %d, want %d", e.Exit, ExitFailure)
	}
	return e
}
