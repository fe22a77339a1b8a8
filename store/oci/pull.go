package oci

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/singleflight"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/blobs"
)

// Recorder records builds; store.ContentStore is one.
type Recorder interface {
	RecordBuild(ctx context.Context, b store.Build) error
}

// PullThrough fetches the content of catalog images from the upstream
// registry their pull_ref names, as a proxy cache does: every blob is
// checked against its digest as it is written to the blob store, and the
// build is recorded only once all of it is there. A fetch runs apart from
// the request that started it (so an impatient client does not waste it),
// bounded by Timeout; concurrent requests for one alias share one fetch.
type PullThrough struct {
	blobs  *blobs.Store
	db     Recorder
	logger *slog.Logger
	group  singleflight.Group
	// Timeout bounds one fetch of an alias's builds.
	Timeout time.Duration
	// Transport reaches upstream registries.
	Transport http.RoundTripper
}

// NewPullThrough makes a pull-through cache into bs, recording into db.
func NewPullThrough(bs *blobs.Store, db Recorder, logger *slog.Logger) *PullThrough {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// An upstream that is down should fail a pull quickly, well inside a
	// request's deadline, rather than wait out the default 30 s dial.
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.ResponseHeaderTimeout = 10 * time.Second
	return &PullThrough{blobs: bs, db: db, logger: logger, Timeout: 10 * time.Minute, Transport: t}
}

// Fetch loads the builds of imgs (the architectures of one alias) from
// upstream. It returns nil when at least one was recorded, and returns
// early, with ctx's error, when ctx ends first.
func (p *PullThrough) Fetch(ctx context.Context, imgs []*store.Image) error {
	if len(imgs) == 0 {
		return nil
	}
	ch := p.group.DoChan(imgs[0].Alias, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.Background(), p.Timeout)
		defer cancel()
		var errs []error
		loaded := 0
		for _, img := range imgs {
			if err := p.fetchOne(fctx, img); err != nil {
				errs = append(errs, fmt.Errorf("%s (%s): %w", img.PullRef, img.Architecture, err))
				continue
			}
			loaded++
		}
		if loaded == 0 {
			return nil, errors.Join(errs...)
		}
		for _, err := range errs {
			p.logger.Warn("pull-through: an architecture could not be fetched", "alias", imgs[0].Alias, "err", err)
		}
		return nil, nil
	})
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *PullThrough) fetchOne(ctx context.Context, img *store.Image) error {
	ref, err := name.ParseReference(img.PullRef)
	if err != nil {
		return fmt.Errorf("pull_ref: %w", err)
	}
	arch, variant := store.OCIPlatform(img.Architecture)
	rimg, err := remote.Image(ref, remote.WithContext(ctx), remote.WithTransport(p.Transport),
		// A few quick retries, not the default's seconds of back-off.
		remote.WithRetryBackoff(remote.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 2}),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: arch, Variant: variant}))
	if err != nil {
		return err
	}
	if err := checkArch(rimg, img.Architecture); err != nil {
		return err
	}
	b, err := Ingest(ctx, p.blobs, rimg)
	if err != nil {
		return err
	}
	b.ImageID = img.ID
	if err := p.db.RecordBuild(ctx, b); err != nil {
		return err
	}
	p.logger.Info("pull-through: cached", "alias", img.Alias, "architecture", img.Architecture, "ref", img.PullRef, "digest", b.Manifest.Digest)
	return nil
}
