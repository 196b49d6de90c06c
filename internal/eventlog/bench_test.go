package eventlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkRead reads a synthetic event log of about 1 GiB (EVENTLOG_BENCH_BYTES overrides
// the size) built in a temporary directory by replaying the real logs' job, stage, task and
// SQL events with their ids shifted on every copy, so the summary grows as a real long
// application's would. It reports throughput (MB/s), the peak heap seen while reading and
// its ratio to the log's size and to the summary's JSON size. Run it once:
//
//	go test -run '^$' -bench . -benchtime 1x ./internal/eventlog/
func BenchmarkRead(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a 1 GiB log")
	}
	size := int64(1 << 30)
	if v := os.Getenv("EVENTLOG_BENCH_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatalf("EVENTLOG_BENCH_BYTES=%q: %v", v, err)
		}
		size = n
	}
	path := filepath.Join(b.TempDir(), "app-synthetic")
	gen := writeSyntheticLog(b, path, size)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(info.Size())
	b.ReportAllocs()

	var peak uint64
	var sum *Summary
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		stop := samplePeakHeap(&peak)
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		sum, err = Read(f)
		f.Close()
		stop()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()

	// The generator knows what it wrote; the summary must agree.
	if !sum.Complete || sum.Events.Corrupt != 0 || len(sum.Jobs) != gen.jobs || len(sum.Stages) != gen.stages ||
		len(sum.SQL) != gen.sql || sum.Events.ByType["SparkListenerTaskEnd"] != int64(gen.tasks) {
		b.Fatalf("summary: complete %v, corrupt %d, %d jobs, %d stages, %d SQL, %d TaskEnd; generator wrote %+v; notes %q",
			sum.Complete, sum.Events.Corrupt, len(sum.Jobs), len(sum.Stages), len(sum.SQL),
			sum.Events.ByType["SparkListenerTaskEnd"], gen, sum.Notes)
	}
	summaryJSON, err := json.Marshal(sum)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(info.Size())/1e6, "log-MB")
	b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
	b.ReportMetric(float64(peak)/float64(info.Size()), "peak-heap/log")
	b.ReportMetric(float64(len(summaryJSON))/1e6, "summary-MB")
	b.ReportMetric(float64(gen.tasks), "tasks")
}

// samplePeakHeap records the largest HeapAlloc seen until stop is called. ReadMemStats
// stops the world briefly, so it samples every 20 ms rather than continuously.
func samplePeakHeap(peak *uint64) (stop func()) {
	var max atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > max.Load() {
			max.Store(ms.HeapAlloc)
		}
	}
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		sample()
		if m := max.Load(); m > *peak {
			*peak = m
		}
	}
}

// generated is what writeSyntheticLog wrote.
type generated struct {
	copies, jobs, stages, sql, tasks int
}

// idPattern finds the ids a replayed copy must shift: job, stage, task and SQL execution
// ids, and stage id lists. RDD "Parent IDs" shift too, which is harmless.
var idPattern = regexp.MustCompile(`("(?:Job ID|Stage ID|Task ID|executionId)":)(\d+)|("spark\.sql\.execution\.id":")(\d+)|("(?:Stage IDs|Parent IDs)":\[)([\d,]*)`)

// segment is a piece of a template line: literal text, or an id to shift by its kind's offset.
type segment struct {
	text []byte
	kind byte // 0 literal, 'j' job, 's' stage, 't' task, 'q' SQL execution
	id   int
}

// writeSyntheticLog writes the header of a real log (log start, application, environment,
// executor), then copies of the real logs' job bodies until the file reaches size, then the
// application's end.
func writeSyntheticLog(b *testing.B, path string, size int64) generated {
	b.Helper()
	var header, body [][]segment
	var footer []byte
	var perCopy generated
	max := map[byte]int{}
	// The first log gives the header and footer; the application-level events of the second
	// are dropped, so the synthetic log is one application.
	base := map[byte]int{}
	for i, file := range []string{"local-1642039451826", "app-20200706201101-0003"} {
		if i > 0 { // the second log's ids follow the first's, so they do not collide
			for k, m := range max {
				base[k] = m + 1
			}
		}
		template := func(line []byte, max map[byte]int) []segment { return template(line, base, max) }
		for _, line := range realLog(b, file) {
			name, _ := peekEvent(line)
			switch k := kindOf(name); {
			case k == kindAppEnd:
				if i == 0 {
					footer = line
				}
			case k == kindLogStart || k == kindAppStart || k == kindExecutorAdded || k == kindExecutorRemoved ||
				bytes.HasPrefix(name, []byte("SparkListenerEnvironment")) || bytes.HasPrefix(name, []byte("SparkListenerBlockManager")) ||
				bytes.HasPrefix(name, []byte("SparkListenerResourceProfile")):
				if i == 0 {
					header = append(header, template(line, max))
				}
			default:
				body = append(body, template(line, max))
				switch k {
				case kindJobStart:
					perCopy.jobs++
				case kindStageSubmitted:
					perCopy.stages++
				case kindSQLStart:
					perCopy.sql++
				case kindTaskEnd:
					perCopy.tasks++
				}
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var written int64
	emit := func(line []segment, off map[byte]int) {
		for _, s := range line {
			if s.kind == 0 {
				n, _ := w.Write(s.text)
				written += int64(n)
				continue
			}
			var num [20]byte
			n, _ := w.Write(strconv.AppendInt(num[:0], int64(s.id+off[s.kind]), 10))
			written += int64(n)
		}
	}
	for _, line := range header {
		emit(line, nil)
	}
	var gen generated
	off := map[byte]int{}
	for written < size-int64(len(footer)) {
		for _, line := range body {
			emit(line, off)
		}
		for k, m := range max {
			off[k] += m + 1
		}
		gen.copies++
	}
	w.Write(footer)
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	gen.jobs, gen.stages, gen.sql, gen.tasks = perCopy.jobs*gen.copies, perCopy.stages*gen.copies, perCopy.sql*gen.copies, perCopy.tasks*gen.copies
	return gen
}

// template splits a line into literal text and the ids to shift (each moved up by its kind's
// base), recording each kind's largest id in max so copies do not overlap.
func template(line []byte, base, max map[byte]int) []segment {
	var segs []segment
	last := 0
	addID := func(kind byte, digits []byte) {
		id, _ := strconv.Atoi(string(digits))
		id += base[kind]
		segs = append(segs, segment{kind: kind, id: id})
		if id > max[kind] {
			max[kind] = id
		}
	}
	for _, m := range idPattern.FindAllSubmatchIndex(line, -1) {
		switch {
		case m[2] >= 0: // "Job ID":n and the like
			segs = append(segs, segment{text: line[last:m[3]]})
			kind := map[string]byte{`"Job ID":`: 'j', `"Stage ID":`: 's', `"Task ID":`: 't', `"executionId":`: 'q'}[string(line[m[2]:m[3]])]
			addID(kind, line[m[4]:m[5]])
			last = m[5]
		case m[6] >= 0: // "spark.sql.execution.id":"n"
			segs = append(segs, segment{text: line[last:m[7]]})
			addID('q', line[m[8]:m[9]])
			last = m[9]
		default: // "Stage IDs":[a,b] and "Parent IDs":[a,b]
			segs = append(segs, segment{text: line[last:m[11]]})
			for i, d := range bytes.Split(line[m[12]:m[13]], []byte(",")) {
				if len(d) == 0 {
					continue
				}
				if i > 0 {
					segs = append(segs, segment{text: []byte(",")})
				}
				addID('s', d)
			}
			last = m[13]
		}
	}
	return append(segs, segment{text: line[last:]})
}
