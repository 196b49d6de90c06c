package logship

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// onDisk returns the stream's unclaimed rotated files in order, then the active file, and
// the seqs it found.
func onDisk(t *testing.T, dir, stream string) ([]byte, []int64) {
	t.Helper()
	files, err := listRotated(dir, stream)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	var seqs []int64
	for _, f := range files {
		if f.claimed {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, rotatedName(stream, f.seq)))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, raw...)
		seqs = append(seqs, f.seq)
	}
	active, err := os.ReadFile(filepath.Join(dir, stream))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return append(all, active...), seqs
}

func TestRotatingFile(t *testing.T) {
	data := logText(100_000, 1, false)
	for _, tc := range []struct {
		name     string
		size     int64
		maxFiles int
		writes   []int // sizes of the writes, repeated until data is written
	}{
		{"small writes", 4096, 50, []int{1, 7, 100, 3000}},
		{"writes larger than a file", 4096, 50, []int{10_000, 20_000}},
		{"exact multiples", 1000, 50, []int{1000}},
		{"drops beyond max files", 2048, 3, []int{333, 5000}},
		{"one file kept", 2048, 1, []int{4096}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			r, err := openRotatingFile(dir, Stdout, tc.size, tc.maxFiles, func(f string, a ...any) { t.Errorf(f, a...) })
			if err != nil {
				t.Fatal(err)
			}
			for off, i := 0, 0; off < len(data); i++ {
				n := min(tc.writes[i%len(tc.writes)], len(data)-off)
				if w, err := r.Write(data[off : off+n]); w != n || err != nil {
					t.Fatalf("Write = %d, %v", w, err)
				}
				off += n
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			got, seqs := onDisk(t, dir, Stdout)
			st, err := readWrapState(dir, Stdout)
			if err != nil {
				t.Fatal(err)
			}
			// Every rotated file is exactly the rotation size, and what is on disk is the end
			// of the output, after what was dropped.
			for _, seq := range seqs {
				if fi, err := os.Stat(filepath.Join(dir, rotatedName(Stdout, seq))); err != nil || fi.Size() != tc.size {
					t.Errorf("%s: %v, size %d; want %d", rotatedName(Stdout, seq), err, fi.Size(), tc.size)
				}
			}
			if len(seqs) > tc.maxFiles {
				t.Errorf("%d rotated files kept, max %d", len(seqs), tc.maxFiles)
			}
			if int64(len(got))+st.DroppedBytes != int64(len(data)) || !bytes.Equal(got, data[st.DroppedBytes:]) {
				t.Errorf("on disk %d bytes + dropped %d != written %d, or not its end", len(got), st.DroppedBytes, len(data))
			}
			wantRotated := (int64(len(data)) - 1) / tc.size
			if st.NextSeq != wantRotated+1 || st.DroppedFiles != max(0, wantRotated-int64(tc.maxFiles)) {
				t.Errorf("state %+v; want nextSeq %d, %d files dropped", st, wantRotated+1, wantRotated-int64(tc.maxFiles))
			}
		})
	}
}

// TestRotatingFileClaimed checks that a file the shipper claimed is neither dropped nor
// counted, and that a reopened writer goes on numbering after every file, claimed or gone,
// and keeps the active file of the run before as a rotated file.
func TestRotatingFileClaimed(t *testing.T) {
	dir := t.TempDir()
	r, err := openRotatingFile(dir, Stderr, 2048, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("x"), 2048)
	for range 3 { // seqs 1 and 2 rotated, the third chunk active
		_, _ = r.Write(chunk)
	}
	// The shipper claims seq 1; two more rotations would drop it were it not claimed.
	if err := os.Rename(filepath.Join(dir, rotatedName(Stderr, 1)), filepath.Join(dir, claimedName(Stderr, 1))); err != nil {
		t.Fatal(err)
	}
	_, _ = r.Write(chunk)          // rotates 3: 1 is claimed, kept {2, 3}
	_, _ = r.Write(chunk)          // rotates 4: drops 2
	_, _ = r.Write([]byte("tail")) // rotates 5: drops 3
	_ = r.Close()
	st, _ := readWrapState(dir, Stderr)
	if st.DroppedFiles != 2 || st.DroppedBytes != 4096 {
		t.Errorf("dropped %d files, %d bytes; want seqs 2 and 3", st.DroppedFiles, st.DroppedBytes)
	}
	if !exists(filepath.Join(dir, claimedName(Stderr, 1))) {
		t.Error("the claimed file was removed")
	}
	// Everything is consumed and removed; a second run must not reuse a seq.
	for _, n := range []string{claimedName(Stderr, 1), rotatedName(Stderr, 4), rotatedName(Stderr, 5)} {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	r, err = openRotatingFile(dir, Stderr, 2048, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
	raw, _ := os.ReadFile(filepath.Join(dir, rotatedName(Stderr, 6)))
	_, seqs := onDisk(t, dir, Stderr)
	if len(seqs) != 1 || seqs[0] != 6 {
		t.Fatalf("after reopening, rotated seqs %v; want the earlier active file as 6", seqs)
	}
	if string(raw) != "tail" {
		t.Errorf("seq 6 holds %q, want the earlier run's active file", raw)
	}
}
