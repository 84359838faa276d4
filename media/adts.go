package media

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// maxADTS bounds the file size for which ADTS frames are counted: ADTS
// has no length header, so the whole file is read.
const maxADTS = 64 << 20

var adtsRates = [13]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// probeADTS counts ADTS frames over the whole file (after any ID3v2 tag,
// up to an ID3v1 or APE tag at the end): duration = sum of 1024 samples
// per raw data block / sample rate. It reads every byte; over a
// RangeReader that is one request.
func probeADTS(r io.ReaderAt, size int64, head []byte) (Info, error) {
	if size > maxADTS {
		return Info{}, fmt.Errorf("ADTS file is %d bytes, over the %d-byte limit for counting frames: %w", size, maxADTS, ErrUnsupported)
	}
	start, err := skipID3v2(r, size, 0)
	if err != nil {
		return Info{}, err
	}
	if err := prefetch(r, start, size-start); err != nil {
		return Info{}, fmt.Errorf("read ADTS: %w", err)
	}
	br := bufio.NewReaderSize(io.NewSectionReader(r, start, size-start), 64<<10)
	off := start
	frames, seconds := 0, 0.0
	samples, rate := int64(0), 0 // summed exactly while the rate stays the same
	for off < size {
		h, err := br.Peek(min(9, int(size-off)))
		if err != nil {
			return Info{}, fmt.Errorf("read ADTS frame at offset %d: %w", off, eofTruncated(err))
		}
		if len(h) < 7 || h[0] != 0xFF || h[1]&0xF6 != 0xF0 {
			rest := size - off
			switch {
			case len(h) >= 3 && string(h[:3]) == "TAG" && rest == 128,
				len(h) >= 8 && string(h[:8]) == "APETAGEX":
				off = size // trailing tag
				continue
			case frames == 0 && start == 0:
				return Info{}, fmt.Errorf("expected %s, found %s: %w", kindADTS.describe(), foundBytes(head, size), ErrNotMedia)
			case len(h) < 7 && frames > 0 && h[0] == 0xFF:
				return Info{}, fmt.Errorf("last ADTS frame header cut off at offset %d: %w", off, ErrTruncated)
			}
			return Info{}, fmt.Errorf("ADTS sync lost at offset %d after %d frames: %w", off, frames, ErrNotMedia)
		}
		si := int(h[2]>>2) & 0xF
		if si >= len(adtsRates) {
			return Info{}, fmt.Errorf("ADTS frame at offset %d has a reserved sample rate index %d: %w", off, si, ErrNotMedia)
		}
		hdrLen := 7
		if h[1]&1 == 0 {
			hdrLen = 9 // CRC present
		}
		flen := int(h[3]&3)<<11 | int(h[4])<<3 | int(h[5]>>5)
		if flen < hdrLen {
			return Info{}, fmt.Errorf("ADTS frame at offset %d declares length %d, shorter than its header: %w", off, flen, ErrNotMedia)
		}
		if int64(flen) > size-off {
			return Info{}, fmt.Errorf("last ADTS frame at offset %d declares %d bytes but the file ends after %d: %w", off, flen, size-off, ErrTruncated)
		}
		blocks := int(h[6]&3) + 1
		if adtsRates[si] != rate {
			if rate > 0 {
				seconds += float64(samples) / float64(rate)
			}
			samples, rate = 0, adtsRates[si]
		}
		samples += int64(blocks) * 1024
		frames++
		if _, err := br.Discard(flen); err != nil {
			return Info{}, fmt.Errorf("read ADTS frame at offset %d: %w", off, eofTruncated(err))
		}
		off += int64(flen)
	}
	if frames == 0 {
		return Info{}, fmt.Errorf("ADTS file has no frames: %w", ErrTruncated)
	}
	seconds += float64(samples) / float64(rate)
	return Info{Format: "aac", Audio: true, Seconds: seconds}, nil
}

// eofTruncated maps an early end of data to ErrTruncated.
func eofTruncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("file shorter than its size: %w", ErrTruncated)
	}
	return err
}
