package media

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runFFmpeg runs ffmpeg in dir; the test fails if ffmpeg is missing or fails.
func runFFmpeg(t *testing.T, dir string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatalf("ffmpeg is required for this test (apt-get install ffmpeg): %v", err)
	}
	cmd := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// topBox is one top-level ISO-BMFF box of a fixture.
type topBox struct {
	typ       string
	off, size int64
}

// topBoxes lists a well-formed MP4's top-level boxes (32-bit sizes only).
func topBoxes(t *testing.T, b []byte) []topBox {
	t.Helper()
	var boxes []topBox
	for off := int64(0); off < int64(len(b)); {
		n := int64(binary.BigEndian.Uint32(b[off:]))
		if n < 8 {
			t.Fatalf("fixture box at %d has size %d", off, n)
		}
		boxes = append(boxes, topBox{string(b[off+4 : off+8]), off, n})
		off += n
	}
	return boxes
}

func findBox(t *testing.T, boxes []topBox, typ string) topBox {
	t.Helper()
	for _, b := range boxes {
		if b.typ == typ {
			return b
		}
	}
	t.Fatalf("fixture has no %s box", typ)
	return topBox{}
}

// probeBoth probes b directly and through a RangeReader with small blocks;
// both must agree.
func probeBoth(t *testing.T, b []byte, name string) (Info, error) {
	t.Helper()
	info, err := Probe(bytesReaderAt(b), int64(len(b)), name)
	rr, rerr := NewRangeReader(context.Background(), memFetch(b), 512)
	if rerr != nil {
		t.Fatal(rerr)
	}
	info2, err2 := Probe(rr, rr.Size(), name)
	if info2 != info || (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
		t.Errorf("RangeReader disagrees: %+v, %v; direct %+v, %v", info2, err2, info, err)
	}
	return info, err
}

// A faststart MP4 (moov first) cut anywhere after its moov used to probe
// as the full-length video, because the walk stopped at moov. Now every
// top-level box header after moov is checked against the file size.
func TestProbeMP4CutAfterMoov(t *testing.T) {
	full, err := os.ReadFile(filepath.Join(fixtures, "face.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	boxes := topBoxes(t, full)
	moov, mdat := findBox(t, boxes, "moov"), findBox(t, boxes, "mdat")
	if moov.off > mdat.off {
		t.Fatal("face.mp4 must be faststart (moov before mdat) for this test")
	}
	moovEnd := moov.off + moov.size
	tests := []struct {
		name    string
		data    []byte
		mention string
	}{
		{"first 3000 bytes", full[:3000], `"mdat" box at offset`},
		{"mdat missing its last byte", full[:len(full)-1], `"mdat" box at offset`},
		{"cut right after the mdat header", full[:mdat.off+8], `"mdat" box at offset`},
		{"cut inside the box header after moov", full[:moovEnd+4], "box header at offset"},
		{"cut right after moov and a free box, before mdat", full[:mdat.off], "samples at offset"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := probeBoth(t, tc.data, "cut.mp4")
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("got %+v, %v; want ErrTruncated", info, err)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
			t.Log(err)
		})
	}

	// What is not truncation: zero padding after the last box, and extra
	// boxes after mdat.
	withFree := append(append([]byte{}, full...), 0, 0, 0, 16, 'f', 'r', 'e', 'e', 1, 2, 3, 4, 5, 6, 7, 8)
	for name, b := range map[string][]byte{
		"the whole file":      full,
		"64 zero bytes after": append(append([]byte{}, full...), make([]byte, 64)...),
		"a free box after":    withFree,
	} {
		info, err := probeBoth(t, b, "face.mp4")
		if err != nil || info.Seconds != 3 || !info.Video {
			t.Errorf("%s: got %+v, %v; want the 3 s video", name, info, err)
		}
	}
}

// The walk after moov reads box headers only, and the header after moov
// comes in the same request as moov itself: with blocks that end exactly
// where moov ends, a faststart probe is still two requests (head block,
// then the rest of moov plus the next header), not three.
func TestProbeMP4WalkAfterMoovCost(t *testing.T) {
	full, err := os.ReadFile(filepath.Join(fixtures, "face.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	moov := findBox(t, topBoxes(t, full), "moov")
	moovEnd := moov.off + moov.size
	block := int64(0)
	for b := moov.off + 16; b < moovEnd; b++ {
		if moovEnd%b == 0 {
			block = b
			break
		}
	}
	if block == 0 {
		t.Fatalf("no block size puts moov's end (%d) on a block boundary with its header in the first block", moovEnd)
	}
	rr, err := NewRangeReader(context.Background(), memFetch(full), int(block))
	if err != nil {
		t.Fatal(err)
	}
	info, err := Probe(rr, rr.Size(), "face.mp4")
	if err != nil || info.Seconds != 3 {
		t.Fatalf("got %+v, %v", info, err)
	}
	if got := rr.Requests(); got != 2 {
		t.Errorf("%d requests with %d-byte blocks, want 2", got, block)
	}
	if got, limit := rr.BytesFetched(), moovEnd+block; got > limit {
		t.Errorf("fetched %d bytes, want <= %d (headers only, no mdat payload)", got, limit)
	}
}

// Fragmented MP4s: mvhd covers only the samples in moov (0.167 s for this
// 3 s file), so with moof fragments and no mehd the duration is
// unmeasurable, not 0.167 s. A fragmented file whose first fragment is cut
// is truncated. A file FFmpeg marks fragmented but whose samples are all
// in moov (one keyframe, no moof) still measures from mvhd.
func TestProbeFragmentedMP4(t *testing.T) {
	dir := t.TempDir()
	src, err := filepath.Abs(filepath.Join(fixtures, "face.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	runFFmpeg(t, dir, "-i", src, "-c", "copy", "-movflags", "frag_keyframe+frag_every_frame", "frag.mp4")
	runFFmpeg(t, dir, "-i", src, "-c", "copy", "-movflags", "frag_keyframe", "onefrag.mp4")
	frag, err := os.ReadFile(filepath.Join(dir, "frag.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	moof := findBox(t, topBoxes(t, frag), "moof")

	info, err := probeBoth(t, frag, "frag.mp4")
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "mehd") {
		t.Errorf("fragmented without mehd: got %+v, %v; want ErrUnsupported naming mehd", info, err)
	}
	info, err = probeBoth(t, frag[:moof.off+moof.size/2], "frag.mp4")
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), `"moof" box`) {
		t.Errorf("cut inside the first moof: got %+v, %v; want ErrTruncated naming moof", info, err)
	}
	one, err := os.ReadFile(filepath.Join(dir, "onefrag.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range topBoxes(t, one) {
		if b.typ == "moof" {
			t.Fatal("onefrag.mp4 has a moof box; the test needs all samples in moov")
		}
	}
	info, err = probeBoth(t, one, "onefrag.mp4")
	if err != nil || info.Seconds < 3 || info.Seconds > 3.2 {
		t.Errorf("fragmented-flagged file without moof: got %+v, %v; want about 3.17 s", info, err)
	}
}
