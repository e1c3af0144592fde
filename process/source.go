package process

import (
	"c9cred/internal/names"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// SourceSpec is a parsed --source value.
type SourceSpec struct {
	Kind string // auto, env, profile, container, imds, stored
	Name string // profile or stored-key name
	// Probe treats an absent source (no such profile, no IMDS answer) as
	// not configured, as auto does, instead of as an error (for doctor).
	Probe bool
}

func (s SourceSpec) String() string {
	if s.Name != "" {
		return s.Kind + ":" + s.Name
	}
	return s.Kind
}

// source reads base credentials from one place.
type source interface {
	// describe names the source for messages: "env", "profile dev".
	describe() string
	// retrieve returns the credentials, or an error wrapping
	// errNotConfigured when the source has nothing to offer here.
	retrieve(ctx context.Context, r *Request) (baseCreds, error)
}

// baseCreds are a source's credentials and where they came from.
type baseCreds struct {
	aws.Credentials
	// from names the source for messages and --print ("env", "profile:dev").
	from string
	// cloud9Managed: AWS Cloud9's managed temporary credentials, which
	// cannot call sts:AssumeRole or most IAM actions and stop being
	// refreshed when the environment owner leaves.
	cloud9Managed bool
}

// sourceKind is one spelling of --source.
type sourceKind struct {
	needsName bool
	usage     string
	make      func(name string, probe bool) source
	// envKeys are the non-secret environment variables that decide what
	// this source returns; they go into the cache key.
	envKeys []string
}

// sourceKinds is the registry of sources; new kinds register here.
var sourceKinds = map[string]sourceKind{
	"auto": {usage: "auto", make: func(string, bool) source { return autoSource{} }},
	"env": {usage: "env", make: func(string, bool) source { return envSource{} },
		envKeys: []string{"AWS_ACCESS_KEY_ID", "AWS_CREDENTIAL_EXPIRATION"}},
	"profile": {needsName: true, usage: "profile:NAME", make: func(n string, p bool) source { return profileSource{name: n, implicit: p} },
		envKeys: []string{"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"}},
	"container": {usage: "container", make: func(_ string, p bool) source { return containerSource{implicit: p} },
		envKeys: []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"}},
	"imds": {usage: "imds", make: func(_ string, p bool) source { return imdsSource{implicit: p} },
		envKeys: []string{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_DISABLED"}},
	"stored": {needsName: true, usage: "stored:NAME", make: func(n string, p bool) source { return storedSource{name: n, implicit: p} }},
}

// acceptedSources lists the spellings for error messages.
func acceptedSources() string {
	var u []string
	for _, k := range sourceKinds {
		u = append(u, k.usage)
	}
	sort.Strings(u)
	return strings.Join(u, ", ")
}

// ParseSource parses a --source value.
func ParseSource(s string) (SourceSpec, error) {
	kind, name, hasName := strings.Cut(s, ":")
	k, ok := sourceKinds[kind]
	if !ok || k.needsName != hasName || (hasName && !names.Valid(name, 64)) {
		return SourceSpec{}, Usagef("--source %q is not a credential source; accepted: %s (NAME: letters, digits and _.@+=-)", s, acceptedSources())
	}
	return SourceSpec{Kind: kind, Name: name}, nil
}

func (s SourceSpec) source() source { return sourceKinds[s.Kind].make(s.Name, s.Probe) }

func (s SourceSpec) envKeys() []string {
	if s.Kind == "auto" {
		// auto may use any source: all their inputs decide the result.
		var keys []string
		for _, k := range sourceKinds {
			keys = append(keys, k.envKeys...)
		}
		keys = append(keys, "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
		sort.Strings(keys)
		return keys
	}
	return sourceKinds[s.Kind].envKeys
}

// errNotConfigured marks a source that has nothing to offer; auto moves on.
var errNotConfigured = errors.New("not configured")

type notConfigured struct{ why string }

func (n notConfigured) Error() string { return n.why }
func (n notConfigured) Unwrap() error { return errNotConfigured }

// ---- env ----

type envSource struct{}

func (envSource) describe() string { return "env" }

func (envSource) retrieve(_ context.Context, r *Request) (baseCreds, error) {
	id, secret := r.getenv("AWS_ACCESS_KEY_ID"), r.getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" && secret == "" {
		return baseCreds{}, notConfigured{"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"}
	}
	if id == "" || secret == "" {
		missing := "AWS_SECRET_ACCESS_KEY"
		if id == "" {
			missing = "AWS_ACCESS_KEY_ID"
		}
		return baseCreds{}, Failf("source env: %s is not set", missing).
			WithHint("set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys)")
	}
	c := aws.Credentials{
		AccessKeyID:     id,
		SecretAccessKey: secret,
		SessionToken:    r.getenv("AWS_SESSION_TOKEN"),
		AccountID:       r.getenv("AWS_ACCOUNT_ID"),
		Source:          "env",
	}
	if exp := r.getenv("AWS_CREDENTIAL_EXPIRATION"); exp != "" {
		if t, err := ParseExpiration(exp); err == nil {
			c.CanExpire, c.Expires = true, t
		}
	}
	return baseCreds{Credentials: c, from: "env"}, nil
}

// ---- auto ----

// autoOrder is the order auto tries sources in (see README "Sources").
// Each step is there for a reason:
//   - env first: an explicit export is the user's most deliberate choice,
//     and `c9cred exec` children see their credentials there.
//   - container: CloudShell, ECS and EKS set these variables only where
//     the endpoint exists; it is the platform's own identity.
//   - stored:default: keys the user saved in the keychain on purpose.
//   - the shared config profile (AWS_PROFILE or default): what the AWS CLI
//     would use, including Cloud9's managed credentials file.
//   - imds last: it costs a network round trip and, off EC2, a timeout.
var autoOrder = []func(r *Request) source{
	func(*Request) source { return envSource{} },
	func(*Request) source { return containerSource{implicit: true} },
	func(*Request) source { return storedSource{name: "default", implicit: true} },
	func(r *Request) source { return profileSource{name: DefaultProfile(r.getenv), implicit: true} },
	func(*Request) source { return imdsSource{implicit: true} },
}

type autoSource struct{}

func (autoSource) describe() string { return "auto" }

func (autoSource) retrieve(ctx context.Context, r *Request) (baseCreds, error) {
	var tried []string
	for _, mk := range autoOrder {
		s := mk(r)
		c, err := s.retrieve(ctx, r)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, errNotConfigured) {
			return c, err
		}
		tried = append(tried, fmt.Sprintf("%s (%v)", s.describe(), err))
	}
	return baseCreds{}, Failf("no credentials found; tried %s", strings.Join(tried, "; ")).
		WithHint("run `c9cred store default` to keep access keys in the keychain, export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --source")
}

// ---- recursion ----

// GuardEnv is set in c9cred's own environment while it resolves a source,
// so a c9cred started by that source (through a credential_process, even
// behind a wrapper script) knows it is a recursion and stops.
const GuardEnv = "C9CRED_RESOLVING"

// RunsC9cred reports whether a credential_process command line starts
// c9cred: by name, or by being this very executable.
func RunsC9cred(commandLine string) bool {
	words, err := SplitCommand(commandLine)
	if err != nil || len(words) == 0 {
		return false
	}
	base := strings.TrimSuffix(filepath.Base(words[0]), ".exe")
	if base == "c9cred" {
		return true
	}
	self, err := os.Executable()
	if err != nil {
		return false
	}
	a, err1 := os.Stat(self)
	b, err2 := os.Stat(words[0])
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}
