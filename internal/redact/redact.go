// Package redact removes known secret values from text before c9cred
// prints it. Every secret c9cred handles is registered here the moment it
// is read, so an error message that quotes one by accident (an SDK error, a
// panic value) still prints "****" instead of the secret.
package redact

import (
	"strings"
	"sync"
)

var (
	mu      sync.RWMutex
	secrets []string
)

// Add registers secret values. Values shorter than 8 characters are
// ignored: replacing them would mangle ordinary words.
func Add(values ...string) {
	mu.Lock()
	defer mu.Unlock()
	for _, v := range values {
		if len(v) >= 8 {
			secrets = append(secrets, v)
		}
	}
}

// String returns s with every registered secret replaced by "****".
func String(s string) string {
	mu.RLock()
	defer mu.RUnlock()
	for _, v := range secrets {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, "****")
		}
	}
	return s
}
