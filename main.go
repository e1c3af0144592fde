// Command c9cred is a credential helper for the AWS CLI and every AWS SDK.
// They run it through credential_process in ~/.aws/config; it prints the
// version-1 credential JSON and keeps sessions in a cache whose key lives in
// the OS keychain, so one STS call serves a whole session. People run
// `c9cred --print` for export lines. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"c9cred/internal/redact"
	"c9cred/process"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// env is what a command may touch of the outside world; tests supply
// their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

func (e *env) warn(format string, a ...any) {
	fmt.Fprintf(e.stderr, "c9cred: warning: %s\n", redact.String(fmt.Sprintf(format, a...)))
}

// fail prints err as one `c9cred:` line plus a `hint:` line where one is
// known, with every registered secret removed, and returns the exit code.
func (e *env) fail(err error) int {
	pe := process.AsError(err)
	fmt.Fprintf(e.stderr, "c9cred: %s\n", redact.String(pe.Msg))
	if pe.Hint != "" {
		fmt.Fprintf(e.stderr, "hint: %s\n", redact.String(pe.Hint))
	}
	return pe.Exit
}

// commands maps subcommand names to their functions.
var commands = map[string]func(ctx context.Context, args []string, e *env) int{
	"version":   cmdVersion,
	"store":     cmdStore,
	"serve":     cmdServe,
	"exec":      cmdExec,
	"configure": cmdConfigure,
	"clear":     cmdClear,
	"doctor":    cmdDoctor,
	"help":      func(_ context.Context, _ []string, e *env) int { fmt.Fprint(e.stdout, usageText); return 0 },
}

// secretEnv are variables whose values are secrets wherever they show up,
// even pasted by mistake into a flag that c9cred then quotes in an error.
var secretEnv = []string{"AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN"}

func run(ctx context.Context, args []string, e *env) (code int) {
	for _, k := range secretEnv {
		redact.Add(e.getenv(k))
	}
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(e.stderr, "c9cred: internal error: %s\nhint: please report this at the project's issue tracker\n", redact.String(fmt.Sprint(v)))
			code = process.ExitFailure
		}
	}()
	if len(args) > 0 {
		if cmd, ok := commands[args[0]]; ok {
			return cmd(ctx, args[1:], e)
		}
	}
	return cmdCredentials(ctx, args, e)
}

func cmdVersion(_ context.Context, args []string, e *env) int {
	if len(args) > 0 {
		return e.fail(process.Usagef("version takes no arguments, got %q", args[0]))
	}
	fmt.Fprintf(e.stdout, "c9cred %s\n", version)
	return 0
}

const usageText = `c9cred: AWS credentials for credential_process, shells and containers.

Usage:
  c9cred --role ARN [--source SPEC] [flags]       print credential_process JSON
  c9cred --print [--format FORMAT] [flags]        print export lines for a shell
  c9cred exec [flags] -- COMMAND [ARGS...]        run a command with the credentials
  c9cred serve [flags] [--addr 127.0.0.1:0]       a refreshing credentials endpoint
  c9cred configure --profile NAME [flags]         write the ~/.aws/config profile
  c9cred store NAME | --list | --delete NAME      keep long-term keys in the keychain
  c9cred clear [--all | --role ARN ...] [--stored] remove cached sessions
  c9cred doctor [--json]                          explain this machine's setup and problems
  c9cred version

Flags:
  --role ARN             role to assume; without it the source's own credentials
  --source SPEC          where base credentials come from: auto (default), env,
                         container, imds, stored:NAME, profile:NAME
  --session-name NAME    role session name (default c9cred-USER@HOST)
  --duration DUR         role session length, 15m..12h or seconds (default 1h)
  --external-id ID       external id the role's trust policy requires
  --region REGION        region for STS and for --print (default: SDK resolution)
  --cache MODE           auto (keychain, else file), keychain, file, off
  --refresh-window DUR   refresh when less than this remains (default 15m)
  --force-refresh        ignore cached credentials and fetch new ones
  --timeout DUR          give up fetching credentials after DUR (default 20s)
  --profile NAME         read role_arn, source_profile, mfa_serial, ... and
                         c9cred_* keys from [profile NAME]; flags override
  --mfa-serial ARN       MFA device; one code opens a cached session (12h)
  --mfa-process CMD      command that prints the MFA code (e.g. ykman ...)
  --mfa-token CODE       the code itself, for scripts (visible in ps!)
  --mfa-session-duration DUR   MFA session length (default 12h)
  --no-mfa-session       send the code with each AssumeRole instead
  --print                print for a person or a shell instead of JSON
  --format FORMAT        with --print: export (default), json, env, dotenv,
                         docker, ini, fish, powershell

Exit codes: 0 success, 1 no credentials could be obtained, 2 usage or config error.
`
