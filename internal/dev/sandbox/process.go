package sandbox

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProcessSpec describes a long-running part (Karpenter, versitygw, the emulator, the server).
type ProcessSpec struct {
	// Name names the pid file <Dir>/<Name>.pid and the log <Dir>/<Name>.log.
	Name string
	// Dir holds the pid file and the log.
	Dir  string
	Path string
	Args []string
	// Env is added to the current environment.
	Env []string
	// Credential, when set, is the account the process runs as (PostgreSQL refuses root).
	Credential *syscall.Credential
	// WorkDir is the process's working directory (default Dir), for an account that may
	// not enter Dir.
	WorkDir string
}

// Process is a started part. Its pid is also the id of its process group: every part runs in
// a session of its own, so stopping it stops whatever it started, and nothing else.
type Process struct {
	Name    string
	Pid     int
	LogPath string
	done    chan struct{} // closed when a process this one started has been reaped
}

// StartProcess starts spec in a new session with its output in its log, and writes its pid file.
func StartProcess(spec ProcessSpec) (*Process, error) {
	if err := os.MkdirAll(spec.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	logPath := filepath.Join(spec.Dir, spec.Name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start %s: open log: %w", spec.Name, err)
	}
	defer logFile.Close()
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = append(os.Environ(), spec.Env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = spec.Dir
	if spec.WorkDir != "" {
		cmd.Dir = spec.WorkDir
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: spec.Credential}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", spec.Name, spec.Path, err)
	}
	p := &Process{Name: spec.Name, Pid: cmd.Process.Pid, LogPath: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := os.WriteFile(PidFile(spec.Dir, spec.Name), []byte(strconv.Itoa(p.Pid)+"\n"), 0o644); err != nil {
		_ = p.Stop(time.Second)
		return nil, fmt.Errorf("start %s: write pid file: %w", spec.Name, err)
	}
	return p, nil
}

// PidFile is where the pid of part name is kept in dir.
func PidFile(dir, name string) string { return filepath.Join(dir, name+".pid") }

// ReadPid returns the pid in the pid file of part name, or 0 when there is none.
func ReadPid(dir, name string) int {
	raw, err := os.ReadFile(PidFile(dir, name))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// Alive reports whether pid runs (a zombie does not count).
func Alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// Exited reports whether a process this program started has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop ends the process group: SIGTERM, then SIGKILL after grace.
func (p *Process) Stop(grace time.Duration) error {
	return stopGroup(p.Pid, grace, p.done)
}

// StopPid ends the process group led by pid, which another run of sparkplane started.
func StopPid(pid int, grace time.Duration) error { return stopGroup(pid, grace, nil) }

func stopGroup(pid int, grace time.Duration, done <-chan struct{}) error {
	if pid <= 0 {
		return nil
	}
	gone := func() bool {
		if done != nil {
			select {
			case <-done:
				return !groupAlive(pid)
			default:
				return false
			}
		}
		return !Alive(pid) && !groupAlive(pid)
	}
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop process group %d: %w", pid, err)
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if gone() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	deadline = time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if gone() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("process group %d still runs after SIGKILL", pid)
}

// groupAlive reports whether any live process remains in process group pgid.
func groupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	if err != nil {
		return false
	}
	// Zombies of the group still answer kill(2); look for a live member.
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		// fields: state ppid pgrp ...
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			return true
		}
	}
	return false
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}
