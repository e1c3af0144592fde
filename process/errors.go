package process

import (
	"errors"
	"fmt"
)

// Exit codes, the contract with the SDKs and scripts.
const (
	ExitOK      = 0
	ExitFailure = 1 // could not obtain credentials
	ExitUsage   = 2 // bad flags or configuration
)

// Error is a failure with its exit code and an optional hint for the user.
// Msg never holds a secret.
type Error struct {
	Exit int
	Msg  string
	Hint string
	Err  error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Usagef is a usage or configuration error (exit 2).
func Usagef(format string, a ...any) *Error {
	return &Error{Exit: ExitUsage, Msg: fmt.Sprintf(format, a...)}
}

// Failf is a failure to obtain credentials (exit 1).
func Failf(format string, a ...any) *Error {
	return &Error{Exit: ExitFailure, Msg: fmt.Sprintf(format, a...)}
}

// WithHint returns e with hint set.
func (e *Error) WithHint(format string, a ...any) *Error {
	e.Hint = fmt.Sprintf(format, a...)
	return e
}

// AsError turns any error into an *Error (exit 1 unless it is one already).
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Exit: ExitFailure, Msg: err.Error(), Err: err}
}
