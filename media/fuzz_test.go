package media

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// memFetch is a FetchFunc over a byte slice, for RangeReader tests.
func memFetch(data []byte) FetchFunc {
	return func(_ context.Context, off, n int64) ([]byte, int64, error) {
		total := int64(len(data))
		if off >= total {
			return nil, total, nil
		}
		end := min(off+n, total)
		return append([]byte(nil), data[off:end]...), total, nil
	}
}

// FuzzProbe feeds arbitrary bytes under every extension to Probe, directly
// and through a RangeReader with tiny blocks. Invariants: no panic; an
// error wraps one of the package's sentinels and comes with a zero Info;
// success has a positive finite duration and the right size; both readers
// agree. Seeds: every fixture under 64 KB (plus testdata/fuzz/FuzzProbe).
func FuzzProbe(f *testing.F) {
	all, _ := filepath.Glob(filepath.Join(fixtures, "*"))
	for _, path := range all {
		b, err := os.ReadFile(path)
		if err != nil || len(b) > 64<<10 {
			continue
		}
		f.Add(filepath.Ext(path), b)
	}
	f.Fuzz(func(t *testing.T, ext string, data []byte) {
		if len(ext) > 8 {
			ext = ext[:8]
		}
		name := "input" + ext
		// A hang is a bug too: fail loudly with every goroutine's stack.
		watchdog := time.AfterFunc(10*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic(fmt.Sprintf("Probe(%q, %d bytes) hung:\n%s", name, len(data), buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		size := int64(len(data))
		info, err := Probe(bytesReaderAt(data), size, name)
		if err != nil {
			if !errors.Is(err, ErrNotMedia) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			if info != (Info{}) {
				t.Fatalf("error %v came with Info %+v", err, info)
			}
		} else {
			if !(info.Seconds > 0) || math.IsInf(info.Seconds, 0) || info.Size != size || info.Format == "" || info.Width < 0 || info.Height < 0 {
				t.Fatalf("bad Info %+v for %d bytes", info, size)
			}
		}
		rr, rerr := NewRangeReader(context.Background(), memFetch(data), 64)
		if rerr != nil {
			t.Fatalf("NewRangeReader: %v", rerr)
		}
		info2, err2 := Probe(rr, rr.Size(), name)
		if info2 != info || (err == nil) != (err2 == nil) {
			t.Fatalf("RangeReader disagrees: %+v, %v vs direct %+v, %v", info2, err2, info, err)
		}
	})
}
