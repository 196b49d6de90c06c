// Package image builds sparkplane's OCI image without a container engine: the static
// sparkplane binary (CGO_ENABLED=0, -trimpath, the version stamped with -ldflags) on an empty
// base that holds only what such a binary needs (CA certificates, /etc/passwd and /etc/group
// with the nonroot user 65532, /home/nonroot and a world-writable /tmp), as an image index
// with one image per platform, written as an OCI image layout or pushed to a registry.
//
// The build is reproducible: every file's time is the commit time (SOURCE_DATE_EPOCH), every
// owner, mode and order is fixed, and the layers are compressed by this package, so two builds
// of the same commit with the same Go toolchain and CA bundle give the same digest. It is
// development tooling (run by `make image` through cmd/sparkplane-image); the product binary
// does not carry it.
package image
