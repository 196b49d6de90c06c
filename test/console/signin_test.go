package console

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// testSignIn: a wrong secret shows why and leaves the browser on the sign-in page without a
// session; the right key, typed with the keyboard alone (the first field has the focus,
// Tab moves to the secret, Enter sends), lands on the page the browser first asked for, the
// virtual clusters, with the one created through the API.
func (s *suite) testSignIn(t *testing.T) {
	vcName := "signin-home"
	vc := s.vc(t, vcName)
	p := s.newPage(t, desktop)

	// Without a session the console leads to the sign-in page, and back afterwards.
	if status := p.open("/console/"); status != 200 {
		p.fail("unsigned /console/: HTTP %d after redirects", status)
	}
	if got := p.path(); got != "/console/signin?next=%2Fconsole%2F" {
		p.fail("unsigned /console/: at %s, want the sign-in page", got)
	}
	p.shot("signin")

	p.do("fill in a wrong secret",
		chromedp.SendKeys(chromedp.ID("accessKeyId"), s.srv.AccessKeyID),
		chromedp.SendKeys(chromedp.ID("secretAccessKey"), "not-the-secret"))
	if status := p.submit("send the wrong secret", chromedp.Click(chromedp.CSS(`form.stack button[type=submit]`))); status != 401 {
		p.fail("wrong secret: HTTP %d, want 401", status)
	}
	if got, want := p.text("#signin-error"), "The access key ID or the secret access key is not right."; got != want {
		p.fail("wrong secret: the page says %q, want %q", got, want)
	}
	if got := p.path(); !strings.HasPrefix(got, "/console/signin") {
		p.fail("wrong secret: at %s, want the sign-in page", got)
	}
	if eval[string](p, `document.getElementById("secretAccessKey").getAttribute("aria-invalid")`) != "true" {
		p.fail("wrong secret: the secret's field is not marked invalid")
	}
	p.shot("wrong-secret")
	if c := p.sessionCookie(); c != nil {
		p.fail("wrong secret: the browser holds a session cookie %s", c.Name)
	}

	// The right key, with the keyboard only.
	p.open("/console/signin?next=%2Fconsole%2F")
	if got := eval[string](p, `document.activeElement.id`); got != "accessKeyId" {
		p.fail("the sign-in page opens with the focus on %q, want the access key ID's field", got)
	}
	p.do("type the access key id", chromedp.KeyEvent(s.srv.AccessKeyID), chromedp.KeyEvent(kb.Tab))
	if got := eval[string](p, `document.activeElement.id`); got != "secretAccessKey" {
		p.fail("Tab from the access key ID moves the focus to %q, want the secret's field", got)
	}
	p.do("type the secret", chromedp.KeyEvent(s.srv.SecretAccessKey))
	p.shot("keyboard-filled")
	if status := p.submit("press Enter", chromedp.KeyEvent(kb.Enter)); status != 200 {
		p.fail("sign in: HTTP %d", status)
	}
	if got := p.path(); got != "/console/" {
		p.fail("signed in: at %s, want /console/", got)
	}
	if got := p.text(`td.name a[href="` + listPath(vc) + `"]`); got != vcName {
		p.fail("the virtual clusters page lists %q for %s, want %q", got, vc, vcName)
	}
	if got, want := p.text("header .principal"), s.srv.Principal[strings.LastIndex(s.srv.Principal, "/")+1:]; got != want {
		p.fail("the header names %q as signed in, want %q", got, want)
	}
	if p.sessionCookie() == nil {
		p.fail("signed in, but the browser holds no session cookie")
	}
	p.shot("virtual-clusters")
}

// sessionCookie is the console's session cookie as the browser holds it (the page's script
// cannot see it: it is HttpOnly), nil when there is none.
func (p *page) sessionCookie() *network.Cookie {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{p.s.srv.URL + "/console/"}})
	if err != nil {
		p.fail("read the cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == "sparkplane_session" && c.Value != "" {
			return c
		}
	}
	return nil
}
