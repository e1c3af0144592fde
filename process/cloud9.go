package process

import (
	"io"
	"os"
	"strings"
)

// IsCloud9ManagedFile reports whether path is the credentials file that the
// AWS Cloud9 IDE writes for "AWS managed temporary credentials". Its header
// asks not to modify the file (the IDE stops updating it if you do).
func IsCloud9ManagedFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 1024)
	n, _ := io.ReadFull(f, head)
	h := strings.ToLower(string(head[:n]))
	return strings.Contains(h, "do not modify this file") &&
		(strings.Contains(h, "managed temporary credentials") || strings.Contains(h, "cloud9"))
}

// InCloud9 reports whether this looks like an AWS Cloud9 environment.
func InCloud9(getenv func(string) string) bool {
	for _, k := range []string{"C9_USER", "C9_PROJECT", "C9_HOSTNAME", "C9_PID"} {
		if getenv(k) != "" {
			return true
		}
	}
	return false
}

// Hints for AWS Cloud9's managed temporary credentials.
const (
	Cloud9HintAssumeRole = "AWS Cloud9 managed temporary credentials never allow sts:AssumeRole; turn them off in the IDE (Preferences > AWS Settings) and use --source imds with an instance profile, or save keys with `c9cred store NAME` and use --source stored:NAME"
	Cloud9HintExpired    = "AWS Cloud9 managed temporary credentials stop being refreshed about 15 minutes after the environment owner closes the IDE; invited members hit this when working alone. Ask the owner to reopen the IDE, or use --source imds (instance profile) or --source stored:NAME"
	Cloud9HintBlocked    = "AWS Cloud9 managed temporary credentials block most IAM actions (roles only when named Cloud9-*) and most Cloud9 API actions; use --source imds with an instance profile or --source stored:NAME for those calls"
)

// cloud9Hint replaces e's hint with the Cloud9 explanation for code.
func cloud9Hint(e *Error, code string, assumeRole bool) {
	switch code {
	case "AccessDenied", "AccessDeniedException":
		if assumeRole {
			e.Hint = Cloud9HintAssumeRole
		} else {
			e.Hint = Cloud9HintBlocked
		}
	case "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "RequestExpired":
		e.Hint = Cloud9HintExpired
	case "UnrecognizedClientException":
		e.Hint = Cloud9HintBlocked
	}
}
