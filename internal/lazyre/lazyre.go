// Package lazyre compiles regular expressions on first use instead of at
// package initialisation. c9cred's cache-hit path runs in a few
// milliseconds, and compiling every validation pattern at start-up cost
// about 6 ms of it, for patterns most runs never use.
package lazyre

import (
	"regexp"
	"sync"
)

// New returns a function that compiles pattern once, when first called.
func New(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
