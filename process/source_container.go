package process

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/smithy-go"

	"c9cred/internal/redact"
)

// containerSource reads the container credentials endpoint that CloudShell,
// ECS and EKS Pod Identity expose through AWS_CONTAINER_CREDENTIALS_FULL_URI
// or _RELATIVE_URI plus AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE). The SDK's
// own resolution does the work, with its host rules (loopback, the ECS and
// EKS link-local addresses, or https) and token-file support.
type containerSource struct{ implicit bool }

func (containerSource) describe() string { return "container" }

// containerEndpoint is the endpoint the SDK will call, for messages.
func containerEndpoint(getenv func(string) string) string {
	if rel := getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		return "http://169.254.170.2" + rel
	}
	return getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
}

// credentialEnv are the variables that would make the SDK's default chain
// pick something other than the source c9cred asked for.
var credentialEnv = []string{
	"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
}

// isolatedConfig loads the SDK configuration with no shared files and no
// credential variables, so the SDK resolves exactly the container endpoint
// or instance metadata from the environment. It changes this process's
// environment only for the duration of the call.
func isolatedConfig(ctx context.Context, opts ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts = append(opts,
		config.WithSharedConfigFiles([]string{os.DevNull}),
		config.WithSharedCredentialsFiles([]string{os.DevNull}))
	return loadConfigWithout(ctx, credentialEnv, opts...)
}

// loadConfigWithout runs the SDK's LoadDefaultConfig with the variables in
// keys hidden from it (the SDK reads the environment directly). c9cred is
// single-threaded while it resolves credentials, so the brief change to
// its own environment is seen by nothing else.
func loadConfigWithout(ctx context.Context, keys []string, opts ...func(*config.LoadOptions) error) (aws.Config, error) {
	saved := map[string]string{}
	for _, k := range keys {
		if v, ok := os.LookupEnv(k); ok {
			saved[k] = v
			os.Unsetenv(k)
		}
	}
	defer func() {
		for k, v := range saved {
			os.Setenv(k, v)
		}
	}()
	return config.LoadDefaultConfig(ctx, opts...)
}

// localHTTP is an HTTP client for endpoints on this host or link: they
// answer in milliseconds or not at all.
func localHTTP(dial, total time.Duration) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTimeout(total).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = dial })
}

func (c containerSource) retrieve(ctx context.Context, r *Request) (baseCreds, error) {
	endpoint := containerEndpoint(r.getenv)
	if endpoint == "" {
		return baseCreds{}, notConfigured{"AWS_CONTAINER_CREDENTIALS_FULL_URI and _RELATIVE_URI are not set"}
	}
	redact.Add(r.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"))
	if f := r.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); f != "" {
		if b, err := os.ReadFile(f); err == nil {
			redact.Add(strings.TrimSpace(string(b)))
		}
	}
	// The SDK's own resolution applies its host rules (loopback, ECS/EKS
	// link-local, or https) and refuses anything else before any request.
	if _, err := isolatedConfig(ctx); err != nil {
		return baseCreds{}, Failf("source container: endpoint %s refused by the SDK's rules: %v", endpoint, err).
			WithHint("a container credentials endpoint must be on a loopback address, the ECS/EKS link-local address, or use https")
	}
	// The SDK's endpoint provider is then called directly rather than
	// through the config's credentials cache: the cache runs it in a
	// goroutine where a panic cannot be recovered, and a reply of `null`
	// panics it (found by FuzzContainerResponse). Calling it directly also
	// keeps the endpoint's own Expiration, which the cache moves 5 minutes
	// early.
	p := endpointcreds.New(endpoint, func(o *endpointcreds.Options) {
		o.HTTPClient = localHTTP(time.Second, 5*time.Second)
		o.AuthorizationToken = r.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
		if f := r.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); f != "" {
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(f)
				if err != nil {
					return "", fmt.Errorf("read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: %w", err)
				}
				return strings.TrimSpace(string(b)), nil
			})
		}
	})
	got, err := retrieveRecovering(ctx, p)
	if err != nil {
		return baseCreds{}, endpointFailure("container", endpoint, err)
	}
	if got.AccessKeyID == "" || got.SecretAccessKey == "" {
		return baseCreds{}, Failf("source container: endpoint %s answered without AccessKeyId or SecretAccessKey", endpoint)
	}
	return baseCreds{Credentials: got, from: "container"}, nil
}

// errUnexpectedReply is a reply the SDK's provider could not digest.
var errUnexpectedReply = errors.New("deserialization failed: unexpected reply")

// retrieveRecovering calls p, turning a panic inside the SDK provider into
// an error: c9cred never prints a stack trace.
func retrieveRecovering(ctx context.Context, p aws.CredentialsProvider) (c aws.Credentials, err error) {
	defer func() {
		if v := recover(); v != nil {
			c, err = aws.Credentials{}, errUnexpectedReply
		}
	}()
	return p.Retrieve(ctx)
}

// endpointFailure says which endpoint answered what, without the token.
func endpointFailure(src, endpoint string, err error) *Error {
	var ae smithy.APIError
	// Both smithy response errors and the endpoint client's errors carry it.
	var re interface{ HTTPStatusCode() int }
	msg := oneLine(err.Error())
	hasStatus := errors.As(err, &re)
	if errors.As(err, &ae) && ae.ErrorCode() != "" {
		msg = fmt.Sprintf("%s: %s", ae.ErrorCode(), oneLine(ae.ErrorMessage()))
		if hasStatus {
			msg = fmt.Sprintf("HTTP %d, %s", re.HTTPStatusCode(), msg)
		}
	} else if hasStatus {
		msg = fmt.Sprintf("HTTP %d", re.HTTPStatusCode())
	}
	e := Failf("source %s: endpoint %s answered: %s", src, endpoint, msg)
	e.Err = err
	denied := hasStatus && (re.HTTPStatusCode() == 401 || re.HTTPStatusCode() == 403)
	if ae != nil {
		switch ae.ErrorCode() {
		case "AccessDenied", "Unauthorized", "Forbidden", "InvalidToken":
			denied = true
		}
	}
	if denied && src == "container" {
		e.Hint = "the endpoint refused the authorization token; check AWS_CONTAINER_AUTHORIZATION_TOKEN or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
	}
	if strings.Contains(msg, "deserializ") || strings.Contains(msg, "invalid character") || strings.Contains(msg, "cannot unmarshal") || strings.Contains(msg, "unexpected end of JSON") {
		e.Msg = fmt.Sprintf("source %s: endpoint %s answered something that is not credential JSON (unexpected reply)", src, endpoint)
	}
	return e
}

// imdsSource reads an EC2 instance profile's role credentials through the
// SDK's IMDSv2 client, honouring AWS_EC2_METADATA_SERVICE_ENDPOINT and
// AWS_EC2_METADATA_DISABLED. Off EC2 it gives up within imdsTimeout.
type imdsSource struct{ implicit bool }

// imdsTimeout bounds the whole IMDS exchange: a real IMDS answers in
// milliseconds, and off EC2 nothing answers at all.
const imdsTimeout = time.Second

func (imdsSource) describe() string { return "imds" }

func (s imdsSource) retrieve(ctx context.Context, r *Request) (baseCreds, error) {
	if strings.EqualFold(r.getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		if s.implicit {
			return baseCreds{}, notConfigured{"disabled by AWS_EC2_METADATA_DISABLED"}
		}
		return baseCreds{}, Failf("source imds: instance metadata is disabled by AWS_EC2_METADATA_DISABLED=true").
			WithHint("unset AWS_EC2_METADATA_DISABLED, or use another --source")
	}
	cfg, err := isolatedConfig(ctx)
	if err != nil {
		return baseCreds{}, Failf("source imds: %v", err)
	}
	client := imds.NewFromConfig(cfg, func(o *imds.Options) {
		o.HTTPClient = localHTTP(250*time.Millisecond, imdsTimeout)
		o.EnableFallback = aws.FalseTernary
	})
	ctx, cancel := context.WithTimeout(ctx, imdsTimeout)
	defer cancel()
	endpoint := cmp.Or(r.getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT"), "http://169.254.169.254")
	got, err := imdsRoleCredentials(ctx, client)
	if err != nil {
		if s.implicit && (ctx.Err() != nil || isDialError(err)) {
			return baseCreds{}, notConfigured{"no instance metadata service answered at " + endpoint}
		}
		if ctx.Err() != nil || isDialError(err) {
			return baseCreds{}, Failf("source imds: no instance metadata service answered at %s within %s", endpoint, imdsTimeout).
				WithHint("this does not look like an EC2 instance; outside EC2 use --source env, profile:NAME or stored:NAME")
		}
		return baseCreds{}, endpointFailure("imds", endpoint, err)
	}
	return baseCreds{Credentials: got, from: "imds"}, nil
}

func isDialError(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && ne.Op == "dial"
}
