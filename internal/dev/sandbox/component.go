package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Component is one process of a running cluster (kube-apiserver, kube-scheduler, ...) as
// kwokctl started it: its pid, and its command line, working directory, environment and log
// file, read from /proc, so that a failure test can kill it by its pid and start it again as
// it was (kwokctl stops and starts only whole clusters).
type Component struct {
	Name string
	Pid  int
	args []string
	dir  string
	env  []string
	log  string
	// pidFile is where kwokctl keeps the pid, which Start updates so that Cluster.Delete
	// stops the new process.
	pidFile string
}

// Component reads how the cluster's component name (the name of its pid file, e.g.
// "kube-apiserver") runs now.
func (c *Cluster) Component(name string) (*Component, error) {
	dir := filepath.Join(c.Workdir, "clusters", c.Name, "pids")
	pid := ReadPid(dir, name)
	if !Alive(pid) {
		return nil, fmt.Errorf("cluster %s: component %s does not run (pid %d)", c.Name, name, pid)
	}
	proc := fmt.Sprintf("/proc/%d/", pid)
	cmdline, err := os.ReadFile(proc + "cmdline")
	if err != nil {
		return nil, fmt.Errorf("cluster %s: component %s: %w", c.Name, name, err)
	}
	environ, err := os.ReadFile(proc + "environ")
	if err != nil {
		return nil, fmt.Errorf("cluster %s: component %s: %w", c.Name, name, err)
	}
	cwd, err := os.Readlink(proc + "cwd")
	if err != nil {
		return nil, fmt.Errorf("cluster %s: component %s: %w", c.Name, name, err)
	}
	log, err := os.Readlink(proc + "fd/2")
	if err != nil || !filepath.IsAbs(log) {
		log = os.DevNull
	}
	return &Component{Name: name, Pid: pid, args: nulSplit(cmdline), dir: cwd, env: nulSplit(environ), log: log,
		pidFile: PidFile(dir, name)}, nil
}

func nulSplit(b []byte) []string {
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

// Alive reports whether the component's process runs.
func (p *Component) Alive() bool { return Alive(p.Pid) }

// Kill ends the component's process with SIGKILL, as a crash would, and waits until it is
// gone.
func (p *Component) Kill() error {
	if err := syscall.Kill(p.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s (pid %d): %w", p.Name, p.Pid, err)
	}
	for deadline := time.Now().Add(10 * time.Second); Alive(p.Pid); {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (pid %d) survives SIGKILL", p.Name, p.Pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Start starts the component again as it ran when read: the same binary, arguments, working
// directory and environment, its output appended to the same log, in a session of its own as
// kwokctl starts it. It records the new pid in the cluster's pid file and in p.Pid.
func (p *Component) Start() error {
	log, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	defer log.Close() // the child holds its own descriptor
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = p.dir, p.env, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	go func() { _ = cmd.Wait() }() // reaped when it ends before this process
	p.Pid = cmd.Process.Pid
	if err := os.WriteFile(p.pidFile, []byte(strconv.Itoa(p.Pid)), 0o644); err != nil {
		return fmt.Errorf("start %s: record its pid: %w", p.Name, err)
	}
	return nil
}
