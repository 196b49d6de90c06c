package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Stamp is what the build records about its source: in the binary (Version, Revision) and in
// the image's labels and file times (all three).
type Stamp struct {
	// Version is the release, as `git describe --tags --always --dirty` says.
	Version string
	// Revision is the full commit hash.
	Revision string
	// Created is the commit time, or SOURCE_DATE_EPOCH when set: never the time of the build,
	// so that two builds of one commit are identical.
	Created time.Time
}

// GitStamp reads the stamp of the checkout at dir from git. SOURCE_DATE_EPOCH (seconds since
// 1970, the reproducible-builds convention) overrides the commit time.
func GitStamp(ctx context.Context, dir string) (Stamp, error) {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out)), nil
	}
	var s Stamp
	var err error
	if s.Version, err = git("describe", "--tags", "--always", "--dirty"); err != nil {
		return Stamp{}, err
	}
	if s.Revision, err = git("rev-parse", "HEAD"); err != nil {
		return Stamp{}, err
	}
	epoch := os.Getenv("SOURCE_DATE_EPOCH")
	if epoch == "" {
		if epoch, err = git("log", "-1", "--format=%ct", "HEAD"); err != nil {
			return Stamp{}, err
		}
	}
	sec, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return Stamp{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970: %w", epoch, err)
	}
	s.Created = time.Unix(sec, 0).UTC()
	return s, nil
}
