// Command screenshot signs in to a running sparkplane console with a one-time link (from
// `sparkplane console`) and saves full-page PNG screenshots of console pages, for the README
// and for looking at the console without a desktop:
//
//	go run ./hack/screenshot -link 'http://127.0.0.1:8790/console/signin/link?token=...' \
//	    -out docs/images /console/ /console/virtualclusters/VC/jobruns/ID
//
// Each path is saved as <out>/<n>-<last path segment>.png at -width (1280) wide; -phone takes
// them at a phone's 390 px instead. It needs chromium (hack/chromium.sh).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	link := flag.String("link", "", "one-time sign-in link printed by `sparkplane console`")
	out := flag.String("out", ".", "directory for the PNG files")
	width := flag.Int("width", 1280, "viewport width in CSS pixels")
	phone := flag.Bool("phone", false, "a phone's viewport (390x844) instead of -width")
	height := flag.Int("height", 0, "capture the viewport at this height instead of the whole page")
	scroll := flag.String("scroll", "", "CSS selector of an element to scroll to before capturing the viewport")
	flag.Parse()
	if *link == "" || flag.NArg() == 0 {
		log.Fatal("usage: screenshot -link URL [-out DIR] PATH...")
	}
	u, err := url.Parse(*link)
	if err != nil {
		log.Fatal(err)
	}
	bin := os.Getenv("SPARKPLANE_CHROMIUM")
	if bin == "" {
		if bin, err = exec.LookPath("chromium"); err != nil {
			log.Fatal("chromium is missing: run hack/chromium.sh")
		}
	}
	w, h := *width, 800
	if *height > 0 {
		h = *height
	}
	if *phone {
		w, h = 390, 844
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.WindowSize(w, h))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	// The link's page says whom it signs in as; its button signs in.
	if err := chromedp.Do(ctx, chromedp.Navigate(*link), chromedp.Click(`form[action="/console/signin/link"] button`),
		chromedp.WaitVisible("header .principal")); err != nil {
		log.Fatalf("sign in: %v", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for i, p := range flag.Args() {
		target := u.Scheme + "://" + u.Host + p
		if err := chromedp.Do(ctx, chromedp.Navigate(target), chromedp.WaitVisible("main h1"), chromedp.Sleep(2500*time.Millisecond)); err != nil {
			log.Fatalf("%s: %v", p, err)
		}
		if *scroll != "" {
			if err := chromedp.Do(ctx, chromedp.ScrollIntoView(*scroll)); err != nil {
				log.Fatalf("%s: scroll to %s: %v", p, *scroll, err)
			}
		}
		shot := chromedp.FullScreenshot(100)
		if *height > 0 {
			shot = chromedp.CaptureScreenshot()
		}
		png, err := chromedp.Run(ctx, shot)
		if err != nil {
			log.Fatalf("%s: %v", p, err)
		}
		name := strings.Trim(p, "/")
		if k := strings.LastIndex(name, "/"); k >= 0 {
			name = name[k+1:]
		}
		if j := strings.IndexAny(name, "?#"); j >= 0 {
			name = name[:j]
		}
		file := filepath.Join(*out, fmt.Sprintf("%d-%s.png", i+1, name))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Println(file)
	}
}
