package media

import (
	"encoding/binary"
	"fmt"
	"io"
)

// mp3Scan is how far past the ID3 tag the first MPEG audio frame is looked for.
const mp3Scan = 64 << 10

// mpegHeader is one decoded MPEG audio frame header.
type mpegHeader struct {
	version    int // 1, 2 or 25 (MPEG-2.5)
	layer      int // 1, 2 or 3
	bitrate    int // bits per second
	sampleRate int
	mono       bool
	spf        int // samples per frame
	length     int // frame length in bytes, header included
}

var (
	mpegBitrates = map[[2]int][15]int{ // {version 1 or 2, layer} -> kbps by index
		{1, 1}: {0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
		{1, 2}: {0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
		{1, 3}: {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
		{2, 1}: {0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
		{2, 2}: {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
		{2, 3}: {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
	}
	mpegRates = map[int][3]int{1: {44100, 48000, 32000}, 2: {22050, 24000, 16000}, 25: {11025, 12000, 8000}}
)

// parseMPEGHeader decodes a 4-byte MPEG audio frame header; free-format
// and reserved values are rejected.
func parseMPEGHeader(b []byte) (mpegHeader, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return mpegHeader{}, false
	}
	var h mpegHeader
	switch (b[1] >> 3) & 3 {
	case 0:
		h.version = 25
	case 2:
		h.version = 2
	case 3:
		h.version = 1
	default:
		return h, false
	}
	h.layer = 4 - int((b[1]>>1)&3)
	if h.layer == 4 {
		return h, false
	}
	bi, si := int(b[2]>>4), int((b[2]>>2)&3)
	if bi == 0 || bi == 15 || si == 3 {
		return h, false
	}
	tv := h.version
	if tv == 25 {
		tv = 2
	}
	h.bitrate = mpegBitrates[[2]int{tv, h.layer}][bi] * 1000
	h.sampleRate = mpegRates[h.version][si]
	h.mono = b[3]>>6 == 3
	pad := int((b[2] >> 1) & 1)
	switch {
	case h.layer == 1:
		h.spf = 384
		h.length = (12*h.bitrate/h.sampleRate + pad) * 4
	case h.layer == 3 && h.version != 1:
		h.spf = 576
		h.length = 72*h.bitrate/h.sampleRate + pad
	default:
		h.spf = 1152
		h.length = 144*h.bitrate/h.sampleRate + pad
	}
	return h, h.length >= 4
}

// skipID3v2 returns the offset after any ID3v2 tags at off.
func skipID3v2(r io.ReaderAt, size, off int64) (int64, error) {
	for i := 0; i < 8; i++ {
		b, err := readAt(r, size, off, 10)
		if err != nil {
			return 0, err
		}
		if len(b) < 10 || string(b[:3]) != "ID3" {
			return off, nil
		}
		if b[6]|b[7]|b[8]|b[9] >= 0x80 {
			return 0, fmt.Errorf("ID3v2 tag at offset %d has a malformed size: %w", off, ErrNotMedia)
		}
		n := int64(b[6])<<21 | int64(b[7])<<14 | int64(b[8])<<7 | int64(b[9])
		n += 10
		if b[5]&0x10 != 0 {
			n += 10 // footer
		}
		if n > size-off {
			return 0, fmt.Errorf("ID3v2 tag at offset %d declares %d bytes but the file ends after %d: %w", off, n, size-off, ErrTruncated)
		}
		off += n
	}
	return off, nil
}

// probeMP3 finds the first MPEG audio frame (two in a row must parse) and
// reads its Xing/Info (with the LAME/Lavc gapless delay and padding) or
// VBRI header; without one, it estimates from the first frame's bitrate
// and the audio byte count (exact for CBR).
func probeMP3(r io.ReaderAt, size int64, head []byte) (Info, error) {
	start, err := skipID3v2(r, size, 0)
	if err != nil {
		return Info{}, err
	}
	if start >= size {
		return Info{}, fmt.Errorf("MP3 holds only an ID3 tag, no audio: %w", ErrTruncated)
	}
	// Look near the start first (one cached block when remote), then the
	// whole scan window: encoders put the first frame right after the tag.
	var (
		win   []byte
		atEnd bool
		pos   = -1
		h     mpegHeader
	)
	for _, n := range []int{8 << 10, mp3Scan + 4096} {
		win, err = readAt(r, size, start, n)
		if err != nil {
			return Info{}, err
		}
		atEnd = start+int64(len(win)) == size
		pos, h = findMPEGFrame(win, atEnd)
		if pos >= 0 || atEnd {
			break
		}
	}
	if pos < 0 {
		if start == 0 {
			return Info{}, fmt.Errorf("expected %s, found %s: %w", kindMP3.describe(), foundBytes(head, size), ErrNotMedia)
		}
		return Info{}, fmt.Errorf("no MPEG audio frame within %d bytes after the ID3 tag: %w", mp3Scan, ErrNotMedia)
	}
	frame := win[pos:min(len(win), pos+h.length)]
	if err := checkXingBytes(frame, h, start+int64(pos), size); err != nil {
		return Info{}, err
	}
	if s, ok := xingSeconds(frame, h); ok {
		return Info{Format: "mp3", Audio: true, Seconds: s}, nil
	}
	// No usable tag: constant bitrate estimate over the audio bytes.
	audio := size - (start + int64(pos))
	if isInfoFrame(frame, h) {
		audio -= int64(h.length)
	}
	if size-128 >= start+int64(pos) {
		if t, err := readAt(r, size, size-128, 3); err == nil && string(t) == "TAG" {
			audio -= 128
		}
	}
	if audio <= 0 {
		return Info{}, fmt.Errorf("MP3 has no audio frames: %w", ErrTruncated)
	}
	return Info{Format: "mp3", Audio: true, Seconds: float64(audio) * 8 / float64(h.bitrate)}, nil
}

// xingOffset is where a Xing/Info header sits in a layer III frame.
func xingOffset(h mpegHeader) int {
	switch {
	case h.version == 1 && !h.mono:
		return 4 + 32
	case h.version == 1, !h.mono:
		return 4 + 17
	}
	return 4 + 9
}

func isInfoFrame(f []byte, h mpegHeader) bool {
	x := xingOffset(h)
	if h.layer == 3 && len(f) >= x+4 && (string(f[x:x+4]) == "Xing" || string(f[x:x+4]) == "Info") {
		return true
	}
	return len(f) >= 40 && string(f[36:40]) == "VBRI"
}

// xingSeconds reads a Xing/Info or VBRI frame count, applying LAME gapless
// delay and padding when the LAME/Lavc tag states them.
func xingSeconds(f []byte, h mpegHeader) (float64, bool) {
	rate := float64(h.sampleRate)
	if len(f) >= 4+32+18 && string(f[36:40]) == "VBRI" {
		frames := binary.BigEndian.Uint32(f[36+14 : 36+18])
		if frames == 0 {
			return 0, false
		}
		return float64(frames) * float64(h.spf) / rate, true
	}
	x := xingOffset(h)
	if h.layer != 3 || len(f) < x+8 || (string(f[x:x+4]) != "Xing" && string(f[x:x+4]) != "Info") {
		return 0, false
	}
	flags := binary.BigEndian.Uint32(f[x+4 : x+8])
	if flags&1 == 0 || len(f) < x+12 {
		return 0, false
	}
	frames := int64(binary.BigEndian.Uint32(f[x+8 : x+12]))
	if frames == 0 {
		return 0, false
	}
	p := x + 12
	if flags&2 != 0 {
		p += 4
	}
	if flags&4 != 0 {
		p += 100
	}
	if flags&8 != 0 {
		p += 4
	}
	samples := frames * int64(h.spf)
	if p+24 <= len(f) && lameTag(string(f[p:p+4])) {
		d := f[p+21 : p+24]
		delay := int64(d[0])<<4 | int64(d[1])>>4
		padding := int64(d[1]&0x0F)<<8 | int64(d[2])
		if delay+padding < samples {
			samples -= delay + padding
		}
	}
	return float64(samples) / rate, true
}

// xingBytesField returns the stream length a Xing/Info header states
// (flags&2): the bytes from the start of the Xing frame to the last audio
// frame, as LAME and FFmpeg write it (ID3v2 before and ID3v1/APE tags
// after are not counted).
func xingBytesField(f []byte, h mpegHeader) (int64, bool) {
	x := xingOffset(h)
	if h.layer != 3 || len(f) < x+8 || (string(f[x:x+4]) != "Xing" && string(f[x:x+4]) != "Info") {
		return 0, false
	}
	flags := binary.BigEndian.Uint32(f[x+4 : x+8])
	if flags&2 == 0 {
		return 0, false
	}
	p := x + 8
	if flags&1 != 0 {
		p += 4
	}
	if len(f) < p+4 {
		return 0, false
	}
	n := int64(binary.BigEndian.Uint32(f[p : p+4]))
	return n, n > 0
}

// checkXingBytes fails with ErrTruncated when the file ends well before
// the stream length its Xing/Info header states. The slack (one frame or
// 1%, whichever is more) absorbs encoders that count a little differently.
func checkXingBytes(frame []byte, h mpegHeader, frameOff, size int64) error {
	n, ok := xingBytesField(frame, h)
	if !ok {
		return nil
	}
	slack := max(int64(h.length), n/100)
	if have := size - frameOff; have < n-slack {
		return fmt.Errorf("MP3 Xing/Info header states %d bytes of audio from offset %d but the file ends after %d: %w", n, frameOff, have, ErrTruncated)
	}
	return nil
}

// lameTag reports whether an encoder string opens a LAME-format tag with
// gapless delay and padding (LAME itself, or FFmpeg's libavcodec/-format).
func lameTag(s string) bool {
	switch s {
	case "LAME", "Lavc", "Lavf", "L3.9":
		return true
	}
	return false
}

// findMPEGFrame returns the first offset in win where a frame header
// parses and is followed by another matching one (or by the end of the
// file, or an ID3v1 tag at the end).
func findMPEGFrame(win []byte, atEnd bool) (int, mpegHeader) {
	for i := 0; i+4 <= len(win) && i < mp3Scan; i++ {
		h, ok := parseMPEGHeader(win[i:])
		if !ok {
			continue
		}
		next := i + h.length
		if next+4 <= len(win) {
			nh, ok := parseMPEGHeader(win[next:])
			if !ok || nh.version != h.version || nh.layer != h.layer || nh.sampleRate != h.sampleRate {
				continue
			}
		} else if !(atEnd && (next == len(win) || next == len(win)-128)) {
			continue
		}
		return i, h
	}
	return -1, mpegHeader{}
}
