package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/spf13/cobra"
)

// send calls one of sparkplane's extension routes, which the emrcontainers client does not
// model, signed with SigV4 exactly as the client would sign it: the same credentials, region,
// endpoint and HTTP client. body, when not nil, is sent as JSON. It returns the body of a 200
// answer; any other answer becomes "<Code>: <message>" as for the AWS operations.
func (a *app) send(ctx context.Context, method, path string, query url.Values, body []byte) ([]byte, error) {
	resp, err := a.open(ctx, method, path, query, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	return answer, nil
}

// open sends a request as send does and returns a 200 answer with its body unread, for the
// routes that stream (jobs logs); the caller closes the body.
func (a *app) open(ctx context.Context, method, path string, query url.Values, body []byte) (*http.Response, error) {
	cl, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	h := http.Header{"Accept": {"application/json"}}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	resp, err := a.call(ctx, cl, method, path, query.Encode(), h, body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, answerError(resp)
}

// call sends one request to the client's endpoint, signed with SigV4 exactly as the client
// signs its operations (the same credentials, region, endpoint and HTTP client), and returns
// the answer whatever its status, its body unread; the caller closes it. path is escaped;
// rawQuery is sent as it is.
func (a *app) call(ctx context.Context, cl *emrcontainers.Client, method, path, rawQuery string, header http.Header, body []byte) (*http.Response, error) {
	o := cl.Options()
	u := strings.TrimRight(aws.ToString(o.BaseEndpoint), "/") + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if o.Credentials == nil {
		return nil, fmt.Errorf("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or use --profile")
	}
	creds, err := o.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), signingName, o.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	start := time.Now()
	resp, err := o.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the endpoint: %w", err)
	}
	if a.g.debug {
		slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).Debug("api call",
			"operation", method+" "+path, "endpoint", aws.ToString(o.BaseEndpoint), "status", resp.StatusCode, "duration", time.Since(start))
	}
	return resp, nil
}

// answerError reads an answer that is not a success into "<Code>: <message>", the way the
// AWS operations' errors print.
func answerError(resp *http.Response) error {
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	code := resp.Header.Get("X-Amzn-Errortype")
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	var msg struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(answer, &msg)
	if code == "" || msg.Message == "" {
		return fmt.Errorf("HTTP %d from the endpoint: %s", resp.StatusCode, strings.TrimSpace(string(answer)))
	}
	return fmt.Errorf("%s: %s", code, msg.Message)
}

// printAnswer prints an extension route's answer: as it came for JSON and YAML, else as the
// two-column table printDetail prints, one row per leaf with its dotted path.
func (a *app) printAnswer(w io.Writer, raw []byte) error {
	if ok, err := a.printRaw(w, raw); ok {
		return err
	}
	v, err := decodeOrdered(raw)
	if err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	var rows [][2]string
	flatten("", unwrapSingle(v), &rows)
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r[0], cell(r[1]))
	}
	return tw.Flush()
}

// decodeOrdered reads one JSON value into the values flatten walks (*object, []any, strings,
// booleans, json.Number), keeping the keys of objects in the order the server wrote them.
// A null becomes the empty string, which a table shows as "-".
func decodeOrdered(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return orderedValue(dec)
}

func orderedValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := &object{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := orderedValue(dec)
			if err != nil {
				return nil, err
			}
			o.set(k.(string), v)
		}
		_, err := dec.Token()
		return o, err
	case json.Delim('['):
		l := []any{}
		for dec.More() {
			v, err := orderedValue(dec)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		_, err := dec.Token()
		return l, err
	case nil:
		return "", nil
	}
	return tok, nil
}

// extensionCmd builds a command that sends one request to an extension route and prints the
// answer. Its flags are string flags, all required, named in flags with their help; request
// builds the method, path and body from their values (by name), and show prints the answer.
func (a *app) extensionCmd(use, short, example string, flags [][2]string,
	request func(v map[string]string) (method, path string, body []byte, err error),
	show func(a *app, w io.Writer, raw []byte) error,
) *cobra.Command {
	values := make(map[string]*string, len(flags))
	c := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := make(map[string]string, len(values))
			for name, p := range values {
				v[name] = *p
			}
			method, path, body, err := request(v)
			if err != nil {
				return err
			}
			raw, err := a.send(ctxOf(cmd), method, path, nil, body)
			if err != nil {
				return err
			}
			return show(a, cmd.OutOrStdout(), raw)
		},
	}
	for _, f := range flags {
		values[f[0]] = c.Flags().String(f[0], "", f[1])
		mustRequire(c, f[0])
	}
	return c
}

// showAnswer is the show of extensionCmd for answers printed as printAnswer prints them.
func showAnswer(a *app, w io.Writer, raw []byte) error { return a.printAnswer(w, raw) }

// showNothing is the show of extensionCmd for answers that carry nothing ({}), which the aws
// CLI does not print either.
func showNothing(*app, io.Writer, []byte) error { return nil }
