package store

import (
	"context"
	"regexp"
	"time"
)

// Kinds of content a catalog image can carry: an OCI image (served by the
// registry at /v2/) or an Incus image (served as simplestreams).
const (
	ContentOCI   = "oci"
	ContentIncus = "incus"
)

// Roles of the blobs of a build.
const (
	RoleManifest = "manifest" // the OCI manifest itself (its digest names the build)
	RoleConfig   = "config"
	RoleLayer    = "layer"
	RoleMetadata = "metadata" // Incus metadata tarball
	RoleRootfs   = "rootfs"   // Incus root file system (squashfs or tarball)
)

// Blob is one piece of content, named by the digest of its bytes.
type Blob struct {
	Digest    string // "sha256:<64 hex>"
	Size      int64
	MediaType string
	Role      string
}

// Build is the content loaded for one catalog image (an alias on one
// architecture) of one kind. For an OCI build, Manifest is the manifest
// blob; Blobs are every blob the manifest references and the manifest
// itself. For an Incus build, Manifest.Digest is the image fingerprint (the
// sha256 of metadata then rootfs) and Blobs are the two files.
type Build struct {
	ImageID  string
	Kind     string // ContentOCI or ContentIncus
	Manifest Blob
	Blobs    []Blob
	LoadedAt time.Time
}

// Blob returns the build's blob with digest d, if it has one.
func (b *Build) Blob(d string) (Blob, bool) {
	for _, bl := range b.Blobs {
		if bl.Digest == d {
			return bl, true
		}
	}
	return Blob{}, false
}

// ImageBuild is a catalog image with its loaded content of one kind.
type ImageBuild struct {
	Image *Image
	Build *Build
}

var digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// ValidDigest reports whether d is a sha256 digest as Berth stores them.
func ValidDigest(d string) bool { return digestPattern.MatchString(d) }

// ContentStore records which content each catalog image has. The bytes
// live in a blob store beside the database; a build is recorded only after
// every one of its blobs is durable there, so a recorded build never names
// a missing blob.
type ContentStore interface {
	// RecordBuild records (or replaces) the build of an image in one
	// transaction.
	RecordBuild(ctx context.Context, b Build) error
	// FindBuild returns the build of kind for an image, ENOTFOUND when none
	// is loaded.
	FindBuild(ctx context.Context, imageID, kind string) (*Build, error)
	// AliasBuilds returns the images of alias that have content of kind,
	// ordered by architecture; images is every image of the alias, loaded
	// or not (empty when the alias is unknown).
	AliasBuilds(ctx context.Context, alias, kind string) (builds []ImageBuild, images []*Image, err error)
	// KindBuilds returns every image with content of kind, ordered by alias
	// and architecture.
	KindBuilds(ctx context.Context, kind string) ([]ImageBuild, error)
	// ReferencedBlobs returns every blob some build references, once each.
	ReferencedBlobs(ctx context.Context) ([]Blob, error)
	// RecordPull notes that a user pulled an image just now.
	RecordPull(ctx context.Context, userID int64, imageID string) error
	// LastPulls returns when the user last pulled each image they pulled.
	LastPulls(ctx context.Context, userID int64) (map[string]time.Time, error)
}

// OCIPlatform is how OCI image configs and indexes name an architecture:
// armhf is "arm" variant "v7".
func OCIPlatform(arch string) (architecture, variant string) {
	if arch == "armhf" {
		return "arm", "v7"
	}
	return arch, ""
}

// PullKeyPrefix starts every pull key, so a leaked one is recognised.
const PullKeyPrefix = "bpk_"

// PullKey is a personal, read-only key to a simplestreams remote (the URL
// /u/<key>/), as its owner sees it: never the secret.
type PullKey struct {
	ID        int64
	Hint      string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// PullKeyStore keeps pull keys.
type PullKeyStore interface {
	// CreatePullKey makes a key and returns its secret, shown once.
	CreatePullKey(ctx context.Context, userID int64) (string, *PullKey, error)
	PullKeys(ctx context.Context, userID int64) ([]*PullKey, error)
	RevokePullKey(ctx context.Context, userID, keyID int64) error
	// UserByPullKey returns the owner of a live key; EUNAUTHORIZED otherwise.
	UserByPullKey(ctx context.Context, secret string) (*User, error)
}
