package logship

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Sizes of the shipper's buffers: a stream holds a gzip writer, readChunk bytes of copy
// buffer and bufferedOut bytes in front of the part buffer file, whatever the size of its logs.
const (
	readChunk   = 256 << 10
	bufferedOut = 256 << 10
	// compressionLevel favours speed: a sidecar has little CPU. On executor-like logs level 1
	// compresses 188 MiB/s to a ratio of 4.35 where the default level does 52 MiB/s and 5.15.
	compressionLevel = gzip.BestSpeed
)

// streamShipper ships one stream. Its goroutine alone touches its fields and its state.
type streamShipper struct {
	s    *Shipper
	name string
	key  string
	uri  string

	buf   *os.File // the part buffer
	bw    *bufio.Writer
	count countingWriter
	gz    *gzip.Writer
	chunk []byte // the copy buffer
	// draining is set at the end: S3 calls are then retried until the drain deadline.
	draining bool
}

func (s *Shipper) newStream(name string) (*streamShipper, error) {
	ss := &streamShipper{s: s, name: name, key: s.key(name), uri: s.uri(name), chunk: make([]byte, readChunk)}
	if ss.st().Done {
		return ss, nil
	}
	buf, err := os.OpenFile(filepath.Join(s.Dir, partBufferName(name)), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("part buffer: %w", err)
	}
	ss.buf = buf
	ss.bw = bufio.NewWriterSize(&ss.count, bufferedOut)
	ss.count.w = buf
	ss.gz, _ = gzip.NewWriterLevel(io.Discard, compressionLevel)
	return ss, nil
}

func (ss *streamShipper) close() {
	if ss.buf != nil {
		_ = ss.buf.Close()
	}
}

func (ss *streamShipper) st() *streamState { return ss.s.state.stream(ss.name) }

func (ss *streamShipper) update(change func(*streamState)) error {
	return ss.s.state.update(ss.name, change)
}

// target is the size at which the part buffer is uploaded: S3's minimum, doubled every 2500
// parts so that an upload's 10000 parts hold 187 GiB of compressed logs.
func (ss *streamShipper) target() int64 {
	return MinPartSize << (len(ss.st().Parts) / 2500)
}

// run ships rotated files as they appear until drain is closed, then finishes.
func (ss *streamShipper) run(ctx context.Context, drain <-chan struct{}) StreamOutcome {
	wait := ss.s.PollInterval
	for {
		select {
		case <-drain:
			return ss.finish(ss.s.drainCtx)
		case <-ctx.Done():
			<-drain
			return ss.finish(ss.s.drainCtx)
		case <-time.After(wait):
		}
		if ss.st().Done {
			continue
		}
		if _, err := ss.consumeRotated(ctx); err != nil {
			if ctx.Err() != nil {
				continue
			}
			wait = min(2*wait, streamBackoffMax)
			ss.s.Log.Warn("shipping fails; trying again later", "stream", ss.name, "in", wait, "error", errorText(err))
			ss.s.reportFailing(ss.name, failureMessage(ss.uri, err))
			continue
		}
		ss.s.reportRecovered(ss.name)
		wait = ss.s.PollInterval
	}
}

// finish ships what is left and completes the object.
func (ss *streamShipper) finish(ctx context.Context) StreamOutcome {
	ss.draining = true
	out := StreamOutcome{Stream: ss.name, URI: ss.uri}
	err := ss.drainFiles(ctx)
	if err == nil {
		err = ss.complete(ctx)
	}
	st := ss.st()
	out.LostBytes = st.LostBytes
	if err != nil {
		out.Err = err
		return out
	}
	out.Bytes, out.Compressed = st.Bytes, st.Compressed
	return out
}

// drainFiles consumes the rotated files and then the active file. Once the command has
// exited one pass takes everything; before that (SIGTERM while it still writes) the wrapper
// may rotate the active file under the shipper, so passes repeat, at most three, until one
// finds no new rotated file.
func (ss *streamShipper) drainFiles(ctx context.Context) error {
	if ss.st().Done {
		return nil
	}
	exited := exists(filepath.Join(ss.s.Dir, ExitFile))
	for pass := 0; pass < 3; pass++ {
		n, err := ss.consumeRotated(ctx)
		if err != nil {
			return err
		}
		if err := ss.consumeActive(ctx); err != nil {
			return err
		}
		if exited || (pass > 0 && n == 0) {
			return nil
		}
	}
	return nil
}

// consumeRotated uploads a full part buffer left by a failed upload, then consumes the
// rotated files in seq order, claiming each by renaming it, and returns how many it took.
func (ss *streamShipper) consumeRotated(ctx context.Context) (int, error) {
	if ss.st().BufferBytes >= ss.target() {
		if err := ss.uploadPart(ctx); err != nil {
			return 0, err
		}
	}
	files, err := listRotated(ss.s.Dir, ss.name)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, rf := range files {
		claimed := filepath.Join(ss.s.Dir, claimedName(ss.name, rf.seq))
		if rf.seq < ss.st().NextSeq {
			if rf.claimed { // consumed by a shipper that stopped before it removed it
				_ = os.Remove(claimed)
			}
			continue
		}
		if !rf.claimed {
			err := os.Rename(filepath.Join(ss.s.Dir, rotatedName(ss.name, rf.seq)), claimed)
			if errors.Is(err, fs.ErrNotExist) {
				continue // the wrapper dropped it to keep maxFilesToKeep
			}
			if err != nil {
				return n, fmt.Errorf("claim %s: %w", rotatedName(ss.name, rf.seq), err)
			}
		}
		f, err := os.Open(claimed)
		if err != nil {
			return n, err
		}
		seq := rf.seq
		err = ss.consumeFile(ctx, f, func(st *streamState) {
			st.NextSeq, st.Ino, st.Offset = seq+1, 0, 0
		})
		_ = f.Close()
		if err != nil {
			return n, err
		}
		if err := os.Remove(claimed); err != nil {
			return n, fmt.Errorf("remove %s: %w", claimed, err)
		}
		n++
	}
	return n, nil
}

// consumeActive consumes what the active file holds beyond what is already shipped. Bytes
// go out in order only if every rotated file is shipped before the active file is read, so
// the active file is read only when, with it open, no rotated file is left: the wrapper
// renames a full file before it creates the next, so a file rotated after that check is the
// one held open, and a later pass takes the rest of it from where this one stopped (its
// inode is the same). While the wrapper rotates faster than this catches up, the active
// file is left alone.
func (ss *streamShipper) consumeActive(ctx context.Context) error {
	for range 10 {
		f, err := os.Open(filepath.Join(ss.s.Dir, ss.name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		files, err := listRotated(ss.s.Dir, ss.name)
		if err != nil {
			_ = f.Close()
			return err
		}
		if len(files) > 0 && files[len(files)-1].seq >= ss.st().NextSeq {
			_ = f.Close()
			if _, err := ss.consumeRotated(ctx); err != nil {
				return err
			}
			continue
		}
		err = ss.consumeFile(ctx, f, nil)
		_ = f.Close()
		return err
	}
	return nil
}

// consumeFile adds f, from where an earlier pass left it (the same inode) to its present
// end, to the part buffer as gzip members, uploading the buffer whenever it reaches the
// target. Each member's end is saved with the offset it reaches, and done applied with the
// last, so that the state never counts a byte twice nor skips one.
func (ss *streamShipper) consumeFile(ctx context.Context, f *os.File, done func(*streamState)) error {
	ino, size, err := inode(f)
	if err != nil {
		return err
	}
	var start int64
	if st := ss.st(); st.Ino != 0 && st.Ino == ino {
		start = st.Offset
	}
	if start >= size {
		if done == nil {
			return nil
		}
		return ss.update(done)
	}
	src := io.NewSectionReader(f, start, size-start)
	off := start
	for {
		if err := ss.openMember(); err != nil {
			return err
		}
		raw, eof, err := ss.fill(src)
		if err != nil {
			return fmt.Errorf("compress %s: %w", filepath.Base(f.Name()), err)
		}
		end, err := ss.closeMember()
		if err != nil {
			return err
		}
		off += raw
		if err := ss.update(func(st *streamState) {
			st.BufferBytes, st.BufferRaw = end, st.BufferRaw+raw
			st.Ino, st.Offset = ino, off
			if eof && done != nil {
				done(st)
			}
		}); err != nil {
			return err
		}
		if ss.st().BufferBytes >= ss.target() {
			if err := ss.uploadPart(ctx); err != nil {
				return err
			}
		}
		if eof {
			return nil
		}
	}
}

// openMember starts a gzip member at the end of the saved part buffer, dropping whatever a
// member left unfinished by an error or a crash wrote after it.
func (ss *streamShipper) openMember() error {
	end := ss.st().BufferBytes
	if err := ss.buf.Truncate(end); err != nil {
		return fmt.Errorf("part buffer: %w", err)
	}
	if _, err := ss.buf.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("part buffer: %w", err)
	}
	ss.count.n = end
	ss.bw.Reset(&ss.count)
	ss.gz.Reset(ss.bw)
	return nil
}

// fill compresses src into the open member until the part buffer reaches the target or src
// ends, and returns how many bytes it read.
func (ss *streamShipper) fill(src io.Reader) (raw int64, eof bool, err error) {
	target := ss.target()
	for ss.count.n+int64(ss.bw.Buffered()) < target {
		n, err := io.CopyBuffer(ss.gz, io.LimitReader(src, readChunk), ss.chunk)
		raw += n
		if err != nil {
			return raw, false, err
		}
		if n < readChunk {
			return raw, true, nil
		}
	}
	return raw, false, nil
}

// closeMember ends the member and returns where the part buffer ends.
func (ss *streamShipper) closeMember() (int64, error) {
	if err := ss.gz.Close(); err != nil {
		return 0, fmt.Errorf("part buffer: %w", err)
	}
	if err := ss.bw.Flush(); err != nil {
		return 0, fmt.Errorf("part buffer: %w", err)
	}
	return ss.count.n, nil
}

// uploadPart uploads the part buffer as the next part, starting the upload first if there is
// none. When S3 has forgotten the upload, a new one is started with what is still on disk.
func (ss *streamShipper) uploadPart(ctx context.Context) error {
	for fresh := false; ; fresh = true {
		st := ss.st()
		if st.UploadID == "" {
			var id string
			err := ss.s.retry(ctx, ss.name, "CreateMultipartUpload", ss.draining, func(ctx context.Context) error {
				var err error
				id, err = ss.s.Bucket.CreateMultipartUpload(ctx, ss.key)
				return err
			})
			if err != nil {
				return err
			}
			if err := ss.update(func(st *streamState) { st.UploadID = id }); err != nil {
				return err
			}
		}
		number, size, raw := int32(len(st.Parts)+1), st.BufferBytes, st.BufferRaw
		var etag string
		err := ss.s.retry(ctx, ss.name, "UploadPart", ss.draining, func(ctx context.Context) error {
			var err error
			etag, err = ss.s.Bucket.UploadPart(ctx, ss.key, st.UploadID, number, io.NewSectionReader(ss.buf, 0, size), size)
			return err
		})
		if errorCode(err) == "NoSuchUpload" && !fresh {
			ss.forgetUpload()
			continue
		}
		if err != nil {
			return err
		}
		if err := ss.update(func(st *streamState) {
			st.Parts = append(st.Parts, partState{Number: number, ETag: etag, Size: size, Raw: raw})
			st.BufferBytes, st.BufferRaw = 0, 0
		}); err != nil {
			return err
		}
		if err := ss.buf.Truncate(0); err != nil {
			return fmt.Errorf("part buffer: %w", err)
		}
		return nil
	}
}

// forgetUpload drops an upload S3 no longer knows: its parts' files are gone, so their bytes
// are counted as lost and shipping starts over with what is still on disk.
func (ss *streamShipper) forgetUpload() {
	lost, _ := ss.st().shippedBytes()
	ss.s.Log.Warn("the multipart upload is gone (NoSuchUpload); starting a new one with what is still on disk",
		"stream", ss.name, "object", ss.uri, "lostBytes", lost)
	_ = ss.update(func(st *streamState) {
		st.UploadID, st.Parts = "", nil
		st.LostBytes += lost
	})
}

// complete makes the object: a plain put when the stream never filled a part, else the last
// part and the completion. A stream without output gets an empty gzip member, so that the
// object is a valid empty .gz.
func (ss *streamShipper) complete(ctx context.Context) error {
	for fresh := false; ; fresh = true {
		st := ss.st()
		if st.Done {
			return nil
		}
		if st.BufferBytes == 0 && len(st.Parts) == 0 {
			if err := ss.emptyMember(); err != nil {
				return err
			}
		}
		if st.UploadID == "" && len(st.Parts) == 0 {
			size := st.BufferBytes
			err := ss.s.retry(ctx, ss.name, "PutObject", true, func(ctx context.Context) error {
				return ss.s.Bucket.PutObject(ctx, ss.key, io.NewSectionReader(ss.buf, 0, size), size)
			})
			if err != nil {
				return err
			}
			return ss.markDone(st.BufferRaw, size)
		}
		if st.BufferBytes > 0 {
			if err := ss.uploadPart(ctx); err != nil {
				return err
			}
			st = ss.st()
			if len(st.Parts) == 0 || st.UploadID == "" {
				continue
			}
		}
		etags := make([]string, len(st.Parts))
		for i, p := range st.Parts {
			etags[i] = p.ETag
		}
		err := ss.s.retry(ctx, ss.name, "CompleteMultipartUpload", true, func(ctx context.Context) error {
			return ss.s.Bucket.CompleteMultipartUpload(ctx, ss.key, st.UploadID, etags)
		})
		raw, compressed := st.shippedBytes()
		if errorCode(err) == "NoSuchUpload" {
			// A shipper that completed the upload and was killed before it saved so finds
			// the upload gone and the object there, with the parts' size.
			if size, ok, herr := ss.s.Bucket.ObjectSize(ctx, ss.key); herr == nil && ok && size == compressed {
				ss.s.Log.Info("an earlier shipper completed the upload", "stream", ss.name, "object", ss.uri)
				return ss.markDone(raw, compressed)
			}
			if !fresh {
				ss.forgetUpload()
				continue
			}
		}
		if err != nil {
			return err
		}
		return ss.markDone(raw, compressed)
	}
}

// emptyMember puts an empty gzip member in the part buffer.
func (ss *streamShipper) emptyMember() error {
	if err := ss.openMember(); err != nil {
		return err
	}
	end, err := ss.closeMember()
	if err != nil {
		return err
	}
	return ss.update(func(st *streamState) { st.BufferBytes = end })
}

func (ss *streamShipper) markDone(raw, compressed int64) error {
	if err := ss.update(func(st *streamState) {
		st.Done, st.Bytes, st.Compressed = true, raw, compressed
		st.BufferBytes, st.BufferRaw = 0, 0
	}); err != nil {
		return err
	}
	_ = ss.buf.Close()
	ss.buf = nil
	_ = os.Remove(filepath.Join(ss.s.Dir, partBufferName(ss.name)))
	return nil
}

// countingWriter counts what goes through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
