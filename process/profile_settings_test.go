package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProfileSettingsMapEveryKeyToItsFlag(t *testing.T) {
	cases := []struct {
		name, section string
		want          map[string]string
	}{
		{"role keys", "role_arn = arn:aws:iam::123456789012:role/R\nexternal_id = ext\nmfa_serial = arn:aws:iam::123456789012:mfa/m\nduration_seconds = 1800\nrole_session_name = s1\nregion = eu-west-3\nc9cred_mfa_process = ykman oath code\nc9cred_refresh_window = 5m\n",
			map[string]string{"role": "arn:aws:iam::123456789012:role/R", "external-id": "ext", "mfa-serial": "arn:aws:iam::123456789012:mfa/m",
				"duration": "1800", "session-name": "s1", "region": "eu-west-3", "mfa-process": "ykman oath code", "refresh-window": "5m"}},
		{"source_profile", "source_profile = base\n", map[string]string{"source": "profile:base"}},
		{"credential_source Environment", "credential_source = Environment\n", map[string]string{"source": "env"}},
		{"credential_source Ec2InstanceMetadata", "credential_source = Ec2InstanceMetadata\n", map[string]string{"source": "imds"}},
		{"credential_source EcsContainer", "credential_source = EcsContainer\n", map[string]string{"source": "container"}},
		{"c9cred_source wins over source_profile", "source_profile = base\nc9cred_source = stored:work\n", map[string]string{"source": "stored:work"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "config")
			os.WriteFile(cfg, []byte("[default]\nregion = us-east-1\n\n[profile  p ]\n"+tc.section), 0o600)
			ps, err := LoadProfileSettings(func(k string) string {
				if k == "AWS_CONFIG_FILE" {
					return cfg
				}
				return ""
			}, "p")
			if err != nil {
				t.Fatal(err)
			}
			if len(ps.Values) != len(tc.want) {
				t.Errorf("values %v, want %v", ps.Values, tc.want)
			}
			for k, v := range tc.want {
				if ps.Values[k] != v {
					t.Errorf("%s = %q, want %q", k, ps.Values[k], v)
				}
			}
		})
	}
}

func TestProfileSettingsRefuseUnknownCredentialSourceAndMissingProfiles(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config")
	os.WriteFile(cfg, []byte("[profile odd]\ncredential_source = Magic\n"), 0o600)
	getenv := func(k string) string {
		if k == "AWS_CONFIG_FILE" {
			return cfg
		}
		return ""
	}
	for name, want := range map[string]string{"odd": "Magic", "absent": "no [profile absent] section"} {
		_, err := LoadProfileSettings(getenv, name)
		if e := AsError(err); err == nil || e.Exit != ExitUsage || !strings.Contains(e.Msg, want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
