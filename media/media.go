// Package media probes media files in pure Go: container format, whether
// there is a video track and an audio track, duration, and the video's
// width and height. It is
// what Dubline's planner and emulator use to check inputs against Kling's
// limits before any money is spent.
//
// Design choices where the references are silent:
//
//   - The file name's extension says what the file must be. A file whose
//     bytes are some other known format (a WAV renamed .mp4) or no known
//     format is an error wrapping ErrNotMedia that names what was expected
//     and what was found; it is never a zero duration. Without a known
//     extension (a URL ending in a UUID) the format is sniffed from the bytes.
//     Errors never quote a file's bytes (a .env or key file named by mistake
//     would leak into logs): they say "N bytes of text" or name a well-known
//     non-media format.
//   - A successful probe always has Seconds > 0 and finite. A header that
//     promises more bytes than the file holds is ErrTruncated: every
//     top-level MP4 box, moov-first files included (the walk goes on past
//     moov reading box headers only, up to the first moof of a fragmented
//     file), MP4 chunk offsets past the end, and an MP3 shorter than its
//     Xing/Info byte count by more than a frame or 1%. CBR MP3 without a tag
//     and ADTS are measured from their size, so a cut one is shorter, not an
//     error. Formats or variants we cannot measure (fragmented MP4 without
//     mehd, WebM without a Duration, RF64) are ErrUnsupported.
//   - Readers are io.ReaderAt so remote objects can be probed with a few
//     ranged GETs (RangeReader). Parsers read only headers, except ADTS AAC,
//     which has no header with a length: its frames are counted, which reads
//     the whole file (audio inputs are at most 5 MB). Over a RangeReader the
//     whole-file read is one request.
//   - MP4/MOV/M4A duration is moov/mvhd (what ffprobe calls format
//     duration, edit lists applied by the muxer). MP3 duration is the exact
//     gapless length from the Xing/Info frame count minus the LAME/Lavc
//     encoder delay and padding, so it is up to ~0.1 s shorter than
//     ffprobe's; CBR files without a tag are estimated from bitrate and size.
//     Ogg Opus duration excludes the pre-skip (ffprobe 5.1 includes it).
//     ADTS duration is frames x 1024 / sample rate (ffprobe estimates it
//     from the bitrate instead and can be off by several percent).
//   - Every length read from a file is checked against the file size
//     before it is used to allocate or seek; third-party parsers (go-mp4,
//     go-mkvparse) only ever see an in-memory copy of the box or header
//     bytes they need, and a panic inside them is turned into an error.
package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"strings"
	"unicode/utf8"
)

// Info is what a probe learned about one file.
type Info struct {
	Format string // "mp4", "mov", "m4a", "webm", "mkv", "wav", "mp3", "ogg", "opus", "aac"
	Video  bool   // has a video track
	// Audio: has an audio track. Always true for the audio-only formats
	// (wav, mp3, aac, ogg, opus); for MP4/MOV/M4A a 'soun' track, for
	// WebM/Matroska a TrackType 2 entry.
	Audio   bool
	Seconds float64 // duration
	// Width and Height of the video, where the container states it (MP4
	// tkhd or the stsd sample entry, WebM PixelWidth/PixelHeight); 0 if
	// unknown or audio only.
	Width, Height int
	Size          int64 // file size in bytes
}

// Errors wrapped by Probe's errors; test them with errors.Is.
var (
	// ErrNotMedia: the bytes are not the expected media format.
	ErrNotMedia = errors.New("not a media file of the expected format")
	// ErrTruncated: the file ends before its headers say it should.
	ErrTruncated = errors.New("media file is truncated")
	// ErrUnsupported: a real media file whose variant this package cannot measure.
	ErrUnsupported = errors.New("unsupported media variant")
)

// kind is a container family; one parser each.
type kind int

const (
	kindUnknown kind = iota
	kindISO          // MP4, MOV, M4A (ISO-BMFF / QuickTime)
	kindMKV          // WebM, Matroska
	kindWAV
	kindMP3
	kindOgg // Vorbis or Opus
	kindADTS
)

// describe is how errors name a kind.
func (k kind) describe() string {
	switch k {
	case kindISO:
		return "an MP4/MOV/M4A file (ISO-BMFF boxes)"
	case kindMKV:
		return "a WebM/Matroska file (EBML)"
	case kindWAV:
		return "a WAV file (RIFF/WAVE)"
	case kindMP3:
		return "an MP3 file (MPEG audio frames)"
	case kindOgg:
		return "an Ogg file (OggS pages)"
	case kindADTS:
		return "an AAC file (ADTS frames)"
	}
	return "a known media format"
}

// extKinds maps lower-case extensions to the container they promise.
var extKinds = map[string]kind{
	".mp4": kindISO, ".m4v": kindISO, ".mov": kindISO, ".qt": kindISO, ".m4a": kindISO, ".3gp": kindISO,
	".webm": kindMKV, ".mkv": kindMKV,
	".wav": kindWAV, ".wave": kindWAV,
	".mp3": kindMP3,
	".ogg": kindOgg, ".oga": kindOgg, ".opus": kindOgg,
	".aac": kindADTS,
}

// sniffLen is how many leading bytes Probe reads to recognise a format.
const sniffLen = 64

// Probe reads the headers of one media file of the given size through r.
// name is a file name or URL path; only its extension is used, to decide
// which format the bytes must be. Errors wrap ErrNotMedia, ErrTruncated or
// ErrUnsupported, or the reader's own error.
func Probe(r io.ReaderAt, size int64, name string) (Info, error) {
	ext := strings.ToLower(path.Ext(name))
	want, known := extKinds[ext]
	label := path.Base(name)
	if name == "" {
		label = "input"
	}
	if size < 0 {
		return Info{}, fmt.Errorf("%s: negative size %d", label, size)
	}
	head, err := readAt(r, size, 0, sniffLen)
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", label, err)
	}
	expected := "a media file"
	if known {
		expected = want.describe()
	}
	if size == 0 {
		return Info{}, fmt.Errorf("%s: expected %s, found an empty file (0 bytes): %w", label, expected, ErrTruncated)
	}
	got := sniff(head)
	switch {
	case known && got == kindMP3 && want == kindADTS && string(head[:3]) == "ID3":
		// ADTS files may start with an ID3 tag too; the ADTS parser skips it.
	case known && got != kindUnknown && got != want:
		return Info{}, fmt.Errorf("%s: expected %s, found %s: %w", label, expected, got.describe(), ErrNotMedia)
	case !known && got == kindUnknown:
		return Info{}, fmt.Errorf("%s: expected a media file, found %s: %w", label, foundBytes(head, size), ErrNotMedia)
	case !known:
		want = got
	}
	info, err := probeKind(r, size, want, ext, head)
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", label, err)
	}
	info.Size = size
	if math.IsNaN(info.Seconds) || math.IsInf(info.Seconds, 0) || info.Seconds < 0 {
		return Info{}, fmt.Errorf("%s: %s states an invalid duration %v: %w", label, info.Format, info.Seconds, ErrNotMedia)
	}
	if info.Seconds == 0 {
		return Info{}, fmt.Errorf("%s: %s holds no samples (duration 0): %w", label, info.Format, ErrTruncated)
	}
	if info.Width < 0 || info.Height < 0 {
		info.Width, info.Height = 0, 0
	}
	return info, nil
}

func probeKind(r io.ReaderAt, size int64, k kind, ext string, head []byte) (Info, error) {
	switch k {
	case kindISO:
		return probeISO(r, size, ext, head)
	case kindMKV:
		return probeMKV(r, size, head)
	case kindWAV:
		return probeWAV(r, size, head)
	case kindMP3:
		return probeMP3(r, size, head)
	case kindOgg:
		return probeOgg(r, size, head)
	case kindADTS:
		return probeADTS(r, size, head)
	}
	return Info{}, fmt.Errorf("no parser for %s: %w", k.describe(), ErrUnsupported)
}

// ProbeFile probes the file at path.
func ProbeFile(path string) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, fmt.Errorf("probe: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("probe: %w", err)
	}
	if !st.Mode().IsRegular() {
		return Info{}, fmt.Errorf("probe %s: not a regular file: %w", path, ErrNotMedia)
	}
	return Probe(f, st.Size(), path)
}

// sniff recognises a container from the first bytes of a file.
func sniff(b []byte) kind {
	switch {
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WAVE":
		return kindWAV
	case len(b) >= 4 && string(b[0:4]) == "RF64":
		return kindWAV
	case len(b) >= 4 && string(b[0:4]) == "OggS":
		return kindOgg
	case len(b) >= 4 && b[0] == 0x1A && b[1] == 0x45 && b[2] == 0xDF && b[3] == 0xA3:
		return kindMKV
	case len(b) >= 8 && isTopLevelBox(string(b[4:8])):
		return kindISO
	case len(b) >= 3 && string(b[0:3]) == "ID3":
		return kindMP3 // could also be ADTS with an ID3 tag; the .aac parser accepts it
	case len(b) >= 4 && b[0] == 0xFF && b[1]&0xF6 == 0xF0:
		return kindADTS // sync, layer 00
	case len(b) >= 4:
		if _, ok := parseMPEGHeader(b); ok {
			return kindMP3
		}
	}
	return kindUnknown
}

// isTopLevelBox reports whether t is a box type that starts ISO-BMFF files.
func isTopLevelBox(t string) bool {
	switch t {
	case "ftyp", "moov", "mdat", "free", "skip", "wide", "pnot", "styp":
		return true
	}
	return false
}

// foundBytes describes unrecognised leading bytes for an error message
// without quoting them: a .env or key file named by mistake must not leak
// into errors, logs or journals. Well-known non-media formats are named.
func foundBytes(head []byte, size int64) string {
	for _, s := range otherFormats {
		if bytes.HasPrefix(head, []byte(s.magic)) {
			return fmt.Sprintf("%s (%d bytes), not media", s.name, size)
		}
	}
	b := head
	if len(b) > 16 {
		b = b[:16]
	}
	if isText(b) {
		return fmt.Sprintf("%d bytes of text, not media", size)
	}
	return fmt.Sprintf("%d bytes of unrecognised binary data, not media", size)
}

// isText reports whether b looks like the start of a UTF-8 text file: valid
// UTF-8 (a rune cut off at the end allowed) without control characters
// other than whitespace.
func isText(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for len(b) > 0 {
		c, n := utf8.DecodeRune(b)
		if c == utf8.RuneError && n <= 1 {
			return !utf8.FullRune(b) // only a rune cut off by the end of b
		}
		if (c < 0x20 || c == 0x7f) && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
		b = b[n:]
	}
	return true
}

// otherFormats are non-media files users point at by mistake, by their
// leading bytes.
var otherFormats = []struct{ magic, name string }{
	{"\x89PNG\r\n\x1a\n", "a PNG image"},
	{"\xff\xd8\xff", "a JPEG image"},
	{"GIF8", "a GIF image"},
	{"%PDF-", "a PDF document"},
	{"PK\x03\x04", "a ZIP archive (or an Office document)"},
	{"\x1f\x8b", "a gzip archive"},
	{"\x7fELF", "an executable (ELF)"},
}

// readAt reads up to n bytes at off, fewer only at the end of the file.
// n must be a small constant chosen by the caller, never a file field.
func readAt(r io.ReaderAt, size, off int64, n int) ([]byte, error) {
	if off < 0 || off > size {
		return nil, fmt.Errorf("read at %d outside the %d-byte file: %w", off, size, ErrTruncated)
	}
	if rem := size - off; int64(n) > rem {
		n = int(rem)
	}
	buf := make([]byte, n)
	m, err := r.ReadAt(buf, off)
	if m == n {
		return buf, nil
	}
	if err == nil || err == io.EOF {
		return nil, fmt.Errorf("read %d of %d bytes at %d: file shorter than its size: %w", m, n, off, ErrTruncated)
	}
	return nil, fmt.Errorf("read at %d: %w", off, err)
}

// readExact reads exactly n bytes at off or fails with ErrTruncated.
func readExact(r io.ReaderAt, size, off int64, n int, what string) ([]byte, error) {
	if off < 0 || n < 0 || off > size || int64(n) > size-off {
		return nil, fmt.Errorf("%s: %d bytes at offset %d run past the end of the %d-byte file: %w", what, n, off, size, ErrTruncated)
	}
	return readAt(r, size, off, n)
}

// prefetcher is implemented by readers (RangeReader) for which one large
// read is much cheaper than many small ones. Parsers call it before reading
// a range they know they will need.
type prefetcher interface {
	Prefetch(off, n int64) error
}

func prefetch(r io.ReaderAt, off, n int64) error {
	if p, ok := r.(prefetcher); ok {
		return p.Prefetch(off, n)
	}
	return nil
}

// recovered turns a panic inside a third-party parser into an error.
func recovered(what string, err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("%s parser failed on malformed input (%v): %w", what, p, ErrNotMedia)
	}
}
