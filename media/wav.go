package media

import (
	"encoding/binary"
	"fmt"
	"io"
)

// maxRIFFChunks bounds the chunk walk before the data chunk.
const maxRIFFChunks = 1000

// probeWAV walks RIFF chunks by hand: fmt gives the byte rate (and sample
// rate), data gives the length; for compressed formats a fact chunk's
// sample count is preferred.
func probeWAV(r io.ReaderAt, size int64, head []byte) (Info, error) {
	if len(head) >= 4 && string(head[:4]) == "RF64" {
		return Info{}, fmt.Errorf("RF64 (64-bit WAV): %w", ErrUnsupported)
	}
	if len(head) < 12 || string(head[0:4]) != "RIFF" || string(head[8:12]) != "WAVE" {
		return Info{}, fmt.Errorf("expected %s, found %s: %w", kindWAV.describe(), foundBytes(head, size), ErrNotMedia)
	}
	var (
		haveFmt     bool
		formatTag   uint16
		sampleRate  uint32
		byteRate    uint32
		factSamples uint32
		haveFact    bool
	)
	off := int64(12)
	for i := 0; ; i++ {
		if i == maxRIFFChunks {
			return Info{}, fmt.Errorf("no data chunk in the first %d RIFF chunks: %w", maxRIFFChunks, ErrNotMedia)
		}
		if size-off < 8 {
			return Info{}, fmt.Errorf("WAV ends at offset %d before its data chunk: %w", off, ErrTruncated)
		}
		ch, err := readExact(r, size, off, 8, "RIFF chunk header")
		if err != nil {
			return Info{}, err
		}
		id := string(ch[:4])
		n := int64(binary.LittleEndian.Uint32(ch[4:8]))
		body := off + 8
		switch id {
		case "fmt ":
			if n < 16 {
				return Info{}, fmt.Errorf("fmt chunk is %d bytes, want at least 16: %w", n, ErrNotMedia)
			}
			f, err := readExact(r, size, body, 16, "fmt chunk")
			if err != nil {
				return Info{}, err
			}
			formatTag = binary.LittleEndian.Uint16(f[0:2])
			sampleRate = binary.LittleEndian.Uint32(f[4:8])
			byteRate = binary.LittleEndian.Uint32(f[8:12])
			blockAlign := binary.LittleEndian.Uint16(f[12:14])
			if byteRate == 0 {
				byteRate = uint32(blockAlign) * sampleRate
			}
			haveFmt = true
		case "fact":
			if n >= 4 {
				f, err := readExact(r, size, body, 4, "fact chunk")
				if err != nil {
					return Info{}, err
				}
				factSamples, haveFact = binary.LittleEndian.Uint32(f), true
			}
		case "data":
			if !haveFmt {
				return Info{}, fmt.Errorf("data chunk before fmt chunk: %w", ErrNotMedia)
			}
			if byteRate == 0 {
				return Info{}, fmt.Errorf("fmt chunk states a zero byte rate: %w", ErrNotMedia)
			}
			avail := size - body
			if n > avail {
				// 0xFFFFFFFF and 0 are written by streaming encoders that
				// could not seek back; the data runs to the end of the file.
				if n != 0xFFFFFFFF {
					return Info{}, fmt.Errorf("data chunk declares %d bytes but the file ends after %d: %w", n, avail, ErrTruncated)
				}
				n = avail
			} else if n == 0 {
				n = avail
			}
			pcm := formatTag == 1 || formatTag == 3 || formatTag == 0xFFFE
			if !pcm && haveFact && sampleRate > 0 {
				return Info{Format: "wav", Audio: true, Seconds: float64(factSamples) / float64(sampleRate)}, nil
			}
			return Info{Format: "wav", Audio: true, Seconds: float64(n) / float64(byteRate)}, nil
		}
		if n > size-body {
			return Info{}, fmt.Errorf("%q chunk declares %d bytes but the file ends after %d: %w", id, n, size-body, ErrTruncated)
		}
		off = body + n + n&1
	}
}
