package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"c9cred/process"
)

// ExecEnv marks the environment of a `c9cred exec` child, so a nested exec
// can refuse (its credentials would silently replace the outer ones).
const ExecEnv = "C9CRED_EXEC"

// shadowingEnv are variables that would make an SDK in the child use other
// credentials than the ones c9cred hands it.
var shadowingEnv = []string{
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE",
	"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY",
	"AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
	process.GuardEnv,
}

// childEnv is environ without the shadowing variables, plus vars.
func childEnv(environ []string, vars []process.Var) []string {
	drop := map[string]bool{}
	for _, k := range shadowingEnv {
		drop[k] = true
	}
	for _, v := range vars {
		drop[v.Name] = true
	}
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	for _, v := range vars {
		out = append(out, v.Name+"="+v.Value)
	}
	return out
}

func cmdExec(ctx context.Context, args []string, e *env) int {
	fs := flag.NewFlagSet("c9cred exec", flag.ContinueOnError)
	var cf credFlags
	cf.register(fs)
	force := fs.Bool("force", false, "")
	serveMode := fs.Bool("serve", false, "")
	if code, done := parseCommand(fs, args, execUsage, e); done {
		return code
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return e.fail(process.Usagef("exec needs a command; usage: c9cred exec [flags] -- COMMAND [ARGS...]"))
	}
	if outer := e.getenv(ExecEnv); outer != "" && !*force {
		return e.fail(process.Usagef("exec: already inside `c9cred exec` (%s); a nested exec would replace those credentials", outer).
			WithHint("pass --force to nest anyway"))
	}
	req, co, err := cf.build(e.getenv)
	if err != nil {
		return e.fail(err)
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return e.fail(process.Usagef("exec: command %q not found: %v", argv[0], err))
	}

	label := req.Source.String()
	if req.RoleARN != "" {
		label = req.RoleARN
	}
	vars := []process.Var{{Name: ExecEnv, Value: label}}
	if *serveMode {
		s, err := newCredServer(req, co, "127.0.0.1:0", e)
		if err != nil {
			return e.fail(err)
		}
		if _, err := s.current(ctx); err != nil {
			s.ln.Close()
			return e.fail(err)
		}
		go s.serve()
		defer s.shutdown()
		vars = append(vars, process.Var{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: s.URL()},
			process.Var{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN", Value: s.token})
		if region := req.KnownRegion(); region != "" {
			vars = append(vars, process.Var{Name: "AWS_REGION", Value: region}, process.Var{Name: "AWS_DEFAULT_REGION", Value: region})
		}
	} else {
		creds, err := obtain(ctx, req, co, e)
		if err != nil {
			return e.fail(err)
		}
		vars = append(vars, creds.Vars()...)
	}
	return runChild(path, argv, childEnv(os.Environ(), vars), e)
}

// runChild runs the command with signals forwarded and returns its exit
// code (128+N when a signal N ended it, as shells report).
func runChild(path string, argv, environ []string, e *env) int {
	cmd := exec.Command(path, argv[1:]...)
	cmd.Env = environ
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return e.fail(process.Failf("exec: start %s: %v", argv[0], err))
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			cmd.Process.Signal(sig)
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					return 128 + int(ws.Signal())
				}
				return ee.ExitCode()
			}
			if err != nil {
				return e.fail(process.Failf("exec: %s: %v", argv[0], err))
			}
			return 0
		}
	}
}

const execUsage = `Usage: c9cred exec [credential flags] [--serve] [--force] -- COMMAND [ARGS...]

Runs COMMAND with the credentials in its environment, without AWS_PROFILE and
other variables that would shadow them. --serve gives it a private refreshing
credentials endpoint instead of static variables, for long-running commands.
`
