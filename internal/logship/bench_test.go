package logship

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkShip ships 256 MiB of executor-like log lines, rotated every 8 MiB as the wrapper
// rotates them, to the real S3 server, and reports the shipper's throughput and the peak of
// its heap over what was live before, next to a baseline measured in the same run on the same
// bytes: one gzip stream at the same level into a file, then one PutObject of it.
func BenchmarkShip(b *testing.B) {
	const total = 256 << 20
	srv := startS3(b)
	src := filepath.Join(b.TempDir(), "src")
	writeLogFile(b, src, total)

	var shipNS, baseNS time.Duration
	var peak, compressed int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		rotateInto(b, src, dir, 8<<20)
		if err := writeFileAtomic(filepath.Join(dir, ExitFile), []byte("0\n")); err != nil {
			b.Fatal(err)
		}
		sh := &Shipper{Dir: dir, Bucket: srv.bucket(testBucket), Prefix: fmt.Sprintf("bench/%d", i), PollInterval: 10 * time.Millisecond}
		b.StartTimer()

		stopSampling := sampleHeap()
		start := time.Now()
		o := sh.Run(context.Background())
		shipNS += time.Since(start)
		peak = max(peak, stopSampling())
		if o.Failed || o.Streams[0].Bytes != total {
			b.Fatalf("%+v", o)
		}
		compressed = o.Streams[0].Compressed

		b.StopTimer()
		start = time.Now()
		baseline(b, srv, src, fmt.Sprintf("bench/%d/baseline.gz", i))
		baseNS += time.Since(start)
		b.StartTimer()
	}
	mbps := func(d time.Duration) float64 { return float64(total) * float64(b.N) / d.Seconds() / (1 << 20) }
	b.ReportMetric(mbps(shipNS), "MiB/s")
	b.ReportMetric(mbps(baseNS), "baseline-MiB/s")
	b.ReportMetric(mbps(shipNS)/mbps(baseNS), "ratio")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(total)/float64(compressed), "compression")
	b.SetBytes(total)
}

// writeLogFile writes n bytes of log lines to path without holding them in memory.
func writeLogFile(b *testing.B, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for i, off := 0, 0; off < n; i++ {
		chunk := logText(min(1<<20, n-off), uint64(i), i%4 == 0)
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
		off += len(chunk)
	}
}

// rotateInto writes src through the wrapper's rotating file into dir.
func rotateInto(b *testing.B, src, dir string, size int64) {
	r, err := openRotatingFile(dir, Stdout, size, MaxFilesToKeep, func(f string, a ...any) { b.Errorf(f, a...) })
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyBuffer(r, f, make([]byte, chunkSize)); err != nil {
		b.Fatal(err)
	}
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
}

// baseline gzips src into a file at the shipper's level and puts it in one request.
func baseline(b *testing.B, srv *testS3, src, key string) {
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.CreateTemp(b.TempDir(), "baseline")
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	bw := bufio.NewWriterSize(out, bufferedOut)
	zw, _ := gzip.NewWriterLevel(bw, compressionLevel)
	if _, err := io.Copy(zw, in); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	size, _ := out.Seek(0, io.SeekCurrent)
	if _, err := srv.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key),
		Body: io.NewSectionReader(out, 0, size), ContentLength: aws.Int64(size)}); err != nil {
		b.Fatal(err)
	}
}

// sampleHeap samples the heap until stopped and returns its peak over the heap live at the
// start.
func sampleHeap() (stop func() int64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := int64(ms.HeapAlloc)
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if d := int64(ms.HeapAlloc) - base; d > peak.Load() {
				peak.Store(d)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 { close(done); wg.Wait(); return peak.Load() }
}
