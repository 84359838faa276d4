package media

import (
	"encoding/binary"
	"fmt"
	"io"
)

// oggTail is how much of an Ogg file's end is searched for the last page:
// one maximal page (27+255+255*255 bytes) plus slack.
const oggTail = 72 << 10

// oggPage is a parsed page header.
type oggPage struct {
	granule uint64
	serial  uint32
	hdrLen  int
	bodyLen int
}

// parseOggPage checks a page at b[0:] (magic, version, lengths within b,
// CRC) and returns its header.
func parseOggPage(b []byte) (oggPage, bool) {
	if len(b) < 27 || string(b[0:4]) != "OggS" || b[4] != 0 {
		return oggPage{}, false
	}
	nseg := int(b[26])
	if len(b) < 27+nseg {
		return oggPage{}, false
	}
	p := oggPage{
		granule: binary.LittleEndian.Uint64(b[6:14]),
		serial:  binary.LittleEndian.Uint32(b[14:18]),
		hdrLen:  27 + nseg,
	}
	for _, s := range b[27 : 27+nseg] {
		p.bodyLen += int(s)
	}
	if len(b) < p.hdrLen+p.bodyLen {
		return oggPage{}, false
	}
	if oggCRC(b[:p.hdrLen+p.bodyLen]) != binary.LittleEndian.Uint32(b[22:26]) {
		return oggPage{}, false
	}
	return p, true
}

var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for j := 0; j < 8; j++ {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// oggCRC is the page checksum, computed with the CRC field as zero.
func oggCRC(page []byte) uint32 {
	var c uint32
	for i, b := range page {
		if i >= 22 && i < 26 {
			b = 0
		}
		c = c<<8 ^ oggCRCTable[byte(c>>24)^b]
	}
	return c
}

// probeOgg reads the first page's identification header (OpusHead or
// Vorbis) and the granule position of the stream's last complete page.
func probeOgg(r io.ReaderAt, size int64, head []byte) (Info, error) {
	if len(head) < 4 || string(head[:4]) != "OggS" {
		return Info{}, fmt.Errorf("expected %s, found %s: %w", kindOgg.describe(), foundBytes(head, size), ErrNotMedia)
	}
	first, err := readAt(r, size, 0, 27+255+255)
	if err != nil {
		return Info{}, err
	}
	if len(first) < 27 || len(first) < 27+int(first[26]) {
		return Info{}, fmt.Errorf("first Ogg page header cut off: %w", ErrTruncated)
	}
	nseg := int(first[26])
	if first[4] != 0 || nseg == 0 {
		return Info{}, fmt.Errorf("first Ogg page is malformed: %w", ErrNotMedia)
	}
	serial := binary.LittleEndian.Uint32(first[14:18])
	pkt := first[27+nseg:]
	if n := int(first[27]); n < len(pkt) {
		pkt = pkt[:n] // the ID header is the page's first packet; 255 bytes are plenty
	}
	var (
		format  string
		rate    float64
		preskip uint64
	)
	switch {
	case len(pkt) >= 19 && string(pkt[:8]) == "OpusHead":
		format, rate, preskip = "opus", 48000, uint64(binary.LittleEndian.Uint16(pkt[10:12]))
	case len(pkt) >= 16 && string(pkt[:7]) == "\x01vorbis":
		format, rate = "ogg", float64(binary.LittleEndian.Uint32(pkt[12:16]))
		if rate == 0 {
			return Info{}, fmt.Errorf("Vorbis header states a zero sample rate: %w", ErrNotMedia)
		}
	case len(pkt) >= 8:
		return Info{}, fmt.Errorf("Ogg stream codec %q: %w", pkt[:8], ErrUnsupported)
	default:
		return Info{}, fmt.Errorf("first Ogg page has no identification header: %w", ErrNotMedia)
	}
	tailOff := max(0, size-oggTail)
	if err := prefetch(r, tailOff, size-tailOff); err != nil {
		return Info{}, fmt.Errorf("read Ogg tail: %w", err)
	}
	tail, err := readExact(r, size, tailOff, int(size-tailOff), "Ogg tail")
	if err != nil {
		return Info{}, err
	}
	for i := len(tail) - 27; i >= 0; i-- {
		if tail[i] != 'O' {
			continue
		}
		p, ok := parseOggPage(tail[i:])
		if !ok || p.serial != serial || p.granule == ^uint64(0) {
			continue
		}
		if p.granule <= preskip {
			return Info{}, fmt.Errorf("last complete Ogg page (granule %d, pre-skip %d) ends before any audio: %w", p.granule, preskip, ErrTruncated)
		}
		return Info{Format: format, Audio: true, Seconds: float64(p.granule-preskip) / rate}, nil
	}
	return Info{}, fmt.Errorf("no complete Ogg page in the last %d bytes: %w", len(tail), ErrTruncated)
}
