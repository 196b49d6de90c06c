package logship

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// forwardedSignals are the signals the wrapper passes on to the command it runs: what the
// kubelet sends (SIGTERM), what a person sends (SIGINT, SIGHUP, SIGQUIT, which makes a JVM
// print its threads) and what applications use for themselves (SIGUSR1, SIGUSR2).
var forwardedSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// Exit codes of the wrapper besides the command's own, as a shell gives them.
const (
	// ExitUsage is returned for bad flags; the command is not run.
	ExitUsage = 2
	// ExitCannotRun is returned when the command exists but cannot be executed.
	ExitCannotRun = 126
	// ExitNotFound is returned when the command does not exist.
	ExitNotFound = 127
)

// DefaultDrainAfterExit is how long the wrapper goes on reading the command's output once
// the command has exited.
const DefaultDrainAfterExit = 5 * time.Second

// Wrapper runs a command (the Spark container's entrypoint) with its stdout and stderr each
// copied, in order, to the wrapper's own stdout and stderr (so the container runtime, and
// kubectl logs, see them as before) and to a rotating file in Dir (Dir/stdout, Dir/stderr,
// rotated to Dir/stdout.000001 ...) for the shipper.
//
// The copy is a bounded queue per stream: a reader drains the pipe into up to
// queueChunks×chunkSize bytes (2 MiB) while a writer writes the console and then the file,
// so a slow disk or console stalls the command only once that much is waiting; nothing is
// dropped. Once the command has exited and both streams are in their files, the wrapper
// writes Dir/exit with the exit code.
//
// As the container's first process the wrapper inherits orphaned processes but does not
// reap them: Spark's images start their entrypoint under tini, which does.
type Wrapper struct {
	// Dir is the log directory shared with the shipper (an emptyDir).
	Dir string
	// RotationSize is the size at which a file is rotated, between MinRotationSize and
	// MaxRotationSize.
	RotationSize int64
	// MaxFiles is how many rotated files of each stream are kept until the shipper takes
	// them, between MinFilesToKeep and MaxFilesToKeep.
	MaxFiles int
	// Stdin, Stdout and Stderr are the wrapper's own; nil Stdout or Stderr discards.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// DrainAfterExit bounds how long output is still read once the command has exited, for
	// a process it left behind that holds the pipes open (0: DefaultDrainAfterExit).
	DrainAfterExit time.Duration
}

// Validate checks the settings as the flags give them.
func (w *Wrapper) Validate(command []string) error {
	if w.Dir == "" {
		return errors.New("--dir: required: the log directory shared with the shipper")
	}
	if w.RotationSize < MinRotationSize || w.RotationSize > MaxRotationSize {
		return fmt.Errorf("--rotation-size: %d bytes is outside 2KB..2GB", w.RotationSize)
	}
	if err := CheckFilesToKeep(w.MaxFiles); err != nil {
		return fmt.Errorf("--max-files: %w", err)
	}
	if len(command) == 0 {
		return errors.New("no command to run: give it after --, for example log-wrap --dir /logs -- /opt/entrypoint.sh driver")
	}
	return nil
}

// Run runs command and returns its exit code, or 128+n when a signal n killed it, as a
// shell does; ExitNotFound or ExitCannotRun when it cannot be started (said on stderr and
// in the stderr file). Problems with the log directory never stop the command: they are
// said on stderr once and the output still reaches the console.
func (w *Wrapper) Run(command []string) int {
	stdout, stderr := orDiscard(w.Stdout), orDiscard(w.Stderr)
	warn := func(format string, args ...any) {
		fmt.Fprintf(stderr, "sparkplane log-wrap: "+format+"\n", args...)
	}
	if err := os.MkdirAll(w.Dir, 0o755); err != nil {
		warn("log directory: %v", err)
	}
	// A stale exit file from an earlier run of this container would end the shipper early.
	if err := os.Remove(filepath.Join(w.Dir, ExitFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		warn("remove %s: %v", ExitFile, err)
	}
	files := map[string]*rotatingFile{}
	for _, stream := range streamNames {
		rf, err := openRotatingFile(w.Dir, stream, w.RotationSize, w.MaxFiles, warn)
		if err != nil {
			warn("%s will reach the console only: %v", stream, err)
			continue
		}
		files[stream] = rf
	}

	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin = w.Stdin
	outR, outW, err := os.Pipe()
	if err != nil {
		warn("pipe: %v", err)
		return ExitCannotRun
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		warn("pipe: %v", err)
		return ExitCannotRun
	}
	cmd.Stdout, cmd.Stderr = outW, errW

	// Signals are caught before the start so that none is lost; SIGPIPE is caught (and not
	// forwarded) so that a closed console makes writes fail instead of ending the wrapper,
	// while the command starts with every signal at its default.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, append([]os.Signal{syscall.SIGPIPE}, forwardedSignals...)...)
	defer signal.Stop(sigs)

	startErr := cmd.Start()
	_ = outW.Close()
	_ = errW.Close()
	pumps := []*pump{
		newPump(outR, stdout, writerOrNil(files[Stdout])),
		newPump(errR, stderr, writerOrNil(files[Stderr])),
	}
	var wg sync.WaitGroup
	for _, p := range pumps {
		wg.Add(1)
		go func() { defer wg.Done(); p.run() }()
	}

	var code int
	if startErr != nil {
		code = ExitCannotRun
		if errors.Is(startErr, exec.ErrNotFound) || errors.Is(startErr, fs.ErrNotExist) {
			code = ExitNotFound
		}
		msg := fmt.Sprintf("sparkplane log-wrap: cannot run %s: %v\n", command[0], startErr)
		wg.Wait()
		_, _ = io.WriteString(stderr, msg)
		if f := files[Stderr]; f != nil {
			_, _ = f.Write([]byte(msg))
		}
	} else {
		stopForwarding := make(chan struct{})
		go func() {
			for {
				select {
				case sig := <-sigs:
					if sig != syscall.SIGPIPE {
						_ = cmd.Process.Signal(sig)
					}
				case <-stopForwarding:
					return
				}
			}
		}()
		_ = cmd.Wait()
		close(stopForwarding)
		code = exitCode(cmd.ProcessState)
		drain := w.DrainAfterExit
		if drain <= 0 {
			drain = DefaultDrainAfterExit
		}
		// A process the command left behind may hold the pipes open: read what it writes for
		// a while, then stop, so that the container can end.
		deadline := time.Now().Add(drain)
		_ = outR.SetReadDeadline(deadline)
		_ = errR.SetReadDeadline(deadline)
		wg.Wait()
		for _, p := range pumps {
			if p.cut {
				warn("the command has exited but its output is still open; stopped reading after %s", drain)
				break
			}
		}
	}
	_ = outR.Close()
	_ = errR.Close()
	for _, f := range files {
		if err := f.Close(); err != nil {
			warn("%v", err)
		}
	}
	if err := WriteExit(w.Dir, code); err != nil {
		warn("%v", err)
	}
	return code
}

// exitCode is the code a shell reports for a finished process.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func writerOrNil(f *rotatingFile) io.Writer {
	if f == nil {
		return nil
	}
	return f
}

// Sizes of a pump's queue: chunkSize is one pipe read at most, queueChunks how many wait.
const (
	chunkSize   = 32 << 10
	queueChunks = 64
)

// pump copies one pipe to the console and a file, in order, through a bounded queue.
type pump struct {
	src     *os.File
	console io.Writer
	file    io.Writer // nil: console only
	queue   chan []byte
	free    chan []byte
	// cut is set when reading stopped at the deadline rather than at the end of the pipe.
	cut bool
}

func newPump(src *os.File, console, file io.Writer) *pump {
	return &pump{src: src, console: console, file: file,
		queue: make(chan []byte, queueChunks), free: make(chan []byte, queueChunks+1)}
}

func (p *pump) run() {
	done := make(chan struct{})
	go p.write(done)
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		default:
			buf = make([]byte, chunkSize)
		}
		n, err := p.src.Read(buf[:chunkSize])
		if n > 0 {
			p.queue <- buf[:n]
		}
		if err != nil {
			p.cut = errors.Is(err, os.ErrDeadlineExceeded)
			break
		}
	}
	close(p.queue)
	<-done
}

// write writes each chunk to the console, then to the file. A console that fails (closed by
// the runtime) is not written again; the file goes on.
func (p *pump) write(done chan<- struct{}) {
	defer close(done)
	consoleOK := true
	for buf := range p.queue {
		if consoleOK {
			if _, err := p.console.Write(buf); err != nil {
				consoleOK = false
			}
		}
		if p.file != nil {
			_, _ = p.file.Write(buf)
		}
		select {
		case p.free <- buf[:cap(buf)]:
		default:
		}
	}
}

// Install copies the running executable to path (mode 0755, through a temporary file and a
// rename), for an init container to put sparkplane on the volume the Spark container runs
// log-wrap from.
func Install(path string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("install: find this executable: %w", err)
	}
	src, err := os.Open(self)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	defer src.Close()
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	_, err = io.Copy(tmp, src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o755)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("install %s: %w", path, err)
	}
	return nil
}

// FindEntrypoint is the first of paths that is an executable file: where this container's image
// keeps its entrypoint, which the pod spec cannot name because spark-submit leaves the image's
// own ENTRYPOINT in place.
func FindEntrypoint(paths []string) (string, error) {
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("none of %s is an executable file in this container; set logShipping.entrypoints in the server's configuration to the Spark image's entrypoint", strings.Join(paths, ", "))
}
