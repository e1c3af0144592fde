package testenv

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Moto is a running moto_server with its request recorder on.
type Moto struct {
	URL  string
	cmd  *exec.Cmd
	dir  string
	logf *os.File
}

// MotoAvailable reports whether moto_server is on PATH.
func MotoAvailable() bool {
	_, err := exec.LookPath("moto_server")
	return err == nil
}

// StartMoto starts moto_server on a free loopback port in dir.
func StartMoto(dir string) (*Moto, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "moto.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("moto_server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MOTO_ENABLE_RECORDING=True", "MOTO_RECORDER_FILEPATH="+filepath.Join(dir, "moto_recording"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	m := &Moto{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, dir: dir, logf: logf}
	if err := WaitPort(fmt.Sprintf("127.0.0.1:%d", port), 60*time.Second); err != nil {
		m.Stop()
		return nil, err
	}
	resp, err := http.Post(m.URL+"/moto-api/recorder/start-recording", "text/plain", nil)
	if err != nil {
		m.Stop()
		return nil, fmt.Errorf("start moto recorder: %w", err)
	}
	resp.Body.Close()
	return m, nil
}

// Stop ends moto_server.
func (m *Moto) Stop() {
	if m.cmd.Process != nil {
		syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { m.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	m.logf.Close()
}

// Calls counts the recorded STS requests with the given Action whose form
// parameters include every key=value in match (e.g. "RoleArn": arn).
func (m *Moto) Calls(action string, match map[string]string) (int, error) {
	resp, err := http.Get(m.URL + "/moto-api/recorder/download-recording")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var rec struct {
			Body        string `json:"body"`
			BodyEncoded bool   `json:"body_encoded"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		body := rec.Body
		if rec.BodyEncoded {
			b, err := base64.StdEncoding.DecodeString(body)
			if err != nil {
				continue
			}
			body = string(b)
		}
		form, err := url.ParseQuery(body)
		if err != nil || form.Get("Action") != action {
			continue
		}
		ok := true
		for k, v := range match {
			if form.Get(k) != v {
				ok = false
			}
		}
		if ok {
			n++
		}
	}
	if err := sc.Err(); err != nil && err != io.EOF {
		return n, err
	}
	return n, nil
}

// RoleARN returns a role ARN unique to name, so parallel tests sharing one
// moto_server can count their own calls.
func RoleARN(name string) string {
	return "arn:aws:iam::123456789012:role/" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, name)
}
