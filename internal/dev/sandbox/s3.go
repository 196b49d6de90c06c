package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sparkplane/sparkplane/internal/dev/toolcache"
)

// S3 describes a running versitygw: a real S3 server on a local directory.
type S3 struct {
	Endpoint        string
	AccessKeyID     string
	SecretAccessKey string
	Region          string
}

// S3Spec is the process spec of versitygw serving dataDir on 127.0.0.1:port in region.
func S3Spec(tools toolcache.Tools, dir, dataDir string, port int, region, access, secret string) ProcessSpec {
	return ProcessSpec{
		Name: "versitygw",
		Dir:  dir,
		Path: tools.Versitygw,
		Args: []string{"--port", "127.0.0.1:" + strconv.Itoa(port), "--region", region, "posix", dataDir},
		Env:  []string{"ROOT_ACCESS_KEY=" + access, "ROOT_SECRET_KEY=" + secret},
	}
}

// Client returns an S3 client for the server (path-style addressing).
func (s S3) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
	})
}

// WaitReady waits until the server lists buckets; alive, when set, ends the wait early once
// the server process has gone.
func (s S3) WaitReady(ctx context.Context, alive func() bool) error {
	client := s.Client()
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.ListBuckets(cctx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			return nil
		}
		if alive != nil && !alive() {
			return fmt.Errorf("S3 server %s exited: %w", s.Endpoint, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("S3 server %s not ready: %w (last error: %v)", s.Endpoint, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// EnsureBucket creates bucket unless it exists.
func (s S3) EnsureBucket(ctx context.Context, bucket string) error {
	_, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *s3types.BucketAlreadyOwnedByYou
	var exists *s3types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}

// portOpen reports whether something accepts TCP connections on addr.
func portOpen(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}
