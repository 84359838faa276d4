package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dubline/dubline/internal/fsutil"
	"github.com/dubline/dubline/internal/mediatype"
	"github.com/dubline/dubline/internal/redact"
)

// dirDest stores results as files under a local directory.
type dirDest struct {
	dir string // absolute
	o   options
}

// NewDirDestination returns a Destination that writes files under dir,
// creating it when needed. It fails when dir cannot be written.
//
// CopyFromURL writes into a temporary file in the final file's directory,
// fsyncs it, renames it over the final name and fsyncs the directory, so the
// final name only ever holds a complete file. The contentType argument is
// not stored: Stat derives it from the file extension.
func NewDirDestination(dir string, opts ...Option) (Destination, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("output directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("output directory %s: %w", abs, err)
	}
	probe, err := os.CreateTemp(abs, ".dubline-write-test-*")
	if err != nil {
		return nil, fmt.Errorf("output directory %s is not writable: %w", abs, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return &dirDest{dir: abs, o: buildOptions(opts)}, nil
}

func (d *dirDest) String() string { return d.dir + string(filepath.Separator) }

// path maps a slash-separated key to a file path inside the directory.
func (d *dirDest) path(key string) (string, error) {
	if key == "" || !filepath.IsLocal(filepath.FromSlash(key)) || strings.HasSuffix(key, "/") {
		return "", fmt.Errorf("%s: invalid key %q (must be a relative path inside the directory)", d, key)
	}
	return filepath.Join(d.dir, filepath.FromSlash(key)), nil
}

// UploadURL returns "": a local directory cannot take direct uploads.
func (d *dirDest) UploadURL(context.Context, string, string, time.Duration) (string, error) {
	return "", nil
}

func (d *dirDest) Stat(_ context.Context, key string) (Object, error) {
	p, err := d.path(key)
	if err != nil {
		return Object{}, err
	}
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Object{}, fmt.Errorf("stat %s: %w", p, ErrNotFound)
	}
	if err != nil {
		return Object{}, fmt.Errorf("stat %s: %w", p, err)
	}
	if !st.Mode().IsRegular() {
		return Object{}, fmt.Errorf("stat %s: not a regular file", p)
	}
	return Object{Key: key, Size: st.Size(), ContentType: mediatype.For(p)}, nil
}

func (d *dirDest) CopyFromURL(ctx context.Context, srcURL, key, contentType string) (Object, error) {
	p, err := d.path(key)
	if err != nil {
		return Object{}, err
	}
	fail := func(step string, err error) (Object, error) {
		return Object{}, fmt.Errorf("copy %s to %s: %s: %w", redact.URL(srcURL), p, step, err)
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail("create directory", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return fail("temp file", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := fetchToFile(ctx, d.o, srcURL, tmp); err != nil {
		return fail("download", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail("chmod", err)
	}
	if err := tmp.Sync(); err != nil {
		return fail("fsync", err)
	}
	if err := tmp.Close(); err != nil {
		return fail("close", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fail("rename", err)
	}
	done = true
	if err := fsutil.SyncDir(dir); err != nil {
		return fail("fsync directory", err)
	}
	obj, err := d.Stat(ctx, key)
	if err == nil {
		err = Verify(obj, contentType)
	}
	if err != nil {
		return fail("verify", err)
	}
	return obj, nil
}
