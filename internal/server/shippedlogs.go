package server

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/logship"
	"github.com/sparkplane/sparkplane/internal/logship/s3bucket"
	"github.com/sparkplane/sparkplane/internal/spark"
)

// shippedLogs reads the container logs that the log-shipping sidecars put under a run's
// logUri, in EMR on EKS's layout (<logUri>/<vc>/jobs/<id>/containers/<app id>/<pod>/
// stderr.gz and stdout.gz), for pods that are gone. It reads with the server's own S3
// settings, as the Spark UI route reads event logs.
type shippedLogs struct {
	s3 *s3.Client
}

// shippedStreams are the objects of one pod, in the order they are written out: Spark logs
// through log4j to stderr, and a job's own prints go to stdout.
var shippedStreams = []string{"stderr.gz", "stdout.gz"}

// location is the bucket and key prefix (ending in "/") of the pods of the run's attempt, or
// ok false when the run has no logUri or the server cannot read S3.
func (s shippedLogs) location(run jobs.JobRun) (bucket, prefix string, ok bool) {
	uri := run.LogURI()
	if s.s3 == nil || uri == "" {
		return "", "", false
	}
	u, err := url.Parse(logship.ContainersURI(uri, run.VirtualClusterID, run.ID))
	if err != nil || u.Host == "" {
		return "", "", false
	}
	app := spark.AppID(run.ID, max(run.Attempt.Number, 1))
	return u.Host, strings.TrimPrefix(u.Path, "/") + "/" + app + "/", true
}

// pods lists the pods whose logs were shipped for the run's attempt, sorted.
func (s shippedLogs) pods(ctx context.Context, bucket, prefix string) ([]string, error) {
	var names []string
	err := s3bucket.List(ctx, s.s3, bucket, prefix, "/", func(page *s3.ListObjectsV2Output) {
		for _, cp := range page.CommonPrefixes {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/"))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("list shipped logs at s3://%s/%s: %w", bucket, prefix, err)
	}
	slices.Sort(names)
	return names, nil
}

// write writes a gone pod's shipped logs to w: for each stream a header line saying where it
// was read from, then its lines (the last tail of them when tail is set), each after
// linePrefix. A pod with no shipped object at all is ErrNotFound.
func (s shippedLogs) write(ctx context.Context, bucket, prefix, pod string, tail *int64, w io.Writer, linePrefix string, mu *sync.Mutex, flush func()) error {
	found := 0
	for _, stream := range shippedStreams {
		key := prefix + pod + "/" + stream
		out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		var nsk *s3types.NoSuchKey
		var nsb *s3types.NoSuchBucket
		if errors.As(err, &nsk) || errors.As(err, &nsb) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read shipped log s3://%s/%s: %w", bucket, key, err)
		}
		found++
		err = func() error {
			defer out.Body.Close()
			zr, err := gzip.NewReader(out.Body)
			if errors.Is(err, io.EOF) {
				return nil // an empty object: nothing was written to this stream
			}
			if err != nil {
				return fmt.Errorf("read shipped log s3://%s/%s: %w", bucket, key, err)
			}
			defer func() { _ = zr.Close() }()
			header := fmt.Sprintf("--- %s %s, shipped to s3://%s/%s\n", pod, strings.TrimSuffix(stream, ".gz"), bucket, key)
			var rd io.Reader = zr
			if tail != nil {
				lines, err := lastLines(zr, int(*tail))
				if err != nil {
					return fmt.Errorf("read shipped log s3://%s/%s: %w", bucket, key, err)
				}
				rd = strings.NewReader(strings.Join(lines, ""))
			}
			mu.Lock()
			_, werr := io.WriteString(w, linePrefix+header)
			mu.Unlock()
			if werr != nil {
				return werr
			}
			return copyLines(rd, w, linePrefix, mu, flush)
		}()
		if err != nil {
			return err
		}
	}
	if found == 0 {
		return fmt.Errorf("pod %s is gone and no log of it is at s3://%s/%s%s/ : its log-shipping sidecar uploads when the pod ends, "+
			"and the run's stateDetails says when it could not: %w", pod, bucket, prefix, pod, jobs.ErrNotFound)
	}
	return nil
}

// lastLines returns the last n lines of rd, each with its newline, holding no more than n.
func lastLines(rd io.Reader, n int) ([]string, error) {
	if n <= 0 {
		_, err := io.Copy(io.Discard, rd)
		return nil, err
	}
	ring := make([]string, 0, min(n, 4096))
	start := 0
	br := bufio.NewReader(rd)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			if len(ring) < n {
				ring = append(ring, line)
			} else {
				ring[start] = line
				start = (start + 1) % n
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return append(ring[start:], ring[:start]...), nil
}
