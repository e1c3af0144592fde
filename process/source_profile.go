package process

import (
	"cmp"
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/config"
)

// profileSource reads a profile of the shared config and credentials files
// and lets the SDK resolve it (static keys, source_profile + role_arn, SSO,
// credential_process, web identity...).
type profileSource struct {
	name string
	// implicit: chosen by auto, not named by the user.
	implicit bool
}

func (p profileSource) describe() string { return "profile " + p.name }

// DefaultProfile is the profile the AWS CLI would use: AWS_PROFILE, then
// AWS_DEFAULT_PROFILE, then default.
func DefaultProfile(getenv func(string) string) string {
	return cmp.Or(getenv("AWS_PROFILE"), getenv("AWS_DEFAULT_PROFILE"), "default")
}

// SharedFiles returns the shared config and credentials file paths, as the
// SDK and the CLI resolve them.
func SharedFiles(getenv func(string) string) (configFile, credentialsFile string) {
	home, _ := os.UserHomeDir()
	configFile = getenv("AWS_CONFIG_FILE")
	if configFile == "" {
		configFile = filepath.Join(home, ".aws", "config")
	}
	credentialsFile = getenv("AWS_SHARED_CREDENTIALS_FILE")
	if credentialsFile == "" {
		credentialsFile = filepath.Join(home, ".aws", "credentials")
	}
	return configFile, credentialsFile
}

func (p profileSource) loadOptions(r *Request) func(*config.LoadOptions) error {
	cfgFile, credFile := SharedFiles(r.getenv)
	return func(o *config.LoadOptions) error {
		o.SharedConfigFiles = []string{cfgFile}
		o.SharedCredentialsFiles = []string{credFile}
		o.SharedConfigProfile = p.name
		return nil
	}
}

func (p profileSource) retrieve(ctx context.Context, r *Request) (baseCreds, error) {
	cfgFile, credFile := SharedFiles(r.getenv)
	sc, err := config.LoadSharedConfigProfile(ctx, p.name, func(o *config.LoadSharedConfigOptions) {
		o.ConfigFiles = []string{cfgFile}
		o.CredentialsFiles = []string{credFile}
	})
	var notExist config.SharedConfigProfileNotExistError
	if errors.As(err, &notExist) {
		if p.implicit {
			return baseCreds{}, notConfigured{"no such profile in " + cfgFile + " or " + credFile}
		}
		return baseCreds{}, Usagef("source profile:%s: no such profile in %s or %s", p.name, cfgFile, credFile)
	}
	if err != nil {
		return baseCreds{}, Usagef("source %s: %v", p.describe(), err)
	}
	if err := p.checkLoop(&sc); err != nil {
		return baseCreds{}, err
	}
	if !hasCredentials(&sc) {
		if p.implicit {
			return baseCreds{}, notConfigured{"no credentials in it"}
		}
		return baseCreds{}, Usagef("source profile:%s has no credentials (no keys, role_arn, sso_session, credential_process or web identity)", p.name)
	}
	// Anything the profile runs must know it runs under c9cred.
	os.Setenv(GuardEnv, "1")
	defer os.Unsetenv(GuardEnv)
	cfg, err := config.LoadDefaultConfig(ctx, p.loadOptions(r))
	if err != nil {
		return baseCreds{}, Failf("source %s: %v", p.describe(), err)
	}
	c, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return baseCreds{}, stsFailure(err, "get credentials from "+p.describe(), p.describe())
	}
	return baseCreds{Credentials: c, from: "profile:" + p.name,
		cloud9Managed: sc.Credentials.HasKeys() && IsCloud9ManagedFile(credFile)}, nil
}

func hasCredentials(sc *config.SharedConfig) bool {
	return sc.Credentials.HasKeys() || sc.RoleARN != "" || sc.CredentialProcess != "" ||
		sc.SSOSessionName != "" || sc.SSOStartURL != "" || sc.WebIdentityTokenFile != "" ||
		sc.CredentialSource != "" || sc.LoginSession != ""
}

// checkLoop refuses a profile (or any source_profile behind it) whose
// credential_process runs c9cred.
func (p profileSource) checkLoop(sc *config.SharedConfig) error {
	for cur, depth := sc, 0; cur != nil && depth < 16; cur, depth = cur.Source, depth+1 {
		if cur.CredentialProcess != "" && RunsC9cred(cur.CredentialProcess) {
			return Usagef("source %s would run c9cred again: profile %q has credential_process = %s", p.describe(), cur.Profile, cur.CredentialProcess).
				WithHint("c9cred cannot be its own source; give it --source env, profile:OTHER (a profile with keys), or stored:NAME")
		}
	}
	return nil
}
