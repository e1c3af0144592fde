//go:build !unix

package process

import "os/exec"

func killGroupOnCancel(*exec.Cmd) {}
