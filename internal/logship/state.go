package logship

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// shipState is the shipper's progress, in Dir/.shipper-state.json, written atomically after
// every step that changes what is in S3 or in the part buffer, so that a restarted shipper
// takes up exactly where the last one left off.
type shipState struct {
	Version int                     `json:"version"`
	Bucket  string                  `json:"bucket"`
	Prefix  string                  `json:"prefix"`
	Streams map[string]*streamState `json:"streams"`
}

const stateVersion = 1

// streamState is one stream's progress. The bytes of the stream that are in S3 (Parts), in
// the part buffer (BufferBytes of complete gzip members) or consumed from the file being
// read (Ino, Offset) are exactly the stream's output up to that point, in order.
type streamState struct {
	// UploadID is the open multipart upload; empty until the first part is uploaded.
	UploadID string      `json:"uploadId,omitempty"`
	Parts    []partState `json:"parts,omitempty"`
	// NextSeq is the first rotated file not consumed entirely.
	NextSeq int64 `json:"nextSeq"`
	// Ino and Offset say how much of a file is consumed while the file is only partly so:
	// the claimed rotated file NextSeq, or the active file once the end has begun (which may
	// yet be rotated, keeping its inode). Zero when no file is partly consumed.
	Ino    uint64 `json:"ino,omitempty"`
	Offset int64  `json:"offset,omitempty"`
	// BufferBytes is how much of the part buffer is complete gzip members; BufferRaw is the
	// uncompressed size of what they hold.
	BufferBytes int64 `json:"bufferBytes"`
	BufferRaw   int64 `json:"bufferRaw"`
	// LostBytes counts uncompressed bytes that were in parts of an upload S3 no longer knew
	// (NoSuchUpload): their files were gone, so they could not be sent again.
	LostBytes int64 `json:"lostBytes,omitempty"`
	// Done is set once the object is complete; Bytes and Compressed are then what it holds,
	// uncompressed and as stored.
	Done       bool  `json:"done,omitempty"`
	Bytes      int64 `json:"bytes,omitempty"`
	Compressed int64 `json:"compressed,omitempty"`
}

// partState is an uploaded part.
type partState struct {
	Number int32  `json:"number"`
	ETag   string `json:"etag"`
	// Size is the part's length; Raw the uncompressed bytes it holds.
	Size int64 `json:"size"`
	Raw  int64 `json:"raw"`
}

// shippedBytes returns the uncompressed and compressed bytes in uploaded parts.
func (s *streamState) shippedBytes() (raw, compressed int64) {
	for _, p := range s.Parts {
		raw += p.Raw
		compressed += p.Size
	}
	return raw, compressed
}

// stateFile guards the state: each stream's goroutine changes only its own streamState, and
// only through update, so that saving (which reads all of them) never sees a change half
// made.
type stateFile struct {
	path string
	mu   sync.Mutex
	st   shipState
}

// loadState reads the state in dir, or starts one for bucket/prefix. A state for another
// destination is not this pod's progress, and one that cannot be read (it is written
// atomically, so only a damaged volume gives one) cannot be trusted: both are started afresh,
// shipping again what is still on disk. resumed says whether a state was taken up.
func loadState(dir, bucket, prefix string) (sf *stateFile, resumed bool, err error) {
	sf = &stateFile{path: filepath.Join(dir, StateFile)}
	fresh := shipState{Version: stateVersion, Bucket: bucket, Prefix: prefix, Streams: map[string]*streamState{}}
	raw, err := os.ReadFile(sf.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		sf.st = fresh
	case err != nil:
		return nil, false, fmt.Errorf("read %s: %w", sf.path, err)
	default:
		if json.Unmarshal(raw, &sf.st) != nil || sf.st.Version != stateVersion || sf.st.Bucket != bucket ||
			sf.st.Prefix != prefix || sf.st.Streams == nil {
			sf.st = fresh
		}
	}
	resumed = len(sf.st.Streams) > 0
	for _, s := range streamNames {
		if sf.st.Streams[s] == nil {
			sf.st.Streams[s] = &streamState{NextSeq: 1}
		}
	}
	return sf, resumed, nil
}

// update applies change to stream's state and saves the whole state. When the state cannot
// be saved the change is undone, so that what the shipper does next agrees with what a
// restarted shipper would find.
func (sf *stateFile) update(stream string, change func(*streamState)) error {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	st := sf.st.Streams[stream]
	before := *st
	change(st)
	raw, err := json.Marshal(&sf.st)
	if err == nil {
		err = writeFileAtomic(sf.path, raw)
	}
	if err != nil {
		*st = before
		return fmt.Errorf("save the shipper's state: %w", err)
	}
	return nil
}

// stream returns stream's state; only its own goroutine may read it without the lock.
func (sf *stateFile) stream(name string) *streamState { return sf.st.Streams[name] }
