package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// FetchFunc performs one ranged read of the bytes [off, off+n) of a remote
// object (one HTTP or S3 ranged GET). data may be shorter than n only at
// the end of the object; total is the whole object's size in bytes.
type FetchFunc func(ctx context.Context, off, n int64) (data []byte, total int64, err error)

// DefaultBlockSize is the RangeReader block size ProbeURL uses: a head
// block of 64 KiB holds every header we read from audio files and the
// moov of a faststart MP4 of a minute or so.
const DefaultBlockSize = 64 << 10

// maxCache bounds the bytes a RangeReader keeps; past it, the cache is
// emptied before new blocks are stored.
const maxCache = 96 << 20

// RangeReader is an io.ReaderAt over a remote object, reading through
// fixed-size cached blocks so that a probe's many small reads cost a few
// ranged requests. Each run of missing blocks is fetched in one request.
// It is safe for concurrent use (requests are serialised).
type RangeReader struct {
	ctx   context.Context
	fetch FetchFunc
	block int64

	mu       sync.Mutex
	size     int64
	blocks   map[int64][]byte
	cached   int64
	requests int
	fetched  int64
}

// NewRangeReader fetches the object's head block, which also tells it the
// object's size. ctx bounds every later fetch. blockSize <= 0 means
// DefaultBlockSize.
func NewRangeReader(ctx context.Context, fetch FetchFunc, blockSize int) (*RangeReader, error) {
	if fetch == nil {
		return nil, errors.New("range reader: nil fetch function")
	}
	if blockSize <= 0 {
		blockSize = DefaultBlockSize
	}
	rr := &RangeReader{ctx: ctx, fetch: fetch, block: int64(blockSize), size: -1, blocks: map[int64][]byte{}}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if err := rr.load(0, 0); err != nil {
		return nil, err
	}
	return rr, nil
}

// Size is the object's size, learned from the first fetch.
func (rr *RangeReader) Size() int64 {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.size
}

// Requests is the number of fetches made so far, failed ones included.
func (rr *RangeReader) Requests() int {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.requests
}

// BytesFetched is the number of bytes the fetches returned.
func (rr *RangeReader) BytesFetched() int64 {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.fetched
}

// ReadAt implements io.ReaderAt.
func (rr *RangeReader) ReadAt(p []byte, off int64) (int, error) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if off < 0 {
		return 0, fmt.Errorf("range reader: negative offset %d", off)
	}
	if off >= rr.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), rr.size)
	if err := rr.ensure(off, end); err != nil {
		return 0, err
	}
	n := 0
	for pos := off; pos < end; {
		b := rr.blocks[pos/rr.block]
		c := copy(p[n:end-off], b[pos%rr.block:])
		if c == 0 {
			return n, fmt.Errorf("range reader: block %d is short: %w", pos/rr.block, io.ErrUnexpectedEOF)
		}
		n += c
		pos += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Prefetch makes sure [off, off+n) is cached, fetching each run of missing
// blocks in one request. Parsers call it before reading a range they know
// they need (a moov box, an Ogg tail), so that range costs one request.
func (rr *RangeReader) Prefetch(off, n int64) error {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	start, end := max(off, 0), min(off+n, rr.size)
	if n <= 0 || start >= end {
		return nil
	}
	return rr.ensure(start, end)
}

// ensure caches the blocks covering [off, end); end <= size.
func (rr *RangeReader) ensure(off, end int64) error {
	first, last := off/rr.block, (end-1)/rr.block
	var need int64
	for b := first; b <= last; b++ {
		if _, ok := rr.blocks[b]; !ok {
			need += rr.block
		}
	}
	if need > 0 && rr.cached+need > maxCache {
		rr.blocks, rr.cached = map[int64][]byte{}, 0
	}
	for b := first; b <= last; b++ {
		if _, ok := rr.blocks[b]; ok {
			continue
		}
		runEnd := b
		for runEnd+1 <= last {
			if _, ok := rr.blocks[runEnd+1]; ok {
				break
			}
			runEnd++
		}
		if err := rr.load(b, runEnd); err != nil {
			return err
		}
		b = runEnd
	}
	return nil
}

// load fetches blocks first..last in one request and caches them.
func (rr *RangeReader) load(first, last int64) error {
	if err := rr.ctx.Err(); err != nil {
		return fmt.Errorf("range reader: %w", err)
	}
	off := first * rr.block
	n := (last - first + 1) * rr.block
	if rr.size >= 0 {
		n = min(n, rr.size-off)
	}
	rr.requests++
	data, total, err := rr.fetch(rr.ctx, off, n)
	rr.fetched += int64(len(data))
	if err != nil {
		return err
	}
	if total < 0 {
		return fmt.Errorf("range reader: fetch did not report the object size")
	}
	if rr.size >= 0 && total != rr.size {
		return fmt.Errorf("range reader: object size changed from %d to %d bytes during the probe", rr.size, total)
	}
	rr.size = total
	want := max(0, min(n, total-off))
	if int64(len(data)) < want {
		return fmt.Errorf("range reader: fetch at %d returned %d of %d bytes: %w", off, len(data), want, ErrTruncated)
	}
	data = data[:want]
	for b := first; b <= last && len(data) > 0; b++ {
		k := min(int64(len(data)), rr.block)
		rr.blocks[b] = data[:k:k]
		rr.cached += k
		data = data[k:]
	}
	return nil
}
