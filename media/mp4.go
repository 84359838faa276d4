package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	mp4 "github.com/abema/go-mp4"
)

const (
	// maxMoov bounds the moov box copied into memory. A one-hour 60 fps
	// video's sample tables are a few MB; anything larger is refused rather
	// than allocated on a header's word.
	maxMoov = 32 << 20
	// maxTopBoxes bounds the top-level box walk (fragmented files have one
	// moof+mdat pair per fragment, but their moov comes first).
	maxTopBoxes = 10000
)

// probeISO walks the top-level boxes (seeking over mdat, so moov may be at
// either end), copies moov into memory and reads mvhd, tkhd, hdlr and the
// video sample entry with go-mp4. The walk goes on past moov to the end of
// the file, reading box headers only, so that a faststart file cut inside
// its mdat is ErrTruncated rather than a full-length probe.
func probeISO(r io.ReaderAt, size int64, ext string, head []byte) (Info, error) {
	var (
		brand            string
		compat           []string
		moovOff, moovLen int64 = -1, 0
		sawMdat, sawMoof bool
	)
	off := int64(0)
walk:
	for i := 0; off < size; i++ {
		afterMoov := moovOff >= 0
		if i == maxTopBoxes {
			if afterMoov {
				break walk // a hostile box count after moov: stop checking, keep what we have
			}
			return Info{}, fmt.Errorf("no moov box in the first %d top-level boxes: %w", maxTopBoxes, ErrUnsupported)
		}
		if size-off < 8 {
			if i == 0 {
				return Info{}, fmt.Errorf("expected %s, found %s: %w", kindISO.describe(), foundBytes(head, size), ErrNotMedia)
			}
			return Info{}, fmt.Errorf("box header at offset %d cut off by the end of the file: %w", off, ErrTruncated)
		}
		hdr, err := readExact(r, size, off, 16, "box header")
		if err != nil {
			hdr, err = readExact(r, size, off, 8, "box header")
			if err != nil {
				return Info{}, err
			}
		}
		boxLen := int64(binary.BigEndian.Uint32(hdr[0:4]))
		typ := string(hdr[4:8])
		hdrLen := int64(8)
		if !printableType(typ) || (i == 0 && !isTopLevelBox(typ) && typ != "uuid") {
			if i == 0 {
				return Info{}, fmt.Errorf("expected %s, found %s: %w", kindISO.describe(), foundBytes(head, size), ErrNotMedia)
			}
			if afterMoov {
				break walk // trailing bytes that are no box (zero padding): not our concern
			}
			return Info{}, fmt.Errorf("corrupt box header at offset %d (type % x): %w", off, hdr[4:8], ErrNotMedia)
		}
		switch boxLen {
		case 0: // extends to the end of the file
			boxLen = size - off
		case 1: // 64-bit size follows the type
			if len(hdr) < 16 {
				return Info{}, fmt.Errorf("%q box 64-bit size cut off at offset %d: %w", typ, off, ErrTruncated)
			}
			u := binary.BigEndian.Uint64(hdr[8:16])
			if u > 1<<62 {
				return Info{}, fmt.Errorf("%q box at offset %d declares an impossible size %d: %w", typ, off, u, ErrNotMedia)
			}
			boxLen, hdrLen = int64(u), 16
		}
		if boxLen < hdrLen {
			if afterMoov {
				break walk
			}
			return Info{}, fmt.Errorf("%q box at offset %d declares size %d, smaller than its header: %w", typ, off, boxLen, ErrNotMedia)
		}
		if boxLen > size-off {
			return Info{}, fmt.Errorf("%q box at offset %d declares %d bytes but the file ends after %d: %w", typ, off, boxLen, size-off, ErrTruncated)
		}
		switch {
		case typ == "ftyp" && !afterMoov:
			p, err := readExact(r, size, off+hdrLen, int(min(boxLen-hdrLen, 64)), "ftyp")
			if err != nil {
				return Info{}, err
			}
			if len(p) >= 4 {
				brand = string(p[0:4])
			}
			for j := 8; j+4 <= len(p); j += 4 {
				compat = append(compat, string(p[j:j+4]))
			}
		case typ == "moov" && !afterMoov:
			moovOff, moovLen = off, boxLen
			if moovLen > maxMoov {
				return Info{}, fmt.Errorf("moov box is %d bytes, over the %d-byte probe limit: %w", moovLen, maxMoov, ErrUnsupported)
			}
			// One request for moov and the next box header, which the
			// walk reads next.
			if err := prefetch(r, moovOff, moovLen+16); err != nil {
				return Info{}, fmt.Errorf("read moov: %w", err)
			}
		case typ == "mdat":
			sawMdat = true
		case typ == "moof":
			sawMoof = true
			if afterMoov {
				// Fragmented: one moof+mdat pair per fragment to the end of
				// the file. Checking each would cost a request per fragment
				// when remote; the first fragment's header is checked, the
				// rest not.
				break walk
			}
		}
		off += boxLen
	}
	if moovOff < 0 {
		if sawMdat {
			return Info{}, fmt.Errorf("no moov box after mdat (an interrupted recording or upload?): %w", ErrTruncated)
		}
		return Info{}, fmt.Errorf("no moov box (brand %q): %w", brand, ErrNotMedia)
	}
	moov, err := readExact(r, size, moovOff, int(moovLen), "moov box")
	if err != nil {
		return Info{}, err
	}
	m, err := parseMoov(moov)
	if err != nil {
		return Info{}, err
	}
	if m.maxChunk >= uint64(size) {
		// The box walk cannot see a file cut exactly at a box boundary
		// before its mdat; the sample table can.
		return Info{}, fmt.Errorf("moov places samples at offset %d but the file ends at %d: %w", m.maxChunk, size, ErrTruncated)
	}
	info := Info{Format: isoFormat(ext, brand, compat, m.video), Video: m.video, Audio: m.audio, Width: m.width, Height: m.height}
	m.fragments = sawMoof
	info.Seconds, err = m.seconds()
	return info, err
}

func printableType(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] < 0x20 || t[i] > 0x7e {
			return t[i] == 0xA9 // QuickTime metadata boxes start with ©
		}
	}
	return true
}

// isoFormat names an ISO-BMFF file: by extension when it has one of ours,
// else by brand.
func isoFormat(ext, brand string, compat []string, video bool) string {
	switch ext {
	case ".mov", ".qt":
		return "mov"
	case ".m4a":
		return "m4a"
	case ".mp4", ".m4v", ".3gp":
		return "mp4"
	}
	switch brand {
	case "qt  ":
		return "mov"
	case "M4A ", "M4B ":
		return "m4a"
	}
	for _, c := range compat {
		if c == "qt  " {
			return "mov"
		}
	}
	if !video && brand == "" {
		return "m4a"
	}
	return "mp4"
}

type track struct {
	handler           string
	tkhdW, tkhdH      int
	entryW, entryH    int
	mdhdDur, mdhdTime uint64
}

type moovInfo struct {
	timescale, duration uint64
	fragDuration        uint64
	fragments           bool   // moof boxes follow: mvhd covers only moov's own samples
	maxChunk            uint64 // largest stco/co64 chunk offset: where the last samples start
	tracks              []track
	video, audio        bool
	width, height       int
}

// errTooDeep stops a hostile file from nesting boxes without end.
var errTooDeep = errors.New("boxes nested too deep")

// parseMoov reads the boxes we need from an in-memory moov box.
func parseMoov(moov []byte) (m moovInfo, err error) {
	defer recovered("MP4", &err)
	var cur *track
	visual := map[mp4.BoxType]bool{
		mp4.BoxTypeAvc1(): true, mp4.StrToBoxType("avc3"): true, mp4.BoxTypeHvc1(): true, mp4.BoxTypeHev1(): true,
		mp4.BoxTypeMp4v(): true, mp4.BoxTypeEncv(): true, mp4.BoxTypeVp09(): true, mp4.StrToBoxType("vp08"): true,
		mp4.BoxTypeAv01(): true,
	}
	handler := func(h *mp4.ReadHandle) (interface{}, error) {
		bi := h.BoxInfo
		if bi.Size < bi.HeaderSize {
			return nil, fmt.Errorf("%s box at moov offset %d is smaller than its header", bi.Type, bi.Offset)
		}
		if len(h.Path) > 12 {
			return nil, errTooDeep
		}
		parent := ""
		if len(h.Path) >= 2 {
			parent = h.Path[len(h.Path)-2].String()
		}
		switch typ := bi.Type.String(); {
		case typ == "moov" && len(h.Path) == 1,
			typ == "mvex" && parent == "moov",
			typ == "mdia" && parent == "trak",
			typ == "minf" && parent == "mdia",
			typ == "stbl" && parent == "minf",
			typ == "stsd" && parent == "stbl":
			return h.Expand()
		case typ == "trak" && parent == "moov":
			m.tracks = append(m.tracks, track{})
			cur = &m.tracks[len(m.tracks)-1]
			_, err := h.Expand()
			cur = nil
			return nil, err
		case typ == "mvhd" && parent == "moov":
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, fmt.Errorf("mvhd: %w", err)
			}
			if v, ok := b.(*mp4.Mvhd); ok {
				m.timescale, m.duration = uint64(v.Timescale), v.GetDuration()
			}
		case typ == "mehd" && parent == "mvex":
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, fmt.Errorf("mehd: %w", err)
			}
			if v, ok := b.(*mp4.Mehd); ok {
				m.fragDuration = v.GetFragmentDuration()
			}
		case typ == "tkhd" && parent == "trak" && cur != nil:
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, fmt.Errorf("tkhd: %w", err)
			}
			if v, ok := b.(*mp4.Tkhd); ok {
				cur.tkhdW, cur.tkhdH = int(v.Width>>16), int(v.Height>>16)
			}
		case typ == "hdlr" && parent == "mdia" && cur != nil:
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, fmt.Errorf("hdlr: %w", err)
			}
			if v, ok := b.(*mp4.Hdlr); ok {
				cur.handler = string(v.HandlerType[:])
			}
		case typ == "mdhd" && parent == "mdia" && cur != nil:
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, fmt.Errorf("mdhd: %w", err)
			}
			if v, ok := b.(*mp4.Mdhd); ok {
				cur.mdhdTime, cur.mdhdDur = uint64(v.Timescale), v.GetDuration()
			}
		case (typ == "stco" || typ == "co64") && parent == "stbl":
			end := bi.Offset + bi.Size
			if end > uint64(len(moov)) {
				return nil, fmt.Errorf("%s box runs past the end of moov", typ)
			}
			m.maxChunk = max(m.maxChunk, maxChunkOffset(moov[bi.Offset+bi.HeaderSize:end], typ == "co64"))
		case parent == "stsd" && visual[bi.Type] && cur != nil && cur.entryW == 0:
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, fmt.Errorf("%s sample entry: %w", typ, err)
			}
			if v, ok := b.(*mp4.VisualSampleEntry); ok {
				cur.entryW, cur.entryH = int(v.Width), int(v.Height)
			}
		}
		return nil, nil
	}
	if _, err := mp4.ReadBoxStructure(bytes.NewReader(moov), handler); err != nil {
		return m, fmt.Errorf("parse moov: %v: %w", err, ErrNotMedia)
	}
	for _, t := range m.tracks {
		if t.handler == "soun" {
			m.audio = true
		}
		if t.handler != "vide" {
			continue
		}
		if !m.video {
			m.video = true
			m.width, m.height = t.tkhdW, t.tkhdH
			if m.width <= 0 || m.height <= 0 {
				m.width, m.height = t.entryW, t.entryH
			}
		}
	}
	return m, nil
}

// maxChunkOffset is the largest entry of an stco (32-bit) or co64 (64-bit)
// payload: version and flags, entry count, entries. Only entries present
// in the payload are read, whatever the count says.
func maxChunkOffset(p []byte, wide bool) uint64 {
	if len(p) < 8 {
		return 0
	}
	n := uint64(binary.BigEndian.Uint32(p[4:8]))
	p = p[8:]
	w := uint64(4)
	if wide {
		w = 8
	}
	n = min(n, uint64(len(p))/w)
	var best uint64
	for i := uint64(0); i < n; i++ {
		var v uint64
		if wide {
			v = binary.BigEndian.Uint64(p[i*8:])
		} else {
			v = uint64(binary.BigEndian.Uint32(p[i*4:]))
		}
		best = max(best, v)
	}
	return best
}

// seconds is mvhd's duration; for fragmented files mehd's; failing both,
// the longest track's mdhd duration. A file with moof fragments but no
// mehd is ErrUnsupported: its mvhd and mdhd durations cover only the
// samples in moov (FFmpeg writes 0.167 s for a 3 s frag_every_frame file),
// and adding up every fragment would read the whole file.
func (m moovInfo) seconds() (float64, error) {
	unknown := func(d uint64) bool { return d == 0 || d == 0xFFFFFFFF || d == 0xFFFFFFFFFFFFFFFF }
	if m.fragments {
		if m.timescale > 0 && !unknown(m.fragDuration) {
			return float64(m.fragDuration) / float64(m.timescale), nil
		}
		return 0, fmt.Errorf("fragmented MP4 without a mehd duration (remux it: ffmpeg -i in.mp4 -c copy -movflags +faststart out.mp4): %w", ErrUnsupported)
	}
	if m.timescale > 0 && !unknown(m.duration) {
		return float64(m.duration) / float64(m.timescale), nil
	}
	if m.timescale > 0 && !unknown(m.fragDuration) {
		return float64(m.fragDuration) / float64(m.timescale), nil
	}
	best := 0.0
	for _, t := range m.tracks {
		if t.mdhdTime > 0 && !unknown(t.mdhdDur) {
			best = max(best, float64(t.mdhdDur)/float64(t.mdhdTime))
		}
	}
	if best > 0 {
		return best, nil
	}
	if m.timescale == 0 && m.duration == 0 && len(m.tracks) == 0 {
		return 0, fmt.Errorf("moov has no mvhd and no tracks: %w", ErrNotMedia)
	}
	return 0, fmt.Errorf("moov states no duration (fragmented MP4 without mehd?): %w", ErrUnsupported)
}
