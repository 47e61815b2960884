// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package fetch

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/ulikunitz/xz"
)

// ErrUnsupportedArchive is returned for downloads that are none of the supported archive formats.
var ErrUnsupportedArchive = errors.New("not a supported archive (zip, or tar, optionally compressed with gzip, bzip2 or xz)")

// Archive formats, recognised by their leading bytes.
const (
	formatZip   = "zip"
	formatTar   = "tar"
	formatGzip  = "gzip"
	formatBzip2 = "bzip2"
	formatXz    = "xz"
)

var (
	magicZip      = []byte("PK\x03\x04")
	magicZipEmpty = []byte("PK\x05\x06")
	magicGzip     = []byte{0x1f, 0x8b}
	magicBzip2    = []byte("BZh")
	magicXz       = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
)

// sniff names the format of an archive from its first 512 bytes, "" if unknown.
func sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, magicZip), bytes.HasPrefix(head, magicZipEmpty):
		return formatZip
	case bytes.HasPrefix(head, magicGzip):
		return formatGzip
	case bytes.HasPrefix(head, magicBzip2):
		return formatBzip2
	case bytes.HasPrefix(head, magicXz):
		return formatXz
	case len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar")):
		return formatTar
	}
	return ""
}

// extractArchive unpacks the archive in f (size bytes) into t.
//
// Compressed tar streams are read through a cap on the decompressed bytes (the total-size limit plus
// room for headers), so a small archive that inflates to terabytes stops at the cap. The xz reader
// reserves the dictionary its stream declares (up to 4 GiB of address space), but only pages it writes
// become resident, and those are bounded by the same cap. Zip archives are read from their central
// directory, which archive/zip loads whole: its size is bounded by the download limit, and the entry
// count is checked before any entry is written.
func extractArchive(t *tree, f *os.File, size int64) error {
	head := make([]byte, 512)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	head = head[:n]
	format := sniff(head)
	if format == formatZip {
		return extractZip(t, f, size)
	}
	var stream io.Reader = io.NewSectionReader(f, 0, size)
	switch format {
	case formatTar:
	case formatGzip:
		zr, err := gzip.NewReader(stream)
		if err != nil {
			return fmt.Errorf("reading gzip stream: %w", err)
		}
		defer zr.Close()
		stream = zr
	case formatBzip2:
		stream = bzip2.NewReader(stream)
	case formatXz:
		xr, err := xz.NewReader(stream)
		if err != nil {
			return fmt.Errorf("reading xz stream: %w", err)
		}
		stream = xr
	default:
		return ErrUnsupportedArchive
	}
	if format != formatTar {
		// Headers and padding take at most 1 KiB per entry; PAX and GNU long-name records get 16 MiB.
		limit := t.limits.MaxTotalBytes + int64(t.limits.MaxEntries)*1024 + 16<<20
		stream = &capReader{r: stream, limit: limit, what: "decompressed size"}
	}
	return extractTar(t, stream)
}

// extractTar writes the entries of a tar stream. Regular files, directories, symbolic links and hard
// links to earlier files are written; PAX and GNU metadata records are consumed by archive/tar; every
// other type (devices, FIFOs, continuation and volume entries) is unsafe.
func extractTar(t *tree, r io.Reader) error {
	tr := tar.NewReader(r)
	sawEntry := false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if !sawEntry {
				return fmt.Errorf("%w: the tar stream has no entries", ErrUnsupportedArchive)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tar stream: %w", err)
		}
		sawEntry = true
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
			err = t.file(hdr.Name, fs.FileMode(hdr.Mode), tr, hdr.Size)
		case tar.TypeDir:
			err = t.dir(hdr.Name)
		case tar.TypeSymlink:
			err = t.symlink(hdr.Name, hdr.Linkname)
		case tar.TypeLink:
			err = t.hardlink(hdr.Name, hdr.Linkname)
		case tar.TypeXGlobalHeader:
			continue
		case tar.TypeChar, tar.TypeBlock:
			err = unsafeEntry(hdr.Name, "device files are not allowed")
		case tar.TypeFifo:
			err = unsafeEntry(hdr.Name, "FIFOs are not allowed")
		default:
			err = unsafeEntry(hdr.Name, fmt.Sprintf("tar entries of type %q are not allowed", hdr.Typeflag))
		}
		if err != nil {
			return err
		}
	}
}

// extractZip writes the entries of a zip archive: files, directories (names ending in `/` or with the
// directory mode) and symbolic links (Unix mode bits, target stored as the content). Other modes
// (devices, FIFOs, sockets) are unsafe.
func extractZip(t *tree, f *os.File, size int64) error {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return fmt.Errorf("reading zip archive: %w", err)
	}
	if len(zr.File) > t.limits.MaxEntries {
		return &LimitError{What: "entries", Limit: int64(t.limits.MaxEntries)}
	}
	for _, zf := range zr.File {
		if err := extractZipEntry(t, zf); err != nil {
			return err
		}
	}
	return nil
}

func extractZipEntry(t *tree, zf *zip.File) error {
	mode := zf.Mode()
	switch {
	case mode.IsDir() || (len(zf.Name) > 0 && zf.Name[len(zf.Name)-1] == '/'):
		return t.dir(zf.Name)
	case mode&fs.ModeSymlink != 0:
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("reading zip entry %q: %w", zf.Name, err)
		}
		defer rc.Close()
		target, err := io.ReadAll(io.LimitReader(rc, maxLinkTarget+1))
		if err != nil {
			return fmt.Errorf("reading zip entry %q: %w", zf.Name, err)
		}
		if len(target) > maxLinkTarget {
			return unsafeEntry(zf.Name, "the link target is too long")
		}
		return t.symlink(zf.Name, string(target))
	case mode.IsRegular():
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("reading zip entry %q: %w", zf.Name, err)
		}
		defer rc.Close()
		declared := int64(-1)
		if zf.UncompressedSize64 <= 1<<62 {
			declared = int64(zf.UncompressedSize64)
		}
		if err := t.file(zf.Name, mode, rc, declared); err != nil {
			return err
		}
		return nil
	default:
		return unsafeEntry(zf.Name, fmt.Sprintf("zip entries of mode %v are not allowed", mode.Type()))
	}
}

// capReader fails with a LimitError once more than limit bytes have been read.
type capReader struct {
	r     io.Reader
	limit int64
	read  int64
	what  string
	name  string
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.read > c.limit {
		return 0, &LimitError{What: c.what, Limit: c.limit, Name: c.name}
	}
	if remaining := c.limit + 1 - c.read; int64(len(p)) > remaining {
		p = p[:remaining]
	}
	n, err := c.r.Read(p)
	c.read += int64(n)
	if c.read > c.limit {
		return n, &LimitError{What: c.what, Limit: c.limit, Name: c.name}
	}
	return n, err
}
