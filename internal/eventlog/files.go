package eventlog

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Spark's file naming (EventLogFileWriters.scala): a single-file log is named after the
// application (plus "_<attempt>"), ends in ".<codec>" when compressed and in ".inprogress"
// while it is written. A rolling log (spark.eventLog.rolling.enabled, format v2) is a
// directory "eventlog_v2_<app>" of files "events_<n>_<app>[.<codec>]" numbered from 1, an
// empty "appstatus_<app>[.inprogress]" marker, and after compaction an
// "events_<n>_<app>[.<codec>].compact" file that replaces every file before it.
const (
	rollingDirPrefix = "eventlog_v2_"
	eventsPrefix     = "events_"
	appStatusPrefix  = "appstatus_"
	inProgressSuffix = ".inprogress"
	compactSuffix    = ".compact"
)

// sparkCodecs are the short names of Spark's CompressionCodec implementations, which it uses
// as the file extension of a compressed event log.
var sparkCodecs = []string{"lz4", "lzf", "snappy", "zstd"}

// CodecError refuses an event log compressed with a codec this package cannot decode. Only
// uncompressed logs (Spark's default, spark.eventLog.compress=false) can be read: Go's
// standard library decodes none of Spark's codecs.
type CodecError struct {
	File  string // the file whose name carries the codec
	Codec string // lz4, lzf, snappy or zstd
}

func (e *CodecError) Error() string {
	return fmt.Sprintf("event log %s is compressed with %s: only uncompressed event logs can be read (set spark.eventLog.compress=false)", e.File, e.Codec)
}

// Read rebuilds the summary of a single uncompressed event log stream. Corrupt, cut and
// unknown lines never make it fail: they are noted in the summary. The error is only ever
// the reader's own, and then the summary still holds everything read before it.
func Read(r io.Reader) (*Summary, error) {
	var b Builder
	_, err := b.ReadFrom(r)
	return b.Summary(), err
}

// ReadFS rebuilds the summary of the event log called name in fsys: either a single-file log
// (which may end in ".inprogress") or a rolling log directory, whose events_<n>_ files are
// read in the order of n from the last compacted one on. A log or rolling file whose name
// says it is compressed is refused with a *CodecError before anything is read. As with
// Read, problems inside the log are notes in the summary; the error is for the files
// themselves (missing, unreadable), and with a read error the summary of what was read
// before it is returned too.
func ReadFS(fsys fs.FS, name string) (*Summary, error) {
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("event log %s: %w", name, err)
	}
	var b Builder
	if !info.IsDir() {
		if err := readFile(&b, fsys, name, path.Base(name)); err != nil {
			if ce := (*CodecError)(nil); errors.As(err, &ce) {
				return nil, err
			}
			return b.Summary(), err
		}
		return b.Summary(), nil
	}

	entries, err := fs.ReadDir(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("event log directory %s: %w", name, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	plan, err := planRolling(names)
	if err != nil {
		return nil, fmt.Errorf("event log directory %s: %w", name, err)
	}
	for _, f := range plan.files {
		if _, codec := parseLogName(f); codec != "" {
			return nil, &CodecError{File: path.Join(name, f), Codec: codec}
		}
	}
	st := b.state()
	st.notes = append(st.notes, plan.notes...)
	st.missingEvents = plan.missingEvents
	for _, f := range plan.files {
		if err := readFile(&b, fsys, path.Join(name, f), f); err != nil {
			return b.Summary(), err
		}
	}
	return b.Summary(), nil
}

func readFile(b *Builder, fsys fs.FS, name, label string) error {
	if _, codec := parseLogName(label); codec != "" {
		return &CodecError{File: name, Codec: codec}
	}
	f, err := fsys.Open(name)
	if err != nil {
		return fmt.Errorf("open event log %s: %w", name, err)
	}
	defer f.Close() //nolint:errcheck // read-only: a failed close loses nothing that was read
	return b.ReadLog(label, f)
}

// parseLogName reads what a log file's name says about it: whether Spark was still writing
// it, and which codec compressed it ("" for none).
func parseLogName(name string) (inProgress bool, codec string) {
	base := path.Base(name)
	base, inProgress = strings.CutSuffix(base, inProgressSuffix)
	base, _ = strings.CutSuffix(base, compactSuffix)
	if i := strings.LastIndexByte(base, '.'); i >= 0 && slices.Contains(sparkCodecs, base[i+1:]) {
		codec = base[i+1:]
	}
	return inProgress, codec
}

// rollingPlan is which files of a rolling log to read, in order, and what the directory
// itself says about the log.
type rollingPlan struct {
	files         []string
	notes         []string
	missingEvents bool // earlier files were compacted away or are missing
}

// planRolling orders the events_<n>_ files of a rolling log directory, given its file names. Reading starts at the last compacted file, which holds what Spark kept
// of everything before it; a compacted and a plain file of the same n mean compaction was
// interrupted before the plain one was deleted, and the compacted one wins.
func planRolling(names []string) (rollingPlan, error) {
	var plan rollingPlan
	type eventsFile struct {
		name    string
		index   int64
		compact bool
	}
	byIndex := map[int64]eventsFile{}
	var status []string
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, appStatusPrefix):
			status = append(status, n)
		case strings.HasPrefix(n, eventsPrefix):
			num, _, ok := strings.Cut(strings.TrimPrefix(n, eventsPrefix), "_")
			idx, err := strconv.ParseInt(num, 10, 64)
			if !ok || err != nil || idx < 1 {
				plan.notes = append(plan.notes, fmt.Sprintf("%s: not an events_<n>_<app> file name; ignored", n))
				continue
			}
			f := eventsFile{name: n, index: idx, compact: strings.HasSuffix(n, compactSuffix)}
			if prev, dup := byIndex[idx]; dup {
				keep, drop := prev, f
				if f.compact && !prev.compact {
					keep, drop = f, prev
				}
				plan.notes = append(plan.notes, fmt.Sprintf("%s: a second file numbered %d; ignored in favour of %s", drop.name, idx, keep.name))
				f = keep
			}
			byIndex[idx] = f
		}
	}
	if len(byIndex) == 0 {
		return plan, fmt.Errorf("no %s<n>_ files", eventsPrefix)
	}
	files := make([]eventsFile, 0, len(byIndex))
	for _, f := range byIndex {
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b eventsFile) int { return cmp.Compare(a.index, b.index) })
	start := 0
	for i, f := range files {
		if f.compact {
			start = i
		}
	}
	if files[start].compact {
		plan.missingEvents = true
		plan.notes = append(plan.notes, fmt.Sprintf("%s: Spark compacted the events before it into this file, dropping those of finished jobs, so counts cover only what compaction kept", files[start].name))
	} else if files[0].index != 1 {
		plan.missingEvents = true
		plan.notes = append(plan.notes, fmt.Sprintf("the first events file is number %d: files 1 to %d are missing", files[0].index, files[0].index-1))
	}
	for i := start; i < len(files); i++ {
		if i > start && files[i].index != files[i-1].index+1 {
			plan.missingEvents = true
			plan.notes = append(plan.notes, fmt.Sprintf("events files %d to %d are missing", files[i-1].index+1, files[i].index-1))
		}
		plan.files = append(plan.files, files[i].name)
	}
	switch {
	case len(status) == 0:
		plan.notes = append(plan.notes, fmt.Sprintf("no %s marker in the directory (Spark's own reader requires one); the events files were read anyway", appStatusPrefix+"<app>"))
	case slices.ContainsFunc(status, func(s string) bool { return strings.HasSuffix(s, inProgressSuffix) }):
		plan.notes = append(plan.notes, fmt.Sprintf("%s: Spark was still writing this log", status[0]))
	}
	return plan, nil
}
