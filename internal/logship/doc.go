// Package logship puts a job's driver and executor stdout and stderr in S3 in EMR on EKS's
// layout, <logUri>/<virtualClusterId>/jobs/<jobRunId>/containers/<sparkAppId>/<podName>/
// stdout.gz and stderr.gz (docs/design/logs.md). It owns the layout (ContainerPrefix), the
// rotation rules of containerLogRotationConfiguration (ParseSize, CheckFilesToKeep), the
// shipper's termination message (FailurePrefix, ParseTermination), and the two programs that
// run in a job's pods when its run has a logUri. It imports only the standard library, so
// that the API's validation and the controller can use its rules; the S3 client lives in
// internal/logship/s3bucket.
//
// # What runs where
//
// In each driver and executor pod, beside the Spark container, on one shared emptyDir:
//
//   - an init container, `sparkplane log-wrap --install PATH` (Install), copies the sparkplane
//     executable onto the volume;
//   - the Spark container runs that copy as `log-wrap --dir DIR ... -- <entrypoint> <args>`
//     (Wrapper): the Spark process's output goes both to the container's own stdout and
//     stderr (kubectl logs works as before) and to rotating files in DIR;
//   - a native sidecar (an init container with restartPolicy Always), `sparkplane
//     log-shipper --dir DIR --dest s3://...` (Shipper), ships those files with the pod's
//     own credentials (the job's execution role through IRSA) and writes the outcome to its
//     termination message, which the controller reads with ParseTermination.
//
// # The directory, the protocol between the two
//
// The wrapper writes DIR/stdout and DIR/stderr; when one reaches the rotation size it is
// renamed DIR/<stream>.<seq> (seq from 1, zero-padded: stdout.000001) and a new one starts.
// Of the rotated files the shipper has not taken, only maxFilesToKeep are kept: older ones
// are deleted and counted (bytes and files) in DIR/.wrap-<stream>.json. When the command has
// exited and both streams are in their files, the wrapper writes DIR/exit with the exit code
// (atomically, like every file here that is read while it may change). A Spark pod runs its
// container once (restartPolicy Never), so the first exit file ends the shipping; a wrapper
// started again on the same directory removes a stale one and numbers on after the files
// already there.
//
// The shipper takes rotated files in seq order by renaming each to DIR/.ship-<stream>.<seq>
// (a claim: the wrapper deletes only names it gave, so a claimed file is never dropped nor
// counted as dropped), appends it as gzip members to DIR/.ship-<stream>.part, and removes it
// once its bytes are in that buffer and the state says so. Each time the buffer reaches 5 MiB
// (S3's smallest part; doubled every 2500 parts) it becomes the next part of the stream's
// multipart upload, which stays open for the pod's life; a member always ends at a part's
// end, so any run of parts is a valid gzip stream, and the object, members concatenated,
// reads as one stream with Go's gzip.Reader, gzip -d and zcat. At the end (DIR/exit, or
// SIGTERM: a native sidecar gets it after the Spark container has ended) the active files
// are added, the last part uploaded and the upload completed, within the drain timeout. A
// stream that never filled a part is one PutObject; a stream with no output is an empty gzip
// member, so that both objects are always there.
//
// # Invariants
//
//   - Bytes go out in order, each once. DIR/.shipper-state.json says, per stream, which parts
//     are uploaded (with their ETags), the next rotated seq, how much of a partly consumed
//     file (by inode, which a rename keeps) is in the buffer, and how long the buffer's
//     complete members are. It is saved after every member and every part, before a source
//     file is removed, so a shipper killed at any point (the kubelet restarts it) resumes the
//     same upload: a part uploaded but not saved is uploaded again under the same number,
//     bytes written to the buffer but not saved are cut off and read again.
//   - Memory does not grow with the logs: per stream a gzip writer, a 256 KiB copy buffer and
//     a 256 KiB write buffer; parts are read from the buffer file as they are sent. Disk use
//     per stream is at most (maxFilesToKeep+2) × rotationSize plus a part.
//   - Neither program fails the job. The wrapper runs the command whatever happens to the
//     volume (output that cannot be written is counted as unwritten) and exits with the
//     command's code (128+n when signal n killed it; 127 and 126 when it cannot be started,
//     as a shell does; 2, without running it, for bad flags). The shipper exits 0 whatever
//     happened and says what happened in its termination message and on stderr.
//
// # Failures
//
// Every S3 call is retried with exponential backoff (0.5 s doubling to 8 s; 6 attempts, 3
// for refusals such as AccessDenied or NoSuchBucket). While the command runs a stream whose
// calls still fail waits (from the poll interval, doubling to a minute) and tries again for
// as long as the pod lives: there is no giving up while new output can come, and the
// wrapper's maxFilesToKeep bounds the disk meanwhile (what it drops is reported). The
// termination message already holds the failure while it lasts, so that a shipper killed
// meanwhile leaves the truth. At the end the calls are retried until the drain timeout;
// then the message is "logs could not be shipped to s3://bucket/key: Code: message" and the
// shipper exits 0. The only shipper that waits rather than ends is one that cannot start
// (a --dest that is not s3://, no S3 client): it writes its failure and waits for DIR/exit
// or SIGTERM, so that the kubelet does not restart it in a loop. An upload left incomplete
// by a failure, or started by a shipper killed before it saved the upload's id, is left to
// the bucket's lifecycle rule (AbortIncompleteMultipartUpload).
// If S3 no longer knows the upload (NoSuchUpload), the shipper starts a new one with what is
// still on disk and reports the bytes the lost parts held.
package logship
