// Package console is sparkplane's web console, served by `sparkplane server` at /console/
// from the same binary: server-rendered pages (html/template) with embedded static assets,
// nothing loaded from elsewhere at run time.
//
// A browser signs in with an access key id and its secret (or a one-time link that
// `sparkplane console` prints) and gets a session cookie (HttpOnly, SameSite=Strict, Secure
// under TLS). Every page reads and changes through the API itself, in process, as the
// signed-in identity (api.Server.ServeAs): the same authorization, validation and audit as a
// signed call, so a user sees and may do exactly what their policies allow, and a refusal
// shows IAM's message. The API is also served to the session under /console/api/ (the logs
// viewer's follow, downloads, the live Spark UI), where anything but a read needs the
// session's CSRF token.
package console
