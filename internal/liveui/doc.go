// Package liveui proxies the Spark UI of a running driver (port spark.ui.port, 4040 by
// default) under one of sparkplane's routes, so that a user reaches it with the same signed
// requests as the rest of the API, without a route into the pod network.
//
// # Behind a proxy, as Spark expects it
//
// Spark builds every link of its UI from one base path, UIUtils.uiRoot(request)
// (core/src/main/scala/org/apache/spark/ui/UIUtils.scala): the spark.ui.proxyBase Java system
// property, else the APPLICATION_WEB_PROXY_BASE environment variable (both set by YARN), else
// the request header X-Forwarded-Context (added for Apache Knox). That is the rule of the 3.x
// line and of 4.x: read in apache/spark's file of the 3.0 line (commit 5d2adfc9, javax.servlet)
// and of master (commit 015ae2f4, jakarta), and in a Spark 3.5.1-based distribution's copy
// (acceldata-io/spark3); no release tag of apache/spark could be checked out where this was
// written, so no tag is named. So the proxy sets X-Forwarded-Context to its route's prefix on
// every request and the driver needs no change to its conf: the objects sparkplane builds stay
// those of spark-submit. A job that sets spark.ui.proxyBase itself (it must be a system
// property, so a -D of spark.driver.extraJavaOptions) overrides the header, and its links then
// leave the route.
//
// One thing does not follow uiRoot: JettyUtils.createRedirectHandler (same directory,
// JettyUtils.scala, read in the 3.5.1-based copy) redirects "/" to "/jobs/" with
// new URL(new URL(request.getRequestURL), basePath + destPath), an absolute URL on the host
// the request named and without the proxy base; so does Jetty's redirect of a context path
// without its trailing slash ("/jobs" to "/jobs/"). The proxy therefore rewrites a Location
// that points at the driver (the host it sent, or an absolute path outside the prefix) into
// the route. Spark's own reverse-proxy settings (spark.ui.reverseProxy, for its standalone
// master, and spark.ui.proxyRedirectUri, for YARN) are not used.
//
// # What is forwarded
//
// The UI is read-only through the proxy: only GET and HEAD pass, and no path whose segment
// is "kill": SparkUI.initialize (SparkUI.scala) registers /jobs/job/kill and
// /stages/stage/kill for GET as well as POST ("the YARN AM proxy won't proxy POSTs"), and they
// kill a job or stage when spark.ui.killEnabled, the default, is on. Requests carry only the
// headers a browser needs to read a page (Accept*, caching and range headers, User-Agent) and
// X-Forwarded-Context: never the caller's Authorization, X-Amz-* or Cookie headers, nor any
// credentials of the server, and no hop-by-hop headers. Answers stream through as they come
// (no buffering of bodies); their Set-Cookie and X-Amzn-* headers are dropped, so a pod cannot
// plant cookies on the API's host or pass for an API error.
//
// # How the driver is reached
//
// A Transport dials the driver pod's port through a Dialer: Direct (the pod's IP, for a server
// running in the cluster's pod network) or the API server's pods/portforward subresource
// (package portforward, for a server anywhere the API server is reachable). Connections are
// kept for reuse per pod and port.
package liveui
