package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth/berth/store"
)

// The registry: the pull side of the OCI Distribution Specification v1.1
// at /v2/. A repository is a catalog alias (ubuntu/24.04-minimal); its
// tags are "latest" and the images' serial, each an OCI image index over
// the architectures loaded; blobs are streamed from the blob store.

// Blobs is the part of the blob store the registry reads.
type Blobs interface {
	Open(digest string) (*os.File, error)
}

// PullThrough fetches content for images that have none loaded but an
// upstream pull_ref, caches it in the blob store and records it (see
// berth serve --pull-through).
type PullThrough interface {
	// Fetch loads the builds of imgs (one alias, several architectures)
	// from their upstream; it returns when they are recorded or ctx ends.
	Fetch(ctx context.Context, imgs []*store.Image) error
}

// registryError is an answer in the OCI error format.
type registryError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// registryFail writes an OCI error; HEAD answers get the status alone.
func (s *Server) registryFail(c echo.Context, status int, code, message string) error {
	c.Response().Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if s.metrics != nil {
		s.metrics.registryRefused(code)
	}
	if requestMethod(c) == http.MethodHead {
		return c.NoContent(status)
	}
	return c.JSON(status, map[string][]registryError{"errors": {{Code: code, Message: message}}})
}

// isRegistry tells requests to the registry, whose errors use the OCI
// format and which authenticate with their own credentials.
func isRegistry(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/v2" || strings.HasPrefix(p, "/v2/")
}

// registryRequest is a parsed /v2/<name>/<kind>/<reference> path. The name
// may itself contain slashes, so the path is parsed from the right.
type registryRequest struct {
	name, kind, ref string
}

func parseRegistryPath(p string) (registryRequest, bool) {
	p = strings.TrimPrefix(p, "/v2/")
	if name, ok := strings.CutSuffix(p, "/tags/list"); ok {
		return registryRequest{name: name, kind: "tags"}, name != ""
	}
	for _, kind := range []string{"manifests", "blobs"} {
		if i := strings.LastIndex(p, "/"+kind+"/"); i > 0 {
			ref := p[i+len(kind)+2:]
			if ref == "" || strings.Contains(ref, "/") {
				return registryRequest{}, false
			}
			return registryRequest{name: p[:i], kind: kind, ref: ref}, true
		}
	}
	return registryRequest{}, false
}

// handleRegistryBase is GET /v2/: 200 to a client that may pull, else the
// 401 challenge that starts the token flow.
func (s *Server) handleRegistryBase(c echo.Context) error {
	c.Response().Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	u, err := s.registryCaller(c)
	if errors.Is(err, errBadCredentials) {
		s.challenge(c, "")
		return s.registryFail(c, http.StatusUnauthorized, "UNAUTHORIZED", "These credentials are not valid: use your account's email and an API token.")
	}
	if err != nil {
		return err
	}
	if u == nil && !s.opts.AnonymousPull {
		s.challenge(c, "")
		return s.registryFail(c, http.StatusUnauthorized, "UNAUTHORIZED", "Sign in with your account's email and an API token.")
	}
	return c.JSON(http.StatusOK, map[string]any{})
}

// handleRegistry answers /v2/<name>/manifests/<ref>, /v2/<name>/blobs/<digest>
// and /v2/<name>/tags/list.
func (s *Server) handleRegistry(c echo.Context) error {
	c.Response().Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if m := c.Request().Method; m != http.MethodGet {
		return s.registryFail(c, http.StatusMethodNotAllowed, "UNSUPPORTED", "Berth's registry only serves pulls; load images with `berth image load`.")
	}
	req, ok := parseRegistryPath(c.Request().URL.Path)
	if !ok {
		return s.registryFail(c, http.StatusNotFound, "NAME_UNKNOWN", "This is not a registry path: use /v2/<alias>/manifests/<tag>.")
	}
	scope := "repository:" + req.name + ":pull"
	u, err := s.registryCaller(c)
	if errors.Is(err, errBadCredentials) {
		s.challenge(c, scope)
		return s.registryFail(c, http.StatusUnauthorized, "UNAUTHORIZED", "These credentials are not valid: use your account's email and an API token.")
	}
	if err != nil {
		return err
	}
	if u == nil && !s.opts.AnonymousPull {
		s.challenge(c, scope)
		return s.registryFail(c, http.StatusUnauthorized, "UNAUTHORIZED", "Sign in to pull: docker login "+s.registryHost(c)+" with your email and an API token.")
	}
	ctx := c.Request().Context()
	builds, images, err := s.store.AliasBuilds(ctx, req.name, store.ContentOCI)
	if err != nil {
		return err
	}
	if len(images) == 0 {
		return s.registryFail(c, http.StatusNotFound, "NAME_UNKNOWN", fmt.Sprintf("The catalog has no image %q.", req.name))
	}
	if len(builds) == 0 && s.opts.PullThrough != nil {
		builds, err = s.pullThrough(c, images)
		var pending *fetchPending
		if errors.As(err, &pending) {
			c.Response().Header().Set("Retry-After", "10")
			return s.registryFail(c, http.StatusServiceUnavailable, "UNAVAILABLE", err.Error())
		}
		if err != nil {
			return s.registryFail(c, http.StatusBadGateway, "UNAVAILABLE", err.Error())
		}
	}
	if len(builds) == 0 {
		return s.registryFail(c, http.StatusNotFound, "NAME_UNKNOWN",
			fmt.Sprintf("%s is in the catalog but Berth holds no content for it.", req.name))
	}
	a := access{s: s, c: c, user: u}
	switch req.kind {
	case "tags":
		return s.serveTags(c, req.name, builds)
	case "manifests":
		return s.serveManifest(c, a, req, builds)
	default:
		return s.serveBlob(c, a, req, builds)
	}
}

// pullThrough fetches an alias's content from upstream, within the
// request's deadline, and returns what was recorded.
func (s *Server) pullThrough(c echo.Context, images []*store.Image) ([]store.ImageBuild, error) {
	var upstream []*store.Image
	for _, img := range images {
		if img.PullRef != "" {
			upstream = append(upstream, img)
		}
	}
	if len(upstream) == 0 {
		return nil, nil
	}
	ctx := c.Request().Context()
	if err := s.opts.PullThrough.Fetch(ctx, upstream); err != nil {
		s.logger.Warn("pull-through failed", "alias", images[0].Alias, "ref", images[0].PullRef, "err", err)
		if ctx.Err() != nil {
			return nil, &fetchPending{alias: images[0].Alias, ref: upstream[0].PullRef}
		}
		return nil, fmt.Errorf("%s is not cached here, and fetching it from its upstream registry (%s) failed: %v", images[0].Alias, upstream[0].PullRef, err)
	}
	builds, _, err := s.store.AliasBuilds(ctx, images[0].Alias, store.ContentOCI)
	return builds, err
}

// fetchPending is a pull-through fetch that outlasted the request which
// started it; it goes on, and a later pull finds the result.
type fetchPending struct{ alias, ref string }

func (e *fetchPending) Error() string {
	return fmt.Sprintf("%s is not cached here and is still being fetched from its upstream registry (%s), which is slow to answer: try again shortly.", e.alias, e.ref)
}

// access decides, per image, whether the caller may pull it: free images
// to anyone signed in (or anyone, with anonymous pulls on), paid ones to
// those who bought that build.
type access struct {
	s    *Server
	c    echo.Context
	user *store.User
}

func (a access) allowed(img *store.Image) (bool, error) {
	if img.Free() {
		return a.user != nil || a.s.opts.AnonymousPull, nil
	}
	if a.user == nil {
		return false, nil
	}
	return a.s.store.Owns(a.c.Request().Context(), a.user.ID, img.ID)
}

// refuse answers a pull of img that access did not allow: a challenge to
// someone anonymous, DENIED with the page to buy it to someone signed in.
func (a access) refuse(img *store.Image) error {
	if a.user == nil {
		a.s.challenge(a.c, "repository:"+img.Alias+":pull")
		return a.s.registryFail(a.c, http.StatusUnauthorized, "UNAUTHORIZED",
			fmt.Sprintf("%s costs %s: sign in with an account that bought it.", img.Alias, usd(img.PriceCents)))
	}
	return a.s.registryFail(a.c, http.StatusForbidden, "DENIED",
		fmt.Sprintf("%s (%s) costs %s and is not in your library: buy it at %s/images/%s, then pull again.",
			img.Alias, img.Architecture, usd(img.PriceCents), a.s.publicBase(a.c), img.ID))
}

func usd(cents int64) string { return "$" + store.FormatUSD(cents) }

// tagOf groups builds under their tags: "latest" holds all, each serial
// the builds of that serial.
func tagsOf(builds []store.ImageBuild) map[string][]store.ImageBuild {
	tags := map[string][]store.ImageBuild{"latest": builds}
	for _, b := range builds {
		tags[b.Image.Serial] = append(tags[b.Image.Serial], b)
	}
	return tags
}

// indexOf is the OCI image index over builds, made the same way every
// time so its digest is stable.
func indexOf(builds []store.ImageBuild) []byte {
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{}}
	for _, b := range builds {
		arch, variant := store.OCIPlatform(b.Image.Architecture)
		idx.Manifests = append(idx.Manifests, ocispec.Descriptor{
			MediaType: b.Build.Manifest.MediaType, Digest: digest.Digest(b.Build.Manifest.Digest), Size: b.Build.Manifest.Size,
			Platform: &ocispec.Platform{OS: "linux", Architecture: arch, Variant: variant},
		})
	}
	body, _ := json.Marshal(idx)
	return body
}

// serveManifest answers a manifest by tag or digest.
func (s *Server) serveManifest(c echo.Context, a access, req registryRequest, builds []store.ImageBuild) error {
	tags := tagsOf(builds)
	var group []store.ImageBuild
	if g, ok := tags[req.ref]; ok {
		group = g
	} else if store.ValidDigest(req.ref) {
		for _, b := range builds {
			if b.Build.Manifest.Digest == req.ref {
				return s.serveImageManifest(c, a, b)
			}
		}
		for _, g := range tags {
			if digest.FromBytes(indexOf(g)).String() == req.ref {
				group = g
				break
			}
		}
	}
	if group == nil {
		return s.registryFail(c, http.StatusNotFound, "MANIFEST_UNKNOWN",
			fmt.Sprintf("%s has no manifest %q: its tags are %s.", req.name, req.ref, strings.Join(sortedTags(tags), ", ")))
	}
	// The index only lists digests and platforms: it is served to anyone
	// who may use the registry, and each build's manifest is refused to
	// those who may not pull it, naming the page of that architecture's
	// build.
	body := indexOf(group)
	d := digest.FromBytes(body).String()
	h := c.Response().Header()
	h.Set("Docker-Content-Digest", d)
	h.Set("ETag", `"`+d+`"`)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return c.Blob(http.StatusOK, ocispec.MediaTypeImageIndex, body)
}

func sortedTags(tags map[string][]store.ImageBuild) []string {
	out := make([]string, 0, len(tags))
	for t := range tags {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// serveImageManifest answers one build's manifest from the blob store, and
// counts a pull when it is a GET.
func (s *Server) serveImageManifest(c echo.Context, a access, b store.ImageBuild) error {
	ok, err := a.allowed(b.Image)
	if err != nil {
		return err
	}
	if !ok {
		return a.refuse(b.Image)
	}
	f, err := s.opts.Blobs.Open(b.Build.Manifest.Digest)
	if err != nil {
		return fmt.Errorf("manifest %s of %s: %w", b.Build.Manifest.Digest, b.Image.ID, err)
	}
	defer f.Close()
	if requestMethod(c) != http.MethodHead {
		if s.metrics != nil {
			s.metrics.pulled(store.ContentOCI, b.Image.Free())
		}
		if a.user != nil {
			if err := s.store.RecordPull(c.Request().Context(), a.user.ID, b.Image.ID); err != nil {
				s.logger.Warn("record pull", "image", b.Image.ID, "err", err)
			}
		}
	}
	return s.serveFile(c, f, b.Build.Manifest.Digest, b.Build.Manifest.MediaType)
}

// serveBlob answers a blob that some build of the repository references,
// to a caller who may pull one of those builds.
func (s *Server) serveBlob(c echo.Context, a access, req registryRequest, builds []store.ImageBuild) error {
	if !store.ValidDigest(req.ref) {
		return s.registryFail(c, http.StatusNotFound, "BLOB_UNKNOWN", fmt.Sprintf("%q is not a sha256 digest.", req.ref))
	}
	var denied *store.Image
	for _, b := range builds {
		bl, ok := b.Build.Blob(req.ref)
		if !ok {
			continue
		}
		allowed, err := a.allowed(b.Image)
		if err != nil {
			return err
		}
		if !allowed {
			denied = b.Image
			continue
		}
		f, err := s.opts.Blobs.Open(bl.Digest)
		if err != nil {
			return fmt.Errorf("blob %s of %s: %w", bl.Digest, b.Image.ID, err)
		}
		defer f.Close()
		// A large blob may take longer than the server's write timeout:
		// allow it a minute plus a second per megabyte.
		rc := http.NewResponseController(c.Response())
		_ = rc.SetWriteDeadline(time.Now().Add(time.Minute + time.Duration(bl.Size>>20)*time.Second))
		return s.serveFile(c, f, bl.Digest, "application/octet-stream")
	}
	if denied != nil {
		return a.refuse(denied)
	}
	return s.registryFail(c, http.StatusNotFound, "BLOB_UNKNOWN", fmt.Sprintf("%s has no blob %s.", req.name, req.ref))
}

// serveFile streams content from its file with http.ServeContent, which
// answers Range requests and HEAD without reading the body into memory.
func (s *Server) serveFile(c echo.Context, f *os.File, d, mediaType string) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Type", mediaType)
	h.Set("Docker-Content-Digest", d)
	h.Set("ETag", `"`+d+`"`)
	r := c.Request()
	if requestMethod(c) == http.MethodHead {
		r = r.Clone(r.Context())
		r.Method = http.MethodHead
	}
	http.ServeContent(fileWriter{c.Response()}, r, "", fi.ModTime(), f)
	return nil
}

// fileWriter lets http.ServeContent hand a file to the connection's own
// ReadFrom, which uses sendfile(2) on Linux, instead of copying it
// through Echo's response 32 KB at a time; Echo still sees the status and
// the size.
type fileWriter struct{ *echo.Response }

func (w fileWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.Committed {
		w.WriteHeader(http.StatusOK)
	}
	if rf, ok := w.Writer.(io.ReaderFrom); ok {
		n, err := rf.ReadFrom(r)
		w.Size += n
		return n, err
	}
	return io.Copy(struct{ io.Writer }{w.Response}, r)
}

// serveTags answers /v2/<name>/tags/list, with the n and last parameters
// of the spec's pagination.
func (s *Server) serveTags(c echo.Context, name string, builds []store.ImageBuild) error {
	tags := sortedTags(tagsOf(builds))
	if last := c.QueryParam("last"); last != "" {
		i := sort.SearchStrings(tags, last)
		for i < len(tags) && tags[i] <= last {
			i++
		}
		tags = tags[i:]
	}
	if nq := c.QueryParam("n"); nq != "" {
		n, err := strconv.Atoi(nq)
		if err != nil || n < 0 {
			return s.registryFail(c, http.StatusBadRequest, "PAGINATION_NUMBER_INVALID", "n must be a whole number of tags.")
		}
		if n < len(tags) {
			tags = tags[:n]
			if n > 0 {
				c.Response().Header().Set("Link", fmt.Sprintf(`</v2/%s/tags/list?n=%d&last=%s>; rel="next"`, name, n, tags[n-1]))
			}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"name": name, "tags": tags})
}
