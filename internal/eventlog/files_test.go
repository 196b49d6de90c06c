package eventlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"testing"
	"testing/fstest"
)

// rollingFS splits a real log into a rolling log directory of parts files (events_1 to
// events_<parts>), the way Spark rolls at event boundaries, plus the extra files given.
func rollingFS(t *testing.T, dir string, parts int, extra ...string) fstest.MapFS {
	t.Helper()
	lines := realLog(t, "local-1642039451826")
	fsys := fstest.MapFS{}
	per := (len(lines) + parts - 1) / parts
	for i := 0; i < parts; i++ {
		lo, hi := i*per, min((i+1)*per, len(lines))
		fsys[fmt.Sprintf("%s/events_%d_local-1642039451826", dir, i+1)] = &fstest.MapFile{Data: join(lines[lo:hi]...)}
	}
	for _, name := range extra {
		fsys[dir+"/"+name] = &fstest.MapFile{}
	}
	return fsys
}

func summaryJSON(t *testing.T, s *Summary) string {
	t.Helper()
	c := *s
	c.Notes, c.Complete = nil, false // compared separately
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestReadFSRolling checks that a rolling log reads as the single-file log it was split
// from: files in numeric order (events_10 after events_9), whatever the directory order.
func TestReadFSRolling(t *testing.T) {
	whole, err := Read(bytes.NewReader(join(realLog(t, "local-1642039451826")...)))
	if err != nil {
		t.Fatal(err)
	}
	const dir = "eventlog_v2_local-1642039451826"
	tests := []struct {
		name         string
		fsys         fstest.MapFS
		wantComplete bool
		wantSame     bool
		wantNotes    []string
	}{
		{
			name:         "eleven files and a finished marker",
			fsys:         rollingFS(t, dir, 11, "appstatus_local-1642039451826"),
			wantComplete: true,
			wantSame:     true,
		},
		{
			name:         "no marker",
			fsys:         rollingFS(t, dir, 3),
			wantComplete: true,
			wantSame:     true,
			wantNotes:    []string{"no appstatus_<app> marker"},
		},
		{
			name:         "marker says in progress",
			fsys:         rollingFS(t, dir, 3, "appstatus_local-1642039451826.inprogress"),
			wantComplete: true, // the log itself reaches ApplicationEnd
			wantSame:     true,
			wantNotes:    []string{"appstatus_local-1642039451826.inprogress: Spark was still writing this log"},
		},
		{
			name: "a file missing in between",
			fsys: func() fstest.MapFS {
				f := rollingFS(t, dir, 4, "appstatus_local-1642039451826")
				delete(f, dir+"/events_2_local-1642039451826")
				return f
			}(),
			wantNotes: []string{"events files 2 to 2 are missing"},
		},
		{
			name: "the first files missing",
			fsys: func() fstest.MapFS {
				f := rollingFS(t, dir, 4, "appstatus_local-1642039451826")
				delete(f, dir+"/events_1_local-1642039451826")
				return f
			}(),
			wantNotes: []string{"the first events file is number 2: files 1 to 1 are missing", "no SparkListenerApplicationStart"},
		},
		{
			name: "compacted",
			fsys: func() fstest.MapFS {
				f := rollingFS(t, dir, 4, "appstatus_local-1642039451826")
				// Compaction replaced files 1 and 2 by 2.compact; a stale plain 2 is ignored.
				f[dir+"/events_2_local-1642039451826.compact"] = f[dir+"/events_2_local-1642039451826"]
				f[dir+"/events_2_local-1642039451826"] = &fstest.MapFile{Data: []byte("stale\n")}
				return f
			}(),
			wantNotes: []string{"events_2_local-1642039451826.compact: Spark compacted the events before it", "a second file numbered 2"},
		},
		{
			name: "stray files are ignored",
			fsys: func() fstest.MapFS {
				f := rollingFS(t, dir, 2, "appstatus_local-1642039451826", "events_x_local-1642039451826", "README")
				return f
			}(),
			wantComplete: true,
			wantSame:     true,
			wantNotes:    []string{"events_x_local-1642039451826: not an events_<n>_<app> file name; ignored"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ReadFS(tc.fsys, dir)
			if err != nil {
				t.Fatalf("ReadFS: %v", err)
			}
			if s.Complete != tc.wantComplete {
				t.Errorf("Complete = %v, want %v; notes %q", s.Complete, tc.wantComplete, s.Notes)
			}
			if tc.wantSame {
				if got, want := summaryJSON(t, s), summaryJSON(t, whole); got != want {
					t.Errorf("rolling log reads differently from the single file:\n got %s\nwant %s", got, want)
				}
			}
			for _, want := range tc.wantNotes {
				if !slicesContainsSub(s.Notes, want) {
					t.Errorf("no note contains %q; notes %q", want, s.Notes)
				}
			}
			if len(tc.wantNotes) == 0 && len(s.Notes) != 0 {
				t.Errorf("unexpected notes %q", s.Notes)
			}
		})
	}
}

// TestReadFSFiles covers single-file logs and what ReadFS refuses.
func TestReadFSFiles(t *testing.T) {
	lines := realLog(t, "local-1642039451826")
	unfinished := join(withoutEvent(lines, "SparkListenerApplicationEnd")...)
	fsys := fstest.MapFS{
		"logs/local-1642039451826":                                          {Data: join(lines...)},
		"logs/local-1642039451826.inprogress":                               {Data: unfinished},
		"logs/app-1.zstd":                                                   {Data: []byte{0x28, 0xb5, 0x2f, 0xfd}},
		"logs/app-2.lz4.inprogress":                                         {Data: []byte("LZ4Block")},
		"logs/eventlog_v2_app-3/events_1_app-3.snappy":                      {Data: []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y'}},
		"logs/eventlog_v2_app-3/appstatus_app-3":                            {},
		"logs/eventlog_v2_app-4/appstatus_app-4":                            {},
		"logs/eventlog_v2_app-5/events_1_app-5.lzf.compact":                 {Data: []byte("ZV")},
		"logs/application_1_0001_1":                                         {Data: join(lines[:3]...)},
		"logs/eventlog_v2_app-6/events_1_app-6":                             {Data: join(lines...)},
		"logs/eventlog_v2_app-6/events_2_app-6.zstd":                        {Data: []byte("x")},
		"logs/eventlog_v2_app-6/appstatus_app-6":                            {},
		"logs/eventlog_v2_local-1642039451826/events_1_local-1642039451826": {Data: join(lines...)},
	}
	tests := []struct {
		name         string
		file         string
		wantErr      string // substring; "" for none
		wantCodec    string // when the error is a *CodecError
		wantComplete bool
		wantNotes    []string
	}{
		{name: "single file", file: "logs/local-1642039451826", wantComplete: true},
		{name: "in progress", file: "logs/local-1642039451826.inprogress",
			wantNotes: []string{"local-1642039451826.inprogress: the file name ends in .inprogress", "no SparkListenerApplicationEnd"}},
		{name: "zstd file", file: "logs/app-1.zstd", wantErr: "compressed with zstd", wantCodec: "zstd"},
		{name: "lz4 file in progress", file: "logs/app-2.lz4.inprogress", wantErr: "compressed with lz4", wantCodec: "lz4"},
		{name: "snappy rolling file", file: "logs/eventlog_v2_app-3", wantErr: "events_1_app-3.snappy is compressed with snappy", wantCodec: "snappy"},
		{name: "lzf compacted file", file: "logs/eventlog_v2_app-5", wantErr: "compressed with lzf", wantCodec: "lzf"},
		{name: "one compressed file refuses the whole log before reading", file: "logs/eventlog_v2_app-6", wantErr: "compressed with zstd", wantCodec: "zstd"},
		{name: "directory without events files", file: "logs/eventlog_v2_app-4", wantErr: "no events_<n>_ files"},
		{name: "missing", file: "logs/nope", wantErr: "event log logs/nope: open logs/nope: file does not exist"},
		{name: "attempt suffix is not a codec", file: "logs/application_1_0001_1",
			wantNotes: []string{"no SparkListenerApplicationEnd"}},
		{name: "rolling directory", file: "logs/eventlog_v2_local-1642039451826", wantComplete: true,
			wantNotes: []string{"no appstatus_<app> marker"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ReadFS(fsys, tc.file)
			if tc.wantErr != "" {
				if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.wantErr)) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				var ce *CodecError
				if got := errors.As(err, &ce); got != (tc.wantCodec != "") || (got && ce.Codec != tc.wantCodec) {
					t.Errorf("err = %#v, want a *CodecError for %q", err, tc.wantCodec)
				}
				if tc.wantCodec != "" && s != nil {
					t.Errorf("a refused log returned a summary")
				}
				if tc.wantCodec == "" && errors.Is(err, fs.ErrNotExist) != (tc.name == "missing") {
					t.Errorf("err = %v: fs.ErrNotExist should survive wrapping", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadFS: %v", err)
			}
			if s.Complete != tc.wantComplete {
				t.Errorf("Complete = %v, want %v; notes %q", s.Complete, tc.wantComplete, s.Notes)
			}
			for _, want := range tc.wantNotes {
				if !slicesContainsSub(s.Notes, want) {
					t.Errorf("no note contains %q; notes %q", want, s.Notes)
				}
			}
		})
	}
}

func TestParseLogName(t *testing.T) {
	tests := []struct {
		name       string
		inProgress bool
		codec      string
	}{
		{"local-1642039451826", false, ""},
		{"local-1642039451826.inprogress", true, ""},
		{"application_1628109047826_1317105_1", false, ""},
		{"spark-0123456789abcdef0123456789abcdef.zstd", false, "zstd"},
		{"app-20200706201101-0003.lz4.inprogress", true, "lz4"},
		{"events_3_app-1.snappy", false, "snappy"},
		{"events_3_app-1.lzf.compact", false, "lzf"},
		{"events_3_app-1.compact", false, ""},
		{"dir/app-1.gz", false, ""}, // not a Spark codec: read as plain, lines will be corrupt
		{"app.with.dots", false, ""},
	}
	for _, tc := range tests {
		inProgress, codec := parseLogName(tc.name)
		if inProgress != tc.inProgress || codec != tc.codec {
			t.Errorf("parseLogName(%q) = %v, %q; want %v, %q", tc.name, inProgress, codec, tc.inProgress, tc.codec)
		}
	}
}

// TestReadFSOnDisk reads the real rolling log through os.DirFS, as a server would.
func TestReadFSOnDisk(t *testing.T) {
	s, err := ReadFS(os.DirFS(eventLogDir(t)), "eventlog_v2_local-1766844910796")
	if err != nil {
		t.Fatal(err)
	}
	if s.Application.Name != "<script>alert('XSS')</script>" || s.Application.ExitCode == nil || *s.Application.ExitCode != 0 {
		t.Errorf("application %+v, want the README's XSS name and exit code 0", s.Application)
	}
	data, _ := json.Marshal(s)
	if bytes.Contains(data, []byte("<script>")) {
		t.Error("the JSON carries a raw <script>; encoding/json should escape it")
	}
	if !slices.ContainsFunc(s.Notes, func(n string) bool { return bytes.Contains([]byte(n), []byte("appstatus_")) }) {
		t.Errorf("notes %q, want the missing appstatus marker noted", s.Notes)
	}
}
