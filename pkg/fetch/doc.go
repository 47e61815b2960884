// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package fetch downloads and unpacks a function's source into a directory: the library behind the
// nuclio-fetcher init container of a build Job, whose output becomes handler/ of the build context
// (package build).
//
// Sources follow Nuclio 1.14.1's code entry types (nuclio/nuclio:pkg/processor/build/builder.go,
// nuclio-compat §5.1): `sourceCode` (spec.build.functionSourceCode), `archive`, `github` (deprecated),
// `git`, `s3`, and a plain URL of one file. Nuclio fetches with an unguarded http.Client and unpacks
// archives with few checks; here:
//
//   - every network client is injected: an *http.Client (the egress-guarded client of pkg/egress), a
//     go-git transport.Transport for git, and a constructor of S3 clients. There are no defaults that
//     could reach the network unguarded, and nothing falls back to instance credentials;
//   - archives and git trees are written through an os.Root with caps on downloaded bytes, written bytes,
//     file size and entry count; entries with `..`, absolute names or backslashes (zip-slip), device
//     files, FIFOs, hard links to anything but an earlier regular file, and symbolic links that resolve
//     outside the tree are refused, and the whole fetch fails;
//   - `workDir` must be a relative path to a directory (or file) inside the tree.
//
// Archive formats: zip, tar, and tar compressed with gzip (.tar.gz, .tgz), bzip2 (.tar.bz2, .tbz2) or
// xz (.tar.xz, .txz), recognised by content, not by name. Jar files are kept as files, as in Nuclio.
// Nuclio's mholt/archiver also opens .rar, .tar.lz4 and .tar.sz; those are refused here: they are rare
// for function sources, and RAR has no maintained pure-Go reader with a clean security record.
package fetch
