package logship

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// The files the wrapper and the shipper share in the log directory. The wrapper writes
// <stream> (the active file), <stream>.<seq> (rotated, complete), .wrap-<stream>.json (its
// next seq and what it dropped) and exit; the shipper renames a rotated file to
// .ship-<stream>.<seq> before it reads it (its claim: the wrapper never deletes a claimed
// file), and keeps .ship-<stream>.part (the part buffer) and .shipper-state.json.
const (
	// ExitFile holds the wrapped command's exit code; the wrapper writes it (atomically) once
	// the command has exited and both streams are in their files.
	ExitFile = "exit"
	// StateFile is the shipper's progress.
	StateFile = ".shipper-state.json"
)

// seqDigits is how wide rotated sequence numbers are padded, so that names sort in order.
const seqDigits = 6

func rotatedName(stream string, seq int64) string {
	return fmt.Sprintf("%s.%0*d", stream, seqDigits, seq)
}

func claimedName(stream string, seq int64) string { return ".ship-" + rotatedName(stream, seq) }

func partBufferName(stream string) string { return ".ship-" + stream + ".part" }

func wrapStateName(stream string) string { return ".wrap-" + stream + ".json" }

// parseSeq returns the seq of name if it is <stream>.<digits>.
func parseSeq(name, stream string) (int64, bool) {
	digits, ok := strings.CutPrefix(name, stream+".")
	if !ok || digits == "" {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	seq, err := strconv.ParseInt(digits, 10, 64)
	return seq, err == nil && seq > 0
}

// rotatedFile is a rotated file found in the log directory.
type rotatedFile struct {
	seq     int64
	claimed bool // renamed to .ship-<stream>.<seq> by the shipper
}

// listRotated returns the rotated files of stream in dir, in seq order.
func listRotated(dir, stream string) ([]rotatedFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []rotatedFile
	for _, e := range entries {
		name, claimed := e.Name(), false
		if rest, ok := strings.CutPrefix(name, ".ship-"); ok {
			name, claimed = rest, true
		}
		if seq, ok := parseSeq(name, stream); ok {
			out = append(out, rotatedFile{seq: seq, claimed: claimed})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out, nil
}

// wrapState is what the wrapper keeps in .wrap-<stream>.json: where its numbering goes on
// and what it had to give up, for the shipper to report.
type wrapState struct {
	// NextSeq is the seq the next rotated file gets.
	NextSeq int64 `json:"nextSeq"`
	// DroppedBytes and DroppedFiles count rotated files deleted to keep maxFilesToKeep before
	// the shipper claimed them.
	DroppedBytes int64 `json:"droppedBytes"`
	DroppedFiles int64 `json:"droppedFiles"`
	// UnwrittenBytes counts output the wrapper could not write to the file (a full or broken
	// volume); it still went to the console.
	UnwrittenBytes int64 `json:"unwrittenBytes"`
}

func readWrapState(dir, stream string) (wrapState, error) {
	var st wrapState
	raw, err := os.ReadFile(filepath.Join(dir, wrapStateName(stream)))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, fmt.Errorf("%s: %w", wrapStateName(stream), err)
	}
	return st, nil
}

// writeFileAtomic writes path through a temporary file in the same directory and a rename, so
// a reader (or a restarted writer) sees the old content or the new, never a part.
func writeFileAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// inode identifies an open file across renames, so that the shipper can tell the active file
// it read from the rotated file it became.
func inode(f *os.File) (uint64, int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, fmt.Errorf("%s: no inode number on this platform", f.Name())
	}
	return uint64(st.Ino), fi.Size(), nil //nolint:unconvert // Ino is not uint64 everywhere
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
