package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/berth/berth/store"
)

// Simplestreams, the read-only image protocol Incus and LXD use for image
// servers: /streams/v1/index.json names the products file, images.json
// lists each image (an alias on one architecture) with its files, their
// sha256 and sizes, and the combined fingerprint the client checks. Files
// are served under streams/files/<fingerprint>/. Incus sends no
// credentials to such a remote, so /streams/ lists only free images, and
// /u/<pull key>/streams/ the free ones and those its owner bought.

// Simplestreams file names and types: both clients' metadata item types
// are listed (Incus reads incus.tar.xz, LXD lxd.tar.xz), as the public
// image servers do.
const (
	streamMetaIncus = "incus.tar.xz"
	streamMetaLXD   = "lxd.tar.xz"
	streamSquashfs  = "rootfs.squashfs"
	streamRootTar   = "root.tar.xz"
)

type streamItem struct {
	FileType        string `json:"ftype"`
	Path            string `json:"path"`
	SHA256          string `json:"sha256"`
	Size            int64  `json:"size"`
	CombinedSquash  string `json:"combined_squashfs_sha256,omitempty"`
	CombinedRootXz  string `json:"combined_rootxz_sha256,omitempty"`
	CombinedDefault string `json:"combined_sha256,omitempty"`
}

type streamVersion struct {
	Items map[string]streamItem `json:"items"`
}

type streamProduct struct {
	Aliases      string                   `json:"aliases"`
	Architecture string                   `json:"arch"`
	OS           string                   `json:"os"`
	Release      string                   `json:"release"`
	ReleaseTitle string                   `json:"release_title"`
	Variant      string                   `json:"variant"`
	Versions     map[string]streamVersion `json:"versions"`
}

// streamCaller resolves the /u/<key>/ prefix: nil for the public remote,
// the key's owner for a personal one; an unknown or revoked key is a 404,
// the same as a path that does not exist.
func (s *Server) streamCaller(c echo.Context) (*store.User, bool, error) {
	key := c.Param("key")
	if key == "" {
		return nil, true, nil
	}
	u, err := s.store.UserByPullKey(c.Request().Context(), key)
	if store.ErrorCode(err) == store.EUNAUTHORIZED {
		return nil, false, nil
	}
	return u, err == nil, err
}

// streamImages are the Incus builds the caller may list: free ones, and
// for a personal remote the paid ones its owner bought.
func (s *Server) streamImages(c echo.Context, u *store.User) ([]store.ImageBuild, error) {
	all, err := s.store.KindBuilds(c.Request().Context(), store.ContentIncus)
	if err != nil {
		return nil, err
	}
	var out []store.ImageBuild
	for _, b := range all {
		if !b.Image.Free() {
			if u == nil {
				continue
			}
			owns, err := s.store.Owns(c.Request().Context(), u.ID, b.Image.ID)
			if err != nil {
				return nil, err
			}
			if !owns {
				continue
			}
		}
		out = append(out, b)
	}
	return out, nil
}

func productID(img *store.Image) string {
	return img.OS + ":" + img.Release + ":" + img.Architecture + ":" + img.Variant
}

func fingerprintHex(b *store.Build) string { return strings.TrimPrefix(b.Manifest.Digest, "sha256:") }

// handleStreams is GET [/u/<key>]/streams/v1/index.json and images.json.
func (s *Server) handleStreams(c echo.Context) error {
	u, ok, err := s.streamCaller(c)
	if err != nil {
		return err
	}
	if !ok {
		return echo.ErrNotFound
	}
	builds, err := s.streamImages(c, u)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	switch c.Param("file") {
	case "index.json":
		products := []string{}
		for _, b := range builds {
			products = append(products, productID(b.Image))
		}
		return c.JSON(http.StatusOK, map[string]any{
			"format": "index:1.0",
			"index": map[string]any{
				"images": map[string]any{
					"datatype": "image-downloads", "path": "streams/v1/images.json",
					"format": "products:1.0", "products": products,
				},
			},
		})
	case "images.json":
		products := map[string]streamProduct{}
		for _, b := range builds {
			img := b.Image
			items := map[string]streamItem{}
			fp := fingerprintHex(b.Build)
			base := "streams/files/" + fp + "/"
			var meta, root store.Blob
			for _, bl := range b.Build.Blobs {
				switch bl.Role {
				case store.RoleMetadata:
					meta = bl
				case store.RoleRootfs:
					root = bl
				}
			}
			rootItem := streamItem{FileType: "squashfs", Path: base + streamSquashfs, SHA256: strings.TrimPrefix(root.Digest, "sha256:"), Size: root.Size}
			metaItem := streamItem{Path: base + streamMetaIncus, SHA256: strings.TrimPrefix(meta.Digest, "sha256:"), Size: meta.Size}
			if root.MediaType == "application/x-incus-rootfs+tar" {
				rootItem.FileType, rootItem.Path = "root.tar.xz", base+streamRootTar
				metaItem.CombinedRootXz, metaItem.CombinedDefault = fp, fp
			} else {
				metaItem.CombinedSquash = fp
			}
			incusMeta, lxdMeta := metaItem, metaItem
			incusMeta.FileType, lxdMeta.FileType = streamMetaIncus, streamMetaLXD
			items[streamMetaIncus], items[streamMetaLXD] = incusMeta, lxdMeta
			items[rootItem.FileType] = rootItem
			products[productID(img)] = streamProduct{
				Aliases: img.Alias, Architecture: img.Architecture, OS: img.OS, Release: img.Release,
				ReleaseTitle: img.Release, Variant: img.Variant,
				Versions: map[string]streamVersion{img.Serial: {Items: items}},
			}
		}
		body, err := json.Marshal(map[string]any{
			"content_id": "images", "datatype": "image-downloads", "format": "products:1.0", "products": products,
		})
		if err != nil {
			return err
		}
		return c.JSONBlob(http.StatusOK, body)
	}
	return echo.ErrNotFound
}

// handleStreamFile is GET [/u/<key>]/streams/files/<fingerprint>/<name>:
// a build's metadata or root file system, streamed from the blob store to
// a caller who may list it.
func (s *Server) handleStreamFile(c echo.Context) error {
	u, ok, err := s.streamCaller(c)
	if err != nil {
		return err
	}
	if !ok {
		return echo.ErrNotFound
	}
	builds, err := s.streamImages(c, u)
	if err != nil {
		return err
	}
	var role string
	switch c.Param("name") {
	case streamMetaIncus, streamMetaLXD:
		role = store.RoleMetadata
	case streamSquashfs, streamRootTar:
		role = store.RoleRootfs
	default:
		return echo.ErrNotFound
	}
	for _, b := range builds {
		if fingerprintHex(b.Build) != c.Param("fp") {
			continue
		}
		for _, bl := range b.Build.Blobs {
			if bl.Role != role {
				continue
			}
			f, err := s.opts.Blobs.Open(bl.Digest)
			if err != nil {
				return fmt.Errorf("incus file %s of %s: %w", bl.Digest, b.Image.ID, err)
			}
			defer f.Close()
			if role == store.RoleRootfs && requestMethod(c) != http.MethodHead && c.Request().Header.Get("Range") == "" {
				if s.metrics != nil {
					s.metrics.pulled(store.ContentIncus, b.Image.Free())
				}
				if u != nil {
					if err := s.store.RecordPull(c.Request().Context(), u.ID, b.Image.ID); err != nil {
						s.logger.Warn("record pull", "image", b.Image.ID, "err", err)
					}
				}
			}
			return s.serveFile(c, f, bl.Digest, "application/octet-stream")
		}
	}
	return echo.ErrNotFound
}

// redactPath hides the pull key of a personal remote's path, so logs
// never hold it.
func redactPath(p string) string {
	rest, ok := strings.CutPrefix(p, "/u/")
	if !ok {
		return p
	}
	_, tail, _ := strings.Cut(rest, "/")
	return "/u/<key>/" + tail
}
