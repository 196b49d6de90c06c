// Package s3bucket is the log shipper's object store on aws-sdk-go-v2: it implements
// logship.Bucket for one S3 bucket, and builds the S3 client a log-shipper sidecar uses,
// from the SDK's default chain.
//
// It is apart from internal/logship so that logship, which the API's validation and the
// controller import for its rules and formats, stays on the standard library.
package s3bucket

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// DefaultRegion is used when the SDK's chain names none; S3-compatible servers do not care.
const DefaultRegion = "us-east-1"

// Options choose the S3 endpoint; everything else comes from the SDK's default chain.
type Options struct {
	// Endpoint overrides the SDK's (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS's own).
	Endpoint string
	// PathStyle addresses buckets as http://host/bucket/key, for S3-compatible servers.
	PathStyle bool
}

// NewClient builds an S3 client from the SDK's default chain: credentials from the
// environment, web identity (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, which IRSA sets in
// a job's pods), shared files, or the instance's role; region from AWS_REGION or the profile;
// endpoint from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL unless opts names one.
func NewClient(ctx context.Context, opts Options) (*s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.UsePathStyle = opts.PathStyle
	}), nil
}

// Bucket is one S3 bucket; it implements logship.Bucket.
type Bucket struct {
	client *s3.Client
	name   string
}

// New returns the bucket name reached through client.
func New(client *s3.Client, name string) *Bucket { return &Bucket{client: client, name: name} }

// Name returns the bucket's name.
func (b *Bucket) Name() string { return b.name }

// CreateMultipartUpload starts an upload of key.
func (b *Bucket) CreateMultipartUpload(ctx context.Context, key string) (string, error) {
	out, err := b.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(b.name), Key: aws.String(key), ContentType: aws.String("application/gzip"),
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.UploadId), nil
}

// UploadPart uploads part number of an upload and returns its ETag.
func (b *Bucket) UploadPart(ctx context.Context, key, uploadID string, number int32, body io.ReadSeeker, size int64) (string, error) {
	out, err := b.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(b.name), Key: aws.String(key), UploadId: aws.String(uploadID),
		PartNumber: aws.Int32(number), Body: body, ContentLength: aws.Int64(size),
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// CompleteMultipartUpload completes an upload from parts 1..len(etags).
func (b *Bucket) CompleteMultipartUpload(ctx context.Context, key, uploadID string, etags []string) error {
	parts := make([]types.CompletedPart, len(etags))
	for i, e := range etags {
		parts[i] = types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: aws.String(e)}
	}
	_, err := b.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(b.name), Key: aws.String(key), UploadId: aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}

// PutObject writes key in one request.
func (b *Bucket) PutObject(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	_, err := b.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b.name), Key: aws.String(key), Body: body, ContentLength: aws.Int64(size),
		ContentType: aws.String("application/gzip"),
	})
	return err
}

// ObjectSize returns key's size, or exists false when there is no such object.
func (b *Bucket) ObjectSize(ctx context.Context, key string) (int64, bool, error) {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)})
	// A HEAD answer has no body, so a missing key may come as NotFound or as a bare 404.
	var nf *types.NotFound
	var re *awshttp.ResponseError
	if errors.As(err, &nf) || (errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return aws.ToInt64(out.ContentLength), true, nil
}

// List calls each for every page of the listing of prefix in bucket (with delimiter, when
// not empty, for common prefixes). A bucket that does not exist lists nothing: the server's
// readers (shipped logs, event logs) answer "not there yet" for it rather than fail.
func List(ctx context.Context, client *s3.Client, bucket, prefix, delimiter string, each func(*s3.ListObjectsV2Output)) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	if delimiter != "" {
		in.Delimiter = aws.String(delimiter)
	}
	p := s3.NewListObjectsV2Paginator(client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		var nsb *types.NoSuchBucket
		if errors.As(err, &nsb) {
			return nil
		}
		if err != nil {
			return err
		}
		each(page)
	}
	return nil
}
