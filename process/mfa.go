package process

import (
	"bufio"
	"bytes"
	"c9cred/internal/lazyre"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"c9cred/internal/redact"
)

// MFA settings of a Request.
type MFA struct {
	Serial  string // MFA device ARN; empty: no MFA
	Token   string // --mfa-token, for scripts (visible in ps)
	Process string // --mfa-process: a command whose stdout is the code
	// SessionDuration of the GetSessionToken session (default 12h).
	SessionDuration time.Duration
	// NoSession passes the code to AssumeRole itself instead of caching a
	// GetSessionToken session (for trust policies that demand MFA on the
	// AssumeRole call).
	NoSession bool
}

// Limits of MFA settings.
const (
	DefaultMFASessionDuration = 12 * time.Hour
	MaxMFASessionDuration     = 36 * time.Hour
	mfaProcessTimeout         = 60 * time.Second
	mfaPromptAttempts         = 3
)

var mfaSerialRE = lazyre.New(`^(arn:aws[a-z-]*:iam::[0-9]{12}:(mfa|u2f)/[\x21-\x7e]{1,256}|[A-Za-z0-9]{9,256})$`)

// ParseMFASerial checks an MFA device ARN (or a hardware serial number).
func ParseMFASerial(s string) (string, error) {
	if !mfaSerialRE().MatchString(s) {
		return "", Usagef("--mfa-serial %q is not an MFA device; expected arn:aws:iam::123456789012:mfa/NAME or a device serial number", s)
	}
	return s, nil
}

var mfaCodeRE = lazyre.New(`^[0-9]{6}$`)

// ParseMFAToken checks a code given with --mfa-token.
func ParseMFAToken(s string) (string, error) {
	if !mfaCodeRE().MatchString(s) {
		return "", Usagef("--mfa-token must be the 6-digit code from the MFA device, got %d characters", len(s))
	}
	return s, nil
}

// ParseMFAProcess checks that --mfa-process splits into a command.
func ParseMFAProcess(s string) (string, error) {
	words, err := SplitCommand(s)
	if err != nil || len(words) == 0 {
		return "", Usagef("--mfa-process %q is not a command line; give a program and its arguments, e.g. \"ykman oath accounts code -s aws\"", s)
	}
	return s, nil
}

// UsesMFASession reports whether the request goes through a cached
// GetSessionToken session.
func (r *Request) UsesMFASession() bool { return r.MFA.Serial != "" && !r.MFA.NoSession }

// MFACacheKeyParts name the cached MFA session: one per source and device,
// shared by every role assumed from it.
func (r *Request) MFACacheKeyParts() []string {
	parts := []string{"mfa-session", "source=" + r.Source.String(), "serial=" + r.MFA.Serial,
		"duration=" + r.MFA.SessionDuration.String()}
	for _, k := range append([]string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"}, r.Source.envKeys()...) {
		parts = append(parts, k+"="+r.getenv(k))
	}
	return parts
}

// ErrNoTerminal means a code was needed and nothing could supply it.
var ErrNoTerminal = errors.New("no terminal")

// mfaCode gets a code: --mfa-token, then --mfa-process, then a prompt on
// the terminal (/dev/tty), never on stdout and never only on stderr.
func (r *Request) mfaCode(ctx context.Context) (string, error) {
	if r.MFA.Token != "" {
		return r.MFA.Token, nil
	}
	if r.MFA.Process != "" {
		return runMFAProcess(ctx, r.MFA.Process)
	}
	return promptMFA(r.MFA.Serial)
}

func runMFAProcess(ctx context.Context, commandLine string) (string, error) {
	words, err := SplitCommand(commandLine)
	if err != nil || len(words) == 0 {
		return "", Usagef("--mfa-process %q is not a command line", commandLine)
	}
	timeout := mfaProcessTimeout
	if d, err := time.ParseDuration(os.Getenv("C9CRED_MFA_PROCESS_TIMEOUT")); err == nil && d > 0 {
		timeout = d
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, words[0], words[1:]...)
	cmd.Stderr = os.Stderr // e.g. "Touch your YubiKey"
	cmd.WaitDelay = time.Second
	killGroupOnCancel(cmd)
	var out bytes.Buffer
	cmd.Stdout = &out
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return "", Failf("--mfa-process %s did not print a code within %s", words[0], timeout).
			WithHint("check that the command runs on its own and prints the 6-digit code")
	}
	if err != nil {
		return "", Failf("--mfa-process %s failed: %v", words[0], err)
	}
	code := strings.TrimSpace(out.String())
	if !mfaCodeRE().MatchString(code) {
		return "", Failf("--mfa-process %s printed something that is not a 6-digit code (%d characters)", words[0], len(code)).
			WithHint("the command's stdout must be the code alone")
	}
	return code, nil
}

func promptMFA(serial string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", &Error{Exit: ExitFailure, Err: ErrNoTerminal,
			Msg:  fmt.Sprintf("an MFA code is needed for %s and there is no terminal to ask on", serial),
			Hint: "run `c9cred --print` with the same flags once in a terminal to cache an MFA session, or pass --mfa-process"}
	}
	defer tty.Close()
	in := bufio.NewReader(tty)
	for i := 0; i < mfaPromptAttempts; i++ {
		fmt.Fprintf(tty, "c9cred: MFA code for %s: ", serial)
		line, err := in.ReadString('\n')
		code := strings.TrimSpace(line)
		if mfaCodeRE().MatchString(code) {
			return code, nil
		}
		if err != nil {
			break
		}
		fmt.Fprintln(tty, "c9cred: the code is the 6 digits the device shows")
	}
	return "", Failf("no valid MFA code for %s after %d attempts", serial, mfaPromptAttempts)
}

// ProduceMFASession reads the source's credentials and exchanges them, with
// an MFA code, for a GetSessionToken session.
func ProduceMFASession(ctx context.Context, r *Request) (Credentials, error) {
	base, err := r.retrieveBase(ctx)
	if err != nil {
		return Credentials{}, err
	}
	code, err := r.mfaCode(ctx)
	if err != nil {
		return Credentials{}, AsError(err)
	}
	ctx, cancel := r.networkContext(ctx)
	defer cancel()
	cfg, region, err := awsConfig(ctx, r, base.Credentials)
	if err != nil {
		return Credentials{}, err
	}
	out, err := sts.NewFromConfig(cfg).GetSessionToken(ctx, &sts.GetSessionTokenInput{
		SerialNumber:    aws.String(r.MFA.Serial),
		TokenCode:       aws.String(code),
		DurationSeconds: aws.Int32(int32(r.MFA.SessionDuration / time.Second)),
	})
	if err != nil {
		e := stsFailure(err, "GetSessionToken "+r.MFA.Serial, base.from)
		if apiCode(err) == "AccessDenied" && e.Hint == "" {
			e.Hint = "the MFA code may be wrong or already used, or the device is not the user's; wait for the next code and retry"
		}
		return Credentials{}, e
	}
	c := out.Credentials
	redact.Add(aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	return Credentials{
		AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken: aws.ToString(c.SessionToken), Expiration: aws.ToTime(c.Expiration).UTC().Truncate(time.Second),
		Region: region, Source: "MFA session via " + base.from,
	}, nil
}
