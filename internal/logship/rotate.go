package logship

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// rotatingFile is one stream's file in the log directory: writes go to <dir>/<stream> until it
// holds rotationSize bytes, then it is renamed <stream>.<seq> and a new one starts. Of the
// rotated files the shipper has not claimed, only maxFiles are kept: older ones are deleted
// and counted in .wrap-<stream>.json. Writes are split at the boundary, so every rotated file
// holds exactly rotationSize bytes and the files in seq order, then the active one, are the
// stream's output.
//
// A rotatingFile is used by one goroutine.
type rotatingFile struct {
	dir, stream string
	size        int64
	maxFiles    int

	f       *os.File // the active file; nil while it cannot be opened
	written int64    // bytes in the active file
	// kept holds the seqs this writer rotated that may still be unclaimed, oldest first. The
	// shipper claims in seq order, so the unclaimed files on disk are always a suffix of it.
	kept  []int64
	state wrapState
	// warn reports a problem with the volume once per kind; the output still reaches the
	// console.
	warn   func(format string, args ...any)
	warned map[string]bool
}

func openRotatingFile(dir, stream string, size int64, maxFiles int, warn func(string, ...any)) (*rotatingFile, error) {
	r := &rotatingFile{dir: dir, stream: stream, size: size, maxFiles: maxFiles, warn: warn, warned: map[string]bool{}}
	st, err := readWrapState(dir, stream)
	if err != nil {
		return nil, err
	}
	r.state = st
	files, err := listRotated(dir, stream)
	if err != nil {
		return nil, err
	}
	for _, rf := range files {
		if rf.seq >= r.state.NextSeq {
			r.state.NextSeq = rf.seq + 1
		}
		if !rf.claimed {
			r.kept = append(r.kept, rf.seq)
		}
	}
	if r.state.NextSeq < 1 {
		r.state.NextSeq = 1
	}
	// The output of an earlier run of the container in the same pod is kept as a rotated file
	// rather than truncated.
	if fi, err := os.Stat(r.activePath()); err == nil && fi.Size() > 0 {
		if err := r.rotate(); err != nil {
			return nil, err
		}
	}
	if err := r.open(true); err != nil {
		return nil, err
	}
	return r, r.saveState()
}

func (r *rotatingFile) activePath() string { return filepath.Join(r.dir, r.stream) }

// open opens the active file, empty when truncate is set, else to append to what it holds.
func (r *rotatingFile) open(truncate bool) error {
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if truncate {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(r.activePath(), flags, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", r.activePath(), err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("open %s: %w", r.activePath(), err)
	}
	r.f, r.written = f, fi.Size()
	return nil
}

// Write writes all of p to the files, rotating as often as needed. It never fails: bytes
// that cannot be written are counted as unwritten, because the child's output must keep
// flowing to the console whatever happens to the volume.
func (r *rotatingFile) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if r.f != nil && r.written >= r.size {
			if err := r.f.Close(); err != nil {
				r.warnOnce("close", "close %s: %v", r.activePath(), err)
			}
			r.f = nil
			truncate := true
			if err := r.rotate(); err != nil {
				// The full file is still there: go on appending to it, and try again at the
				// next write, rather than lose it.
				r.warnOnce("rotate", "rotate %s: %v", r.activePath(), err)
				truncate = false
			}
			if err := r.open(truncate); err != nil {
				r.warnOnce("open", "%v", err)
			}
		}
		if r.f == nil {
			if err := r.open(false); err != nil {
				r.warnOnce("open", "%v", err)
				r.state.UnwrittenBytes += int64(len(p))
				_ = r.saveState()
				return n, nil
			}
		}
		chunk := p
		// room is not positive only while rotation fails: then the file grows past the size.
		if room := r.size - r.written; room > 0 && int64(len(chunk)) > room {
			chunk = chunk[:room]
		}
		w, err := r.f.Write(chunk)
		r.written += int64(w)
		if err != nil {
			r.warnOnce("write", "write %s: %v", r.activePath(), err)
			r.state.UnwrittenBytes += int64(len(p) - w)
			_ = r.saveState()
			return n, nil
		}
		p = p[w:]
	}
	return n, nil
}

// rotate renames the closed active file to the next seq and enforces maxFiles.
func (r *rotatingFile) rotate() error {
	seq := r.state.NextSeq
	if err := os.Rename(r.activePath(), filepath.Join(r.dir, rotatedName(r.stream, seq))); err != nil {
		return err
	}
	r.state.NextSeq++
	r.kept = append(r.kept, seq)
	for len(r.kept) > r.maxFiles {
		old := filepath.Join(r.dir, rotatedName(r.stream, r.kept[0]))
		r.kept = r.kept[1:]
		// A file the shipper claimed meanwhile is gone under this name: Remove fails and
		// nothing is counted.
		fi, err := os.Stat(old)
		if err != nil {
			continue
		}
		if err := os.Remove(old); err == nil {
			r.state.DroppedBytes += fi.Size()
			r.state.DroppedFiles++
		}
	}
	return r.saveState()
}

func (r *rotatingFile) saveState() error {
	raw, err := json.Marshal(r.state)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(r.dir, wrapStateName(r.stream)), raw)
}

// Close closes the active file; it stays for the shipper to read.
func (r *rotatingFile) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	if errors.Is(err, fs.ErrClosed) {
		err = nil
	}
	return err
}

func (r *rotatingFile) warnOnce(kind, format string, args ...any) {
	if r.warned[kind] || r.warn == nil {
		return
	}
	r.warned[kind] = true
	r.warn(format, args...)
}

// OpenStream opens one stream's rotating file in dir as log-wrap keeps it, for a program that
// produces a container's output itself rather than running a command (the sandbox's stand-in
// for the kubelet, which plays the Spark container). Problems with the directory after it is
// opened are passed to warn; writes never fail. Call WriteExit once all output is written.
func OpenStream(dir, stream string, rotationSize int64, maxFiles int, warn func(format string, args ...any)) (io.WriteCloser, error) {
	if stream != Stdout && stream != Stderr {
		return nil, fmt.Errorf("stream %q: must be %s or %s", stream, Stdout, Stderr)
	}
	if rotationSize < MinRotationSize || rotationSize > MaxRotationSize {
		return nil, fmt.Errorf("rotation size %d bytes is outside 2KB..2GB", rotationSize)
	}
	if err := CheckFilesToKeep(maxFiles); err != nil {
		return nil, err
	}
	if warn == nil {
		warn = func(string, ...any) {}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("log directory: %w", err)
	}
	return openRotatingFile(dir, stream, rotationSize, maxFiles, warn)
}

// WriteExit says, as log-wrap does when its command has exited, that all of the container's
// output is in dir, and with which exit code: the shipper then finishes without waiting for
// SIGTERM.
func WriteExit(dir string, code int) error {
	return writeFileAtomic(filepath.Join(dir, ExitFile), []byte(strconv.Itoa(code)+"\n"))
}
